package detectors

import "testing"

func TestSnap(t *testing.T) {
	runDecoderCases(t, NewSnap(), []decoderCase{
		{
			name: "json: two events, metadata item skipped",
			r: req("POST", "https://tr.snapchat.com/p", "application/json",
				`{"ctx":{"url":"https://s.example/a","v":"3.54.0"},"req":[{"t":{"pid":"P1","ev":"PAGE_VIEW","u_c1":"c1","u_hem":"`+shaTestEmail+`"},"del":1},{"md":{"btx":"x"}},{"t":{"pid":"P1","ev":"PURCHASE","e_pr":"10","e_cur":"EUR","u_hpn":"`+shaUndefined+`"}}]}`),
			wantEvents: []string{"PAGE_VIEW", "PURCHASE"},
			wantLabels: map[string]string{"account id": "P1", "page URL": "https://s.example/a", "browser id": "c1"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name: "old form body",
			r: req("POST", "https://tr.snapchat.com/p", "application/x-www-form-urlencoded",
				"pid=abc-123&ev=SIGN_UP&pl=https%3A%2F%2Fs.example%2Fjoin&rf=&u_hem="+shaTestEmail+"&u_hpn=jane%40example.org&e_sm=email"),
			wantEvents: []string{"SIGN_UP"},
			wantLabels: map[string]string{"account id": "abc-123", "page URL": "https://s.example/join", "event property: sign-up method": "email"},
			wantHashed: []string{"email (sha256)", "email (plain text)"},
		},
		{name: "config fetch", r: req("GET", "https://tr.snapchat.com/config/1/x.json?v=3", "", "")},
		{name: "cookie match", r: req("GET", "https://tr.snapchat.com/cm/i?pid=x", "", "")},
		{name: "json without req", r: req("POST", "https://tr.snapchat.com/p", "application/json", `{"ctx":{}}`)},
	})
}
