package detectors

import "github.com/trackaudit/trackaudit/traffic"

// UET decodes Microsoft Advertising UET beacons (bat.bing.com/action/…),
// tracker-facts.md §9: ti (tag id), evt (pageLoad or custom), event
// category/action/label/value, goal revenue and currency, page URL,
// referrer and title, the advertiser's logged-in user id (uid) and
// anonymous id (vid), and the msclkid click id.
type UET struct{}

// NewUET returns the Microsoft UET decoder.
func NewUET() *UET { return &UET{} }

// Name implements Detector.
func (*UET) Name() string { return "microsoft-uet" }

var uetVendor = vendor{"Microsoft", "UET tag", "pixel"}

var uetFields = map[string]field{
	"ti": {label: "account id"}, "evt": {label: "event"},
	"ec": {label: "event property: category"}, "ea": {label: "event property: action"},
	"el": {label: "event property: label"}, "ev": {label: "value"}, "gv": {label: "value"},
	"gc": {label: "currency"}, "prodid": {label: "content ids"}, "pagetype": {label: "event property: page type"},
	"p": {label: "page URL"}, "r": {label: "referrer"}, "tl": {label: "page title"},
	"kw":  {label: "event property: page keywords"},
	"uid": {label: "user id", secret: true}, "vid": {label: "browser id", secret: true},
}

// Detect implements Detector.
func (d *UET) Detect(ex *traffic.Exchange) []traffic.Finding {
	if len(requestPath(ex)) < 8 || requestPath(ex)[:8] != "/action/" || !hostIs(ex.Host(), "bat.bing.com", "bat.bing.net") {
		return nil
	}
	e := newEvent(ex, d.Name(), uetVendor)
	ps := requestParams(ex)
	e.addParams(ps, uetFields)
	if c, ok := traffic.Get(ps, "msclkid"); ok && c != "N" {
		e.add("query:msclkid", "click id", c, true)
	}
	return e.findings()
}
