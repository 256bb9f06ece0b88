package detectors

import "testing"

func TestAdobe(t *testing.T) {
	runDecoderCases(t, NewAdobe(), []decoderCase{
		{
			// espn pcap (chrissanders, tracker-facts §27 #8) shape, first-party CNAME.
			name:       "page view on a CNAME",
			r:          req("GET", "http://w88.go.com/b/ss/wdgespcom,wdgespge/1/H.21/s12345678901234?AQB=1&ndh=1&t=1%2F0%2F2010&pageName=espn%3Ahomepage&g=http%3A%2F%2Fespn.go.com%2F&r=http%3A%2F%2Fwww.google.com%2F&ch=frontpage&c1=espn&v1=D%3DpageName&mid=12345678901234567890&AQE=1", "", ""),
			wantEvents: []string{"page view"},
			wantLabels: map[string]string{"account id": "wdgespcom,wdgespge", "page title": "espn:homepage", "page URL": "http://espn.go.com/", "referrer": "http://www.google.com/", "event property: prop1": "espn", "event property: eVar1": "D=pageName", "browser id": "12345678901234567890"},
		},
		{
			name:       "purchase via POST",
			r:          req("POST", "https://smetrics.shop.example/b/ss/shopprod/0/JS-2.22.0/s9876", "application/x-www-form-urlencoded", "AQB=1&events=purchase%2Cevent5&products=%3BSKU1%3B1%3B80.00&purchaseID=T-9&cc=EUR&pageName=checkout%3Athanks&g=https%3A%2F%2Fshop.example%2Fthanks&vid=member-77&AQE=1"),
			wantEvents: []string{"purchase,event5"},
			wantLabels: map[string]string{"account id": "shopprod", "order id": "T-9", "currency": "EUR", "user id": "member-77", "content ids": ";SKU1;1;80.00"},
		},
		{
			name:       "exit link",
			r:          req("GET", "https://metrics.news.example/b/ss/newsprod/1/JS-2.22.0/s5555?AQB=1&pe=lnk_e&pev1=https%3A%2F%2Fother.example%2F&pev2=Other&AQE=1", "", ""),
			wantEvents: []string{"exit link"},
			wantLabels: map[string]string{"event property: link type": "lnk_e", "event property: link URL": "https://other.example/", "event property: link name": "Other"},
		},
		{
			name:       "success events in ev",
			r:          req("GET", "https://metrics.news.example/b/ss/newsprod/1/JS-2.22.0/s5556?AQB=1&ev=event7&pe=lnk_o&AQE=1", "", ""),
			wantEvents: []string{"event7"},
		},
		{
			name:       "unknown link type",
			r:          req("GET", "https://metrics.news.example/b/ss/newsprod/1/JS-2.22.0/s5557?AQB=1&pe=zz&AQE=1", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"event property: link type": "zz"},
		},
		{name: "ecid service", r: req("GET", "https://dpm.demdex.net/id?d_visid_ver=5&d_orgid=X%40AdobeOrg", "", "")},
	})
}
