package detectors

import (
	"strconv"

	"github.com/trackaudit/trackaudit/traffic"
)

// Snap decodes Snap Pixel events posted to tr.snapchat.com/p,
// tracker-facts.md §7. The current body is JSON {ctx:{url,…},
// req:[{t:{pid, ev, u_c1, …}}, {md:…}]}: each req item with a "t" object
// is one event sharing ctx. The older body is a form with the same field
// names plus pl (page URL) and rf (referrer). u_hem and u_hpn carry the
// SHA-256 of the visitor's e-mail and phone (advanced matching).
type Snap struct{}

// NewSnap returns the Snap Pixel decoder.
func NewSnap() *Snap { return &Snap{} }

// Name implements Detector.
func (*Snap) Name() string { return "snap-pixel" }

var snapVendor = vendor{"Snap", "Pixel", "pixel"}

// snapFields maps Snap field names (§7, omnibug Snapchat.js, nuxt).
var snapFields = map[string]field{
	"pid":     {label: "account id"},
	"ev":      {label: "event"},
	"pl":      {label: "page URL"},
	"rf":      {label: "referrer"},
	"u_c1":    {label: "browser id", secret: true},
	"u_sclid": {label: "click id", secret: true},
	"u_scsid": {label: "session id", secret: true},
	"u_hem":   {pii: "email"},
	"u_hpn":   {pii: "phone"},
	"e_desc":  {label: "event property: description"},
	"e_sm":    {label: "event property: sign-up method"},
	"e_ni":    {label: "quantity"},
	"e_iids":  {label: "content ids"},
	"e_ic":    {label: "event property: item category"},
	"e_cur":   {label: "currency"},
	"e_pr":    {label: "value"},
	"e_tid":   {label: "order id"},
	"e_ss":    {label: "search terms"},
}

func ownsSnap(ex *traffic.Exchange) bool {
	p := requestPath(ex)
	return (p == "/p" || p == "/gateway/p") && hostIs(ex.Host(), "tr.snapchat.com", "tr-shadow.snapchat.com")
}

// Detect implements Detector.
func (d *Snap) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsSnap(ex) {
		return nil
	}
	v, ok := decodeJSON(ex.Request.Body)
	if !ok {
		// The older form-encoded body: one event.
		e := newEvent(ex, d.Name(), snapVendor)
		e.addParams(traffic.ParseQuery("form", string(ex.Request.Body)), snapFields)
		e.addParams(ex.QueryParams(), snapFields)
		return e.findings()
	}
	ctxURL := jstr(jget(v, "ctx", "url"))
	var out []traffic.Finding
	for i, r := range jlist(jget(v, "req")) {
		t := jget(r, "t")
		if t == nil {
			continue
		}
		e := newEvent(ex, d.Name(), snapVendor)
		path := "$.req[" + strconv.Itoa(i) + "].t"
		e.setName("body:"+path+".ev", jstr(jget(t, "ev")))
		e.add("body:"+path+".pid", "account id", jstr(jget(t, "pid")), false)
		e.add("body:$.ctx.url", "page URL", ctxURL, false)
		e.addJSONFields(path, t, snapFields)
		out = append(out, e.findings()...)
	}
	return out
}
