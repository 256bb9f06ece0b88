package reports

import (
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
func LiveLine(ex *traffic.Exchange, o LiveOptions) string {
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
	items := itemSeen{}
	for _, f := range byItemPriority(ex.Findings) {
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
		for _, it := range itemsOf(f) {
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
	b.WriteString(Sanitize(liveTarget(ex)))
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

// liveTarget names whom the request went to: "Company / Product" from
// the tracker finding (or the first finding naming a company), else the
// request's host.
func liveTarget(ex *traffic.Exchange) string {
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
