package detectors

import "testing"

func TestAmplitude(t *testing.T) {
	runDecoderCases(t, NewAmplitude(), []decoderCase{
		{
			name:       "httpapi events",
			r:          req("POST", "https://api2.amplitude.com/2/httpapi", "application/json", `{"api_key":"key123","events":[{"event_type":"[Amplitude] Page Viewed","device_id":"dev-1","session_id":1768578017503,"event_properties":{"[Amplitude] Page URL":"https://s.example/p","[Amplitude] Page Title":"P"}},{"event_type":"Signed Up","user_id":"u-7","device_id":"dev-1","user_properties":{"$set":{"plan":"pro"}},"event_properties":{"email":"`+shaTestEmail+`"}}]}`),
			wantEvents: []string{"[Amplitude] Page Viewed", "Signed Up"},
			wantLabels: map[string]string{"account id": "key123", "browser id": "dev-1", "page URL": "https://s.example/p", "page title": "P"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "older form body",
			r:          req("POST", "https://api.amplitude.com/", "application/x-www-form-urlencoded", "client=key9&e=%5B%7B%22event_type%22%3A%22Search%22%2C%22event_properties%22%3A%7B%22search_term%22%3A%22x%22%7D%7D%5D&v=2"),
			wantEvents: []string{"Search"},
			wantLabels: map[string]string{"account id": "key9", "search terms": "x"},
		},
		{name: "cdn", r: req("GET", "https://cdn.amplitude.com/libs/analytics-browser-2.0.0-min.js.gz", "", "")},
	})
}
