package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// GoogleAds decodes Google Ads conversion beacons and Floodlight
// activities, tracker-facts.md §2.5: /pagead/conversion/<id>/,
// /pagead/viewthroughconversion/<id>/ and /pagead/1p-conversion/<id>/
// (query: label, value, url, ref, tiba, data=event=<name>, em for enhanced
// conversions), and Floodlight's ";"-separated path parameters
// (activityi;src=…;type=…;cat=…;ord=…;u<N>=…;~oref=<page URL>) on
// fls.doubleclick.net and ad.doubleclick.net.
type GoogleAds struct{}

// NewGoogleAds returns the Google Ads and Floodlight decoder.
func NewGoogleAds() *GoogleAds { return &GoogleAds{} }

// Name implements Detector.
func (*GoogleAds) Name() string { return "google-ads" }

var (
	adsVendor        = vendor{"Google", "Ads conversion tracking", "advertising"}
	floodlightVendor = vendor{"Google", "Floodlight", "advertising"}
)

var adsFields = map[string]field{
	"label": {label: "event property: conversion label"}, "value": {label: "value"},
	"currency_code": {label: "currency"}, "url": {label: "page URL"}, "ref": {label: "referrer"},
	"tiba": {label: "page title"}, "gclaw": {label: "click id", secret: true},
	"gac": {label: "click id", secret: true}, "oid": {label: "order id"},
	"transaction_id": {label: "order id"},
}

var floodlightFields = map[string]field{
	"src": {label: "account id"}, "cat": {label: "event"}, "type": {label: "event property: activity group"},
	"ord": {label: "order id"}, "qty": {label: "quantity"}, "cost": {label: "value"},
	"~oref": {label: "page URL"}, "dc_rdid": {label: "browser id", secret: true},
	"gclid": {label: "click id", secret: true}, "dclid": {label: "click id", secret: true},
}

// adsConversionID returns the conversion id after a /pagead/…conversion/
// path element, or "".
func adsConversionID(p string) string {
	for _, pre := range []string{"/pagead/conversion/", "/pagead/viewthroughconversion/", "/pagead/1p-conversion/"} {
		if strings.HasPrefix(p, pre) {
			id, _, _ := strings.Cut(p[len(pre):], "/")
			if id == "" {
				return "?"
			}
			return id
		}
	}
	return ""
}

// Detect implements Detector.
func (d *GoogleAds) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	if !strings.HasPrefix(p, "/activity") && !strings.HasPrefix(p, "/pagead/") {
		return nil
	}
	host := ex.Host()
	switch {
	case strings.HasPrefix(p, "/activity") && hostIs(host, "fls.doubleclick.net", "ad.doubleclick.net"):
		e := newEvent(ex, d.Name(), floodlightVendor)
		ps := append(semicolonParams(ex.Request.URL.EscapedPath()), ex.QueryParams()...)
		e.addParams(ps, floodlightFields)
		for _, x := range ps {
			if len(x.Name) > 1 && x.Name[0] == 'u' && isDigits(x.Name[1:]) {
				e.add(x.Where, "event property: "+x.Name, x.Value, false)
			}
			if x.Name == "em" {
				e.googleUserData(x.Where, x.Value)
			}
		}
		return e.findings()
	case strings.HasPrefix(p, "/pagead/"):
		id := adsConversionID(p)
		if id == "" || !(hostIs(host, "googleadservices.com", "doubleclick.net") || strings.HasPrefix(host, "www.google.")) {
			return nil
		}
		e := newEvent(ex, d.Name(), adsVendor)
		ps := requestParams(ex)
		// data=event=purchase;… names the gtag event.
		if data, ok := traffic.Get(ps, "data"); ok {
			for _, kv := range strings.Split(data, ";") {
				if k, v, _ := strings.Cut(kv, "="); k == "event" {
					e.setName("query:data", v)
				}
			}
		}
		e.add("path", "account id", id, false)
		e.addParams(ps, adsFields)
		for _, x := range ps {
			if x.Name == "em" {
				e.googleUserData(x.Where, x.Value)
			}
		}
		return e.findings()
	}
	return nil
}
