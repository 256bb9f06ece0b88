package detectors

import (
	"strconv"

	"github.com/trackaudit/trackaudit/traffic"
)

// XPixel decodes X (Twitter) pixel beacons, adsct on t.co and
// analytics.twitter.com, tracker-facts.md §5: txn_id (tag id), the old
// events=[["name",{data}]] list or the new event={data} object, the page
// URL (tw_document_href), title (pt), sale amount and quantity, the dv
// device fingerprint, the twclid click id, and hashed e-mail and phone
// (em, ph, or email_address / phone_number inside the event data).
type XPixel struct{}

// NewXPixel returns the X pixel decoder.
func NewXPixel() *XPixel { return &XPixel{} }

// Name implements Detector.
func (*XPixel) Name() string { return "x-pixel" }

var xVendor = vendor{"X", "Pixel", "pixel"}

var xFields = map[string]field{
	"txn_id":            {label: "account id"},
	"tw_document_href":  {label: "page URL"},
	"pt":                {label: "page title"},
	"tw_sale_amount":    {label: "value"},
	"tw_order_quantity": {label: "quantity"},
	"dv":                {label: "device fingerprint"},
	"twclid":            {label: "click id", secret: true},
	"em":                {pii: "email"},
	"ph":                {pii: "phone"},
}

// xEventData maps keys of the event data object.
var xEventData = map[string]field{
	"value": {label: "value"}, "currency": {label: "currency"}, "num_items": {label: "quantity"},
	"contents": {label: "content ids"}, "content_ids": {label: "content ids"},
	"search_string": {label: "search terms"}, "conversion_id": {label: "order id"},
	"email_address": {pii: "email"}, "phone_number": {pii: "phone"},
}

func ownsXPixel(ex *traffic.Exchange) bool {
	p := requestPath(ex)
	if p != "/1/i/adsct" && p != "/i/adsct" {
		return false
	}
	return hostIs(ex.Host(), "t.co", "analytics.twitter.com", "analytics.x.com")
}

// Detect implements Detector.
func (d *XPixel) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsXPixel(ex) {
		return nil
	}
	ps := ex.QueryParams()
	newX := func() *event {
		e := newEvent(ex, d.Name(), xVendor)
		e.addParams(ps, xFields)
		if uid, ok := traffic.Get(ps, "p_user_id"); ok && uid != "" && uid != "0" {
			e.add("query:p_user_id", "user id", uid, true)
		}
		return e
	}
	var out []traffic.Finding
	if evs, ok := traffic.Get(ps, "events"); ok {
		if v, ok := decodeJSON([]byte(evs)); ok {
			for i, item := range jlist(v) {
				pair, ok := item.([]any)
				if !ok || len(pair) == 0 {
					continue
				}
				e := newX()
				w := "query:events[" + strconv.Itoa(i) + "]"
				e.setName(w, jstr(pair[0]))
				if len(pair) > 1 && pair[1] != nil {
					e.addJSONParam(w, jstr(pair[1]), xEventData, true)
				}
				out = append(out, e.findings()...)
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	e := newX()
	if data, ok := traffic.Get(ps, "event"); ok {
		e.addJSONParam("query:event", data, xEventData, true)
	}
	return e.findings()
}
