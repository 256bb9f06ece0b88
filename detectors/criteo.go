package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Criteo decodes Criteo OneTag events (sslwidget.criteo.com/event and
// widget.criteo.com/event), tracker-facts.md §17: a (account), and
// p0, p1, … each a URL-encoded mini query string e=<code>&… . Codes vh,
// vl, vp, vb and vc (home, listing, product, basket, purchase) name the
// event; ce carries the visitor's e-mail in m=[…] as plain text, SHA-256
// or MD5. One event finding per request, named by its first page-type
// code.
type Criteo struct{}

// NewCriteo returns the Criteo OneTag decoder.
func NewCriteo() *Criteo { return &Criteo{} }

// Name implements Detector.
func (*Criteo) Name() string { return "criteo-onetag" }

var criteoVendor = vendor{"Criteo", "OneTag", "pixel"}

var criteoFields = map[string]field{
	"id": {label: "order id"}, "c": {label: "currency"}, "p": {label: "content ids"},
	"kw": {label: "search terms"}, "site_type": {label: "event property: site type"},
}

var criteoEvents = map[string]bool{"vh": true, "vl": true, "vp": true, "vb": true, "vc": true}

// Detect implements Detector.
func (d *Criteo) Detect(ex *traffic.Exchange) []traffic.Finding {
	if requestPath(ex) != "/event" || !hostIs(ex.Host(), "criteo.com", "criteo.net") {
		return nil
	}
	e := newEvent(ex, d.Name(), criteoVendor)
	ps := requestParams(ex)
	if a, ok := traffic.Get(ps, "a"); ok {
		e.add("query:a", "account id", a, false)
	}
	for _, p := range ps {
		if len(p.Name) < 2 || p.Name[0] != 'p' || !isDigits(p.Name[1:]) {
			continue
		}
		sub := traffic.ParseQuery(p.Where, p.Value)
		code, _ := traffic.Get(sub, "e")
		if criteoEvents[code] {
			e.setName(p.Where+":e", code)
		}
		for _, s := range sub {
			if s.Name == "m" && code == "ce" {
				for _, m := range strings.Split(strings.Trim(s.Value, "[]"), ",") {
					e.hashed(s.Where, "email", m)
				}
				continue
			}
			if f, ok := criteoFields[s.Name]; ok {
				e.addField(s.Where, f, s.Value)
			}
		}
	}
	if tld, ok := traffic.Get(ps, "tld"); ok {
		e.add("query:tld", "event property: site", tld, false)
	}
	return e.findings()
}
