package detectors

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// exOpt adjusts an exchange built by newTestExchange.
type exOpt func(*traffic.Exchange)

// newTestExchange builds a GET/POST exchange for rawURL with the given
// options applied in order. It fails the test on a bad URL. Other detector
// tests may use it and its options.
func newTestExchange(t testing.TB, method, rawURL string, opts ...exOpt) *traffic.Exchange {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Fatalf("newTestExchange: bad absolute URL %q: %v", rawURL, err)
	}
	ex := &traffic.Exchange{ID: 1, Source: "test", Request: traffic.Request{Method: method, URL: u, Header: http.Header{}}}
	for _, o := range opts {
		o(ex)
	}
	return ex
}

// withPage ties the exchange to the first-party page at pageURL.
func withPage(pageURL string) exOpt {
	return func(ex *traffic.Exchange) {
		u, _ := url.Parse(pageURL)
		site := ""
		if u != nil {
			site = traffic.Site(u.Hostname())
		}
		ex.Page = &traffic.Page{URL: pageURL, Site: site, By: "pageref"}
	}
}

// withPageTitle sets the title of the exchange's page (call after withPage).
func withPageTitle(title string) exOpt {
	return func(ex *traffic.Exchange) {
		if ex.Page != nil {
			ex.Page.Title = title
		}
	}
}

// withHeader adds a request header.
func withHeader(name, value string) exOpt {
	return func(ex *traffic.Exchange) { ex.Request.Header.Add(name, value) }
}

// withCookies adds a Cookie request header ("a=1; b=2").
func withCookies(h string) exOpt { return withHeader("Cookie", h) }

// withBody sets the request body and its Content-Type.
func withBody(contentType, body string) exOpt {
	return func(ex *traffic.Exchange) {
		ex.Request.Body = []byte(body)
		if contentType != "" {
			ex.Request.Header.Set("Content-Type", contentType)
		}
	}
}

// withResponse attaches a response with the status and header pairs
// ("Set-Cookie", "a=1", "Content-Type", "text/html").
func withResponse(status int, headerPairs ...string) exOpt {
	return func(ex *traffic.Exchange) {
		r := &traffic.Response{Status: status, Header: http.Header{}}
		for i := 0; i+1 < len(headerPairs); i += 2 {
			r.Header.Add(headerPairs[i], headerPairs[i+1])
		}
		ex.Response = r
	}
}

// withTracker attaches the tracker finding the tracker detector would
// have made, so detectors that run after it can be tested alone.
func withTracker(company, product, category, ruleID string) exOpt {
	return func(ex *traffic.Exchange) {
		ex.Findings = append(ex.Findings, traffic.Finding{
			Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Detector: "tracker",
			Company: company, Product: product, Category: category, RuleID: ruleID,
			Summary: "request to " + company + " " + product,
		})
	}
}

// findingsOf returns the findings of kind k.
func findingsOf(fs []traffic.Finding, k traffic.Kind) []traffic.Finding {
	var out []traffic.Finding
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// evidenceAt returns the first evidence item of f whose Where is where.
func evidenceAt(f traffic.Finding, where string) (traffic.Evidence, bool) {
	for _, e := range f.Evidence {
		if e.Where == where {
			return e, true
		}
	}
	return traffic.Evidence{}, false
}

// evidenceString renders f's evidence one item a line for failure
// messages: "where | label | value | secret".
func evidenceString(f traffic.Finding) string {
	var b strings.Builder
	for _, e := range f.Evidence {
		b.WriteString(e.Where + " | " + e.Label + " | " + e.Value)
		if e.Secret {
			b.WriteString(" | secret")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkNoSecretInSummary fails when a secret evidence value of f appears
// in its summary.
func checkNoSecretInSummary(t testing.TB, f traffic.Finding) {
	t.Helper()
	for _, e := range f.Evidence {
		if e.Secret && len(e.Value) >= 4 && strings.Contains(f.Summary, e.Value) {
			t.Errorf("summary %q contains secret value %q (%s)", f.Summary, e.Value, e.Where)
		}
	}
}
