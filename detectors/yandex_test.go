package detectors

import "testing"

func TestYandex(t *testing.T) {
	runDecoderCases(t, NewYandex(), []decoderCase{
		{
			name:       "page view",
			r:          req("GET", "https://mc.yandex.ru/watch/12345678?wmode=7&page-url=https%3A%2F%2Fs.example%2Fdebt%3Fa%3D1&page-ref=https%3A%2F%2Fya.ru%2F&charset=utf-8&browser-info=ar%3A1%3Aen%3Autf-8%3Arn%3A123%3At%3ADebt%20help%3A%20advice&site-info=%7B%22user%22%3A%22u1%22%7D", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "12345678", "page URL": "https://s.example/debt?a=1", "referrer": "https://ya.ru/", "page title": "Debt help: advice", "event property: visit parameters": `{"user":"u1"}`},
		},
		{
			name:       "goal",
			r:          req("GET", "https://mc.yandex.ru/watch/12345678/1?page-url=goal%3A%2F%2Fs.example%2Fform_sent&page-ref=https%3A%2F%2Fs.example%2Fcontact", "", ""),
			wantEvents: []string{"form_sent"},
			wantLabels: map[string]string{"page URL": "https://s.example/contact"},
		},
		{name: "webvisor is not a hit", r: req("POST", "https://mc.yandex.ru/webvisor/12345678", "", "x")},
	})
}
