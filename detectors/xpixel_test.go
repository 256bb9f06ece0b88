package detectors

import (
	"net/url"
	"testing"
)

func TestXPixel(t *testing.T) {
	old := url.Values{}
	old.Set("txn_id", "nv8xz")
	old.Set("p_id", "Twitter")
	old.Set("p_user_id", "0")
	old.Set("events", `[["pageview",null],["purchase",{"value":"80.00","currency":"EUR","num_items":"1","email_address":"`+shaTestEmail+`"}]]`)
	old.Set("tw_document_href", "https://s.example/thanks")
	old.Set("tw_iframe_status", "0")
	runDecoderCases(t, NewXPixel(), []decoderCase{
		{
			name:       "old events list",
			r:          req("GET", "https://analytics.twitter.com/i/adsct?"+old.Encode(), "", ""),
			wantEvents: []string{"pageview", "purchase"},
			wantLabels: map[string]string{"account id": "nv8xz", "page URL": "https://s.example/thanks"},
			wantHashed: []string{"email (sha256)"},
		},
		{
			name:       "new t.co form with dv and twclid",
			r:          req("GET", "https://t.co/1/i/adsct?bci=4&dv=UTC%26en-GB%26Google%20Inc.%26Linux%20x86_64%26255%261920%261080%2624%2624%261920%261080%260%26na&eci=3&event=%7B%7D&event_id=e1&integration=advertiser&p_id=Twitter&p_user_id=0&pl_id=p1&pt=Shop&tw_document_href=https%3A%2F%2Fs.example%2F&tw_iframe_status=0&txn_id=o4tbb&twclid=2-abc&type=javascript&version=2.3.35", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "o4tbb", "page title": "Shop", "click id": "2-abc"},
		},
		{name: "widgets", r: req("GET", "https://platform.twitter.com/widgets.js", "", "")},
		{name: "adsct on other host", r: req("GET", "https://example.com/1/i/adsct?txn_id=1", "", "")},
	})
}
