package detectors

import (
	"reflect"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestGA4(t *testing.T) {
	tests := []struct {
		name       string
		r          decoderRequest
		wantEvents []string
		wantLabels map[string]string // evidence label → value, on the last event
		wantHashed int
	}{
		{
			name:       "get single hit",
			r:          req("GET", "https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&en=page_view&dl=https%3A%2F%2Fa.example%2Fx&cid=1.2", "", ""),
			wantEvents: []string{"page_view"},
			wantLabels: map[string]string{"account id": "G-XYZ", "page URL": "https://a.example/x", "browser id": "1.2"},
		},
		{
			name:       "batched post: one event per line, shared query merged",
			r:          req("POST", "https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&dl=https%3A%2F%2Fa.example%2F", "text/plain", "en=page_view\nen=scroll&epn.percent_scrolled=90\r\nen=purchase&cu=EUR&pr1=idS1~nmShoe~pr9.5~qt2"),
			wantEvents: []string{"page_view", "scroll", "purchase"},
			wantLabels: map[string]string{"account id": "G-XYZ", "currency": "EUR", "item": "id=S1; name=Shoe; price=9.5; quantity=2", "page URL": "https://a.example/"},
		},
		{
			name:       "enhanced conversions in em",
			r:          req("GET", "https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&en=purchase&em=tv.1~em.973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b~pn.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "", ""),
			wantEvents: []string{"purchase"},
			wantLabels: map[string]string{"account id": "G-XYZ"},
			wantHashed: 1, // the phone is the hash of "" and is not reported
		},
		{
			name:       "first-party server-side host",
			r:          req("GET", "https://metrics.shop.example/g/collect?v=2&tid=G-1&en=login", "", ""),
			wantEvents: []string{"login"},
		},
		{name: "other path", r: req("GET", "https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview", "", "")},
		{name: "g/collect on another host without GA4 params", r: req("GET", "https://example.com/g/collect?x=1", "", "")},
		{name: "garbage body", r: req("POST", "https://www.google-analytics.com/g/collect?v=2", "text/plain", "%%%\x00\xff&&==")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewGA4().Detect(tt.r.exchange(t))
			if got := eventNames(fs); !reflect.DeepEqual(got, tt.wantEvents) && !(len(got) == 0 && len(tt.wantEvents) == 0) {
				t.Errorf("events = %q, want %q", got, tt.wantEvents)
			}
			evs := ofKind(fs, traffic.KindPixelEvent)
			for label, want := range tt.wantLabels {
				e, ok := evidence(evs[len(evs)-1], label)
				if !ok || e.Value != want {
					t.Errorf("evidence %q = %q (found %v), want %q", label, e.Value, ok, want)
				}
			}
			if got := len(ofKind(fs, traffic.KindHashedPII)); got != tt.wantHashed {
				t.Errorf("hashed-pii findings = %d, want %d", got, tt.wantHashed)
			}
		})
	}
}
