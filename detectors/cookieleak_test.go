package detectors

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

const shopPage = "https://shop.example/products/blue-shoes?size=42"

func TestCookieLeak(t *testing.T) {
	tests := []struct {
		name         string
		ex           *traffic.Exchange
		wantSeverity traffic.Severity
		wantSummary  string
		wantCompany  string
		wantLabels   map[string]string // where → label
	}{
		{
			name: "logged-in Facebook cookies on the pixel",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=123456789012345&ev=PageView",
				withPage(shopPage), withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event"),
				withCookies("c_user=100001234567890; xs=12%3Aabcdef%3A2%3A1589758702; datr=AbCdEfGhIjKlMnOp; fr=0aBcDeF.AWX")),
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "sent 4 cookies: c_user (person), xs (person), datr (browser), fr (browser)",
			wantCompany:  "Meta",
			wantLabels:   map[string]string{"cookie:c_user": "person", "cookie:xs": "person", "cookie:datr": "browser", "cookie:fr": "browser"},
		},
		{
			name: "doubleclick browser id",
			ex: newTestExchange(t, "GET", "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/?url=x",
				withPage(shopPage), withCookies("IDE=AHWqTUkQ5rXr")),
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "sent 1 cookie: IDE (browser)",
			wantCompany:  "doubleclick.net", // no tracker finding: the request's site
			wantLabels:   map[string]string{"cookie:IDE": "browser"},
		},
		{
			name: "unknown and consent cookies only",
			ex: newTestExchange(t, "GET", "https://cdn.other.example/lib.js",
				withPage(shopPage), withCookies("__cf_bm=xyz; _gat=1")),
			wantSeverity: traffic.SeverityLow,
			wantSummary:  "sent 2 cookies: __cf_bm (unknown), _gat (consent)",
			wantCompany:  "other.example",
			wantLabels:   map[string]string{"cookie:__cf_bm": "unknown", "cookie:_gat": "consent"},
		},
		{
			name: "a first-party collector gets the site's cookies",
			ex: newTestExchange(t, "GET", "https://smetrics.shop.example/b/ss/shopprod/1/JS-2.22.0/s1234?AQB=1&pageName=cart&AQE=1",
				withPage(shopPage), withTracker("Adobe", "Analytics", "analytics", "adobe-analytics-beacon"),
				withCookies("s_ecid=MCMID%7C123; session=Zk9HZ3xYqW1a; theme=dark")),
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "on the site's own host smetrics.shop.example, sent 3 cookies: s_ecid (browser), session (site session), theme (unknown)",
			wantCompany:  "Adobe",
			wantLabels:   map[string]string{"cookie:s_ecid": "browser", "cookie:session": "site session", "cookie:theme": "unknown"},
		},
		{
			name: "more than eight cookies: the summary names eight",
			ex: newTestExchange(t, "GET", "https://cdn.other.example/lib.js",
				withPage(shopPage), withCookies("a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8; i=9; j=10")),
			wantSeverity: traffic.SeverityLow,
			wantSummary:  "sent 10 cookies: a (unknown), b (unknown), c (unknown), d (unknown), e (unknown), f (unknown), g (unknown), h (unknown) and 2 more",
			wantCompany:  "other.example",
			wantLabels: map[string]string{"cookie:a": "unknown", "cookie:b": "unknown", "cookie:c": "unknown", "cookie:d": "unknown", "cookie:e": "unknown",
				"cookie:f": "unknown", "cookie:g": "unknown", "cookie:h": "unknown", "cookie:i": "unknown", "cookie:j": "unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewCookieLeak(rules.DefaultCookies())
			fs := findingsOf(d.Detect(tt.ex), traffic.KindCookieLeak)
			if len(fs) != 1 {
				t.Fatalf("got %d cookie-leak findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Severity != tt.wantSeverity || f.Summary != tt.wantSummary || f.Company != tt.wantCompany || f.Detector != "cookieleak" {
				t.Errorf("got %s %q company %q detector %q, want %s %q company %q", f.Severity, f.Summary, f.Company, f.Detector, tt.wantSeverity, tt.wantSummary, tt.wantCompany)
			}
			if len(f.Evidence) != len(tt.wantLabels) {
				t.Errorf("got evidence\n%swant %d items", evidenceString(f), len(tt.wantLabels))
			}
			for where, label := range tt.wantLabels {
				e, ok := evidenceAt(f, where)
				if !ok || e.Label != label || !e.Secret || e.Value == "" {
					t.Errorf("evidence %s = %+v, %v; want label %q, secret, with value", where, e, ok, label)
				}
			}
			checkNoSecretInSummary(t, f)
		})
	}
}

func TestCookieLeakIgnores(t *testing.T) {
	tests := []struct {
		name string
		ex   *traffic.Exchange
	}{
		{"first-party request", newTestExchange(t, "GET", "https://shop.example/cart", withPage(shopPage), withCookies("session=abc"))},
		{"first-party subdomain", newTestExchange(t, "GET", "https://static.shop.example/a.js", withPage(shopPage), withCookies("session=abc"))},
		{"first-party collector without cookies", newTestExchange(t, "GET", "https://smetrics.shop.example/b/ss/shopprod/1/JS-2.22.0/s1",
			withPage(shopPage), withTracker("Adobe", "Analytics", "analytics", "adobe-analytics-beacon"))},
		{"third party without cookies", newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1", withPage(shopPage))},
		{"unknown page", newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1", withCookies("c_user=1"))},
		{"host only", func() *traffic.Exchange {
			ex := newTestExchange(t, "GET", "https://www.facebook.com/", withPage(shopPage), withCookies("c_user=1"))
			ex.HostOnly = true
			return ex
		}()},
	}
	for _, tt := range tests {
		d := NewCookieLeak(rules.DefaultCookies())
		if fs := d.Detect(tt.ex); len(fs) != 0 {
			t.Errorf("%s: got %d findings (%s), want none", tt.name, len(fs), fs[0].Summary)
		}
	}
}

func TestCookieSharing(t *testing.T) {
	const (
		fbp = "fb.1.1589758702127.2144368150"
		ga  = "GA1.1.1234567890.1589758702"
		au  = "1.1.1895412395.1589758702"
		ttp = "01HZX5Q3K2ZP4C9W6R7T8Y9A0B"
	)
	first := []*traffic.Exchange{
		// The document request carries cookies set on an earlier visit.
		newTestExchange(t, "GET", shopPage, withPage(shopPage), withCookies("_fbp="+fbp+"; _ga="+ga+"; consent=true; lang=en")),
		// A first-party response sets more.
		newTestExchange(t, "GET", "https://shop.example/api/session", withPage(shopPage),
			withResponse(200, "Set-Cookie", "_gcl_au="+au+"; Path=/; Max-Age=7776000", "Set-Cookie", "_ttp="+ttp+"; Domain=.shop.example")),
	}
	tests := []struct {
		name         string
		ex           *traffic.Exchange
		wantEvidence []string // "where | label"
		wantSummary  string
	}{
		{
			name: "Meta pixel copies _fbp into fbp=",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=123456789012345&ev=PageView&fbp="+fbp,
				withPage(shopPage), withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event")),
			wantEvidence: []string{"query:fbp | first-party cookie _fbp"},
			wantSummary:  "copied the value of first-party cookie _fbp from shop.example",
		},
		{
			name: "GA4 cid is the tail of _ga",
			ex: newTestExchange(t, "POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&cid=1234567890.1589758702&en=page_view",
				withPage(shopPage)),
			wantEvidence: []string{"query:cid | first-party cookie _ga (client id part)"},
			wantSummary:  "copied the value of first-party cookie _ga from shop.example",
		},
		{
			name: "TikTok JSON body and Google Ads form",
			ex: newTestExchange(t, "POST", "https://analytics.tiktok.com/api/v2/pixel",
				withPage(shopPage), withBody("application/json", `{"context":{"user":{"anonymous_id":"`+ttp+`"}},"gcl":"`+au+`"}`)),
			wantEvidence: []string{"body:$.context.user.anonymous_id | first-party cookie _ttp", "body:$.gcl | first-party cookie _gcl_au"},
			wantSummary:  "copied the value of first-party cookies _ttp, _gcl_au from shop.example",
		},
		{
			name: "value inside a third-party cookie",
			ex: newTestExchange(t, "GET", "https://sync.partner.example/match",
				withPage(shopPage), withCookies("uid=x-"+fbp)),
			wantEvidence: []string{"cookie:uid | first-party cookie _fbp"},
			wantSummary:  "copied the value of first-party cookie _fbp from shop.example",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewCookieLeak(rules.DefaultCookies())
			for _, ex := range first {
				if fs := d.Detect(ex); len(fs) != 0 {
					t.Fatalf("first-party exchange %s gave findings: %s", ex.Request.URL, fs[0].Summary)
				}
			}
			fs := findingsOf(d.Detect(tt.ex), traffic.KindCookieSharing)
			if len(fs) != 1 {
				t.Fatalf("got %d cookie-sharing findings, want 1", len(fs))
			}
			f := fs[0]
			var got []string
			for _, e := range f.Evidence {
				got = append(got, e.Where+" | "+e.Label)
				if !e.Secret {
					t.Errorf("evidence %s not secret", e.Where)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantEvidence, "\n") {
				t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantEvidence, "\n"))
			}
			if f.Summary != tt.wantSummary {
				t.Errorf("summary = %q, want %q", f.Summary, tt.wantSummary)
			}
			checkNoSecretInSummary(t, f)
		})
	}
}

func TestCookieSharingNoFalseMatch(t *testing.T) {
	d := NewCookieLeak(rules.DefaultCookies())
	d.Detect(newTestExchange(t, "GET", shopPage, withPage(shopPage), withCookies("consent=true; n=1; ts=1589758702; aaaa=aaaaaaaaaa; _fbp=fb.1.1589758702127.2144368150")))
	// Trivial values appear in the request, and the real value only on
	// another site's page.
	ex := newTestExchange(t, "GET", "https://www.facebook.com/tr/?coo=true&ts=1589758702&x=aaaaaaaaaa", withPage(shopPage))
	if fs := findingsOf(d.Detect(ex), traffic.KindCookieSharing); len(fs) != 0 {
		t.Errorf("got sharing %s, want none", evidenceString(fs[0]))
	}
	other := newTestExchange(t, "GET", "https://www.facebook.com/tr/?fbp=fb.1.1589758702127.2144368150", withPage("https://blog.other.example/"))
	if fs := findingsOf(d.Detect(other), traffic.KindCookieSharing); len(fs) != 0 {
		t.Errorf("value of shop.example matched on another site's page: %s", evidenceString(fs[0]))
	}
}

func TestShareable(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"fb.1.1589758702127.2144368150", true},
		{"1234567890.1589758702", true},
		{"true", false},
		{"undefined", false},
		{"1589758702", false}, // a timestamp
		{"aaaaaaaaaaaa", false},
		{"12121212", false},
		{"en-US,en", true},
		{"abc", false},
	}
	for _, tt := range tests {
		if got := shareable(tt.v); got != tt.want {
			t.Errorf("shareable(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestCookieLeakBoundedState(t *testing.T) {
	d := NewCookieLeak(nil)
	for i := 0; i < maxSharedSites+50; i++ {
		page := fmt.Sprintf("https://site%d.example/", i)
		var cs []string
		for j := 0; j < maxSharedValuesOfSite+20; j++ {
			cs = append(cs, fmt.Sprintf("c%d=value-%d-%d-xyz", j, i, j))
		}
		d.Detect(newTestExchange(t, "GET", page, withPage(page), withCookies(strings.Join(cs, "; "))))
	}
	if len(d.sites) != maxSharedSites || len(d.order) != maxSharedSites {
		t.Errorf("remembers %d sites (%d in order), want %d", len(d.sites), len(d.order), maxSharedSites)
	}
	for site, sc := range d.sites {
		if len(sc.values) > maxSharedValuesOfSite {
			t.Fatalf("site %s holds %d values, want at most %d", site, len(sc.values), maxSharedValuesOfSite)
		}
	}
	if _, ok := d.sites["site0.example"]; ok {
		t.Errorf("oldest site was not forgotten")
	}
}

func BenchmarkCookieLeak(b *testing.B) {
	d := NewCookieLeak(rules.DefaultCookies())
	var cs []string
	for j := 0; j < 40; j++ {
		cs = append(cs, fmt.Sprintf("c%d=value-%d-xyz-0123456789", j, j))
	}
	d.Detect(newTestExchange(b, "GET", shopPage, withPage(shopPage), withCookies(strings.Join(cs, "; "))))
	ex := newTestExchange(b, "POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&cid=1234567890.1589758702&en=page_view&dl=https%3A%2F%2Fshop.example%2Fproducts&dt=Blue%20shoes&ul=en-us&sr=1920x1080",
		withPage(shopPage), withCookies("IDE=AHWqTUkQ5rXr; NID=511=abc"), withBody("text/plain", "en=scroll&epn.percent_scrolled=90\nen=user_engagement&_et=5000"))
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(ex)
	}
}

// TestTrivialValuesFitTheirBound keeps shareable's length shortcut honest:
// a trivial word longer than maxTrivialLen would never be looked up.
func TestTrivialValuesFitTheirBound(t *testing.T) {
	for v := range trivialValues {
		if len(v) > maxTrivialLen {
			t.Errorf("trivial value %q is longer than maxTrivialLen %d", v, maxTrivialLen)
		}
		if shareable(v) || shareable(strings.ToUpper(v)) {
			t.Errorf("%q counts as shareable", v)
		}
	}
}

// TestCookieLeakKeepsCopies checks that the first-party cookie values
// remembered (from Cookie and Set-Cookie) do not keep the request and
// response heads they were cut from alive.
func TestCookieLeakKeepsCopies(t *testing.T) {
	d := NewCookieLeak(nil)
	pad := strings.Repeat("x", 1<<16)
	reqHead := pad + "_fbp=fb.1.1589758702127.2144368150; _ga=GA1.1.1234567890.1589758702"
	respHead := pad + "_ttp=01HZX5Q3K2ZP4C9W6R7T8Y9A0B; Path=/"
	wReq, wResp := weak.Make(unsafe.StringData(reqHead)), weak.Make(unsafe.StringData(respHead))
	d.Detect(newTestExchange(t, "GET", shopPage, withPage(shopPage), withCookies(reqHead[len(pad):]),
		withResponse(200, "Set-Cookie", respHead[len(pad):])))
	reqHead, respHead = "", ""
	runtime.GC()
	runtime.GC()
	if wReq.Value() != nil || wResp.Value() != nil {
		t.Errorf("remembered cookie values keep their heads alive: request %v, response %v", wReq.Value() != nil, wResp.Value() != nil)
	}
	if got := len(d.sites["shop.example"].values); got != 4 { // _fbp, _ga and its client id, _ttp
		t.Errorf("remembers %d values of shop.example, want 4", got)
	}
}
