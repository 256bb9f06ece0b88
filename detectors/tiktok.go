package detectors

import (
	"sort"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// TikTok decodes TikTok pixel events, tracker-facts.md §3: JSON POSTs to
// analytics.tiktok.com (and the US host) under /api/v1/ and /api/v2/
// (pixel, pixel/act, pixel/track, track). A body holds one event object or
// a batch of them ("batch" array or a top-level array). The pixel code,
// page URL, referrer, custom properties (value, currency, content ids,
// search string), the auto-collected clicked-element text and the
// advanced-matching user fields are reported.
type TikTok struct{}

// NewTikTok returns the TikTok pixel decoder.
func NewTikTok() *TikTok { return &TikTok{} }

// Name implements Detector.
func (*TikTok) Name() string { return "tiktok-pixel" }

var tiktokVendor = vendor{"TikTok", "Pixel", "pixel"}

// tiktokUser maps context.user fields (§3; blacklight statics.ts): hashed
// e-mail and phone, advertiser user id, and the _ttp browser id.
var tiktokUser = map[string]field{
	"email":           {pii: "email"},
	"eb_email":        {pii: "email"},
	"phone_number":    {pii: "phone"},
	"eb_phone_number": {pii: "phone"},
	"external_id":     {pii: "external id"},
	"anonymous_id":    {label: "browser id", secret: true},
}

// tiktokProps names well-known custom-data properties.
var tiktokProps = map[string]string{
	"value": "value", "currency": "currency", "content_id": "content ids",
	"content_ids": "content ids", "contents": "content ids", "query": "search terms",
	"search_string": "search terms", "order_id": "order id",
}

func ownsTikTok(ex *traffic.Exchange) bool {
	return strings.HasPrefix(requestPath(ex), "/api/v") &&
		hostIs(ex.Host(), "analytics.tiktok.com", "analytics.us.tiktok.com")
}

// Detect implements Detector.
func (d *TikTok) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsTikTok(ex) {
		return nil
	}
	v, ok := decodeJSON(ex.Request.Body)
	if !ok {
		return nil
	}
	type item struct {
		path string
		obj  any
	}
	var events []item
	switch t := v.(type) {
	case []any:
		for i, o := range t {
			events = append(events, item{"$[" + strconv.Itoa(i) + "]", o})
		}
	case map[string]any:
		if b, ok := t["batch"].([]any); ok {
			for i, o := range b {
				events = append(events, item{"$.batch[" + strconv.Itoa(i) + "]", o})
			}
		} else {
			events = append(events, item{"$", t})
		}
	}
	sdkid := ex.Request.URL.Query().Get("sdkid")
	var out []traffic.Finding
	for _, it := range events {
		e := newEvent(ex, d.Name(), tiktokVendor)
		p, o := it.path, it.obj
		e.setName("body:"+p+".event", jstr(jget(o, "event")))
		if code := jstr(jget(o, "context", "pixel", "code")); code != "" {
			e.add("body:"+p+".context.pixel.code", "account id", code, false)
		} else if code := jstr(jget(o, "pixel_code")); code != "" {
			e.add("body:"+p+".pixel_code", "account id", code, false)
		} else {
			e.add("query:sdkid", "account id", sdkid, false)
		}
		e.add("body:"+p+".context.page.url", "page URL", jstr(jget(o, "context", "page", "url")), false)
		e.add("body:"+p+".context.page.referrer", "referrer", jstr(jget(o, "context", "page", "referrer")), false)
		if props, ok := jget(o, "properties").(map[string]any); ok {
			keys := make([]string, 0, len(props))
			for k := range props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				label, ok := tiktokProps[k]
				if !ok {
					label = "event property: " + k
				}
				e.add("body:"+p+".properties."+k, label, jstr(props[k]), false)
			}
		}
		e.add("body:"+p+".auto_collected_properties.trigger_element.inner_text", "clicked element text",
			jstr(jget(o, "auto_collected_properties", "trigger_element", "inner_text")), false)
		// context.ad.callback likely carries the ttclid click id (§3, I).
		e.add("body:"+p+".context.ad.callback", "click id", jstr(jget(o, "context", "ad", "callback")), true)
		e.addJSONFields(p+".context.user", jget(o, "context", "user"), tiktokUser)
		out = append(out, e.findings()...)
	}
	return out
}
