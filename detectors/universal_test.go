package detectors

import "testing"

func TestUniversal(t *testing.T) {
	runDecoderCases(t, NewUniversal(), []decoderCase{
		{
			// github.com HAR (PerfCascade fixture, tracker-facts §27 #4) shape.
			name:       "r/collect pageview",
			r:          req("GET", "https://www.google-analytics.com/r/collect?v=1&_v=j41&a=1&t=pageview&_s=1&dl=https%3A%2F%2Fgithub.com%2F&ul=en-us&de=UTF-8&dt=GitHub&sd=24-bit&sr=1280x800&vp=1280x701&je=1&_u=AAAAAA~&jid=1&cid=1234567.1451134000&tid=UA-3769691-2&cd1=Logged%20Out&z=1", "", ""),
			wantEvents: []string{"pageview"},
			wantLabels: map[string]string{"account id": "UA-3769691-2", "page URL": "https://github.com/", "page title": "GitHub", "browser id": "1234567.1451134000", "event property: custom dimension 1": "Logged Out"},
		},
		{
			name:       "batch",
			r:          req("POST", "https://www.google-analytics.com/batch", "text/plain", "v=1&tid=UA-1-1&cid=5.6&t=event&ec=video&ea=play&el=intro&uid=u-9\nv=1&tid=UA-1-1&cid=5.6&t=transaction&ti=T1&tr=12.50&cu=GBP"),
			wantEvents: []string{"event", "transaction"},
			wantLabels: map[string]string{"event property: action": "play", "user id": "u-9"},
		},
		{name: "ga4 path is not UA", r: req("GET", "https://www.google-analytics.com/g/collect?v=2&tid=G-1&en=x", "", "")},
		{name: "collect elsewhere", r: req("GET", "https://example.com/collect?t=pageview", "", "")},
	})
}
