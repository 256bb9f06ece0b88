package reports

import (
	"sort"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// liveLineRef is LiveLine as it was before it was written to allocate
// less: the reference its output must match (TestLiveLineMatchesRef,
// FuzzLiveLine).
func liveLineRef(ex *traffic.Exchange, o LiveOptions) string {
	if ex == nil || len(ex.Findings) == 0 {
		return ""
	}
	p := paletteFor(o.Color)
	sev := traffic.SeverityInfo
	var events, parts []string
	seen := map[string]bool{}
	addPart := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	items := itemSeenRef{}
	for _, f := range byItemPriorityRef(ex.Findings) {
		if severityRank(f.Severity) > severityRank(sev) {
			sev = f.Severity
		}
		switch f.Kind {
		case traffic.KindPixelEvent:
			if f.Event != "" && !seen["event:"+f.Event] {
				seen["event:"+f.Event] = true
				events = append(events, Sanitize(f.Event))
			}
		case traffic.KindContact:
			via := ex.Via
			if via == "" {
				via = "host only"
			}
			addPart("contact only (" + Sanitize(via) + ")")
			continue
		case traffic.KindUpstreamError:
			msg := ex.Error
			if msg == "" {
				msg = f.Summary
			}
			addPart("error: " + Sanitize(msg))
			continue
		}
		for _, it := range itemsOfRef(f) {
			if !items.first(it) {
				continue
			}
			if f.Kind == traffic.KindPixelEvent && it.Where == "" {
				continue // the event itself is named after the target
			}
			s := Sanitize(it.What)
			if o.ShowSecrets && it.Secret && it.Value != "" {
				s += "=" + clip(Sanitize(it.Value), liveValueMax)
			}
			addPart(s)
		}
	}

	var b strings.Builder
	if !ex.Start.IsZero() {
		b.WriteString(ex.Start.Format("15:04:05"))
		b.WriteByte(' ')
	}
	b.WriteString(p.severity(sev, padRight(severityTag(sev), 4)))
	b.WriteByte(' ')
	page := "(no page)"
	if ex.Page != nil && ex.Page.Site != "" {
		page = ex.Page.Site
	}
	b.WriteString(Sanitize(page))
	b.WriteString(" → ")
	b.WriteString(Sanitize(liveTargetRef(ex)))
	if len(events) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(events, ", "))
	}
	for _, s := range parts {
		b.WriteString(" · ")
		b.WriteString(s)
	}
	if ex.Insecure {
		b.WriteString(" · " + p.warn.Sprint("upstream certificate not verified"))
	}
	return b.String()
}

func liveTargetRef(ex *traffic.Exchange) string {
	f := ex.Tracker()
	if f == nil {
		for i := range ex.Findings {
			if ex.Findings[i].Company != "" {
				f = &ex.Findings[i]
				break
			}
		}
	}
	if f != nil && f.Company != "" {
		if f.Product != "" && f.Product != f.Company {
			return f.Company + " / " + f.Product
		}
		return f.Company
	}
	if h := ex.Host(); h != "" {
		return h
	}
	return "(unknown host)"
}

// itemsOfRef is itemsOf as it was before eachItem; it lists what a finding says left the browser, in evidence order.
// Trackers, contacts and upstream errors carry no items.
func itemsOfRef(f *traffic.Finding) []item {
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
		if f.Event == "" {
			what = "hit"
		}
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

// TestLiveLineMatchesRef compares LiveLine with liveLineRef on every
// sample exchange, with every option, and on made-up edge cases.
func TestLiveLineMatchesRef(t *testing.T) {
	exs := append(sampleExchanges(), benchExchanges(50)...)
	for _, f := range liveEdgeFindings() {
		e := *sampleExchanges()[2]
		e.Findings = f
		exs = append(exs, &e)
	}
	for _, e := range exs {
		for _, o := range []LiveOptions{{}, {Color: true}, {ShowSecrets: true}, {Color: true, ShowSecrets: true}} {
			if got, want := LiveLine(e, o), liveLineRef(e, o); got != want {
				t.Errorf("exchange %d %+v: LiveLine =\n%q\nwant\n%q", e.ID, o, got, want)
			}
		}
	}
}

// liveEdgeFindings are finding lists whose live lines take rare paths:
// events and parts that collide, escapes that span pieces, many parts.
func liveEdgeFindings() [][]traffic.Finding {
	ck := func(name, label, value string) traffic.Evidence {
		return traffic.Evidence{Where: "cookie:" + name, Label: label, Value: value, Secret: true}
	}
	var many []traffic.Evidence
	for i := range 40 {
		many = append(many, ck(strings.Repeat("c", i+1), "browser", strings.Repeat("v", 60)))
	}
	return [][]traffic.Finding{
		{{Kind: traffic.KindClickID, Evidence: []traffic.Evidence{{Where: "query:x", Label: "event:Lead"}}},
			{Kind: traffic.KindPixelEvent, Event: "Lead"}},
		{{Kind: traffic.KindPixelEvent, Event: "Lead"},
			{Kind: traffic.KindClickID, Evidence: []traffic.Evidence{{Where: "query:x", Label: "event:Lead"}}}},
		{{Kind: traffic.KindPixelEvent, Event: "A\x1b[31m"}, {Kind: traffic.KindPixelEvent, Event: "A\x1b[31m"}, {Kind: traffic.KindPixelEvent, Event: "B"}},
		{{Kind: traffic.KindCookieLeak, Evidence: []traffic.Evidence{ck("a\x1b", "browser", "1"), ck("b", "\x1b", "2"), ck("ü\u202e", "person", "ÿ\xff")}}},
		{{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityLow, Evidence: many}},
		{{Kind: traffic.KindSocialPlugin, Evidence: many}, {Kind: traffic.KindCookieLeak, Evidence: many[5:]}, {Kind: traffic.KindClickID, Evidence: many[30:]}},
		{{Kind: traffic.KindContact}, {Kind: traffic.KindContact}, {Kind: traffic.KindUpstreamError, Summary: "x\ny"}},
		{{Kind: traffic.KindTracker, Company: "Ac\x1b", Product: "[31mme"}},
		{{Kind: traffic.KindTracker, Company: "Same", Product: "Same"}, {Kind: "unknown", Severity: "bogus"}},
		{{Kind: traffic.KindReferrerLeak, Evidence: []traffic.Evidence{{Where: "header:Referer", Label: "page URL"}, {Where: "form[0]:q", Label: "sensitive: health", Value: "v"}}}},
	}
}

// FuzzLiveLine compares LiveLine with liveLineRef on findings made of
// arbitrary strings (names and values come from the network).
func FuzzLiveLine(f *testing.F) {
	f.Add("cookie:_fbp", "browser", "fb.1.2", "PageView", uint8(0))
	f.Add("query:dl", "sensitive: x\x1b", "\x1b[2J", "event:PageView", uint8(7))
	kinds := []traffic.Kind{traffic.KindCookieLeak, traffic.KindCookieSharing, traffic.KindReferrerLeak, traffic.KindPageURLLeak,
		traffic.KindPixelEvent, traffic.KindHashedPII, traffic.KindPII, traffic.KindClickID, traffic.KindSocialPlugin,
		traffic.KindSessionReplay, traffic.KindContact, traffic.KindUpstreamError, traffic.KindTracker}
	sevs := []traffic.Severity{traffic.SeverityInfo, traffic.SeverityLow, traffic.SeverityMedium, traffic.SeverityHigh}
	f.Fuzz(func(t *testing.T, where, label, value, event string, n uint8) {
		e := *sampleExchanges()[2]
		e.Findings = nil
		e.Via, e.Error = label, value
		for i := range int(n%8) + 1 {
			k := kinds[(int(n)+i*5)%len(kinds)]
			fd := traffic.Finding{Kind: k, Severity: sevs[(int(n)+i)%len(sevs)], Event: event, Summary: value, Company: label, Product: event}
			for j := range i%3 + 1 {
				fd.Evidence = append(fd.Evidence, traffic.Evidence{Where: where, Label: label, Value: value[:len(value)*j/3], Secret: j != 1})
			}
			e.Findings = append(e.Findings, fd)
		}
		for _, o := range []LiveOptions{{}, {Color: true, ShowSecrets: true}} {
			if got, want := LiveLine(&e, o), liveLineRef(&e, o); got != want {
				t.Errorf("%+v: LiveLine =\n%q\nwant\n%q", e.Findings, got, want)
			}
		}
	})
}

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

// itemSeenRef is itemSeen as it was, a map; it remembers the (place, value) pairs of one exchange's items, so
// that when several detectors describe the same evidence (the cookie-leak
// and social-plugin detectors both name c_user; cookie sharing, the pixel
// decoder and the click-id detector all see fbp=) it is listed once, in
// the words of the detector that runs first.
type itemSeenRef map[[2]string]bool

// first reports whether it is the first item with its place and value.
// Items without a place (events, recordings) are always first.
func (s itemSeenRef) first(it item) bool {
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

// byItemPriorityRef is the sort appendByItemPriority replaced; it
// returns pointers to fs ordered by itemPriority, keeping
// the capture order among equals.
func byItemPriorityRef(fs []traffic.Finding) []*traffic.Finding {
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

// place is placeParts as one string, as the reference wrote it.
func place(where string) string {
	a, b := placeParts(where)
	return a + b
}
