package detectors

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Universal decodes legacy Universal Analytics hits, tracker-facts.md §2.4:
// /collect, /r/collect, /j/collect and /batch (one hit per body line) on
// Google Analytics hosts, and the older ga.js __utm.gif. The hit type (t)
// is the event; event category/action/label/value, e-commerce fields,
// custom dimensions (cd<N>, which sites fill with anything) and the
// client and user ids are reported.
type Universal struct{}

// NewUniversal returns the Universal Analytics decoder.
func NewUniversal() *Universal { return &Universal{} }

// Name implements Detector.
func (*Universal) Name() string { return "universal-analytics" }

var uaVendor = vendor{"Google", "Universal Analytics", "analytics"}

var uaFields = map[string]field{
	"tid": {label: "account id"}, "utmac": {label: "account id"},
	"t": {label: "event"}, "utmt": {label: "event"},
	"dl": {label: "page URL"}, "dp": {label: "event property: page path"}, "utmp": {label: "event property: page path"},
	"dt": {label: "page title"}, "utmdt": {label: "page title"},
	"dr": {label: "referrer"}, "utmr": {label: "referrer"},
	"cid": {label: "browser id", secret: true}, "uid": {label: "user id", secret: true},
	"ec": {label: "event property: category"}, "ea": {label: "event property: action"},
	"el": {label: "event property: label"}, "ev": {label: "value"},
	"ti": {label: "order id"}, "tr": {label: "value"}, "cu": {label: "currency"},
	"in": {label: "content ids"}, "ic": {label: "content ids"},
}

func ownsUniversal(ex *traffic.Exchange) bool {
	p := requestPath(ex)
	if !(p == "/collect" || p == "/r/collect" || p == "/j/collect" || p == "/batch" || p == "/__utm.gif") {
		return false
	}
	return hostIs(ex.Host(), "google-analytics.com", "analytics.google.com", "stats.g.doubleclick.net")
}

// Detect implements Detector.
func (d *Universal) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsUniversal(ex) {
		return nil
	}
	query := ex.QueryParams()
	hits := [][]traffic.Param{query}
	if body := bytes.TrimSpace(ex.Request.Body); len(body) > 0 {
		hits = nil
		lines := bytes.Split(body, []byte("\n"))
		for i, l := range lines {
			prefix := "form"
			if len(lines) > 1 {
				prefix = "form[" + strconv.Itoa(i) + "]"
			}
			hits = append(hits, append(traffic.ParseQuery(prefix, string(bytes.TrimSpace(l))), query...))
		}
	}
	var out []traffic.Finding
	for _, hit := range hits {
		e := newEvent(ex, d.Name(), uaVendor)
		e.addParams(hit, uaFields)
		for _, p := range hit {
			n := p.Name
			switch {
			case len(n) > 2 && strings.HasPrefix(n, "cd") && isDigits(n[2:]):
				e.add(p.Where, "event property: custom dimension "+n[2:], p.Value, false)
			case len(n) > 4 && strings.HasPrefix(n, "pr") && strings.HasSuffix(n, "id"):
				e.add(p.Where, "content ids", p.Value, false)
			}
		}
		out = append(out, e.findings()...)
	}
	return out
}
