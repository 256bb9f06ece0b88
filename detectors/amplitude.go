package detectors

import (
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Amplitude decodes Amplitude uploads, tracker-facts.md §15: JSON POSTs
// {api_key, events:[…]} to /2/httpapi and /batch on api2.amplitude.com and
// api.eu.amplitude.com, and the older form body e=<events JSON>&client=…
// to api.amplitude.com. Each event reports its event_type, user_id
// (person), device_id (browser), event and user properties; the browser
// SDK's "[Amplitude] Page URL" property is the page URL.
type Amplitude struct{}

// NewAmplitude returns the Amplitude decoder.
func NewAmplitude() *Amplitude { return &Amplitude{} }

// Name implements Detector.
func (*Amplitude) Name() string { return "amplitude" }

var amplitudeVendor = vendor{"Amplitude", "Analytics", "analytics"}

var amplitudeProps = map[string]field{
	"[Amplitude] Page URL": {label: "page URL"}, "[Amplitude] Page Title": {label: "page title"},
	"[Amplitude] Page Referrer": {label: "referrer"}, "referrer": {label: "referrer"},
	"revenue": {label: "value"}, "price": {label: "value"}, "currency": {label: "currency"},
	"productId": {label: "content ids"}, "search_term": {label: "search terms"},
}

func ownsAmplitude(ex *traffic.Exchange) bool {
	if ex.Request.URL == nil || !strings.Contains(ex.Request.URL.Host, "amplitude") {
		return false
	}
	return hostIs(ex.Host(), "amplitude.com") && !strings.HasPrefix(ex.Host(), "cdn.") && ex.Request.Method != "GET"
}

// Detect implements Detector.
func (d *Amplitude) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsAmplitude(ex) {
		return nil
	}
	var events any
	var key, base string
	if v, ok := decodeJSON(ex.Request.Body); ok {
		events, key, base = jget(v, "events"), jstr(jget(v, "api_key")), "$.events"
	} else {
		ps := traffic.ParseQuery("form", string(ex.Request.Body))
		e, _ := traffic.Get(ps, "e")
		key, _ = traffic.Get(ps, "client")
		if v, ok := decodeJSON([]byte(e)); ok {
			events, base = v, "form:e$"
		}
	}
	var out []traffic.Finding
	for i, ev := range jlist(events) {
		p := base + "[" + strconv.Itoa(i) + "]"
		e := newEvent(ex, d.Name(), amplitudeVendor)
		e.setName("body:"+p+".event_type", jstr(jget(ev, "event_type")))
		e.add("body:$.api_key", "account id", key, false)
		e.add("body:"+p+".user_id", "user id", jstr(jget(ev, "user_id")), true)
		e.add("body:"+p+".device_id", "browser id", jstr(jget(ev, "device_id")), true)
		e.addObject(p+".event_properties", "event property", jget(ev, "event_properties"), amplitudeProps)
		e.addObject(p+".user_properties", "user property", jget(ev, "user_properties"), nil)
		out = append(out, e.findings()...)
	}
	return out
}
