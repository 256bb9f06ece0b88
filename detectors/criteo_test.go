package detectors

import "testing"

func TestCriteo(t *testing.T) {
	runDecoderCases(t, NewCriteo(), []decoderCase{
		{
			// omnibug's Criteo test shape (tracker-facts §17): plain e-mail in p1.
			name:       "purchase with e-mail",
			r:          req("GET", "https://sslwidget.criteo.com/event?a=12345&v=5.5.0&p0=e%3Dexd%26site_type%3Dd&p1=e%3Dce%26m%3D%5Btest%40test.com%5D&p2=e%3Dvc%26id%3DT-1%26c%3DEUR%26p%3D%5Bi%3DSKU1%26pr%3D9.99%26q%3D1%5D&adce=1&tld=shop.example&dtycbr=1234", "", ""),
			wantEvents: []string{"vc"},
			wantLabels: map[string]string{"account id": "12345", "order id": "T-1", "currency": "EUR", "event property: site type": "d", "event property: site": "shop.example"},
			wantHashed: []string{"email (plain text)"},
		},
		{
			name:       "hashed e-mail, empty hash skipped",
			r:          req("GET", "https://sslwidget.criteo.com/event?a=1&p0=e%3Dvh&p1=e%3Dce%26m%3D%5B"+shaTestEmail+"%2C"+shaEmpty+"%5D", "", ""),
			wantEvents: []string{"vh"},
			wantHashed: []string{"email (sha256)"},
		},
		{name: "loader", r: req("GET", "https://dynamic.criteo.com/js/ld/ld.js?a=1", "", "")},
	})
}
