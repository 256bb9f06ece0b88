package reports

import (
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestEventItemWhat checks how a pixel event reads in the ledger: its
// name and key details, or "hit" when its decoder found no event name.
func TestEventItemWhat(t *testing.T) {
	value := []traffic.Evidence{{Label: "value", Value: "9.99"}, {Label: "currency", Value: "EUR"}}
	for _, tc := range []struct {
		name string
		f    traffic.Finding
		want string
	}{
		{"named", traffic.Finding{Event: "PageView"}, "event PageView"},
		{"named with details", traffic.Finding{Event: "Purchase", Evidence: value}, "event Purchase: value 9.99 EUR"},
		{"nameless", traffic.Finding{}, "hit"},
		{"nameless with details", traffic.Finding{Evidence: value}, "hit: value 9.99 EUR"},
	} {
		tc.f.Kind = traffic.KindPixelEvent
		var got []string
		eachItem(&tc.f, eventDetails(&tc.f), func(w itemWhat, ev *traffic.Evidence, _ traffic.Severity) {
			if ev == nil {
				got = append(got, w.String())
			}
		})
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: items %q, want [%q]", tc.name, got, tc.want)
		}
	}
}
