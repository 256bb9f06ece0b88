package detectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"sort"
	"strings"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// MetaPixel decodes Meta (Facebook) pixel traffic (tracker-facts §1):
//
//   - event beacons to facebook.com/tr (GET query, POST form, JSON or
//     multipart body): one KindPixelEvent finding per request, naming the
//     event and what a standard event means, with the pixel id, custom data
//     (cd[...]), page and referrer URLs, times, and the fbp/fbc ids; plus
//     one KindHashedPII finding per non-empty advanced-matching field
//     (ud[em], ud[ph] …). Hashes of nothing (traffic.IsEmptyHash) are not
//     personal data: they are noted in the event's evidence as "empty"
//     instead. Unhashed ud values (a plain e-mail) are reported as
//     "<field> (plain text)", also at high severity.
//   - the per-pixel configuration script connect.facebook.net/signals/
//     config/<pixel id>: a KindPixelEvent with Event "config".
type MetaPixel struct{}

// NewMetaPixel returns the decoder. It keeps no state.
func NewMetaPixel() *MetaPixel { return &MetaPixel{} }

// Name implements Detector.
func (d *MetaPixel) Name() string { return "metapixel" }

// Detect implements Detector.
func (d *MetaPixel) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.HostOnly || ex.Request.URL == nil {
		return nil
	}
	host, path := ex.Host(), ex.Request.URL.Path
	switch {
	case (path == "/tr" || path == "/tr/") && traffic.Site(host) == "facebook.com":
		ps := append(ex.Params(), metaMultipart(&ex.Request)...)
		return d.event(ex, ps)
	case host == "connect.facebook.net" && strings.HasPrefix(path, "/signals/config/"):
		return d.config(ex, strings.TrimPrefix(path, "/signals/config/"))
	}
	return nil
}

// metaStandardEvents are Meta's standard pixel events and what each says
// the visitor did (tracker-facts §1.2, blacklight FB_STANDARD_EVENTS), plus
// the two automatic events.
var metaStandardEvents = map[string]string{
	"AddPaymentInfo":        "entered payment details",
	"AddToCart":             "added an item to the cart",
	"AddToWishlist":         "added an item to a wish list",
	"CompleteRegistration":  "completed a sign-up",
	"Contact":               "contacted the business",
	"CustomizeProduct":      "customised a product",
	"Donate":                "donated",
	"FindLocation":          "looked for a store location",
	"InitiateCheckout":      "started checkout",
	"Lead":                  "submitted a form (a sales lead)",
	"PageView":              "viewed a page",
	"Purchase":              "bought something",
	"Schedule":              "booked an appointment",
	"Search":                "searched the site",
	"StartTrial":            "started a free trial",
	"SubmitApplication":     "submitted an application",
	"Subscribe":             "subscribed to a paid service",
	"ViewContent":           "viewed a product or article",
	"Microdata":             "automatic event: the page's structured data and meta tags",
	"SubscribedButtonClick": "automatic event: clicked a button",
}

// MetaEventMeaning says what a pixel event name means: the standard
// event's meaning, or "custom event".
func MetaEventMeaning(ev string) string {
	if m, ok := metaStandardEvents[ev]; ok {
		return m
	}
	return "custom event"
}

// metaParamLabels label the /tr parameters and custom data reported as
// event evidence (tracker-facts §1.2, §1.3). Secret ones are ids.
var metaParamLabels = map[string]struct {
	label  string
	secret bool
}{
	"id": {"account id", false}, "ev": {"event", false},
	"dl": {"page URL", false}, "rl": {"referrer", false},
	"ts": {"event time", false}, "it": {"pixel start time", false},
	"fbp": {"browser id", true}, "fbc": {"click id", true},
	"cd[value]": {"value", false}, "cd[currency]": {"currency", false},
	"cd[content_ids]": {"content ids", false}, "cd[contents]": {"contents", false},
	"cd[content_name]": {"content name", false}, "cd[content_category]": {"content category", false},
	"cd[content_type]": {"content type", false}, "cd[num_items]": {"number of items", false},
	"cd[search_string]": {"search terms", false}, "cd[status]": {"registration status", false},
	"cd[order_id]":   {"order id", false},
	"cd[buttonText]": {"button text", false}, "cd[buttonFeatures]": {"clicked element", false},
	"cd[formFeatures]": {"form field", false}, "cd[pageFeatures]": {"page content", false},
}

// metaMicrodata are the cd keys of the automatic Microdata event that
// carry the page's own content as JSON (tracker-facts §1.3).
var metaMicrodata = map[string]bool{
	"cd[DataLayer]": true, "cd[Meta]": true, "cd[OpenGraph]": true, "cd[Schema.org]": true, "cd[JSON-LD]": true,
}

// metaUserFields name the advanced-matching ud[...] fields (§1.4).
var metaUserFields = map[string]string{
	"em": "email", "ph": "phone", "fn": "first name", "ln": "last name", "ge": "gender",
	"db": "birth date", "ct": "city", "city": "city", "st": "state", "state": "state",
	"zp": "zip code", "country": "country", "cn": "country", "external_id": "external id",
	"uid": "user id",
}

// maxMetaEvidence bounds the evidence of one event so a hostile request
// cannot make it huge.
const maxMetaEvidence = 64

// event decodes one /tr request's parameters.
func (d *MetaPixel) event(ex *traffic.Exchange, ps []traffic.Param) []traffic.Finding {
	f := traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityMedium, Detector: d.Name()}
	metaIdentity(ex, &f)
	var pii []traffic.Evidence
	seen := map[string]bool{}
	add := func(e traffic.Evidence) {
		if len(f.Evidence) < maxMetaEvidence && !seen[e.Where] {
			seen[e.Where] = true
			f.Evidence = append(f.Evidence, e)
		}
	}
	for _, p := range ps {
		v := strings.TrimSpace(p.Value)
		if v == "" {
			continue
		}
		if l, ok := metaParamLabels[p.Name]; ok {
			if p.Name == "ev" && f.Event == "" {
				f.Event = v
			}
			add(traffic.Evidence{Where: p.Where, Label: l.label, Value: v, Secret: l.secret})
			continue
		}
		if metaMicrodata[p.Name] {
			key := strings.TrimSuffix(strings.TrimPrefix(p.Name, "cd["), "]")
			add(traffic.Evidence{Where: p.Where, Label: "page content (" + key + ")", Value: summariseJSON(v, 300)})
			if key == "Meta" {
				if t := jsonStringField(v, "title"); t != "" {
					add(traffic.Evidence{Where: p.Where + " › title", Label: "page title", Value: t})
				}
			}
			continue
		}
		if strings.HasPrefix(p.Name, "cd[") {
			add(traffic.Evidence{Where: p.Where, Label: "custom data", Value: truncate(v, 300)})
			continue
		}
		if key, ok := metaUDKey(p.Name); ok {
			field := metaUserFields[key]
			if field == "" {
				field = key
			}
			switch kind := traffic.HashKind(v); {
			case traffic.IsEmptyHash(v):
				add(traffic.Evidence{Where: p.Where, Label: field + " (empty)", Value: v})
			case kind != "":
				pii = append(pii, traffic.Evidence{Where: p.Where, Label: field + " (" + kind + ")", Value: v, Secret: true})
			default:
				pii = append(pii, traffic.Evidence{Where: p.Where, Label: field + " (plain text)", Value: v, Secret: true})
			}
		}
	}
	if len(pii) > 0 {
		f.Severity = traffic.SeverityHigh
	}
	f.Summary = metaSummary(&f, pii)
	out := []traffic.Finding{f}
	for _, e := range pii {
		h := traffic.Finding{Kind: traffic.KindHashedPII, Severity: traffic.SeverityHigh, Detector: d.Name(), Event: f.Event,
			Company: f.Company, Product: f.Product, Category: f.Category, RuleID: f.RuleID,
			Summary:  fmt.Sprintf("sent your %s to %s (advanced matching)", e.Label, who(&f)),
			Evidence: []traffic.Evidence{e}}
		out = append(out, h)
	}
	return out
}

// metaSummary says what the event means and which kinds of data went with
// it, never a value.
func metaSummary(f *traffic.Finding, pii []traffic.Evidence) string {
	var b strings.Builder
	b.WriteString(who(f))
	if f.Event == "" {
		b.WriteString(" hit without an event name")
	} else {
		fmt.Fprintf(&b, " event %q (%s)", f.Event, MetaEventMeaning(f.Event))
	}
	var kinds []string
	have := map[string]bool{}
	for _, e := range f.Evidence {
		l := e.Label
		if l == "event" || l == "account id" || l == "event time" || l == "pixel start time" || strings.HasSuffix(l, " (empty)") {
			continue
		}
		if strings.HasPrefix(l, "page content (") {
			l = "page content"
		}
		if !have[l] {
			have[l] = true
			kinds = append(kinds, l)
		}
	}
	for _, e := range pii {
		field, kind, _ := strings.Cut(strings.TrimSuffix(e.Label, ")"), " (")
		l := "hashed " + field
		if kind == "plain text" {
			l = "plain-text " + field
		}
		if !have[l] {
			have[l] = true
			kinds = append(kinds, l)
		}
	}
	if len(kinds) > 0 {
		b.WriteString(": sent ")
		b.WriteString(joinShort(kinds, 10))
	}
	return b.String()
}

// config reports the pixel configuration script load.
func (d *MetaPixel) config(ex *traffic.Exchange, id string) []traffic.Finding {
	id = strings.Trim(id, "/")
	if id == "" {
		return nil
	}
	f := traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityLow, Detector: d.Name(), Event: "config"}
	metaIdentity(ex, &f)
	f.Evidence = []traffic.Evidence{{Where: "path", Label: "account id", Value: id}}
	ps := ex.Params()
	if v, ok := traffic.Get(ps, "domain"); ok && v != "" {
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "query:domain", Label: "page host", Value: v})
	}
	if v, ok := traffic.Get(ps, "hme"); ok && v != "" && !traffic.IsEmptyHash(v) {
		// hme is a 64-hex value whose meaning is unconfirmed (§1.1).
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "query:hme", Label: "hashed value (hme)", Value: v, Secret: true})
	}
	f.Summary = fmt.Sprintf("%s loaded the configuration of pixel %s (it sets which personal fields are matched automatically)", who(&f), truncate(id, 32))
	return []traffic.Finding{f}
}

// metaIdentity copies the tracker identity, or names Meta's pixel when no
// rule matched (a rule set without it).
func metaIdentity(ex *traffic.Exchange, f *traffic.Finding) {
	if tr := ex.Tracker(); tr != nil {
		f.Company, f.Product, f.Category, f.RuleID = tr.Company, tr.Product, tr.Category, tr.RuleID
		return
	}
	f.Company, f.Product, f.Category = "Meta", "Meta Pixel", rules.CategoryPixel
}

// metaUDKey returns "em" for "ud[em]".
func metaUDKey(name string) (string, bool) {
	if !strings.HasPrefix(name, "ud[") || !strings.HasSuffix(name, "]") || len(name) < 5 {
		return "", false
	}
	return name[3 : len(name)-1], true
}

// metaMultipart reads the fields of a multipart/form-data body (the pixel
// posts large events that way), at most 256 fields.
func metaMultipart(r *traffic.Request) []traffic.Param {
	if r.Header == nil || len(r.Body) == 0 {
		return nil
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil
	}
	var out []traffic.Param
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for i := 0; i < 256; i++ {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(io.LimitReader(part, 64<<10))
		name := part.FormName()
		out = append(out, traffic.Param{Where: "multipart:" + name, Name: name, Value: string(b)})
	}
	return out
}

// summariseJSON renders a JSON object as sorted "key: value" pairs of its
// top-level scalar fields (arrays and objects say how many items they
// hold), cut at max bytes; anything else is cut as is.
func summariseJSON(s string, max int) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return truncate(s, max)
	}
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+scalarString(t[k]))
		}
		return truncate(strings.Join(parts, "; "), max)
	case []any:
		return fmt.Sprintf("%d items: %s", len(t), truncate(s, max))
	}
	return truncate(s, max)
}

func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return truncate(t, 80)
	case []any:
		return fmt.Sprintf("[%d items]", len(t))
	case map[string]any:
		return fmt.Sprintf("{%d fields}", len(t))
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// jsonStringField returns the string field key of a JSON object, or "".
func jsonStringField(s, key string) string {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return ""
	}
	v, _ := m[key].(string)
	return strings.TrimSpace(v)
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
