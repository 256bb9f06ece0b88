package reports

import (
	"sort"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// item is one thing that left the browser, in words: the unit of the
// leak ledger and of the live line.
type item struct {
	// What says what left and how, e.g. "cookie c_user (person)" or
	// "page URL in parameter dl". It never holds a secret value.
	What string
	// Where is the evidence place ("query:dl"); empty for whole-finding
	// items.
	Where string
	// Value is the observed value; empty when the What says it all.
	Value  string
	Secret bool
	// Severity of this item; a cookie's severity follows its label.
	Severity traffic.Severity
}

// itemsOf lists what a finding says left the browser, in evidence order.
// Trackers, contacts and upstream errors carry no items.
func itemsOf(f *traffic.Finding) []item {
	var out []item
	add := func(what string, ev traffic.Evidence, sev traffic.Severity) {
		out = append(out, item{What: what, Where: ev.Where, Value: ev.Value, Secret: ev.Secret, Severity: sev})
	}
	switch f.Kind {
	case traffic.KindCookieLeak:
		for _, ev := range f.Evidence {
			add("cookie "+cookieName(ev.Where)+" ("+ev.Label+")", ev, cookieSeverity(ev.Label))
		}
	case traffic.KindCookieSharing:
		for _, ev := range f.Evidence {
			add(ev.Label+" copied into "+place(ev.Where), ev, f.Severity)
		}
	case traffic.KindReferrerLeak, traffic.KindPageURLLeak:
		for _, ev := range f.Evidence {
			switch {
			case strings.HasPrefix(ev.Label, "sensitive:"):
				add(ev.Label+" ("+place(ev.Where)+")", ev, traffic.SeverityHigh)
			case ev.Where == "header:Referer":
				add("full "+ev.Label+" via Referer", ev, f.Severity)
			default:
				add(ev.Label+" in "+place(ev.Where), ev, f.Severity)
			}
		}
	case traffic.KindPixelEvent:
		what := "event " + f.Event
		if d := eventDetails(f); d != "" {
			what += ": " + d
		}
		out = append(out, item{What: what, Severity: f.Severity})
		for _, ev := range f.Evidence {
			if ev.Label == "user id" || ev.Label == "browser id" {
				add(ev.Label+" in "+place(ev.Where), ev, f.Severity)
			}
		}
	case traffic.KindHashedPII, traffic.KindPII:
		for _, ev := range f.Evidence {
			add(ev.Label+" in "+place(ev.Where), ev, f.Severity)
		}
	case traffic.KindClickID:
		for _, ev := range f.Evidence {
			add(ev.Label, ev, f.Severity)
		}
	case traffic.KindSocialPlugin:
		for _, ev := range f.Evidence {
			switch ev.Label {
			case "person":
				add("logged-in state: cookie "+cookieName(ev.Where)+" (person)", ev, traffic.SeverityHigh)
			case "browser":
				add("browser id: cookie "+cookieName(ev.Where)+" (browser)", ev, traffic.SeverityMedium)
			default:
				add(ev.Label+" in "+place(ev.Where), ev, f.Severity)
			}
		}
	case traffic.KindSessionReplay:
		out = append(out, item{What: "session recording", Severity: f.Severity})
	}
	return out
}

// itemSeen remembers the (place, value) pairs of one exchange's items, so
// that when several detectors describe the same evidence (the cookie-leak
// and social-plugin detectors both name c_user; cookie sharing, the pixel
// decoder and the click-id detector all see fbp=) it is listed once, in
// the words of the detector that runs first.
type itemSeen map[[2]string]bool

// first reports whether it is the first item with its place and value.
// Items without a place (events, recordings) are always first.
func (s itemSeen) first(it item) bool {
	if it.Where == "" {
		return true
	}
	k := [2]string{it.Where, it.Value}
	if s[k] {
		return false
	}
	s[k] = true
	return true
}

// itemPriority orders findings for itemSeen: when two describe the same
// evidence, the more telling description wins (a first-party cookie copied
// into a parameter says more than "browser id in parameter fbp").
var itemPriority = map[traffic.Kind]int{
	traffic.KindCookieSharing: 0,
	traffic.KindPII:           1,
	traffic.KindHashedPII:     2,
	traffic.KindCookieLeak:    3,
	traffic.KindSocialPlugin:  4,
	traffic.KindReferrerLeak:  5,
	traffic.KindPageURLLeak:   5,
	traffic.KindClickID:       6,
	traffic.KindPixelEvent:    7,
}

// byItemPriority returns pointers to fs ordered by itemPriority, keeping
// the capture order among equals.
func byItemPriority(fs []traffic.Finding) []*traffic.Finding {
	out := make([]*traffic.Finding, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, oki := itemPriority[out[i].Kind]
		pj, okj := itemPriority[out[j].Kind]
		if !oki {
			pi = len(itemPriority)
		}
		if !okj {
			pj = len(itemPriority)
		}
		return pi < pj
	})
	return out
}

// cookieSeverity ranks a cookie by its label: an account cookie ties the
// request to a person, a device id to a browser.
func cookieSeverity(label string) traffic.Severity {
	switch label {
	case "person":
		return traffic.SeverityHigh
	case "browser", "click":
		return traffic.SeverityMedium
	}
	return traffic.SeverityLow
}

// cookieName returns NAME from "cookie:NAME", or where itself.
func cookieName(where string) string {
	if n, ok := strings.CutPrefix(where, "cookie:"); ok {
		return n
	}
	return where
}

// place turns an evidence place into words: "query:dl" is "parameter
// dl", "form:dl" "form field dl", "body:$.a" "body $.a", "header:Referer"
// "Referer header", "cookie:_fbc" "cookie _fbc".
func place(where string) string {
	kind, name, ok := strings.Cut(where, ":")
	if !ok {
		return where
	}
	switch {
	case kind == "query":
		return "parameter " + name
	case kind == "form" || strings.HasPrefix(kind, "form["):
		return "form field " + name
	case kind == "body":
		return "body " + name
	case kind == "header":
		return name + " header"
	case kind == "cookie":
		return "cookie " + name
	}
	return where
}

// eventDetails summarises a pixel event's key properties: value and
// currency, content ids, search terms. Secret properties are left out.
func eventDetails(f *traffic.Finding) string {
	var value, currency string
	var parts []string
	for _, ev := range f.Evidence {
		if ev.Secret {
			continue
		}
		switch ev.Label {
		case "value":
			value = ev.Value
		case "currency":
			currency = ev.Value
		case "content name", "content category", "content ids", "contents", "items", "item", "products", "order id", "search terms", "form field":
			parts = append(parts, ev.Label+" "+ev.Value)
		}
	}
	if value != "" || currency != "" {
		parts = append([]string{strings.TrimSpace("value " + value + " " + currency)}, parts...)
	}
	return strings.Join(parts, ", ")
}
