package detectors

import "testing"

func TestGoogleAds(t *testing.T) {
	runDecoderCases(t, NewGoogleAds(), []decoderCase{
		{
			name:       "conversion with enhanced conversions",
			r:          req("GET", "https://www.googleadservices.com/pagead/conversion/123456789/?label=AbC-D_efG&value=80&currency_code=EUR&url=https%3A%2F%2Fclinic.example%2Fbooked&ref=https%3A%2F%2Fclinic.example%2F&tiba=Booked&data=event%3Dconversion&em=tv.1~em."+shaTestEmail+"&random=1", "", ""),
			wantEvents: []string{"conversion"},
			wantLabels: map[string]string{"account id": "123456789", "value": "80", "currency": "EUR", "page URL": "https://clinic.example/booked", "page title": "Booked"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "view-through conversion without event name",
			r:          req("GET", "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/987/?url=https%3A%2F%2Fs.example%2F&gtm=x", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "987"},
		},
		{
			name:       "floodlight path parameters",
			r:          req("GET", "https://1234567.fls.doubleclick.net/activityi;src=1234567;type=sales;cat=purch0;qty=1;cost=80.00;ord=T-1;u1=anna%20schmidt;~oref=https%3A%2F%2Fclinic.example%2Fbooked%3Fdoctor%3Danna?", "", ""),
			wantEvents: []string{"purch0"},
			wantLabels: map[string]string{"account id": "1234567", "value": "80.00", "order id": "T-1", "event property: u1": "anna schmidt", "page URL": "https://clinic.example/booked?doctor=anna"},
		},
		{name: "ad serving is not a conversion", r: req("GET", "https://securepubads.g.doubleclick.net/pagead/ads?x=1", "", "")},
		{name: "adsense script", r: req("GET", "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", "", "")},
	})
}
