package detectors

import (
	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// maxClickIDSeen bounds the page+key pairs ClickID remembers for
// deduplication; the oldest are forgotten first.
const maxClickIDSeen = 4096

// ClickID reports ad click ids and match keys (KindClickID): fbclid, gclid,
// ttclid, msclkid … in landing-page URLs (document requests), click-id and
// match-key cookies (_fbc, _fbp, _gcl_au, _ttp …) sent to third parties,
// and the same keys as parameters of tracker requests (fbp=, fbc=,
// gclid=). The names come from the click-id table (tracker-facts §26 and
// the vendors' cookie sections).
//
// Each key is reported once per page, so a page firing twenty pixel hits
// with the same _fbp yields one finding.
type ClickID struct {
	ids   *rules.ClickIDTable
	seen  map[clickKey]bool
	order []clickKey
}

// clickKey is one key on one page: a struct rather than a joined string,
// so that looking it up allocates nothing.
type clickKey struct{ page, where, name string }

// NewClickID returns the detector for the keys in t (nil: none).
func NewClickID(t *rules.ClickIDTable) *ClickID {
	return &ClickID{ids: t, seen: map[clickKey]bool{}}
}

// Name implements Detector.
func (d *ClickID) Name() string { return "clickid" }

// Detect implements Detector.
func (d *ClickID) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.HostOnly || ex.Request.URL == nil || d.ids.Len() == 0 {
		return nil
	}
	pageKey := ex.Site()
	if ex.Page != nil {
		pageKey = ex.Page.URL
	}
	third := ex.ThirdParty()
	tracked := third || ex.Tracker() != nil
	var out []traffic.Finding
	report := func(where, name, value string, id *rules.ClickID, landing bool) {
		// Short values are placeholders (UET sends msclkid=N for none).
		if len(value) < 4 {
			return
		}
		key := clickKey{pageKey, id.Where, id.Name}
		if d.seen[key] {
			return
		}
		d.remember(key)
		out = append(out, d.finding(ex, where, name, value, id, landing))
	}
	if ex.IsDocument() && !third {
		for _, p := range ex.QueryParams() {
			if id, ok := d.ids.Param(p.Name); ok {
				report(p.Where, p.Name, p.Value, id, true)
			}
		}
		return out
	}
	if !tracked {
		return nil
	}
	for _, p := range ex.Params() {
		if id, ok := d.ids.Param(p.Name); ok {
			report(p.Where, p.Name, p.Value, id, false)
		}
	}
	if third {
		for _, c := range ex.Cookies() {
			if id, ok := d.ids.Cookie(c.Name); ok {
				report("cookie:"+c.Name, c.Name, c.Value, id, false)
			}
		}
	}
	return out
}

func (d *ClickID) remember(key clickKey) {
	if len(d.order) >= maxClickIDSeen {
		delete(d.seen, d.order[0])
		d.order = d.order[1:]
	}
	d.seen[key] = true
	d.order = append(d.order, key)
}

// finding builds one KindClickID finding; name is the parameter or cookie
// name as seen.
func (d *ClickID) finding(ex *traffic.Exchange, where, name, value string, id *rules.ClickID, landing bool) traffic.Finding {
	f := traffic.Finding{Kind: traffic.KindClickID, Severity: traffic.SeverityMedium, Detector: d.Name()}
	place := "the landing page URL"
	switch {
	case landing:
		f.Company = id.Company
	default:
		setTracker(&f, ex)
		place = "a request to " + companyName(f)
		if id.Where == rules.ClickIDCookie {
			place = "a cookie sent to " + companyName(f)
		}
	}
	label := id.Company + " match key"
	if id.Kind == rules.ClickIDClick {
		label = id.Company + " click id (" + name + ")"
	}
	f.Evidence = []traffic.Evidence{{Where: where, Label: label, Value: value, Secret: true}}
	f.Summary = name + " in " + place + " lets " + id.Company +
		" match this visit to an ad click or to your profile — also what offline and server-side conversion matching joins on"
	return f
}
