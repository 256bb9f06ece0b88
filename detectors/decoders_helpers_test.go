package detectors

import (
	"net/http"
	"net/url"
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
