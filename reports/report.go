package reports

import "github.com/trackaudit/trackaudit/traffic"

// SchemaVersion names the JSON layout WriteJSON produces (see SCHEMA.md).
// It changes when a field is removed or changes meaning.
const SchemaVersion = "trackaudit.report/v1"

// Unattributed is the site of exchanges whose first-party page is unknown.
const Unattributed = "(unattributed)"

// OtherPages is the page of a site's requests beyond the pages it lists
// on their own (the first 100 of the site, 1000 of the whole report).
const OtherPages = "(other pages)"

// Report is the aggregated, sorted and (unless SecretsShown) redacted
// result of a Builder. Its field order is the JSON field order.
type Report struct {
	Schema string `json:"schema"`
	// SecretsShown is true when secret values are printed as captured
	// rather than as pseudonyms.
	SecretsShown bool `json:"secrets_shown"`
	// SiteFilter is the registrable domain the report was limited to; ""
	// when it covers every site.
	SiteFilter string  `json:"site_filter,omitempty"`
	Inputs     []Input `json:"inputs"`
	Totals     Totals  `json:"totals"`
	// Insecure is set when any exchange went to an upstream whose
	// certificate was not verified.
	Insecure bool   `json:"insecure"`
	Sites    []Site `json:"sites"`
}

// Input describes one capture that was read, for the report header.
type Input struct {
	Name   string `json:"name"`
	Format string `json:"format"`
	// Exchanges read and handed to the pipeline; Skipped records that
	// could not become exchanges.
	Exchanges int `json:"exchanges"`
	Skipped   int `json:"skipped"`
	// Decrypted counts the TLS connections of a packet capture that a
	// key log decrypted.
	Decrypted int      `json:"tls_decrypted,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Totals count over all sites of the report.
type Totals struct {
	Sites      int `json:"sites"`
	Exchanges  int `json:"exchanges"`
	ThirdParty int `json:"third_party_requests"`
	// Companies is the number of distinct tracker companies.
	Companies int `json:"tracker_companies"`
	// LeakRows is the number of leak-ledger rows, High of them high
	// severity.
	LeakRows int `json:"leak_rows"`
	High     int `json:"high"`
}

// Site is everything seen on one first-party site.
type Site struct {
	// Site is the page's registrable domain, or Unattributed.
	Site         string          `json:"site"`
	Requests     int             `json:"requests"`
	FirstParty   int             `json:"first_party_requests"`
	ThirdParty   int             `json:"third_party_requests"`
	Insecure     bool            `json:"insecure"`
	Pages        []Page          `json:"pages"`
	ThirdParties []ThirdParty    `json:"third_parties"`
	Trackers     []Company       `json:"trackers"`
	Contacts     []Contact       `json:"contacts"`
	Cloaked      []Cloaked       `json:"cloaked"`
	Leaks        []Leak          `json:"leaks"`
	Events       []Event         `json:"events"`
	PersonalData []PersonalData  `json:"personal_data"`
	ClickIDs     []ClickID       `json:"click_ids"`
	Replays      []SessionReplay `json:"session_replay"`
	Errors       []UpstreamError `json:"upstream_errors"`
}

// Page is one first-party page seen.
type Page struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	// Requests counts exchanges attributed to the page (itself included).
	Requests int `json:"requests"`
}

// ThirdParty is one other site contacted from the site's pages.
type ThirdParty struct {
	Site     string `json:"site"`
	Requests int    `json:"requests"`
	// Tracker is set when any of those requests matched a tracker rule.
	Tracker bool `json:"tracker"`
}

// Company groups a tracker company's products.
type Company struct {
	Company  string    `json:"company"`
	Requests int       `json:"requests"`
	Products []Product `json:"products"`
}

// Product is one tracker product and how often it was requested.
type Product struct {
	Product  string   `json:"product"`
	Category string   `json:"category"`
	Requests int      `json:"requests"`
	RuleIDs  []string `json:"rule_ids"`
}

// Contact is a host seen only by name (TLS SNI or DNS): contents not
// visible.
type Contact struct {
	Host    string `json:"host"`
	Via     string `json:"via"`
	Company string `json:"company,omitempty"`
	Product string `json:"product,omitempty"`
	Count   int    `json:"count"`
}

// Cloaked is a host of the site's own (or any host) that is a DNS alias
// (CNAME) of a tracker's: the tracker behind it gets what the browser
// sends the site, cookies included.
type Cloaked struct {
	Host string `json:"host"`
	// CNAME is the name Host is an alias of.
	CNAME   string `json:"cname"`
	Company string `json:"company"`
	Product string `json:"product,omitempty"`
	// Count is the number of requests and contacts to Host.
	Count int `json:"count"`
}

// Leak is one row of the leak ledger: one thing that left the browser
// from one page to one tracker, with how many requests carried it.
type Leak struct {
	Page     string           `json:"page"`
	Company  string           `json:"company"`
	Product  string           `json:"product,omitempty"`
	Kind     traffic.Kind     `json:"kind"`
	Severity traffic.Severity `json:"severity"`
	// What says what left and how, e.g. "cookie c_user (person)".
	What  string `json:"what"`
	Where string `json:"where,omitempty"`
	// Value is the observed value, a pseudonym when redacted.
	Value string `json:"value,omitempty"`
	Count int    `json:"count"`
	// secret is the evidence's Secret flag; redaction reads it.
	secret bool
}

// Event is a decoded tracking event.
type Event struct {
	Company string `json:"company"`
	Product string `json:"product,omitempty"`
	// Account is the pixel or measurement id the event was sent to.
	Account string `json:"account,omitempty"`
	Event   string `json:"event"`
	// Details lists the key properties: value and currency, content ids,
	// search terms.
	Details string `json:"details,omitempty"`
	Summary string `json:"summary,omitempty"`
	Page    string `json:"page"`
	Count   int    `json:"count"`
}

// PersonalData is personal data sent to a tracker, plain or hashed.
type PersonalData struct {
	// What is the kind of data ("email"), Encoding how it was sent
	// ("sha256", "plain", "base64").
	What     string `json:"what"`
	Encoding string `json:"encoding"`
	Company  string `json:"company"`
	Product  string `json:"product,omitempty"`
	Page     string `json:"page"`
	Where    string `json:"where"`
	Value    string `json:"value"`
	Count    int    `json:"count"`
}

// ClickID is an ad click id or match key sent to a tracker.
type ClickID struct {
	Company string `json:"company"`
	Label   string `json:"label"`
	Where   string `json:"where"`
	Value   string `json:"value"`
	Page    string `json:"page"`
	Count   int    `json:"count"`
}

// SessionReplay is a session-recording upload.
type SessionReplay struct {
	Company string `json:"company"`
	Product string `json:"product,omitempty"`
	Summary string `json:"summary"`
	Page    string `json:"page"`
	Count   int    `json:"count"`
}

// UpstreamError is a failure reaching or verifying a server.
type UpstreamError struct {
	Host  string `json:"host"`
	Error string `json:"error"`
	Count int    `json:"count"`
}
