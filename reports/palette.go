package reports

import (
	"github.com/fatih/color"
	"github.com/trackaudit/trackaudit/traffic"
)

// palette holds the colours a renderer uses. Its Color values are made
// once and switched on or off explicitly, so neither NO_COLOR nor
// color.NoColor (decided from stdout at init) changes what this package
// prints: the caller decides with TableOptions.Color / LiveOptions.Color.
type palette struct {
	high, medium, low, info, heading, site, dim, warn *color.Color

	// liveTags[severityRank(s)] is the live line's painted, padded tag
	// of s; liveInsecure its painted certificate warning. Made once: the
	// colours never change after newPalette.
	liveTags     [5]string
	liveInsecure string
}

var (
	colorOn  = newPalette(true)
	colorOff = newPalette(false)
)

func paletteFor(on bool) *palette {
	if on {
		return colorOn
	}
	return colorOff
}

func newPalette(on bool) *palette {
	mk := func(a ...color.Attribute) *color.Color {
		c := color.New(a...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	p := &palette{
		high:    mk(color.FgRed, color.Bold),
		medium:  mk(color.FgYellow),
		low:     mk(color.FgCyan),
		info:    mk(color.Faint),
		heading: mk(color.Bold, color.Underline),
		site:    mk(color.Bold, color.FgBlue),
		dim:     mk(color.Faint),
		warn:    mk(color.FgYellow, color.Bold),
	}
	for _, sev := range []traffic.Severity{"", traffic.SeverityInfo, traffic.SeverityLow, traffic.SeverityMedium, traffic.SeverityHigh} {
		p.liveTags[severityRank(sev)] = p.severity(sev, padRight(severityTag(sev), 4))
	}
	p.liveInsecure = p.warn.Sprint("upstream certificate not verified")
	return p
}

// severity paints s in sev's colour.
func (p *palette) severity(sev traffic.Severity, s string) string {
	switch sev {
	case traffic.SeverityHigh:
		return p.high.Sprint(s)
	case traffic.SeverityMedium:
		return p.medium.Sprint(s)
	case traffic.SeverityLow:
		return p.low.Sprint(s)
	}
	return p.info.Sprint(s)
}

// severityRank orders severities, most serious highest; unknown is 0.
func severityRank(s traffic.Severity) int {
	switch s {
	case traffic.SeverityHigh:
		return 4
	case traffic.SeverityMedium:
		return 3
	case traffic.SeverityLow:
		return 2
	case traffic.SeverityInfo:
		return 1
	}
	return 0
}

// severityTag is the short upper-case label printed for a severity.
func severityTag(s traffic.Severity) string {
	switch s {
	case traffic.SeverityHigh:
		return "HIGH"
	case traffic.SeverityMedium:
		return "MED"
	case traffic.SeverityLow:
		return "LOW"
	}
	return "INFO"
}
