package reports

import (
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// LiveOptions configure LiveLine.
type LiveOptions struct {
	// Color paints the severity tag; the caller decides (terminal or not,
	// --color); this package never looks at the environment.
	Color bool
	// ShowSecrets appends secret values (cookie values, ids, hashes) to
	// the items that carry them; by default no secret value is printed.
	ShowSecrets bool
}

// liveValueMax bounds one value shown with ShowSecrets.
const liveValueMax = 40

// LiveLine renders one analysed exchange as a single line for the
// proxy's live view: time, severity, page site → tracker, event names and
// what left the browser. It returns "" when the exchange has no findings.
// The line has no trailing newline, contains no control characters (all
// capture-derived text goes through Sanitize) and never a secret value
// unless o.ShowSecrets.
//
//	12:00:01 HIGH news.example → Meta / Meta Pixel: PageView · cookie c_user (person) · full page URL via Referer
//
// A tracker named by the host's DNS alias says so: "→ Adobe / Analytics
// behind smetrics.news.example (a DNS alias)".
func LiveLine(ex *traffic.Exchange, o LiveOptions) string {
	if ex == nil || len(ex.Findings) == 0 {
		return ""
	}
	// Everything is collected in buffers on the stack and the line is
	// copied out once: this runs for every leaking request the proxy sees.
	var (
		fsBuf   [16]*traffic.Finding
		evBuf   [8]string // events, raw (deduplicated before Sanitize)
		partBuf [512]byte // the parts, back to back
		endBuf  [24]int   // end offset of each part in parts
		seenBuf [24][2]string
		seen    itemSeen
		lineBuf [768]byte
		sev     = traffic.SeverityInfo
		events  = evBuf[:0]
		parts   = partBuf[:0]
		ends    = endBuf[:0]
	)
	// A part is the bytes parts[start:]; it stays unless an earlier part
	// says the same. An event name E and a part "event:E" exclude each
	// other, as when both were keys of one set.
	keepPart := func(start int) {
		s := parts[start:]
		if len(s) == 0 {
			return
		}
		if len(s) > len("event:") && string(s[:len("event:")]) == "event:" {
			for _, e := range events {
				if string(s[len("event:"):]) == e {
					parts = parts[:start]
					return
				}
			}
		}
		prev := 0
		for _, end := range ends {
			if string(parts[prev:end]) == string(s) {
				parts = parts[:start]
				return
			}
			prev = end
		}
		ends = append(ends, len(parts))
	}
	hasEventPart := func(e string) bool { // a part "event:"+e
		prev := 0
		for _, end := range ends {
			s := parts[prev:end]
			if len(s) == len("event:")+len(e) && string(s[:len("event:")]) == "event:" && string(s[len("event:"):]) == e {
				return true
			}
			prev = end
		}
		return false
	}
	seen.list = seenBuf[:0]
	for _, f := range appendByItemPriority(fsBuf[:0], ex.Findings) {
		sev = moreSevere(sev, f.Severity)
		switch f.Kind {
		case traffic.KindPixelEvent:
			if f.Event != "" && !slices.Contains(events, f.Event) && !hasEventPart(f.Event) {
				events = append(events, f.Event)
			}
		case traffic.KindContact:
			via := ex.Via
			if via == "" {
				via = "host only"
			}
			start := len(parts)
			parts = append(parts, "contact only ("...)
			parts = append(parts, Sanitize(via)...)
			parts = append(parts, ')')
			keepPart(start)
			continue
		case traffic.KindUpstreamError:
			msg := ex.Error
			if msg == "" {
				msg = f.Summary
			}
			start := len(parts)
			parts = append(parts, "error: "...)
			parts = append(parts, Sanitize(msg)...)
			keepPart(start)
			continue
		}
		eachItem(f, eventDetails(f), func(what itemWhat, ev *traffic.Evidence, _ traffic.Severity) {
			var first bool
			if seen, first = seen.first(ev); !first {
				return
			}
			if f.Kind == traffic.KindPixelEvent && (ev == nil || ev.Where == "") {
				return // the event itself is named after the target
			}
			start := len(parts)
			parts = appendSanitizedWhat(parts, &what)
			if o.ShowSecrets && ev != nil && ev.Secret && ev.Value != "" {
				parts = append(parts, '=')
				parts = append(parts, clip(Sanitize(ev.Value), liveValueMax)...)
			}
			keepPart(start)
		})
	}

	p := paletteFor(o.Color)
	b := lineBuf[:0]
	if !ex.Start.IsZero() {
		b = ex.Start.AppendFormat(b, "15:04:05")
		b = append(b, ' ')
	}
	b = append(b, p.liveTags[severityRank(sev)]...)
	b = append(b, ' ')
	page := "(no page)"
	if ex.Page != nil && ex.Page.Site != "" {
		page = ex.Page.Site
	}
	b = append(b, Sanitize(page)...)
	b = append(b, " → "...)
	company, product, host := liveTargetParts(ex)
	switch {
	case product != "" && cleanASCII(company) && cleanASCII(product):
		b = append(b, company...)
		b = append(b, " / "...)
		b = append(b, product...)
	case product != "":
		b = append(b, Sanitize(company+" / "+product)...)
	case company != "":
		b = append(b, Sanitize(company)...)
	default:
		b = append(b, Sanitize(host)...)
	}
	if ex.CNAME != "" && ex.Tracker() != nil && cloakedBy(ex.Tracker()) {
		b = append(b, " behind "...)
		b = append(b, Sanitize(ex.Host())...)
		b = append(b, " (a DNS alias)"...)
	}
	for i, e := range events {
		if i == 0 {
			b = append(b, ": "...)
		} else {
			b = append(b, ", "...)
		}
		b = append(b, Sanitize(e)...)
	}
	prev := 0
	for _, end := range ends {
		b = append(b, " · "...)
		b = append(b, parts[prev:end]...)
		prev = end
	}
	if ex.Insecure {
		b = append(b, " · "...)
		b = append(b, p.liveInsecure...)
	}
	return string(b)
}

// appendSanitizedWhat appends Sanitize(what.String()) to b, without
// building the string when every piece is clean (the pieces cannot be
// sanitized one by one: an escape sequence may span two).
func appendSanitizedWhat(b []byte, what *itemWhat) []byte {
	for _, s := range what {
		if !cleanASCII(s) {
			return append(b, Sanitize(what.String())...)
		}
	}
	for _, s := range what {
		b = append(b, s...)
	}
	return b
}

// liveTargetParts names whom the request went to: "Company / Product"
// from the tracker finding (or the first finding naming a company), else
// the request's host. It returns the pieces: company and product (product
// empty when it is not shown), else the host or "(unknown host)".
func liveTargetParts(ex *traffic.Exchange) (company, product, host string) {
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
			return f.Company, f.Product, ""
		}
		return f.Company, "", ""
	}
	if h := ex.Host(); h != "" {
		return "", "", h
	}
	return "", "", "(unknown host)"
}

// clip shortens s to at most n runes, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// padRight pads s with spaces to n bytes (ASCII labels only).
func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
