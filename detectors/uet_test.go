package detectors

import "testing"

func TestUET(t *testing.T) {
	runDecoderCases(t, NewUET(), []decoderCase{
		{
			name:       "page load",
			r:          req("GET", "https://bat.bing.com/action/0?ti=5012345&Ver=2&mid=1f2e3d4c-0000-4000-8000-000000000001&sid=abc&vid=def&evt=pageLoad&msclkid=N&p=https%3A%2F%2Fs.example%2Fsearch%3Fq%3Ddivorce%2Blawyer&r=&tl=Search&lg=en-US&sw=1280&sh=720&rn=123456", "", ""),
			wantEvents: []string{"pageLoad"},
			wantLabels: map[string]string{"account id": "5012345", "page URL": "https://s.example/search?q=divorce+lawyer", "page title": "Search", "browser id": "def"},
		},
		{
			name:       "custom event with user id and click id",
			r:          req("GET", "https://bat.bing.com/action/0?ti=5012345&evt=custom&ea=purchase&gv=80&gc=EUR&uid=member-1&msclkid=0f1e2d3c-1", "", ""),
			wantEvents: []string{"custom"},
			wantLabels: map[string]string{"event property: action": "purchase", "value": "80", "currency": "EUR", "user id": "member-1", "click id": "0f1e2d3c-1"},
		},
		{name: "loader", r: req("GET", "https://bat.bing.com/bat.js", "", "")},
	})
}
