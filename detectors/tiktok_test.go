package detectors

import "testing"

const (
	shaTestEmail = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b" // sha256("test@example.com")
	shaEmpty     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256("")
	shaUndefined = "eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c" // sha256("undefined")
)

func TestTikTok(t *testing.T) {
	runDecoderCases(t, NewTikTok(), []decoderCase{
		{
			name: "single event with advanced matching",
			r: req("POST", "https://analytics.tiktok.com/api/v2/pixel", "application/json",
				`{"event":"AddToCart","context":{"pixel":{"code":"C4ABC"},"page":{"url":"https://s.example/p/1","referrer":"https://s.example/"},"user":{"email":"`+shaTestEmail+`","phone_number":"`+shaEmpty+`","anonymous_id":"ttp1"}},"properties":{"value":9.5,"currency":"USD","content_id":"p1"}}`),
			wantEvents: []string{"AddToCart"},
			wantLabels: map[string]string{"account id": "C4ABC", "page URL": "https://s.example/p/1", "referrer": "https://s.example/", "value": "9.5", "currency": "USD", "content ids": "p1", "browser id": "ttp1"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "plain e-mail in advanced matching",
			r:          req("POST", "https://analytics.tiktok.com/api/v1/track", "application/json", `{"event":"CompleteRegistration","context":{"pixel":{"code":"C"},"user":{"email":"jane@example.org"}}}`),
			wantEvents: []string{"CompleteRegistration"},
			wantHashed: []string{"email (plain text)"},
		},
		{
			name:       "batch",
			r:          req("POST", "https://analytics.tiktok.com/api/v2/pixel/batch", "application/json", `{"batch":[{"event":"PageView"},{"event":"Search","properties":{"query":"x"}}]}`),
			wantEvents: []string{"PageView", "Search"},
		},
		{
			name:       "pixel code from the loader query when absent",
			r:          req("POST", "https://analytics.tiktok.com/api/v2/pixel?sdkid=QS1", "text/plain", `{"event":"ViewContent"}`),
			wantEvents: []string{"ViewContent"},
			wantLabels: map[string]string{"account id": "QS1"},
		},
		{name: "loader script", r: req("GET", "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=X&lib=ttq", "", "")},
		{name: "not json", r: req("POST", "https://analytics.tiktok.com/api/v2/pixel", "application/json", `{"event":`)},
		{name: "other host", r: req("POST", "https://tiktok.example/api/v2/pixel", "application/json", `{"event":"PageView"}`)},
	})
}
