package detectors

import (
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Segment decodes Segment analytics.js calls, tracker-facts.md §14: JSON
// POSTs to api.segment.io/v1/<t|p|i|g|a|s> (or the full type names) and
// batches to /v1/b or /v1/batch, also on *.segmentapis.com. Each call
// becomes an event: track calls by their event name, the others by type.
// Properties, the page context, userId, anonymousId and identify traits
// (which often hold a plain e-mail and name) are reported.
type Segment struct{}

// NewSegment returns the Segment decoder.
func NewSegment() *Segment { return &Segment{} }

// Name implements Detector.
func (*Segment) Name() string { return "segment" }

var segmentVendor = vendor{"Segment", "Analytics.js", "analytics"}

var segmentProps = map[string]field{
	"url": {label: "page URL"}, "referrer": {label: "referrer"}, "title": {label: "page title"},
	"search": {label: "search terms"}, "revenue": {label: "value"}, "value": {label: "value"},
	"currency": {label: "currency"}, "order_id": {label: "order id"}, "product_id": {label: "content ids"},
	"query": {label: "search terms"}, "path": {label: "event property: path"},
}

var segmentTypes = map[string]string{"t": "track", "p": "page", "i": "identify", "g": "group", "a": "alias", "s": "screen"}

func ownsSegment(ex *traffic.Exchange) bool {
	return strings.HasPrefix(requestPath(ex), "/v1/") && hostIs(ex.Host(), "api.segment.io", "segmentapis.com")
}

// Detect implements Detector.
func (d *Segment) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsSegment(ex) {
		return nil
	}
	v, ok := decodeJSON(ex.Request.Body)
	if !ok {
		return nil
	}
	type call struct {
		path string
		obj  any
	}
	var calls []call
	if b, ok := jget(v, "batch").([]any); ok {
		for i, c := range b {
			calls = append(calls, call{"$.batch[" + strconv.Itoa(i) + "]", c})
		}
	} else {
		calls = []call{{"$", v}}
	}
	pathType := strings.TrimPrefix(requestPath(ex), "/v1/")
	if t, ok := segmentTypes[pathType]; ok {
		pathType = t
	}
	writeKey := jstr(jget(v, "writeKey"))
	var out []traffic.Finding
	for _, c := range calls {
		e := newEvent(ex, d.Name(), segmentVendor)
		typ := jstr(jget(c.obj, "type"))
		if typ == "" {
			typ = pathType
		}
		if name := jstr(jget(c.obj, "event")); name != "" {
			e.setName("body:"+c.path+".event", name)
		} else {
			e.setName("body:"+c.path+".type", typ)
		}
		if k := jstr(jget(c.obj, "writeKey")); k != "" {
			e.add("body:"+c.path+".writeKey", "account id", k, false)
		} else {
			e.add("body:$.writeKey", "account id", writeKey, false)
		}
		e.add("body:"+c.path+".context.page.url", "page URL", jstr(jget(c.obj, "context", "page", "url")), false)
		e.add("body:"+c.path+".context.page.referrer", "referrer", jstr(jget(c.obj, "context", "page", "referrer")), false)
		e.add("body:"+c.path+".context.page.title", "page title", jstr(jget(c.obj, "context", "page", "title")), false)
		e.add("body:"+c.path+".context.page.search", "search terms", jstr(jget(c.obj, "context", "page", "search")), false)
		e.add("body:"+c.path+".userId", "user id", jstr(jget(c.obj, "userId")), true)
		e.add("body:"+c.path+".anonymousId", "browser id", jstr(jget(c.obj, "anonymousId")), true)
		e.addObject(c.path+".properties", "event property", jget(c.obj, "properties"), segmentProps)
		e.addObject(c.path+".traits", "user property", jget(c.obj, "traits"), nil)
		e.addObject(c.path+".context.traits", "user property", jget(c.obj, "context", "traits"), nil)
		out = append(out, e.findings()...)
	}
	return out
}
