package detectors

import "testing"

func TestReddit(t *testing.T) {
	runDecoderCases(t, NewReddit(), []decoderCase{
		{
			name:       "purchase with advanced matching",
			r:          req("GET", "https://alb.reddit.com/rp.gif?ts=1768578018907&id=a2_ilz4u0kbdr3v&event=Purchase&m.itemCount=1&m.value=80&m.currency=EUR&m.transactionId=T-1&uuid=1768578017503.abcd&em="+shaTestEmail+"&pn="+shaEmpty+"&external_id=cust-4711&integration=reddit&sh=720&sw=1280", "", ""),
			wantEvents: []string{"Purchase"},
			wantLabels: map[string]string{"account id": "a2_ilz4u0kbdr3v", "value": "80", "currency": "EUR", "order id": "T-1", "browser id": "1768578017503.abcd", "user id": "cust-4711"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "hashed external id",
			r:          req("GET", "https://alb.reddit.com/rp.gif?id=a2_x&event=SignUp&external_id="+shaTestEmail, "", ""),
			wantEvents: []string{"SignUp"},
			wantHashed: []string{"external id (sha256)"},
		},
		{name: "config", r: req("GET", "https://pixel-config.reddit.com/pixels/a2_x/config", "", "")},
		{name: "other site rp.gif", r: req("GET", "https://example.com/rp.gif?id=1&event=PageVisit", "", "")},
	})
}
