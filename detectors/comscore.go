package detectors

import "github.com/trackaudit/trackaudit/traffic"

// Comscore decodes ScorecardResearch beacons (sb. and b.scorecardresearch
// .com /b, /b2 and /p), tracker-facts.md §22: c2 (client id), c1 (tag
// type), c4 and c7 (page URL), c8 (page title in real traffic), c9
// (referrer), and cs_fpid / cs_fpcu (the first-party _scor_uid id).
// Comscore names no events: the finding is a page-view hit.
type Comscore struct{}

// NewComscore returns the Comscore decoder.
func NewComscore() *Comscore { return &Comscore{} }

// Name implements Detector.
func (*Comscore) Name() string { return "comscore" }

var comscoreVendor = vendor{"Comscore", "ScorecardResearch", "analytics"}

var comscoreFields = map[string]field{
	"c2": {label: "account id"}, "c1": {label: "event property: tag type"},
	"c4": {label: "page URL"}, "c7": {label: "page URL"}, "c8": {label: "page title"},
	"c9": {label: "referrer"}, "cs_fpid": {label: "browser id", secret: true},
	"cs_fpcu": {label: "browser id", secret: true}, "cs_ucfr": {label: "event property: consent"},
	"ns_site": {label: "event property: site"}, "name": {label: "event property: page name"},
}

// Detect implements Detector.
func (d *Comscore) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	if (p != "/b" && p != "/b2" && p != "/p" && p != "/p2") || !hostIs(ex.Host(), "scorecardresearch.com") {
		return nil
	}
	e := newEvent(ex, d.Name(), comscoreVendor)
	e.addParams(requestParams(ex), comscoreFields)
	return e.findings()
}
