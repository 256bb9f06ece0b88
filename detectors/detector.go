// Package detectors inspects exchanges and attaches findings: which tracker
// a request went to, which cookies and page URLs leaked, and what pixel and
// plugin payloads say. Each detector lives in its own file; the active ones
// stand in one explicit list in Default.
package detectors

import "github.com/trackaudit/trackaudit/traffic"

// Detector inspects one exchange.
//
// Detect is called once per exchange, in capture order, from one goroutine,
// so a detector may keep state across calls (cookies seen on a site). It
// must not modify ex; it may read the findings of detectors that stand
// before it in the list (ex.Tracker()). No finding is an empty result, never
// an error.
//
// Detectors read the request through ex.Params, ex.QueryParams and
// ex.Cookies instead of parsing it again: each is computed once per
// exchange and shared by every detector, so what they return must not be
// modified.
type Detector interface {
	Name() string
	Detect(ex *traffic.Exchange) []traffic.Finding
}

// Set runs detectors in order.
type Set struct {
	list []Detector
}

// NewSet returns a Set running ds in the given order.
func NewSet(ds ...Detector) *Set { return &Set{list: ds} }

// Run lets every detector inspect ex and appends what it finds to
// ex.Findings. Later detectors see earlier detectors' findings.
func (s *Set) Run(ex *traffic.Exchange) {
	for _, d := range s.list {
		fs := d.Detect(ex)
		if len(fs) == 0 {
			continue
		}
		if ex.Findings == nil {
			// An exchange with one finding mostly gets several (tracker,
			// cookies, Referer, click id …): room for them at once
			// rather than growing 1, 2, 4, 8.
			ex.Findings = make([]traffic.Finding, 0, max(len(fs), findingsCap))
		}
		ex.Findings = append(ex.Findings, fs...)
	}
}

// findingsCap is the room Run makes for an exchange's findings when the
// first arrive.
const findingsCap = 4

// Names lists the detectors in run order.
func (s *Set) Names() []string {
	out := make([]string, len(s.list))
	for i, d := range s.list {
		out[i] = d.Name()
	}
	return out
}
