package detectors

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// GA4 decodes Google Analytics 4 hits (/g/collect), tracker-facts.md §2.2
// and §2.3: the shared parameters in the query string and, for POST
// beacons, one event per body line, each line its own query string. Every
// event becomes a KindPixelEvent finding; enhanced-conversions user data
// (em, §2.5) becomes KindHashedPII.
//
// The path alone decides ownership (with v=2 or tid= in the query on
// hosts that are not Google's): server-side tag managers serve the same
// path from the site's own host.
type GA4 struct{}

// NewGA4 returns the GA4 decoder.
func NewGA4() *GA4 { return &GA4{} }

// Name implements Detector.
func (*GA4) Name() string { return "ga4" }

var ga4Vendor = vendor{"Google", "Google Analytics 4", "analytics"}

// ga4Fields maps GA4 parameters to evidence (§2.3).
var ga4Fields = map[string]field{
	"tid": {label: "account id"},
	"en":  {label: "event"},
	"dl":  {label: "page URL"},
	"dr":  {label: "referrer"},
	"dt":  {label: "page title"},
	"cu":  {label: "currency"},
	"uid": {label: "user id", secret: true},
	"cid": {label: "browser id", secret: true},
	// ec_mode says how enhanced-conversions data was collected (I).
	"ec_mode": {label: "enhanced conversions mode"},
}

// ga4EventParams names well-known ep./epn. parameters (GA4 recommended
// event parameters); others are reported as "event parameter: <name>".
var ga4EventParams = map[string]string{
	"value": "value", "currency": "currency", "search_term": "search terms",
	"transaction_id": "order id", "items": "content ids",
}

func ownsGA4(ex *traffic.Exchange) bool {
	p := requestPath(ex)
	if !strings.HasSuffix(p, "/g/collect") && !strings.HasSuffix(p, "/g/s/collect") {
		return false
	}
	host := ex.Host()
	if hostIs(host, "google-analytics.com", "analytics.google.com", "doubleclick.net", "google.com") {
		return true
	}
	q := ex.Request.URL.RawQuery
	return strings.Contains(q, "tid=G-") || strings.HasPrefix(q, "v=2") || strings.Contains(q, "&v=2")
}

// Detect implements Detector.
func (d *GA4) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsGA4(ex) {
		return nil
	}
	shared := ex.QueryParams()
	var hits [][]traffic.Param
	body := bytes.TrimSpace(ex.Request.Body)
	if len(body) > 0 {
		lines := bytes.Split(body, []byte("\n"))
		for i, l := range lines {
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			prefix := "form"
			if len(lines) > 1 {
				prefix = "form[" + strconv.Itoa(i) + "]"
			}
			hits = append(hits, traffic.ParseQuery(prefix, string(l)))
		}
	}
	if len(hits) == 0 {
		hits = [][]traffic.Param{nil}
	}
	var out []traffic.Finding
	for _, hit := range hits {
		e := newEvent(ex, d.Name(), ga4Vendor)
		if tid, ok := traffic.Get(shared, "tid"); ok {
			e.add("query:tid", "account id", tid, false)
		}
		// The hit's own parameters first: its event name wins over any
		// shared one.
		ga4Params(e, hit)
		ga4Params(e, shared)
		out = append(out, e.findings()...)
	}
	return out
}

// ga4Params reports one hit's parameters.
func ga4Params(e *event, ps []traffic.Param) {
	e.addParams(ps, ga4Fields)
	for _, p := range ps {
		name := p.Name
		switch {
		case name == "em":
			e.googleUserData(p.Where, p.Value)
		case strings.HasPrefix(name, "ep.") || strings.HasPrefix(name, "epn."):
			key := name[strings.IndexByte(name, '.')+1:]
			if l, ok := ga4EventParams[key]; ok {
				e.add(p.Where, l, p.Value, false)
			} else if strings.HasPrefix(key, "form_") {
				e.add(p.Where, "form field", p.Value, false)
			} else {
				e.add(p.Where, "event parameter: "+key, p.Value, false)
			}
		case strings.HasPrefix(name, "up.") || strings.HasPrefix(name, "upn."):
			e.add(p.Where, "user property: "+name[strings.IndexByte(name, '.')+1:], p.Value, false)
		case len(name) > 2 && name[0] == 'p' && name[1] == 'r' && isDigits(name[2:]):
			e.add(p.Where, "item", ga4Item(p.Value), false)
		}
	}
}

// ga4ItemKeys names the two-letter keys of a GA4 item string (§2.3, d8a
// columns_items.go).
var ga4ItemKeys = map[string]string{
	"id": "id", "nm": "name", "pr": "price", "qt": "quantity", "br": "brand",
	"ca": "category", "va": "variant", "cp": "coupon", "ds": "discount",
	"af": "affiliation", "ln": "list", "lp": "position",
}

// ga4Item rewrites "idSKU~nmShoes~pr9.99~qt2" as
// "id=SKU; name=Shoes; price=9.99; quantity=2". Unknown keys keep their
// two letters.
func ga4Item(v string) string {
	var parts []string
	for _, f := range strings.Split(v, "~") {
		if len(f) < 2 {
			continue
		}
		k, val := f[:2], f[2:]
		if n, ok := ga4ItemKeys[k]; ok {
			k = n
		}
		parts = append(parts, k+"="+val)
	}
	return strings.Join(parts, "; ")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
