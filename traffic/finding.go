package traffic

// Kind classifies a Finding.
type Kind string

// The kinds of findings. Reports group by these; keep the strings stable,
// they are part of the JSON schema and the capture store.
const (
	KindTracker        Kind = "tracker"         // request to a known tracker
	KindSocialPlugin   Kind = "social-plugin"   // a social widget loaded on a page
	KindPixelEvent     Kind = "pixel-event"     // a decoded tracking event
	KindCookieLeak     Kind = "cookie-leak"     // cookies sent to a third party
	KindCookieSharing  Kind = "cookie-sharing"  // a first-party cookie value copied to a third party
	KindReferrerLeak   Kind = "referrer-leak"   // full page URL in the Referer header
	KindPageURLLeak    Kind = "page-url-leak"   // page URL inside a parameter or body
	KindHashedPII      Kind = "hashed-pii"      // hashed personal data in a known field
	KindPII            Kind = "pii"             // a watched personal value (--pii) found
	KindClickID        Kind = "click-id"        // an ad click id or match key
	KindSessionReplay  Kind = "session-replay"  // a session recording upload
	KindContact        Kind = "contact"         // host-only contact (TLS SNI, DNS)
	KindUpstreamError  Kind = "upstream-error"  // the proxy could not reach or verify the server
	KindInsecureUpload Kind = "insecure-upload" // reserved: personal data over plain HTTP
)

// Severity ranks findings for reports.
type Severity string

// Severities from least to most serious.
const (
	SeverityInfo   Severity = "info"
	SeverityLow    Severity = "low"
	SeverityMedium Severity = "medium"
	SeverityHigh   Severity = "high"
)

// Finding is one thing a detector found about an exchange, with the
// evidence for it. Everything a report needs is copied in here, so reports
// never consult rules or detectors.
type Finding struct {
	Kind     Kind
	Severity Severity
	// Detector is the Name of the detector that made it.
	Detector string

	// Company, Product, Category and RuleID describe the tracker, copied
	// from the rule that matched; empty when no rule matched.
	Company  string
	Product  string
	Category string
	RuleID   string

	// Event is the decoded event name (PageView, page_view, Purchase …);
	// empty for findings that are not events.
	Event string
	// Summary is one line for humans. It never contains a secret value;
	// values belong in Evidence, where output can redact them.
	Summary string
	// Evidence items say where and what, in a stable order.
	Evidence []Evidence
}

// Evidence is one observed item supporting a Finding.
type Evidence struct {
	// Where the item was seen: "query:dl", "header:Referer",
	// "cookie:c_user", "body:$.context.page.url", "form:ud[em]".
	Where string
	// Label names what the value is ("page URL", "email (sha256)",
	// "person", "browser", "event value").
	Label string
	// Value is the observed value.
	Value string
	// Secret marks values that reports redact unless asked to show
	// secrets: cookie values, tokens, ids, hashes.
	Secret bool
}
