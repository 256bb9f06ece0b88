package detectors

import (
	"net/url"
	"testing"
)

func TestPinterest(t *testing.T) {
	q := url.Values{}
	q.Set("tid", "2612345678901")
	q.Set("event", "checkout")
	q.Set("ed", `{"value":"80.00","currency":"EUR","order_id":"T-1","line_items":[{"product_id":"A1","product_name":"Test kit"}],"promo_code":"SAVE"}`)
	q.Set("ad", `{"loc":"https://s.example/checkout","ref":"https://s.example/cart","if":false,"sh":1080,"sw":1920}`)
	q.Set("pd", `{"em":"`+shaTestEmail+`","hashed_maids":["`+shaEmpty+`","`+shaTestEmail+`"],"tm":"gtm"}`)
	runDecoderCases(t, NewPinterest(), []decoderCase{
		{
			name:       "v3 checkout with JSON params",
			r:          req("GET", "https://ct.pinterest.com/v3/?"+q.Encode(), "", ""),
			wantEvents: []string{"checkout"},
			wantLabels: map[string]string{"account id": "2612345678901", "value": "80.00", "currency": "EUR", "order id": "T-1", "page URL": "https://s.example/checkout", "referrer": "https://s.example/cart", "event property: promo_code": "SAVE"},
			wantHashed: []string{"email (sha256)", "mobile ad id (sha256)"},
		},
		{
			name:       "bracketed pd[em]",
			r:          req("GET", "https://ct.pinterest.com/v3/?tid=1&event=signup&pd[em]="+shaTestEmail, "", ""),
			wantEvents: []string{"signup"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "empty hash is not reported",
			r:          req("GET", "https://ct.pinterest.com/v3/?tid=1&event=pagevisit&pd=%7B%22em%22%3A%22"+shaUndefined+"%22%7D", "", ""),
			wantEvents: []string{"pagevisit"},
		},
		{name: "user sync", r: req("GET", "https://ct.pinterest.com/user/?tid=1&cb=2", "", "")},
		{name: "bad JSON kept quiet", r: req("GET", "https://ct.pinterest.com/v3/?ed=%7B", "", "")},
	})
}
