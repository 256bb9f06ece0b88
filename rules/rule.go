// Package rules holds trackaudit's tracker knowledge: the curated rule set
// (an embedded data file the project writes from vendor documentation) and
// Match, which says which rule a request URL matches and why.
//
// It imports nothing else from the project.
package rules

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

// Categories lists the valid categories in a stable order.
var Categories = []string{
	CategorySocialPlugin, CategoryPixel, CategoryAnalytics, CategoryAdvertising,
	CategorySessionReplay, CategoryTagManager, CategoryEmbed,
}

// ValidCategory reports whether c is one of Categories.
func ValidCategory(c string) bool {
	for _, v := range Categories {
		if c == v {
			return true
		}
	}
	return false
}

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
	// Query names parameters that must all be present in the query string
	// for the rule to match; empty means no requirement. It keeps host "*"
	// rules from matching unrelated sites' paths.
	Query []string
	// Source cites where the facts behind the rule come from.
	Source string
	// Line is the data-file line where the rule starts, for messages.
	Line int
}

// Match is the result of matching a URL.
type Match struct {
	Rule *Rule
	// Why names the host and path patterns that matched, for evidence,
	// e.g. "host facebook.com, path /tr/*".
	Why string
	// Host is the host pattern that matched ("*" for any host).
	Host string
	// Path is the path pattern that matched; empty for a host-only rule.
	Path string
}
