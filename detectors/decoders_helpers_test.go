package detectors

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// decoderRequest is one test input for the payload decoders, as stored in
// testdata/decoders/<vendor>/<case>.in.json.
type decoderRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Page is the first-party page URL; empty when unknown.
	Page string `json:"page,omitempty"`
	// Tracker, when set, is attached as the tracker detector's finding.
	Tracker *traffic.Finding `json:"tracker,omitempty"`
}

// exchange builds the exchange r describes.
func (r decoderRequest) exchange(t testing.TB) *traffic.Exchange {
	t.Helper()
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatalf("bad test URL %q: %v", r.URL, err)
	}
	m := r.Method
	if m == "" {
		m = http.MethodGet
	}
	ex := &traffic.Exchange{ID: 1, Request: traffic.Request{Method: m, URL: u, Header: http.Header{}}}
	for k, v := range r.Headers {
		ex.Request.Header.Set(k, v)
	}
	if r.Body != "" {
		ex.Request.Body = []byte(r.Body)
	}
	if r.Page != "" {
		pu, err := url.Parse(r.Page)
		if err != nil {
			t.Fatalf("bad page URL %q: %v", r.Page, err)
		}
		ex.Page = &traffic.Page{URL: r.Page, Site: traffic.Site(pu.Hostname()), By: "referer"}
	}
	if r.Tracker != nil {
		tf := *r.Tracker
		tf.Kind = traffic.KindTracker
		ex.Findings = append(ex.Findings, tf)
	}
	return ex
}

// req is shorthand for a decoderRequest in table tests.
func req(method, rawURL, contentType, body string) decoderRequest {
	r := decoderRequest{Method: method, URL: rawURL, Body: body}
	if contentType != "" {
		r.Headers = map[string]string{"Content-Type": contentType}
	}
	return r
}

// evidence returns the first evidence of f with the label, or ok false.
func evidence(f traffic.Finding, label string) (traffic.Evidence, bool) {
	for _, e := range f.Evidence {
		if e.Label == label {
			return e, true
		}
	}
	return traffic.Evidence{}, false
}

// ofKind keeps the findings of kind k.
func ofKind(fs []traffic.Finding, k traffic.Kind) []traffic.Finding {
	var out []traffic.Finding
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// eventNames lists the Event of each pixel-event finding.
func eventNames(fs []traffic.Finding) []string {
	var out []string
	for _, f := range ofKind(fs, traffic.KindPixelEvent) {
		out = append(out, f.Event)
	}
	return out
}

// decoderCase is one table row of a decoder test.
type decoderCase struct {
	name string
	r    decoderRequest
	// wantEvents are the pixel-event names in order; nil means no finding
	// at all is expected.
	wantEvents []string
	// wantLabels maps evidence labels to values expected on the first
	// pixel event.
	wantLabels map[string]string
	// wantHashed lists the hashed-PII evidence labels, in order, over all
	// findings.
	wantHashed []string
}

// runDecoderCases runs d over each case and checks events, evidence and
// hashed PII.
func runDecoderCases(t *testing.T, d Detector, cases []decoderCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			fs := d.Detect(tt.r.exchange(t))
			if tt.wantEvents == nil && len(fs) != 0 {
				t.Fatalf("%s found %d findings, want none: %+v", d.Name(), len(fs), fs)
			}
			if got := eventNames(fs); len(got) != len(tt.wantEvents) || strings.Join(got, ",") != strings.Join(tt.wantEvents, ",") {
				t.Errorf("events = %q, want %q", got, tt.wantEvents)
			}
			evs := ofKind(fs, traffic.KindPixelEvent)
			for label, want := range tt.wantLabels {
				if len(evs) == 0 {
					t.Errorf("no pixel event to hold %q", label)
					break
				}
				e, ok := evidence(evs[0], label)
				if !ok || e.Value != want {
					t.Errorf("evidence %q = %q (found %v), want %q", label, e.Value, ok, want)
				}
			}
			var hashed []string
			for _, f := range ofKind(fs, traffic.KindHashedPII) {
				if f.Severity != traffic.SeverityHigh {
					t.Errorf("hashed-pii severity = %s, want high", f.Severity)
				}
				for _, e := range f.Evidence {
					hashed = append(hashed, e.Label)
				}
			}
			if strings.Join(hashed, ",") != strings.Join(tt.wantHashed, ",") {
				t.Errorf("hashed PII = %q, want %q", hashed, tt.wantHashed)
			}
		})
	}
}
