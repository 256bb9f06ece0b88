package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Quantcast decodes Quantcast Measure pixels (pixel.quantserve.com),
// tracker-facts.md §21, whose parameters are ";"-separated in the path:
// pixel;r=…;a=p-<id>;fpa=<__qca value>;url=…;ref=…;ogl=…;labels=…;event=….
// The noscript form /pixel/p-<id>.gif carries only the account.
type Quantcast struct{}

// NewQuantcast returns the Quantcast decoder.
func NewQuantcast() *Quantcast { return &Quantcast{} }

// Name implements Detector.
func (*Quantcast) Name() string { return "quantcast" }

var quantcastVendor = vendor{"Quantcast", "Measure", "analytics"}

var quantcastFields = map[string]field{
	"a": {label: "account id"}, "event": {label: "event"}, "url": {label: "page URL"},
	"ref": {label: "referrer"}, "fpa": {label: "browser id", secret: true},
	"labels": {label: "event property: labels"}, "ogl": {label: "event property: OpenGraph data"},
}

// Detect implements Detector.
func (d *Quantcast) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	if !strings.HasPrefix(p, "/pixel") || !hostIs(ex.Host(), "pixel.quantserve.com") {
		return nil
	}
	e := newEvent(ex, d.Name(), quantcastVendor)
	if id, ok := strings.CutPrefix(p, "/pixel/"); ok {
		e.add("path", "account id", strings.TrimSuffix(id, ".gif"), false)
	}
	ps := append(semicolonParams(ex.Request.URL.EscapedPath()), requestParams(ex)...)
	e.addParams(ps, quantcastFields)
	return e.findings()
}
