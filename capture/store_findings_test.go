package capture

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// storeFinding is the JSON form of one traffic.Finding in
// exchanges.findings (the findings view's columns), the oracle of
// storeFindings.
type storeFinding struct {
	Kind     traffic.Kind     `json:"kind"`
	Severity traffic.Severity `json:"severity"`
	Detector string           `json:"detector"`
	Company  string           `json:"company"`
	Product  string           `json:"product"`
	Category string           `json:"category"`
	RuleID   string           `json:"rule_id"`
	Event    string           `json:"event"`
	Summary  string           `json:"summary"`
	Evidence []storeEvidence  `json:"evidence"`
}

// storeEvidence is the JSON form of one traffic.Evidence.
type storeEvidence struct {
	Where  string `json:"where"`
	Label  string `json:"label"`
	Value  string `json:"value"`
	Secret bool   `json:"secret"`
}

// marshalStoreFindings is what newStoreRow wrote before storeFindings:
// json.Marshal of []storeFinding, the format captures hold.
func marshalStoreFindings(t testing.TB, fs []traffic.Finding) string {
	t.Helper()
	sf := make([]storeFinding, len(fs))
	for i, f := range fs {
		ev := make([]storeEvidence, len(f.Evidence))
		for j, e := range f.Evidence {
			ev[j] = storeEvidence{e.Where, e.Label, e.Value, e.Secret}
		}
		sf[i] = storeFinding{f.Kind, f.Severity, f.Detector, f.Company, f.Product, f.Category, f.RuleID, f.Event, f.Summary, ev}
	}
	b, err := json.Marshal(sf)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStoreFindingsMatchesJSON checks that the hand-written findings
// encoder writes exactly what json.Marshal of []storeFinding writes.
func TestStoreFindingsMatchesJSON(t *testing.T) {
	tests := []struct {
		name string
		fs   []traffic.Finding
	}{
		{"nil", nil},
		{"empty", []traffic.Finding{}},
		{"zero finding", []traffic.Finding{{}}},
		{"cookie leak", []traffic.Finding{{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityMedium, Detector: "cookie-leak",
			Company: "127.0.0.1", Summary: "sent cookie _fbp (browser) to 127.0.0.1",
			Evidence: []traffic.Evidence{{Where: "cookie:_fbp", Label: "browser", Value: "fb.1.1700000000000.1234567890", Secret: true}}}}},
		{"all fields, several evidence", []traffic.Finding{
			{Kind: "pixel", Severity: "high", Detector: "meta-pixel", Company: "Meta", Product: "Meta Pixel", Category: "advertising",
				RuleID: "meta-pixel", Event: "PageView", Summary: "Meta Pixel PageView",
				Evidence: []traffic.Evidence{{Where: "query:dl", Label: "page URL", Value: "https://a.example/?q=<b>&x=\"y\""}, {Where: "query:ud[em]", Label: "email (sha256)", Value: "ab12", Secret: true}}},
			{Kind: "referrer-leak", Summary: "second"},
		}},
		{"escapes and controls", []traffic.Finding{{Summary: "tab\there\\ \x00 \x1f \x7f \"q\"",
			Evidence: []traffic.Evidence{{Where: "header:Referer", Value: "<script>&amp;</script>"}}}}},
		{"short escapes", []traffic.Finding{{Summary: "\b\f\n\r\t\x01\x7f", Product: "a\u2028b\u2029c\u2027", RuleID: "\xe2\x80", Category: "\xe2\x80\xa8\xe2"}}},
		{"unicode and invalid utf-8", []traffic.Finding{{Company: "Ünïcode", Event: "\u2028\u2029",
			Evidence: []traffic.Evidence{{Label: "naïve", Value: "\xff\xfe\xc3"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := marshalStoreFindings(t, tc.fs)
			if len(tc.fs) == 0 {
				want = "[]" // newStoreRow never stored null
			}
			if got := storeFindings(tc.fs); got != want {
				t.Errorf("storeFindings = %s, want %s", got, want)
			}
		})
	}
}

// FuzzStoreFindings compares storeFindings with json.Marshal on arbitrary
// strings: summaries and evidence values come from the network.
func FuzzStoreFindings(f *testing.F) {
	f.Add("cookie-leak", "sent cookie _fbp", "cookie:_fbp", "fb.1.2", true, uint8(1))
	f.Add("\u00dc", "\xff<>&\"\\", "\u2028", "\x00\x7f", false, uint8(3))
	f.Fuzz(func(t *testing.T, a, b, c, d string, secret bool, n uint8) {
		fs := make([]traffic.Finding, 1+int(n%3))
		for i := range fs {
			fs[i] = traffic.Finding{Kind: traffic.Kind(a), Severity: traffic.Severity(d), Detector: a, Company: b, Product: c, Category: d,
				RuleID: b, Event: c, Summary: b + c}
			for j := 0; j < i+int(n%2); j++ {
				fs[i].Evidence = append(fs[i].Evidence, traffic.Evidence{Where: c, Label: a, Value: d + b, Secret: secret != (j%2 == 1)})
			}
		}
		if got, want := storeFindings(fs), marshalStoreFindings(t, fs); got != want {
			t.Errorf("storeFindings(%+v) = %s, want %s", fs, got, want)
		}
	})
}

// BenchmarkNewStoreRow measures building the row of the proxy benchmark's
// request (headers and findings as JSON) without SQLite.
func BenchmarkNewStoreRow(b *testing.B) {
	ex := &traffic.Exchange{
		ID: 1, Source: "proxy", Client: "127.0.0.1", Start: time.Unix(1700000000, 0).UTC(),
		Request: traffic.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "127.0.0.1", Path: "/p/1/2/pixel.gif", RawQuery: "utm_source=news&cb=2"},
			Proto: "HTTP/1.1", Header: http.Header{"Cookie": {"_fbp=fb.1.1700000000000.1234567890; sid=0123456789abcdef0123456789abcdef"},
				"Referer": {"https://news.example/article?id=7"}, "User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}}},
		Response: &traffic.Response{Status: 200, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"image/gif"}, "Content-Length": {"128"},
			"Date": {"Sun, 29 Nov 2026 23:00:00 GMT"}}, Body: make([]byte, 128)},
		Page: &traffic.Page{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"},
		Findings: []traffic.Finding{
			{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityMedium, Detector: "cookieleak", Company: "127.0.0.1",
				Summary: "sent 2 cookies: _fbp (browser), sid (unknown)", Evidence: []traffic.Evidence{
					{Where: "cookie:_fbp", Label: "browser", Value: "fb.1.1700000000000.1234567890", Secret: true},
					{Where: "cookie:sid", Label: "unknown", Value: "0123456789abcdef0123456789abcdef", Secret: true}}},
			{Kind: traffic.KindReferrerLeak, Severity: traffic.SeverityMedium, Detector: "urlleak", Company: "127.0.0.1",
				Summary: "sent the full page URL to 127.0.0.1 in the Referer header", Evidence: []traffic.Evidence{
					{Where: "header:Referer", Label: "page URL", Value: "https://news.example/article?id=7"}}},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		newStoreRow(ex)
	}
}
