package capture

import (
	"encoding/json"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

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
