package detectors

import "testing"

func TestSegment(t *testing.T) {
	runDecoderCases(t, NewSegment(), []decoderCase{
		{
			name:       "page call",
			r:          req("POST", "https://api.segment.io/v1/p", "text/plain", `{"type":"page","properties":{"url":"https://s.example/a?x=1","path":"/a","referrer":"","title":"A","search":"?x=1"},"context":{"page":{"url":"https://s.example/a?x=1"}},"anonymousId":"anon-1","writeKey":"WK1"}`),
			wantEvents: []string{"page"},
			wantLabels: map[string]string{"account id": "WK1", "page URL": "https://s.example/a?x=1", "browser id": "anon-1", "page title": "A", "search terms": "?x=1"},
		},
		{
			name:       "batch with identify traits holding a plain e-mail",
			r:          req("POST", "https://api.segment.io/v1/batch", "text/plain", `{"batch":[{"type":"track","event":"Order Completed","properties":{"revenue":80,"currency":"EUR"},"userId":"u-1"},{"type":"identify","userId":"u-1","traits":{"email":"jane@example.org","plan":"pro"}}],"writeKey":"WK2"}`),
			wantEvents: []string{"Order Completed", "identify"},
			wantLabels: map[string]string{"account id": "WK2", "value": "80", "currency": "EUR", "user id": "u-1"},
			wantHashed: []string{"email (plain text)"},
		},
		{name: "settings fetch", r: req("GET", "https://cdn.segment.com/v1/projects/WK/settings", "", "")},
		{name: "not json", r: req("POST", "https://api.segment.io/v1/t", "text/plain", "nope")},
	})
}
