package detectors

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Mixpanel decodes Mixpanel uploads, tracker-facts.md §16: POST (or GET)
// to <host>/track, /engage and /groups with data=<JSON>, URL-encoded on
// *.mixpanel.com and base64 elsewhere; the JSON is one object or a batch
// array. Track events report their name, project token, distinct_id
// (browser id before identify, the site's user id after), $device_id,
// $user_id, $current_url, $referrer and custom properties; engage
// (profile) updates report the $set properties, where $email is personal
// data.
type Mixpanel struct{}

// NewMixpanel returns the Mixpanel decoder.
func NewMixpanel() *Mixpanel { return &Mixpanel{} }

// Name implements Detector.
func (*Mixpanel) Name() string { return "mixpanel" }

var mixpanelVendor = vendor{"Mixpanel", "Analytics", "analytics"}

var mixpanelProps = map[string]field{
	"token": {label: "account id"}, "$current_url": {label: "page URL"}, "$referrer": {label: "referrer"},
	"$device_id": {label: "browser id", secret: true}, "$user_id": {label: "user id", secret: true},
	"$initial_referrer": {label: "referrer"},
}

func ownsMixpanel(ex *traffic.Exchange) bool {
	p := strings.TrimSuffix(requestPath(ex), "/")
	if p != "/track" && p != "/engage" && p != "/groups" {
		return false
	}
	// Mixpanel may be proxied through the site's own host; there only the
	// data= parameter is trusted.
	return hostIs(ex.Host(), "mixpanel.com") || strings.Contains(ex.Request.URL.RawQuery, "data=") ||
		strings.HasPrefix(string(ex.Request.Body[:min(len(ex.Request.Body), 5)]), "data=")
}

// mixpanelData decodes a data= value: JSON, or base64 JSON.
func mixpanelData(s string) (any, bool) {
	if v, ok := decodeJSON([]byte(s)); ok {
		return v, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(strings.TrimSpace(s)); err == nil {
			if v, ok := decodeJSON(b); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// Detect implements Detector.
func (d *Mixpanel) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsMixpanel(ex) {
		return nil
	}
	var data any
	where := ""
	for _, p := range requestParams(ex) {
		if p.Name == "data" {
			if v, ok := mixpanelData(p.Value); ok {
				data, where = v, p.Where
				break
			}
		}
	}
	if data == nil && hostIs(ex.Host(), "mixpanel.com") {
		if v, ok := decodeJSON(ex.Request.Body); ok {
			data, where = v, "body:$"
		}
	}
	if data == nil {
		return nil
	}
	var out []traffic.Finding
	list, isList := data.([]any)
	if !isList {
		list = []any{data}
	}
	for i, obj := range list {
		p := ""
		if isList {
			p = "[" + strconv.Itoa(i) + "]"
		}
		e := newEvent(ex, d.Name(), mixpanelVendor)
		w := where + p
		if name := jstr(jget(obj, "event")); name != "" {
			e.setName(w+".event", name)
			props := jget(obj, "properties")
			if id := jstr(jget(props, "distinct_id")); id != "" {
				mixpanelDistinct(e, w+".properties.distinct_id", id)
			}
			if m, ok := props.(map[string]any); ok {
				for _, k := range sortedKeys(boolKeys(m)) {
					if f, ok := mixpanelProps[k]; ok && jstr(m[k]) != "$direct" {
						e.addField(w+".properties."+k, f, jstr(m[k]))
					}
				}
			}
			mixpanelCustom(e, w+".properties", props)
		} else if set := jget(obj, "$set"); set != nil {
			e.setName(w+".$set", "$set")
			e.add(w+".$token", "account id", jstr(jget(obj, "$token")), false)
			mixpanelDistinct(e, w+".$distinct_id", jstr(jget(obj, "$distinct_id")))
			mixpanelCustom(e, w+".$set", set)
		}
		out = append(out, e.findings()...)
	}
	return out
}

// mixpanelDistinct reports distinct_id: "$device:<uuid>" before identify
// (a browser id), the site's own user id after.
func mixpanelDistinct(e *event, where, id string) {
	if strings.HasPrefix(id, "$device:") {
		e.add(where, "browser id", id, true)
	} else {
		e.add(where, "user id", id, true)
	}
}

// mixpanelCustom reports the site's own properties (those without the
// library's "$" or "mp_" prefix) and $email / $phone.
func mixpanelCustom(e *event, where string, props any) {
	m, ok := props.(map[string]any)
	if !ok {
		return
	}
	for _, k := range sortedKeys(boolKeys(m)) {
		v := jstr(m[k])
		switch {
		case k == "$email":
			e.hashed(where+"."+k, "email", v)
		case k == "$phone":
			e.add(where+"."+k, "user property: phone", v, true)
		case k == "$name" || k == "$first_name" || k == "$last_name":
			e.add(where+"."+k, "user property: "+strings.TrimPrefix(k, "$"), v, true)
		case strings.HasPrefix(k, "$") || strings.HasPrefix(k, "mp_") || k == "token" || k == "distinct_id" || k == "time":
		default:
			e.add(where+"."+k, "event property: "+k, v, false)
		}
	}
}

func boolKeys(m map[string]any) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
