package detectors

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestDecoderGoldens runs every decoder over each
// testdata/decoders/<vendor>/<case>.in.json and compares the findings with
// <case>.golden.json. Run with -update to rewrite the goldens.
func TestDecoderGoldens(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "decoders", "*", "*.in.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatal("no inputs under testdata/decoders")
	}
	set := NewSet(payloadDecoders()...)
	for _, in := range ins {
		name := strings.TrimSuffix(in, ".in.json")
		t.Run(filepath.ToSlash(strings.TrimPrefix(name, filepath.Join("testdata", "decoders")+string(filepath.Separator))), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var r decoderRequest
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			ex := r.exchange(t)
			before := len(ex.Findings)
			set.Run(ex)
			got, err := json.MarshalIndent(ex.Findings[before:], "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := name + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("findings differ from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			if len(ex.Findings) == before {
				t.Errorf("%s: no findings; every golden input should decode", in)
			}
		})
	}
}

// TestSummariesHoldNoSecrets checks the convention that summaries never
// contain secret evidence values.
func TestSummariesHoldNoSecrets(t *testing.T) {
	ins, _ := filepath.Glob(filepath.Join("testdata", "decoders", "*", "*.in.json"))
	set := NewSet(payloadDecoders()...)
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		var r decoderRequest
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		ex := r.exchange(t)
		set.Run(ex)
		for _, f := range ex.Findings {
			for _, e := range f.Evidence {
				if e.Secret && len(e.Value) >= 4 && strings.Contains(f.Summary, e.Value) {
					t.Errorf("%s: summary %q contains secret %s value", in, f.Summary, e.Where)
				}
			}
		}
	}
}

func TestHashedField(t *testing.T) {
	const sha = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b" // sha256("test@example.com")
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		name, value, wantLabel string
	}{
		{"sha256", sha, "email (sha256)"},
		{"upper-case sha256", strings.ToUpper(sha), "email (sha256)"},
		{"md5", "55502f40dc8b7c769880b10874abc9d0", "email (md5)"},
		{"empty hash", emptySHA, ""},
		{"undefined hash", "eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c", ""},
		{"plain email", "jane.doe@example.org", "email (plain text)"},
		{"not personal", "hello", ""},
		{"blank", "  ", ""},
		{"base64url sha256", "lz3-Rj7IV4X1-Vr1ujkG7tstkxwk5pgkqJ6mXbpOgTs", "email (sha256)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEvent(&traffic.Exchange{}, "test", vendor{company: "X"})
			e.hashed("query:em", "email", tt.value)
			got := ""
			if len(e.pii) > 0 {
				got = e.pii[0].Label
				if !e.pii[0].Secret {
					t.Errorf("hashed(%q) evidence not secret", tt.value)
				}
			}
			if got != tt.wantLabel {
				t.Errorf("hashed(%q) label = %q, want %q", tt.value, got, tt.wantLabel)
			}
			empty := len(e.ev) == 1 && e.ev[0].Label == "email (empty)"
			if wantEmpty := strings.HasSuffix(tt.name, "hash") && tt.wantLabel == ""; empty != wantEmpty {
				t.Errorf("hashed(%q) noted as empty = %v, want %v", tt.value, empty, wantEmpty)
			}
		})
	}
}

func TestEventMeaning(t *testing.T) {
	tests := []struct{ name, want string }{
		{"page_view", "viewed a page"},
		{"PageView", "viewed a page"},
		{"PAGE_VIEW", "viewed a page"},
		{"CompletePayment", "completed a purchase"},
		{"Schedule", "booked an appointment"},
		{"my_custom_thing", ""},
	}
	for _, tt := range tests {
		if got := eventMeaning(tt.name); got != tt.want {
			t.Errorf("eventMeaning(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIdentityFromTracker(t *testing.T) {
	ex := &traffic.Exchange{Findings: []traffic.Finding{{Kind: traffic.KindTracker, Company: "Google", Product: "GA4 (server-side)", Category: "analytics", RuleID: "rule-x"}}}
	var f traffic.Finding
	identity(ex, vendor{"Other", "Thing", "pixel"}, &f)
	if f.Company != "Google" || f.Product != "GA4 (server-side)" || f.RuleID != "rule-x" {
		t.Errorf("identity with tracker = %+v, want copied from the tracker finding", f)
	}
	identity(&traffic.Exchange{}, vendor{"Other", "Thing", "pixel"}, &f)
	if f.Company != "Other" || f.Product != "Thing" || f.RuleID != "" {
		t.Errorf("identity without tracker = %+v, want the vendor fallback", f)
	}
}

// goldenRequests loads every testdata/decoders input.
func goldenRequests(tb testing.TB) []decoderRequest {
	tb.Helper()
	ins, err := filepath.Glob(filepath.Join("testdata", "decoders", "*", "*.in.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []decoderRequest
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			tb.Fatal(err)
		}
		var r decoderRequest
		if err := json.Unmarshal(raw, &r); err != nil {
			tb.Fatalf("%s: %v", in, err)
		}
		out = append(out, r)
	}
	return out
}

// FuzzDecoders feeds arbitrary method, URL, content type and body through
// every payload decoder: none may panic, and every finding must have a
// kind, a detector name and a summary. Crashers land in
// testdata/fuzz/FuzzDecoders.
func FuzzDecoders(f *testing.F) {
	for _, r := range goldenRequests(f) {
		f.Add(r.Method, r.URL, r.Headers["Content-Type"], []byte(r.Body))
	}
	f.Add("POST", "https://www.google-analytics.com/g/collect?v=2&tid=G-1&pr1=~~~id", "text/plain", []byte("en=x&pr2=%zz\n\n\nen"))
	f.Add("POST", "https://e.clarity.ms/collect", "", []byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add("GET", "https://ct.pinterest.com/v3/?pd=[1,2]&ed=null&ad=%7B%22loc%22:[]%7D", "", []byte(nil))
	f.Add("POST", "https://tr.snapchat.com/p", "application/json", []byte(`{"req":[{"t":[]},null,{"t":{"ev":{}}}]}`))
	decoders := payloadDecoders()
	f.Fuzz(func(t *testing.T, method, rawURL, contentType string, body []byte) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return
		}
		ex := &traffic.Exchange{Request: traffic.Request{Method: method, URL: u, Header: http.Header{"Content-Type": {contentType}}, Body: body}}
		for _, d := range decoders {
			for _, fd := range d.Detect(ex) {
				if fd.Kind == "" || fd.Detector == "" || fd.Summary == "" {
					t.Fatalf("%s: incomplete finding %+v", d.Name(), fd)
				}
			}
		}
	})
}

// BenchmarkDecoders runs all payload decoders over a mixed set: every
// golden input plus ordinary requests no decoder owns, as on a real page.
// "nonmatching" measures the ownership checks alone.
func BenchmarkDecoders(b *testing.B) {
	var mixed, other []*traffic.Exchange
	for _, r := range goldenRequests(b) {
		mixed = append(mixed, r.exchange(b))
	}
	for _, u := range []string{
		"https://news.example/", "https://news.example/static/app.3f9a.js", "https://cdn.example.net/img/hero.webp",
		"https://fonts.gstatic.com/s/roboto/v30/KFOmCnqEu92Fr1Mu4mxK.woff2", "https://news.example/api/articles?page=2",
		"https://www.googletagmanager.com/gtag/js?id=G-TR58L0EF8P", "https://connect.facebook.net/en_US/fbevents.js",
		"https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=X", "https://static.hotjar.com/c/hotjar-1.js?sv=6",
		"https://news.example/collect?x=1",
	} {
		ex := decoderRequest{Method: "GET", URL: u}.exchange(b)
		other = append(other, ex)
	}
	mixed = append(mixed, other...)
	set := payloadDecoders()
	run := func(b *testing.B, exs []*traffic.Exchange) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			ex := exs[n%len(exs)]
			n++
			for _, d := range set {
				d.Detect(ex)
			}
		}
	}
	b.Run("mixed", func(b *testing.B) { run(b, mixed) })
	b.Run("nonmatching", func(b *testing.B) { run(b, other) })
}
