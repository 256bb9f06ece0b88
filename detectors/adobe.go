package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Adobe decodes Adobe Analytics (AppMeasurement) image requests,
// tracker-facts.md §20: /b/ss/<report suite(s)>/<0|1>/<library>/s<random>
// on any host (tracking servers are often first-party CNAMEs such as
// metrics.<site>), GET query or POST form. Reported: the report suite as
// account id, events (the event names), pageName, g (page URL), r
// (referrer), products, purchaseID, currency, link name and URL, the
// visitor ids (mid = ECID, aid, fid as browser ids, vid as the site's own
// visitor id), and the variables v1…v250 (eVars) and c1…c75 (props) that
// sites fill with anything from search terms to user names.
type Adobe struct{}

// NewAdobe returns the Adobe Analytics decoder.
func NewAdobe() *Adobe { return &Adobe{} }

// Name implements Detector.
func (*Adobe) Name() string { return "adobe-analytics" }

var adobeVendor = vendor{"Adobe", "Analytics", "analytics"}

var adobeFields = map[string]field{
	"events": {label: "event"}, "pageName": {label: "page title"}, "gn": {label: "page title"},
	"g": {label: "page URL"}, "r": {label: "referrer"}, "products": {label: "content ids"},
	"purchaseID": {label: "order id"}, "cc": {label: "currency"}, "ch": {label: "event property: channel"},
	"pev1": {label: "event property: link URL"}, "pev2": {label: "event property: link name"},
	"mid": {label: "browser id", secret: true}, "aid": {label: "browser id", secret: true},
	"fid": {label: "browser id", secret: true}, "vid": {label: "user id", secret: true},
	"zip": {label: "event property: zip"}, "state": {label: "event property: state"},
	"ev": {label: "event"}, "pe": {label: "event property: link type"},
}

// adobeLinkHits name the link-tracking hits (s.tl()) by their link type,
// the pe parameter; a hit with neither pe nor events is a page view
// (s.t()) (Adobe's image-request query parameters, tracker-facts §20).
var adobeLinkHits = map[string]string{"lnk_o": "custom link", "lnk_d": "download link", "lnk_e": "exit link"}

// Detect implements Detector.
func (d *Adobe) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	i := strings.Index(p, "/b/ss/")
	if i < 0 {
		return nil
	}
	rsid, _, _ := strings.Cut(p[i+len("/b/ss/"):], "/")
	e := newEvent(ex, d.Name(), adobeVendor)
	e.add("path", "account id", rsid, false)
	ps := requestParams(ex)
	e.addParams(ps, adobeFields)
	linkType, link := "", false
	for _, x := range ps {
		n := x.Name
		switch {
		case n == "pe":
			linkType, link = x.Value, true
		case len(n) > 1 && n[0] == 'v' && isDigits(n[1:]):
			e.add(x.Where, "event property: eVar"+n[1:], x.Value, false)
		case len(n) > 1 && n[0] == 'c' && isDigits(n[1:]):
			e.add(x.Where, "event property: prop"+n[1:], x.Value, false)
		}
	}
	if e.name == "" { // no success events: the hit's kind names it
		e.name = "page view"
		if link {
			e.name = adobeLinkHits[linkType] // other link types stay unnamed
		}
	}
	return e.findings()
}
