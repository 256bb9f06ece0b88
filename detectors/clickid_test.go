package detectors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

func TestClickID(t *testing.T) {
	const landing = "https://shop.example/sale?utm_source=facebook&fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDmSQ&gclid=Cj0KCQiA&msclkid=N"
	doc := func(u string) *traffic.Exchange {
		return newTestExchange(t, "GET", u, withPage(u), withHeader("Sec-Fetch-Dest", "document"))
	}
	tests := []struct {
		name string
		ex   *traffic.Exchange
		want []string // "company | where | label" per finding
	}{
		{
			name: "landing page with fbclid and gclid; msclkid=N is no click",
			ex:   doc(landing),
			want: []string{"Meta | query:fbclid | Meta click id (fbclid)", "Google | query:gclid | Google click id (gclid)"},
		},
		{
			name: "landing page found by its HTML response",
			ex:   newTestExchange(t, "GET", "https://shop.example/?ttclid=E.C.P.abc123", withPage("https://shop.example/?ttclid=E.C.P.abc123"), withResponse(200, "Content-Type", "text/html; charset=utf-8")),
			want: []string{"TikTok | query:ttclid | TikTok click id (ttclid)"},
		},
		{
			name: "Meta pixel payload and cookies",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&ev=PageView&fbp=fb.1.1589758702127.2144368150&fbc=fb.1.1589758702127.IwAR2F4",
				withPage("https://shop.example/sale"), withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event"), withCookies("_fbp=fb.1.1589758702127.2144368150; c_user=1")),
			want: []string{"Meta | query:fbp | Meta match key", "Meta | query:fbc | Meta click id (fbc)", "Meta | cookie:_fbp | Meta match key"},
		},
		{
			name: "Google cookies on a third party without a tracker rule",
			ex: newTestExchange(t, "GET", "https://sync.broker.example/p?x=1",
				withPage("https://shop.example/sale"), withCookies("_gcl_au=1.1.1895412395.1589758702; _gac_UA-123-1=1.1589758702.Cj0KCQiA")),
			want: []string{"broker.example | cookie:_gcl_au | Google match key", "broker.example | cookie:_gac_UA-123-1 | Google click id (_gac_UA-123-1)"},
		},
		{
			name: "first-party non-document request is not reported",
			ex:   newTestExchange(t, "GET", "https://shop.example/api?gclid=Cj0KCQiA", withPage("https://shop.example/sale"), withCookies("_fbp=fb.1.2.3")),
		},
		{
			name: "server-side tag on the site's own host",
			ex:   newTestExchange(t, "POST", "https://sgtm.shop.example/g/collect?v=2&tid=G-1&gclid=Cj0KCQiA", withPage("https://shop.example/sale"), withTracker("Google", "Google Analytics 4", "analytics", "ga4-collect")),
			want: []string{"Google | query:gclid | Google click id (gclid)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewClickID(rules.DefaultClickIDs()).Detect(tt.ex)
			var got []string
			for _, f := range fs {
				if f.Kind != traffic.KindClickID || f.Severity != traffic.SeverityMedium || len(f.Evidence) != 1 || !f.Evidence[0].Secret {
					t.Errorf("malformed finding %+v", f)
					continue
				}
				if !strings.Contains(f.Summary, "match this visit to an ad click or to your profile") {
					t.Errorf("summary %q", f.Summary)
				}
				got = append(got, f.Company+" | "+f.Evidence[0].Where+" | "+f.Evidence[0].Label)
				checkNoSecretInSummary(t, f)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestClickIDSummary(t *testing.T) {
	ex := newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&fbp=fb.1.2.3456",
		withPage("https://shop.example/"), withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event"))
	fs := NewClickID(rules.DefaultClickIDs()).Detect(ex)
	want := "fbp in a request to Meta lets Meta match this visit to an ad click or to your profile — also what offline and server-side conversion matching joins on"
	if len(fs) != 1 || fs[0].Summary != want {
		t.Fatalf("got %d findings %+v, want summary %q", len(fs), fs, want)
	}
	if fs[0].Product != "Meta Pixel" || fs[0].RuleID != "meta-pixel-event" {
		t.Errorf("tracker identity not copied: %+v", fs[0])
	}
}

func TestClickIDDedupe(t *testing.T) {
	d := NewClickID(rules.DefaultClickIDs())
	hit := func(page string) int {
		ex := newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&ev=PageView", withPage(page), withCookies("_fbp=fb.1.1589758702127.2144368150"))
		return len(d.Detect(ex))
	}
	got := []int{hit("https://shop.example/a"), hit("https://shop.example/a"), hit("https://shop.example/b"), hit("https://shop.example/a")}
	if fmt.Sprint(got) != "[1 0 1 0]" {
		t.Errorf("findings per hit = %v, want [1 0 1 0] (once per page)", got)
	}
	for i := 0; i < maxClickIDSeen+10; i++ {
		hit(fmt.Sprintf("https://shop.example/p%d", i))
	}
	if len(d.seen) != maxClickIDSeen || len(d.order) != maxClickIDSeen {
		t.Errorf("remembers %d keys (%d ordered), want %d", len(d.seen), len(d.order), maxClickIDSeen)
	}
	if hit("https://shop.example/a") != 1 {
		t.Errorf("forgotten page not reported again")
	}
	if fs := NewClickID(nil).Detect(newTestExchange(t, "GET", "https://x.example/?gclid=abcdef", withHeader("Sec-Fetch-Dest", "document"))); len(fs) != 0 {
		t.Errorf("nil table found %d", len(fs))
	}
}

func BenchmarkClickID(b *testing.B) {
	d := NewClickID(rules.DefaultClickIDs())
	ex := newTestExchange(b, "GET", "https://www.facebook.com/tr/?id=1&ev=PageView&fbp=fb.1.1589758702127.2144368150&dl=x&rl=&ts=1&sw=1&sh=1&v=2&r=stable&ec=0",
		withPage("https://shop.example/a"), withCookies("_fbp=fb.1.2.3; c_user=1; xs=2; datr=3; fr=4"))
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(ex)
	}
}
