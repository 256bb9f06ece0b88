package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Reddit decodes Reddit pixel events (rp.gif on *.reddit.com),
// tracker-facts.md §8: id (pixel id), event, m.* event metadata, uuid (the
// _rdt_uuid browser id), and the advanced-matching em, pn and external_id
// fields (hashed). An external_id that is not a hash is a user id.
type Reddit struct{}

// NewReddit returns the Reddit pixel decoder.
func NewReddit() *Reddit { return &Reddit{} }

// Name implements Detector.
func (*Reddit) Name() string { return "reddit-pixel" }

var redditVendor = vendor{"Reddit", "Pixel", "pixel"}

var redditFields = map[string]field{
	"id":                {label: "account id"},
	"event":             {label: "event"},
	"uuid":              {label: "browser id", secret: true},
	"aaid":              {label: "browser id", secret: true},
	"idfa":              {label: "browser id", secret: true},
	"em":                {pii: "email"},
	"pn":                {pii: "phone"},
	"m.customEventName": {label: "event property: custom event name"},
	"m.itemCount":       {label: "quantity"},
	"m.value":           {label: "value"},
	"m.valueDecimal":    {label: "value"},
	"m.currency":        {label: "currency"},
	"m.transactionId":   {label: "order id"},
	"m.products":        {label: "content ids"},
	"m.conversionId":    {label: "event property: conversion id"},
}

func ownsReddit(ex *traffic.Exchange) bool {
	return requestPath(ex) == "/rp.gif" && hostIs(ex.Host(), "reddit.com")
}

// Detect implements Detector.
func (d *Reddit) Detect(ex *traffic.Exchange) []traffic.Finding {
	if !ownsReddit(ex) {
		return nil
	}
	ps := append(ex.QueryParams(), traffic.ParseQuery("form", string(ex.Request.Body))...)
	e := newEvent(ex, d.Name(), redditVendor)
	e.addParams(ps, redditFields)
	for _, p := range ps {
		if p.Name != "external_id" || strings.TrimSpace(p.Value) == "" {
			continue
		}
		if traffic.HashKind(p.Value) != "" || traffic.LooksLikeEmail(p.Value) {
			e.hashed(p.Where, "external id", p.Value)
		} else {
			e.add(p.Where, "user id", p.Value, true)
		}
	}
	return e.findings()
}
