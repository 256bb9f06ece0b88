package detectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// trackerExchange builds a request to rawURL made by pageURL ("" for an
// unknown page).
func trackerExchange(t *testing.T, rawURL, pageURL string) *traffic.Exchange {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ex := &traffic.Exchange{Request: traffic.Request{Method: "GET", URL: u, Header: http.Header{}}}
	if pageURL != "" {
		pu, err := url.Parse(pageURL)
		if err != nil {
			t.Fatal(err)
		}
		ex.Page = &traffic.Page{URL: pageURL, Site: traffic.Site(pu.Hostname()), By: "referer"}
	}
	return ex
}

func TestTracker(t *testing.T) {
	const page = "https://news.example/article/1"
	tests := []struct {
		name, url, page string
		hostOnly        string // Via for a host-only contact
		cname           string // the host's DNS alias target
		want            traffic.Finding
	}{
		{name: "pixel event", url: "https://www.facebook.com/tr/?id=1&ev=PageView", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Company: "Meta", Product: "Pixel", Category: "pixel",
			RuleID: "meta-pixel-event", Summary: "Meta · Pixel (pixel)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host facebook.com, path /tr/*"}}}},
		{name: "like button", url: "https://www.facebook.com/plugins/like.php?href=x", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Company: "Meta", Product: "Like button", Category: "social-plugin",
			RuleID: "meta-like-button", Summary: "Meta · Like button (social-plugin)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host facebook.com, path /plugins/like.php"}}}},
		{name: "analytics is low", url: "https://www.google-analytics.com/g/collect?v=2&tid=G-1", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Google", Product: "Google Analytics 4", Category: "analytics",
			RuleID: "google-analytics-ga4", Summary: "Google · Google Analytics 4 (analytics)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host google-analytics.com, path /g/collect"}}}},
		{name: "tag manager is info", url: "https://www.googletagmanager.com/gtm.js?id=GTM-1", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Company: "Google", Product: "Tag Manager", Category: "tag-manager",
			RuleID: "google-tag-manager", Summary: "Google · Tag Manager (tag-manager)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host googletagmanager.com, path /gtm.js"}}}},
		{name: "unknown page is tagged", url: "https://bat.bing.com/action/0?ti=1", want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Company: "Microsoft", Product: "UET tag", Category: "pixel",
			RuleID: "microsoft-uet", Summary: "Microsoft · UET tag (pixel)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host bat.bing.com"}}}},
		{name: "first-party CNAME collector", url: "https://metrics.news.example/b/ss/newsprod/1/JS-2.22.0/s1?AQB=1", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics-beacon", Summary: "Adobe · Analytics (analytics)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host *, path /b/ss/**"}}}},
		{name: "first-party server-side GA4", url: "https://sgtm.news.example/g/collect?v=2&tid=G-1", page: page, want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Google", Product: "Google Analytics 4", Category: "analytics",
			RuleID: "google-analytics-ga4-first-party", Summary: "Google · Google Analytics 4 (analytics)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host *, path /g/collect, query tid"}}}},
		{name: "CNAME-cloaked collector", url: "https://smetrics.news.example/id?d_visid_ver=5", page: page, cname: "news.example.ssl.sc.omtrdc.net", want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Summary: "Adobe · Analytics (analytics) behind smetrics.news.example (a DNS alias of news.example.ssl.sc.omtrdc.net)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host omtrdc.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "smetrics.news.example → news.example.ssl.sc.omtrdc.net"}}}},
		{name: "a CNAME rule beats a path rule on any host", url: "https://metrics.news.example/b/ss/newsprod/1/JS-2.22.0/s1", page: page, cname: "news.example.sc.omtrdc.net", want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Summary: "Adobe · Analytics (analytics) behind metrics.news.example (a DNS alias of news.example.sc.omtrdc.net)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host omtrdc.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "metrics.news.example → news.example.sc.omtrdc.net"}}}},
		{name: "CNAME-cloaked Eulerian", url: "https://f7ds.news.example/col2/-/1234", page: page, cname: "news.eulerian.net", want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Eulerian", Product: "Eulerian analytics", Category: "analytics",
			RuleID: "eulerian", Summary: "Eulerian · Eulerian analytics (analytics) behind f7ds.news.example (a DNS alias of news.eulerian.net)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host eulerian.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "f7ds.news.example → news.eulerian.net"}}}},
		{name: "CNAME to a CDN", url: "https://www.news.example/", page: page, cname: "news.example.cdn.cloudflare.net"},
		{name: "CNAME within the tracker's own site", url: "https://www.linkedin.com/feed/", page: "https://www.linkedin.com/", cname: "px.ads.linkedin.com"},
		{name: "CNAME-cloaked contact", url: "https://smetrics.news.example", hostOnly: "tls-sni", cname: "news.example.ssl.sc.omtrdc.net", want: traffic.Finding{
			Kind: traffic.KindContact, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Summary: "contacted smetrics.news.example, an alias of news.example.ssl.sc.omtrdc.net, over TLS (contents not visible)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host omtrdc.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "smetrics.news.example → news.example.ssl.sc.omtrdc.net"}}}},
		{name: "facebook on facebook is not a tracker", url: "https://www.facebook.com/tr/?id=1", page: "https://www.facebook.com/groups/x"},
		{name: "plugin on a facebook subdomain page", url: "https://www.facebook.com/plugins/like.php?href=x", page: "https://m.facebook.com/"},
		// Third party means another registrable domain: Meta's facebook.net
		// on a facebook.com page counts (there is no company-entity map).
		{name: "facebook.net on facebook.com is another site", url: "https://connect.facebook.net/en_US/fbevents.js", page: "https://www.facebook.com/", want: traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Company: "Meta", Product: "Pixel", Category: "pixel",
			RuleID: "meta-pixel-loader", Summary: "Meta · Pixel (pixel)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host connect.facebook.net, path /*/fbevents.js"}}}},
		{name: "no rule", url: "https://cdn.news.example/app.js", page: page},
		{name: "no rule, unknown page", url: "https://fonts.gstatic.com/s/x.woff2"},
		{name: "tls contact", url: "https://static.hotjar.com", hostOnly: "tls-sni", want: traffic.Finding{
			Kind: traffic.KindContact, Severity: traffic.SeverityLow, Company: "Hotjar", Product: "Session recording", Category: "session-replay",
			RuleID: "hotjar", Summary: "contacted static.hotjar.com over TLS (contents not visible)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host hotjar.com"}}}},
		{name: "dns contact", url: "https://www.googletagmanager.com", hostOnly: "dns", want: traffic.Finding{
			Kind: traffic.KindContact, Severity: traffic.SeverityInfo, Company: "Google", Product: "Tag Manager", Category: "tag-manager",
			RuleID: "google-tag-manager-host", Summary: "looked up www.googletagmanager.com in DNS",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host googletagmanager.com"}}}},
		{name: "quic contact", url: "https://static.hotjar.com", hostOnly: "quic-sni", want: traffic.Finding{
			Kind: traffic.KindContact, Severity: traffic.SeverityLow, Company: "Hotjar", Product: "Session recording", Category: "session-replay",
			RuleID: "hotjar", Summary: "contacted static.hotjar.com over QUIC/HTTP/3 (contents not visible)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host hotjar.com"}}}},
		{name: "contact to an ECH front", url: "https://static.hotjar.com", hostOnly: "tls-ech", want: traffic.Finding{
			Kind: traffic.KindContact, Severity: traffic.SeverityLow, Company: "Hotjar", Product: "Session recording", Category: "session-replay",
			RuleID: "hotjar", Summary: "contacted a server behind static.hotjar.com with Encrypted Client Hello (its name and contents not visible)",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host hotjar.com"}}}},
		{name: "untagged contact", url: "https://example.org", hostOnly: "tls-sni"},
		{name: "contact to a shared host with only path rules", url: "https://www.google.com", hostOnly: "tls-sni"},
	}
	d := NewTracker(rules.Default())
	if d.Name() != "tracker" {
		t.Errorf("Name() = %q, want tracker", d.Name())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := trackerExchange(t, tt.url, tt.page)
			if tt.hostOnly != "" {
				ex.HostOnly, ex.Via = true, tt.hostOnly
			}
			ex.CNAME = tt.cname
			got := d.Detect(ex)
			if tt.want.Kind == "" {
				if len(got) != 0 {
					t.Fatalf("Detect(%s) = %+v, want no finding", tt.url, got)
				}
				return
			}
			tt.want.Detector = "tracker"
			if len(got) != 1 {
				t.Fatalf("Detect(%s) = %d findings, want 1", tt.url, len(got))
			}
			if g, w := fmt.Sprintf("%+v", got[0]), fmt.Sprintf("%+v", tt.want); g != w {
				t.Errorf("Detect(%s)\n got %s\nwant %s", tt.url, g, w)
			}
			if len(ex.Findings) != 0 {
				t.Error("Detect modified ex.Findings")
			}
		})
	}
}

// TestTrackerFirstInDefault checks that later detectors can rely on
// ex.Tracker().
func TestTrackerFirstInDefault(t *testing.T) {
	s := Default(Options{Rules: rules.Default()})
	if names := s.Names(); len(names) == 0 || names[0] != "tracker" {
		t.Fatalf("Default order = %v, want tracker first", names)
	}
	ex := trackerExchange(t, "https://www.facebook.com/plugins/like.php?href=x", "https://news.example/")
	s.Run(ex)
	if f := ex.Tracker(); f == nil || f.RuleID != "meta-like-button" {
		t.Errorf("after Run, ex.Tracker() = %+v, want the meta-like-button finding", f)
	}
}

func TestTrackerNilRules(t *testing.T) {
	ex := trackerExchange(t, "https://www.facebook.com/tr?id=1", "https://news.example/")
	if got := NewTracker(nil).Detect(ex); len(got) != 0 {
		t.Errorf("NewTracker(nil).Detect = %+v, want nothing", got)
	}
	if got := NewTracker(rules.Default()).Detect(&traffic.Exchange{}); len(got) != 0 {
		t.Errorf("Detect on an exchange without URL = %+v, want nothing", got)
	}
}

func TestCategorySeverity(t *testing.T) {
	want := map[string]traffic.Severity{
		"embed": "info", "tag-manager": "info", "analytics": "low", "pixel": "medium",
		"advertising": "medium", "social-plugin": "medium", "session-replay": "medium", "bogus": "low",
	}
	for _, c := range append(rules.Categories, "bogus") {
		if got := CategorySeverity(c); got != want[c] {
			t.Errorf("CategorySeverity(%q) = %q, want %q", c, got, want[c])
		}
	}
}

// trackerHAR reads the requests of a HAR file into exchanges, with the
// fields page attribution needs (method, URL, headers, response type,
// pageref). The capture package owns full HAR reading; this is just enough
// to run the tracker detector over real captures.
func trackerHAR(t *testing.T, path string) []*traffic.Exchange {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type nv struct{ Name, Value string }
	var har struct {
		Log struct {
			Entries []struct {
				Pageref string
				Request struct {
					Method, URL string
					Headers     []nv
				}
				Response struct {
					Status  int
					Headers []nv
					Content struct{ MimeType string }
				}
			}
		}
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &har); err != nil {
		t.Fatalf("read %s: %v", filepath.Base(path), err)
	}
	var out []*traffic.Exchange
	for i, e := range har.Log.Entries {
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Host == "" {
			continue
		}
		h := http.Header{}
		for _, kv := range e.Request.Headers {
			if !strings.HasPrefix(kv.Name, ":") {
				h.Add(kv.Name, kv.Value)
			}
		}
		rh := http.Header{}
		rh.Set("Content-Type", e.Response.Content.MimeType)
		out = append(out, &traffic.Exchange{
			ID: int64(i + 1), Source: filepath.Base(path), PageRef: e.Pageref,
			Request:  traffic.Request{Method: e.Request.Method, URL: u, Header: h},
			Response: &traffic.Response{Status: e.Response.Status, Header: rh},
		})
	}
	return out
}

// TestTrackerFixtures runs attribution and the tracker detector over the
// shared real HAR captures and compares the findings with
// testdata/tracker/fixtures.golden (go test -update rewrites it).
func TestTrackerFixtures(t *testing.T) {
	d := NewTracker(rules.Default())
	var out bytes.Buffer
	for _, path := range fixtures.Files(t, "har", ".har") {
		attr := traffic.NewAttributor()
		fmt.Fprintf(&out, "%s\n", filepath.Base(path))
		for _, ex := range trackerHAR(t, path) {
			attr.Attribute(ex)
			for _, f := range d.Detect(ex) {
				page := "(unknown page)"
				if ex.Page != nil {
					page = ex.Page.Site
				}
				fmt.Fprintf(&out, "  #%d %s%s on %s: %s %s [%s] %s\n", ex.ID, ex.Host(), ex.Request.URL.Path, page,
					f.Kind, f.RuleID, f.Severity, f.Summary)
			}
		}
	}
	golden := filepath.Join("testdata", "tracker", "fixtures.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s: %v (go test -update creates it)", golden, err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("tracker findings differ from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func BenchmarkTracker(b *testing.B) {
	d := NewTracker(rules.Default())
	u, _ := url.Parse("https://www.facebook.com/tr/?id=1&ev=PageView")
	ex := &traffic.Exchange{Request: traffic.Request{URL: u}, Page: &traffic.Page{URL: "https://news.example/", Site: "news.example"}}
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(ex)
	}
}
