// Package rules holds trackaudit's tracker knowledge: the curated rule set
// (an embedded data file the project writes from vendor documentation) and
// Match, which says which rule a request URL matches and why.
//
// It imports nothing else from the project.
package rules

import "net/url"

// Categories of trackers. Keep the strings stable: they are in reports.
const (
	CategorySocialPlugin  = "social-plugin"
	CategoryPixel         = "pixel"
	CategoryAnalytics     = "analytics"
	CategoryAdvertising   = "advertising"
	CategorySessionReplay = "session-replay"
	CategoryTagManager    = "tag-manager"
	CategoryEmbed         = "embed"
)

// Rule describes one tracker product endpoint.
type Rule struct {
	// ID is stable and unique, e.g. "meta-pixel-event".
	ID       string
	Company  string
	Product  string
	Category string
	// Hosts are host patterns: "facebook.com" matches the host and its
	// subdomains; "*" matches any host (path-only rules such as GA4's
	// /g/collect or Adobe's /b/ss/ on a first-party CNAME).
	Hosts []string
	// Paths are path patterns; empty means any path. See the data file's
	// header for the syntax.
	Paths []string
}

// Match is the result of matching a URL.
type Match struct {
	Rule *Rule
	// Why names the host and path patterns that matched, for evidence.
	Why string
}

// Set is a compiled, read-only rule set, safe for concurrent use.
type Set struct {
	rules []*Rule
}

// Rules returns the rules in data-file order.
func (s *Set) Rules() []*Rule { return s.rules }

// Match returns the most specific rule matching u, and false when none
// does.
func (s *Set) Match(u *url.URL) (Match, bool) {
	return Match{}, false // TODO(rules): implemented with the data file
}
