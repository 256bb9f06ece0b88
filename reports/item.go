package reports

import (
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// itemWhat is an item's What in pieces, concatenated in order, so that
// the live line and the ledger can write it without building the string
// first.
type itemWhat [5]string

func (w itemWhat) String() string { return w[0] + w[1] + w[2] + w[3] + w[4] }

// eachItem calls fn for each thing f says left the browser, in evidence
// order, with its What (what left and how, e.g. "cookie c_user (person)"
// or "page URL in parameter dl"; never a secret value) in pieces, its
// evidence (nil for whole-finding items) and its severity (a cookie's
// follows its label). Trackers, contacts and upstream errors have none.
// details is what a pixel event's item names after the event:
// eventDetails(f), or the report's bounded stand-in for it.
func eachItem(f *traffic.Finding, details string, fn func(what itemWhat, ev *traffic.Evidence, sev traffic.Severity)) {
	var w itemWhat
	add := func(ev *traffic.Evidence, sev traffic.Severity, a, b, c, d, e string) {
		w = itemWhat{a, b, c, d, e}
		fn(w, ev, sev)
	}
	switch f.Kind {
	case traffic.KindCookieLeak:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			add(ev, cookieSeverity(ev.Label), "cookie ", cookieName(ev.Where), " (", ev.Label, ")")
		}
	case traffic.KindCookieSharing:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			pk, pn := placeParts(ev.Where)
			add(ev, f.Severity, ev.Label, " copied into ", pk, pn, "")
		}
	case traffic.KindReferrerLeak, traffic.KindPageURLLeak:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			switch {
			case strings.HasPrefix(ev.Label, "sensitive:"):
				pk, pn := placeParts(ev.Where)
				add(ev, traffic.SeverityHigh, ev.Label, " (", pk, pn, ")")
			case ev.Where == "header:Referer":
				add(ev, f.Severity, "full ", ev.Label, " via Referer", "", "")
			default:
				pk, pn := placeParts(ev.Where)
				add(ev, f.Severity, ev.Label, " in ", pk, pn, "")
			}
		}
	case traffic.KindPixelEvent:
		head := "event " // a hit whose decoder found no event name is a "hit"
		if f.Event == "" {
			head = "hit"
		}
		if details != "" {
			add(nil, f.Severity, head, f.Event, ": ", details, "")
		} else {
			add(nil, f.Severity, head, f.Event, "", "", "")
		}
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			if ev.Label == "user id" || ev.Label == "browser id" {
				pk, pn := placeParts(ev.Where)
				add(ev, f.Severity, ev.Label, " in ", pk, pn, "")
			}
		}
	case traffic.KindHashedPII, traffic.KindPII:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			pk, pn := placeParts(ev.Where)
			add(ev, f.Severity, ev.Label, " in ", pk, pn, "")
		}
	case traffic.KindClickID:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			add(ev, f.Severity, ev.Label, "", "", "", "")
		}
	case traffic.KindSocialPlugin:
		for i := range f.Evidence {
			ev := &f.Evidence[i]
			switch ev.Label {
			case "person":
				add(ev, traffic.SeverityHigh, "logged-in state: cookie ", cookieName(ev.Where), " (person)", "", "")
			case "browser":
				add(ev, traffic.SeverityMedium, "browser id: cookie ", cookieName(ev.Where), " (browser)", "", "")
			default:
				pk, pn := placeParts(ev.Where)
				add(ev, f.Severity, ev.Label, " in ", pk, pn, "")
			}
		}
	case traffic.KindSessionReplay:
		add(nil, f.Severity, "session recording", "", "", "", "")
	}
}

// itemSeen remembers the (place, value) pairs of one exchange's items, so
// that when several detectors describe the same evidence (the cookie-leak
// and social-plugin detectors both name c_user; cookie sharing, the pixel
// decoder and the click-id detector all see fbp=) it is listed once, in
// the words of the detector that runs first. Its zero value is ready; a
// caller may start it on a buffer of its own (list).
type itemSeen struct {
	list [][2]string
	m    map[[2]string]bool // instead of list once it is long
}

// first reports whether ev is the first evidence with its place and
// value, and returns s remembering it. Items without a place (events,
// recordings) are always first. (A value receiver and result, not a
// pointer: that keeps a caller's buffer on its stack.)
func (s itemSeen) first(ev *traffic.Evidence) (itemSeen, bool) {
	if ev == nil || ev.Where == "" {
		return s, true
	}
	k := [2]string{ev.Where, ev.Value}
	if s.m != nil {
		if s.m[k] {
			return s, false
		}
		s.m[k] = true
		return s, true
	}
	if slices.Contains(s.list, k) {
		return s, false
	}
	s.list = append(s.list, k)
	if len(s.list) > 32 { // a few items mostly; never quadratic
		s.m = make(map[[2]string]bool, 2*len(s.list))
		for _, k := range s.list {
			s.m[k] = true
		}
	}
	return s, true
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

// appendByItemPriority appends pointers to fs to dst, ordered by
// itemPriority, keeping the capture order among equals; a caller can pass
// a buffer on its stack.
func appendByItemPriority(dst []*traffic.Finding, fs []traffic.Finding) []*traffic.Finding {
	n := len(dst)
	for i := range fs {
		dst = append(dst, &fs[i])
	}
	slices.SortStableFunc(dst[n:], func(a, b *traffic.Finding) int { return itemRank(a.Kind) - itemRank(b.Kind) })
	return dst
}

// itemRank is k's itemPriority; kinds without one come last.
func itemRank(k traffic.Kind) int {
	if p, ok := itemPriority[k]; ok {
		return p
	}
	return len(itemPriority)
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

// placeParts turns an evidence place into words, in two pieces to be
// concatenated: "query:dl" is "parameter dl", "form:dl" "form field dl",
// "body:$.a" "body $.a", "header:Referer" "Referer header", "cookie:_fbc"
// "cookie _fbc".
func placeParts(where string) (string, string) {
	kind, name, ok := strings.Cut(where, ":")
	if !ok {
		return where, ""
	}
	switch {
	case kind == "query":
		return "parameter ", name
	case kind == "form" || strings.HasPrefix(kind, "form["):
		return "form field ", name
	case kind == "body":
		return "body ", name
	case kind == "header":
		return name, " header"
	case kind == "cookie":
		return "cookie ", name
	}
	return where, ""
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
