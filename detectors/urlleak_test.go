package detectors

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestURLLeak(t *testing.T) {
	const (
		article = "https://news.example/health/breast-cancer-screening?q=lump+in+breast"
		plain   = "https://shop.example/products/blue-shoes"
	)
	qe := url.QueryEscape
	tests := []struct {
		name         string
		ex           *traffic.Exchange
		wantKind     traffic.Kind
		wantSeverity traffic.Severity
		wantSummary  string
		wantEvidence []string // "where | label | value"
	}{
		{
			name: "Meta pixel dl and rl",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=123456789012345&ev=PageView&dl="+qe(plain)+"&rl="+qe("https://shop.example/category/shoes")+"&if=false",
				withPage(plain), withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event")),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "sent the page URL to Meta in dl, rl",
			wantEvidence: []string{"query:dl | page URL | " + plain, "query:rl | referrer URL | https://shop.example/category/shoes"},
		},
		{
			name: "GA4 with search terms and health words",
			ex: newTestExchange(t, "POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&en=page_view&dl="+qe(article)+"&dt="+qe("Breast cancer screening"),
				withPage(article), withPageTitle("Breast cancer screening"), withTracker("Google", "Google Analytics 4", "analytics", "ga4-collect")),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "sent the page URL to Google in dl, dt, including health words, search terms",
			wantEvidence: []string{
				"query:dl | page URL | " + article,
				"query:dt | page title | Breast cancer screening",
				"query:dl › q | sensitive: search terms | lump in breast",
				"query:dl | sensitive: health | cancer",
			},
		},
		{
			name: "Like button href",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/v18.0/plugins/like.php?href="+qe(plain)+"&layout=button_count&app_id=1",
				withPage(plain)),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "sent the page URL to facebook.com in href",
			wantEvidence: []string{"query:href | page URL | " + plain},
		},
		{
			name: "Segment JSON body with an e-mail in the URL",
			ex: newTestExchange(t, "POST", "https://api.segment.io/v1/p",
				withPage("https://app.example/welcome?email=jane.doe%40mail.example"),
				withBody("text/plain", `{"type":"page","context":{"page":{"url":"https://app.example/welcome?email=jane.doe%40mail.example","path":"/welcome"}}}`)),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "sent the page URL to segment.io in url, including an email address",
			wantEvidence: []string{
				"body:$.context.page.url | page URL | https://app.example/welcome?email=jane.doe%40mail.example",
				"body:$.context.page.url | sensitive: email address | jane.doe@mail.example",
			},
		},
		{
			name: "URL-encoded twice, with a token",
			ex: newTestExchange(t, "GET", "https://px.ads.linkedin.com/collect?pid=1&url="+qe(qe("https://app.example/reset?token=s3cr3t-t0k3n")),
				withPage("https://app.example/")),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "sent the page URL to linkedin.com in url, including a token",
			wantEvidence: []string{
				"query:url (URL-encoded) | page URL | https://app.example/reset?token=s3cr3t-t0k3n",
				"query:url (URL-encoded) › token | sensitive: token | s3cr3t-t0k3n",
			},
		},
		{
			name: "base64 of the page URL",
			ex: newTestExchange(t, "GET", "https://collector.example/b?u="+base64.StdEncoding.EncodeToString([]byte(plain)),
				withPage(plain)),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "sent the page URL to collector.example in u",
			wantEvidence: []string{"query:u (base64) | page URL | " + plain},
		},
		{
			name: "page URL inside a JSON string",
			ex: newTestExchange(t, "GET", "https://syndication.twitter.com/i/jot?l="+qe(`{"widget_origin":"`+plain+`","message":"m"}`),
				withPage(plain)),
			wantKind:     traffic.KindPageURLLeak,
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "sent the page URL to twitter.com in l",
			wantEvidence: []string{"query:l | page URL | " + plain},
		},
		{
			name: "full Referer",
			ex: newTestExchange(t, "GET", "https://cdn.ads.example/ad.js",
				withPage(article), withHeader("Referer", article)),
			wantKind:     traffic.KindReferrerLeak,
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "sent the full page URL to ads.example in the Referer header, including health words, search terms",
			wantEvidence: []string{
				"header:Referer | page URL | " + article,
				"header:Referer › q | sensitive: search terms | lump in breast",
				"header:Referer | sensitive: health | cancer",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := findingsOf(NewURLLeak().Detect(tt.ex), tt.wantKind)
			if len(fs) != 1 {
				t.Fatalf("got %d %s findings, want 1", len(fs), tt.wantKind)
			}
			f := fs[0]
			if f.Severity != tt.wantSeverity || f.Summary != tt.wantSummary {
				t.Errorf("got %s %q, want %s %q", f.Severity, f.Summary, tt.wantSeverity, tt.wantSummary)
			}
			var got []string
			for _, e := range f.Evidence {
				got = append(got, e.Where+" | "+e.Label+" | "+e.Value)
				wantSecret := e.Label == "sensitive: email address" || e.Label == "sensitive: token"
				if e.Secret != wantSecret {
					t.Errorf("evidence %s %s: secret %v, want %v", e.Where, e.Label, e.Secret, wantSecret)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantEvidence, "\n") {
				t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantEvidence, "\n"))
			}
			checkNoSecretInSummary(t, f)
		})
	}
}

func TestURLLeakIgnores(t *testing.T) {
	const page = "https://shop.example/products/blue-shoes"
	tests := []struct {
		name string
		ex   *traffic.Exchange
	}{
		{"origin-only Referer", newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&ev=PageView", withPage(page), withHeader("Referer", "https://shop.example/"))},
		{"origin-only dl", newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&dl=https%3A%2F%2Fshop.example%2F", withPage(page))},
		{"Referer of a third-party iframe", newTestExchange(t, "GET", "https://static.xx.fbcdn.net/rsrc.php/x.js", withPage(page), withHeader("Referer", "https://www.facebook.com/plugins/like.php?href=x"))},
		{"another site's URL", newTestExchange(t, "GET", "https://www.facebook.com/tr/?dl=https%3A%2F%2Fother.example%2Fpath", withPage(page))},
		{"first-party request", newTestExchange(t, "GET", "https://shop.example/api?u="+url.QueryEscape(page), withPage(page), withHeader("Referer", page))},
		{"unknown page", newTestExchange(t, "GET", "https://www.facebook.com/tr/?dl="+url.QueryEscape(page))},
		{"title that is a URL (HAR exporters)", newTestExchange(t, "GET", "https://collector.example/?dimensions[page]=https%3A%2F%2Fshop.example%2F", withPage("https://shop.example/"), withPageTitle("https://shop.example/"))},
		{"not base64 of a URL", newTestExchange(t, "GET", "https://t.example/?x=aHR0cHM6Ly9vdGhlci5leGFtcGxlL3BhdGg", withPage(page))}, // https://other.example/path
	}
	for _, tt := range tests {
		if fs := NewURLLeak().Detect(tt.ex); len(fs) != 0 {
			t.Errorf("%s: got %s, want none\n%s", tt.name, fs[0].Summary, evidenceString(fs[0]))
		}
	}
}

func TestSensitiveParts(t *testing.T) {
	tests := []struct {
		url  string
		want []string // "label | value"
	}{
		{"https://s.example/search?query=hiv+test&page=2", []string{"sensitive: search terms | hiv test", "sensitive: health | hiv"}},
		{"https://s.example/account?user=me%2540mail.example", []string{"sensitive: email address | me@mail.example"}},
		{"https://s.example/find-a-psychiatrist/berlin", []string{"sensitive: health | psychiatr"}},
		{"https://s.example/login?session=abc123&password=hunter2", []string{"sensitive: token | abc123", "sensitive: token | hunter2"}},
		{"https://s.example/histology/cancers-of-no-one", nil}, // "cancers" is not a listed word
		{"https://s.example/products/shoes?color=blue", nil},
		{"%%%", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range sensitiveParts("x", tt.url) {
			got = append(got, e.Label+" | "+e.Value)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("sensitiveParts(%q):\n%s\nwant:\n%s", tt.url, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func FuzzURLLeak(f *testing.F) {
	f.Add("https://t.example/c?dl=https%3A%2F%2Fshop.example%2Fa%3Fq%3Dx", "https://shop.example/a?q=x", "https://shop.example/a", `{"u":"https://shop.example/b"}`)
	f.Add("https://t.example/?u=aHR0cHM6Ly9zaG9wLmV4YW1wbGUvYQ", "https://shop.example/", "", "")
	f.Fuzz(func(t *testing.T, rawURL, page, referer, body string) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return
		}
		ex := &traffic.Exchange{Request: traffic.Request{Method: "POST", URL: u, Body: []byte(body)}}
		ex.Request.Header = map[string][]string{"Referer": {referer}}
		ex.Page = &traffic.Page{URL: page, Site: "shop.example", Title: referer}
		for _, f := range NewURLLeak().Detect(ex) {
			if f.Summary == "" || len(f.Evidence) == 0 {
				t.Fatalf("finding without summary or evidence: %+v", f)
			}
		}
	})
}

func BenchmarkURLLeak(b *testing.B) {
	page := "https://news.example/health/breast-cancer-screening?q=lump"
	ex := newTestExchange(b, "POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&cid=1.2&en=page_view&dl="+url.QueryEscape(page)+"&dt=Title&ul=en-us&sr=1920x1080&uaa=x86&uab=64",
		withPage(page), withHeader("Referer", "https://news.example/"), withBody("text/plain", "en=scroll&epn.percent_scrolled=90\nen=user_engagement&_et=5000"))
	d := NewURLLeak()
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(ex)
	}
}

// sensitivePartsBefore is sensitiveParts as it was before it stopped
// allocating per token: the oracle of FuzzSensitiveParts.
func sensitivePartsBefore(where, raw string) []traffic.Evidence {
	var out []traffic.Evidence
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	plain := raw
	for i := 0; i < 2 && strings.Contains(plain, "%"); i++ {
		dec, err := url.QueryUnescape(plain)
		if err != nil {
			break
		}
		plain = dec
	}
	for _, p := range traffic.Params(&traffic.Request{URL: &url.URL{RawQuery: u.RawQuery}}) {
		name := strings.ToLower(p.Name)
		switch {
		case p.Value == "":
		case searchParams[name]:
			out = append(out, traffic.Evidence{Where: where + " › " + p.Name, Label: "sensitive: search terms", Value: p.Value})
		case tokenParams[name]:
			out = append(out, traffic.Evidence{Where: where + " › " + p.Name, Label: "sensitive: token", Value: p.Value, Secret: true})
		}
	}
	for _, m := range emailInURL.FindAllString(plain, 4) {
		out = append(out, traffic.Evidence{Where: where, Label: "sensitive: email address", Value: m, Secret: true})
	}
	seen := map[string]bool{}
	for _, tok := range strings.FieldsFunc(strings.ToLower(plain), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '-')
	}) {
		cands := []string{tok}
		if strings.Contains(tok, "-") {
			cands = append(cands, strings.Split(tok, "-")...)
		}
		for _, w := range healthWords {
			hit := false
			stem, isStem := strings.CutSuffix(w, "*")
			for _, c := range cands {
				hit = hit || c == w || (isStem && strings.HasPrefix(c, stem))
			}
			if hit && !seen[w] {
				seen[w] = true
				out = append(out, traffic.Evidence{Where: where, Label: "sensitive: health", Value: strings.TrimSuffix(w, "*")})
			}
		}
	}
	return out
}

// FuzzSensitiveParts checks sensitiveParts against its earlier,
// allocation-heavy form: the same evidence in the same order.
func FuzzSensitiveParts(f *testing.F) {
	for _, s := range []string{
		"https://news.example/health/breast-cancer-screening?q=lump+in+breast",
		"https://a.example/find-a-psychiatrist/x--y-/Oncology?token=abc&email=jane%40example.com",
		"https://a.example/%E2%84%AAancer/mental-health-hiv-ivf?Q=Cancer&SID=1",
		"https://a.example/x?k=%zz&text=jane.doe@example.org%2540",
		"http://[::1]/\xff-cancer\x80therapy",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, want := sensitiveParts("x", raw), sensitivePartsBefore("x", raw)
		if len(got) != len(want) {
			t.Fatalf("sensitiveParts(%q) = %+v\nwant %+v", raw, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("sensitiveParts(%q)[%d] = %+v, want %+v", raw, i, got[i], want[i])
			}
		}
	})
}
