package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Pinterest decodes Pinterest tag events (ct.pinterest.com/v3/),
// tracker-facts.md §6: tid (tag id), event, and three JSON parameters: ed
// (event data: value, currency, order id, line items, search query …), ad
// (automatic data: loc = page URL, ref = referrer) and pd (partner data:
// em = SHA-256 e-mail, hashed_maids = hashed mobile ad ids). Bracketed
// forms (pd[em]=…) are read too.
type Pinterest struct{}

// NewPinterest returns the Pinterest tag decoder.
func NewPinterest() *Pinterest { return &Pinterest{} }

// Name implements Detector.
func (*Pinterest) Name() string { return "pinterest-tag" }

var pinterestVendor = vendor{"Pinterest", "Tag", "pixel"}

var pinterestFields = map[string]field{
	"tid":   {label: "account id"},
	"event": {label: "event"},
}

var pinterestED = map[string]field{
	"value": {label: "value"}, "currency": {label: "currency"}, "order_id": {label: "order id"},
	"order_quantity": {label: "quantity"}, "line_items": {label: "content ids"},
	"search_query": {label: "search terms"}, "product_id": {label: "content ids"},
}

var pinterestAD = map[string]field{
	"loc": {label: "page URL"}, "ref": {label: "referrer"},
}

var pinterestPD = map[string]field{
	"em": {pii: "email"}, "hashed_maids": {pii: "mobile ad id"}, "ph": {pii: "phone"},
	"external_id": {pii: "external id"},
}

func ownsPinterest(ex *traffic.Exchange) bool {
	p := requestPath(ex)
	return (p == "/v3/" || p == "/v3") && hostIs(ex.Host(), "ct.pinterest.com")
}

// Detect implements Detector.
func (d *Pinterest) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsPinterest(ex) {
		return nil
	}
	ps := append(ex.QueryParams(), traffic.ParseQuery("form", string(ex.Request.Body))...)
	e := newEvent(ex, d.Name(), pinterestVendor)
	e.addParams(ps, pinterestFields)
	for _, p := range ps {
		var table map[string]field
		other := false
		name, sub, bracket := strings.Cut(p.Name, "[")
		switch name {
		case "ed":
			table, other = pinterestED, true
		case "ad":
			table = pinterestAD
		case "pd":
			table = pinterestPD
		default:
			continue
		}
		if bracket {
			// pd[em]=… style.
			if f, ok := table[strings.TrimSuffix(sub, "]")]; ok {
				e.addField(p.Where, f, p.Value)
			}
			continue
		}
		e.addJSONParam(p.Where, p.Value, table, other)
	}
	return e.findings()
}
