package detectors

import "github.com/trackaudit/trackaudit/traffic"

// LinkedIn decodes LinkedIn Insight Tag beacons (px.ads.linkedin.com
// /collect), tracker-facts.md §4: pid (partner id), conversionId, url
// (page URL) and the li_fat_id click id. The hashed-email parameter name is
// unconfirmed in the research (§28); email_sha256 and sha256_email (the
// names of the tag's enhanced-matching option) are read as hashed e-mail.
type LinkedIn struct{}

// NewLinkedIn returns the LinkedIn Insight Tag decoder.
func NewLinkedIn() *LinkedIn { return &LinkedIn{} }

// Name implements Detector.
func (*LinkedIn) Name() string { return "linkedin-insight" }

var linkedinVendor = vendor{"LinkedIn", "Insight Tag", "pixel"}

var linkedinFields = map[string]field{
	"pid": {label: "account id"}, "conversionId": {label: "event property: conversion id"},
	"url": {label: "page URL"}, "li_fat_id": {label: "click id", secret: true},
	"email_sha256": {pii: "email"}, "sha256_email": {pii: "email"},
}

// Detect implements Detector.
func (d *LinkedIn) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	if (p != "/collect" && p != "/collect/") || !hostIs(ex.Host(), "px.ads.linkedin.com", "dc.ads.linkedin.com") {
		return nil
	}
	e := newEvent(ex, d.Name(), linkedinVendor)
	ps := requestParams(ex)
	if _, ok := traffic.Get(ps, "conversionId"); ok {
		e.setName("query:conversionId", "conversion")
	}
	e.addParams(ps, linkedinFields)
	return e.findings()
}
