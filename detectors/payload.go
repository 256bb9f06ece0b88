package detectors

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// This file holds the helpers the payload decoders (ga4.go, tiktok.go, …)
// share: the vendor fallback identity, the event builder that turns decoded
// fields into findings following the project's finding conventions, the
// hashed-PII check, and a small JSON walker. Decoders never call each other.

// vendor is whom a decoder decodes for. It fills Company, Product and
// Category when no tracker rule matched the exchange (a rule set without
// the vendor, or a first-party CNAME); RuleID then stays empty.
type vendor struct {
	company, product, category string
}

// identity copies the tracker identity onto f: from ex.Tracker() when the
// tracker detector matched, else from v.
func identity(ex *traffic.Exchange, v vendor, f *traffic.Finding) {
	if t := ex.Tracker(); t != nil {
		f.Company, f.Product, f.Category, f.RuleID = t.Company, t.Product, t.Category, t.RuleID
		return
	}
	f.Company, f.Product, f.Category, f.RuleID = v.company, v.product, v.category, ""
}

// who names the tracker for summaries: the product with its company
// ("Google Analytics 4", "TikTok Pixel").
func who(f *traffic.Finding) string {
	switch {
	case f.Product == "":
		return f.Company
	case f.Company == "" || strings.HasPrefix(f.Product, f.Company):
		return f.Product
	}
	return f.Company + " " + f.Product
}

// field says how a decoded parameter is reported as event evidence.
type field struct {
	// label is the Evidence label ("page URL", "browser id" …).
	label string
	// secret marks ids and tokens (user id, browser id, click id).
	secret bool
	// pii names personal data ("email", "phone" …): the value is checked
	// as hashed or plain personal data instead of becoming event evidence.
	pii string
}

// event builds the findings of one decoded tracking event: a KindPixelEvent
// finding and, when hashed or plain personal data was seen in a known
// personal-data field, one KindHashedPII finding per such field.
type event struct {
	ex     *traffic.Exchange
	det    string
	v      vendor
	name   string
	ev     []traffic.Evidence
	pii    []traffic.Evidence
	seen   map[string]bool
	person bool
}

func newEvent(ex *traffic.Exchange, det string, v vendor) *event {
	return &event{ex: ex, det: det, v: v}
}

// setName records the event name as sent, with its evidence.
func (e *event) setName(where, name string) {
	if name == "" || e.name != "" {
		return
	}
	e.name = name
	e.add(where, "event", name, false)
}

// add appends one evidence item; empty values and exact repeats are skipped.
func (e *event) add(where, label, value string, secret bool) {
	if value == "" {
		return
	}
	key := where + "\x00" + label + "\x00" + value
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	if label == "user id" {
		e.person = true
	}
	e.ev = append(e.ev, traffic.Evidence{Where: where, Label: label, Value: value, Secret: secret})
}

// addField reports value as f says: personal data goes through hashed,
// everything else becomes event evidence.
func (e *event) addField(where string, f field, value string) {
	if f.pii != "" {
		e.hashed(where, f.pii, value)
		return
	}
	e.add(where, f.label, value, f.secret)
}

// addParams reports every parameter whose name is in table, in order.
func (e *event) addParams(ps []traffic.Param, table map[string]field) {
	for _, p := range ps {
		if f, ok := table[p.Name]; ok {
			if f.label == "event" {
				e.setName(p.Where, p.Value)
				continue
			}
			e.addField(p.Where, f, p.Value)
		}
	}
}

// hashed checks value, seen in a known personal-data field, and records it
// as hashed PII: a hex MD5/SHA-1/SHA-256, a base64url SHA-256 (Google's
// "tv.1~em." form), or a plain e-mail address. The hash of an empty value
// (traffic.IsEmptyHash) is not personal data: it becomes "<field> (empty)"
// event evidence instead. Anything else is ignored.
func (e *event) hashed(where, fieldName, value string) {
	value = strings.TrimSpace(value)
	if value == "" {
		return
	}
	if traffic.LooksLikeEmail(value) {
		e.pii = append(e.pii, traffic.Evidence{Where: where, Label: "email (plain text)", Value: value, Secret: true})
		return
	}
	kind := traffic.HashKind(value)
	if kind == "" && len(value) == 43 {
		// 32 bytes in unpadded base64url: a SHA-256 sent in Google's form.
		if b, err := base64.RawURLEncoding.DecodeString(value); err == nil && len(b) == 32 {
			if traffic.IsEmptyHash(hex.EncodeToString(b)) {
				e.add(where, fieldName+" (empty)", value, false)
				return
			}
			kind = "sha256"
		}
	}
	if kind == "" {
		return
	}
	if traffic.IsEmptyHash(value) {
		// The script hashed a blank field: noted, as the Meta decoder
		// does, but not personal data.
		e.add(where, fieldName+" (empty)", value, false)
		return
	}
	e.pii = append(e.pii, traffic.Evidence{Where: where, Label: fieldName + " (" + kind + ")", Value: value, Secret: true})
}

// findings returns the event's findings; none when nothing was decoded.
func (e *event) findings() []traffic.Finding {
	if e.name == "" && len(e.ev) == 0 && len(e.pii) == 0 {
		return nil
	}
	var out []traffic.Finding
	if e.name != "" || len(e.ev) > 0 {
		f := traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityMedium, Detector: e.det, Event: e.name, Evidence: e.ev}
		identity(e.ex, e.v, &f)
		if e.person || len(e.pii) > 0 {
			f.Severity = traffic.SeverityHigh
		}
		f.Summary = eventSummary(who(&f), e.name, e.ev, e.pii)
		out = append(out, f)
	}
	// One finding per personal-data field, as the Meta pixel decoder does.
	for _, p := range e.pii {
		f := traffic.Finding{Kind: traffic.KindHashedPII, Severity: traffic.SeverityHigh, Detector: e.det, Event: e.name, Evidence: []traffic.Evidence{p}}
		identity(e.ex, e.v, &f)
		f.Summary = "sent your " + p.Label + " to " + who(&f)
		out = append(out, f)
	}
	return out
}

// eventSummary says what the event means and which kinds of data went
// with it, without any values.
func eventSummary(tracker, name string, ev, pii []traffic.Evidence) string {
	var b strings.Builder
	b.WriteString(tracker)
	if name != "" {
		b.WriteString(" event ")
		b.WriteString(strconv.Quote(name))
		if m := eventMeaning(name); m != "" {
			b.WriteString(" (" + m + ")")
		}
	} else {
		b.WriteString(" hit")
	}
	var labels []string
	for _, x := range ev {
		if x.Label == "event" || x.Label == "account id" || strings.HasSuffix(x.Label, " (empty)") {
			continue
		}
		l := x.Label
		if i := strings.IndexByte(l, ':'); i > 0 {
			l = l[:i]
		}
		labels = appendUnique(labels, l)
	}
	for _, x := range pii {
		field, kind, _ := strings.Cut(strings.TrimSuffix(x.Label, ")"), " (")
		if kind == "plain text" {
			labels = appendUnique(labels, "plain-text "+field)
		} else {
			labels = appendUnique(labels, "hashed "+field)
		}
	}
	if len(labels) > 0 {
		b.WriteString(": sent ")
		b.WriteString(strings.Join(labels, ", "))
	}
	return b.String()
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// eventMeanings explains the standard events of the vendors, keyed by the
// name lower-cased without '_', '-' or spaces. Names from tracker-facts.md
// sections 2.3 (GA4), 3 (TikTok), 6 (Pinterest), 7 (Snap), 8 (Reddit),
// 9 (UET), 5 (X) and the vendors' standard-event lists.
var eventMeanings = map[string]string{
	"pageview": "viewed a page", "pagevisit": "viewed a page", "page": "viewed a page",
	"pageload": "viewed a page", "screen": "viewed a screen",
	"viewcontent": "viewed a product or content", "viewitem": "viewed a product or content",
	"viewitemlist": "viewed a product list", "viewcategory": "viewed a product category",
	"addtocart": "added an item to the cart", "addcart": "added an item to the cart",
	"removefromcart": "removed an item from the cart", "viewcart": "viewed the cart",
	"addtowishlist":    "added an item to a wish list",
	"initiatecheckout": "started checkout", "begincheckout": "started checkout",
	"startcheckout": "started checkout", "checkout": "checked out",
	"addpaymentinfo": "entered payment details", "addshippinginfo": "entered shipping details",
	"purchase": "completed a purchase", "completepayment": "completed a purchase",
	"placeanorder": "placed an order",
	"lead":         "submitted a form (a sales lead)", "generatelead": "submitted a form (a sales lead)",
	"submitform":           "submitted a form",
	"completeregistration": "signed up", "signup": "signed up", "register": "signed up",
	"login":  "logged in",
	"search": "searched the site", "viewsearchresults": "searched the site",
	"schedule": "booked an appointment", "contact": "contacted the business",
	"subscribe": "subscribed", "starttrial": "started a trial", "donate": "donated",
	"findlocation": "looked for a location", "customizeproduct": "customised a product",
	"scroll": "scrolled the page", "userengagement": "time spent on the page",
	"click": "clicked a link or element", "filedownload": "downloaded a file",
	"formstart": "started filling in a form", "formsubmit": "submitted a form",
	"firstvisit": "first visit to the site", "sessionstart": "started a visit",
	"videostart": "started a video", "videoprogress": "watched part of a video",
	"videocomplete": "watched a video to the end", "watchvideo": "watched a video",
	"identify": "tied the visitor to a user id and traits", "alias": "linked two user ids",
	"group": "tied the visitor to a company or group", "track": "a custom event",
	"conversion": "a conversion (goal reached)", "custom": "a custom event",
	// Segment e-commerce spec, Mixpanel and Amplitude autocapture names.
	"pageviewed": "viewed a page", "mpwebpageview": "viewed a page",
	"ordercompleted": "completed a purchase", "productviewed": "viewed a product or content",
	"productadded": "added an item to the cart", "checkoutstarted": "started checkout",
	"productssearched": "searched the site",
	// Criteo OneTag event codes (§17).
	"vh": "viewed the home page", "vl": "viewed a product list", "vp": "viewed a product or content",
	"vb": "viewed the cart", "vc": "completed a purchase",
}

// eventMeaning returns what a standard event means, or "".
func eventMeaning(name string) string {
	name = strings.TrimPrefix(name, "[Amplitude] ")
	k := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ', '$':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, name)
	return eventMeanings[k]
}

// hostIs reports whether host is one of names or a subdomain of one.
func hostIs(host string, names ...string) bool {
	for _, n := range names {
		if host == n || (len(host) > len(n) && strings.HasSuffix(host, n) && host[len(host)-len(n)-1] == '.') {
			return true
		}
	}
	return false
}

// requestPath returns the request's URL path, "" when there is no URL.
func requestPath(ex *traffic.Exchange) string {
	if ex == nil || ex.Request.URL == nil {
		return ""
	}
	return ex.Request.URL.Path
}

// decodeJSON parses b as JSON with numbers kept as written; ok is false
// when b is not JSON.
func decodeJSON(b []byte) (v any, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// jget walks v by object keys; nil when a step is missing.
func jget(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// jstr renders a JSON scalar as text; objects and arrays as compact JSON;
// null as "".
func jstr(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// jlist returns v as a list: a JSON array as is, any other non-nil value
// as a one-element list.
func jlist(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// addJSONFields reports the keys of object obj found in table, in sorted
// key order, with Where "body:<path>.<key>".
func (e *event) addJSONFields(path string, obj any, table map[string]field) {
	m, ok := obj.(map[string]any)
	if !ok {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if _, ok := table[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := table[k]
		where := "body:" + path + "." + k
		if f.label == "event" {
			e.setName(where, jstr(m[k]))
			continue
		}
		e.addField(where, f, jstr(m[k]))
	}
}

// googleUserFields names the keys of Google's user-provided data string
// ("tv.1~em.<hash>~pn.<hash>"), sent by enhanced conversions on GA4 and
// Ads hits. tracker-facts.md §2.5 marks the exact wire form unconfirmed
// (I); keys follow the gtag user_data names.
var googleUserFields = map[string]string{
	"em": "email", "pn": "phone", "ph": "phone", "fn": "first name", "ln": "last name",
	"sa": "street", "ct": "city", "rg": "region", "pc": "postal code", "co": "country",
}

// googleUserData records the personal data in a Google "em" parameter: a
// "~"-separated list of key.value items, or a single hash or address.
func (e *event) googleUserData(where, value string) {
	if !strings.Contains(value, "~") {
		e.hashed(where, "email", value)
		return
	}
	for _, item := range strings.Split(value, "~") {
		k, v, ok := strings.Cut(item, ".")
		if !ok {
			continue
		}
		if name, ok := googleUserFields[k]; ok {
			e.hashed(where, name, v)
		}
	}
}

// addJSONParam reports the keys of a JSON object held in one parameter
// (Pinterest ed=/pd=/ad=, X events=) with Where "<where>[<key>]", in sorted
// key order. Keys not in table are reported as "event property: <key>"
// when other is true, else skipped. It reports whether p held an object.
func (e *event) addJSONParam(where, value string, table map[string]field, other bool) bool {
	v, ok := decodeJSON([]byte(value))
	if !ok {
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := where + "[" + k + "]"
		f, ok := table[k]
		switch {
		case ok && f.label == "event":
			e.setName(w, jstr(m[k]))
		case ok && f.pii != "":
			// A list of hashes (Pinterest hashed_maids) is checked item by item.
			for _, x := range jlist(m[k]) {
				e.hashed(w, f.pii, jstr(x))
			}
		case ok:
			e.addField(w, f, jstr(m[k]))
		case other:
			e.add(w, "event property: "+k, jstr(m[k]), false)
		}
	}
	return true
}

// semicolonParams splits ";"-separated key=value pairs found in a URL path
// (Floodlight "activityi;src=…;cat=…", Quantcast "pixel;a=…;url=…"),
// URL-decoding each value; Where is "path:<key>".
func semicolonParams(escapedPath string) []traffic.Param {
	var out []traffic.Param
	_, rest, ok := strings.Cut(escapedPath, ";")
	for ok && rest != "" && len(out) < 4096 {
		var pair string
		pair, rest, _ = strings.Cut(rest, ";")
		k, v, _ := strings.Cut(pair, "=")
		if k == "" {
			continue
		}
		if uv, err := url.PathUnescape(v); err == nil {
			v = uv
		}
		out = append(out, traffic.Param{Where: "path:" + k, Name: k, Value: v})
	}
	return out
}

// requestParams returns the query parameters and, for a form-like body,
// the body parameters ("form:NAME"); JSON bodies are left to the caller.
func requestParams(ex *traffic.Exchange) []traffic.Param {
	ps := ex.QueryParams()
	b := bytes.TrimSpace(ex.Request.Body)
	if len(b) > 0 && b[0] != '{' && b[0] != '[' {
		ps = append(ps, traffic.ParseQuery("form", string(b))...)
	}
	return ps
}

// addObject reports every key of a JSON object, in sorted order, as
// "<prefix>: <key>" evidence with Where "body:<path>.<key>"; keys in
// known get their own field treatment instead (value, currency, hashed
// e-mail …). Keys that look like e-mail fields are checked as personal
// data.
func (e *event) addObject(path, prefix string, obj any, known map[string]field) {
	m, ok := obj.(map[string]any)
	if !ok {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		where := "body:" + path + "." + k
		val := jstr(m[k])
		if f, ok := known[k]; ok {
			e.addField(where, f, val)
			continue
		}
		lk := strings.ToLower(strings.TrimPrefix(k, "$"))
		if lk == "email" || lk == "e-mail" || lk == "email_address" || lk == "mail" {
			e.hashed(where, "email", val)
			continue
		}
		// User traits describe a person (names, plans, insurers): secret.
		e.add(where, prefix+": "+k, val, prefix == "user property")
	}
}
