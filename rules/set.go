package rules

import (
	"net/url"
	"sort"
	"strings"
)

// entry is one (rule, host pattern) pair, precompiled.
type entry struct {
	rule  *Rule
	host  string
	paths []*pathPattern // empty: any path
	whys  []string       // Why for each path; whys[0] alone when paths is empty
	query []string
	order int // rule index in file order
}

// Set is a compiled, read-only rule set, safe for concurrent use.
type Set struct {
	rules []*Rule
	// byHost holds the entries of each host pattern other than "*",
	// path rules first, then host-only rules, each group in file order.
	byHost map[string][]*entry
	// anyHost holds the entries whose host pattern is "*" (all path rules),
	// in file order.
	anyHost []*entry
}

// Rules returns the rules in data-file order. The caller must not modify
// them. A nil Set has none.
func (s *Set) Rules() []*Rule {
	if s == nil {
		return nil
	}
	return s.rules
}

// newSet compiles rules that Parse has already validated.
func newSet(rules []*Rule) (*Set, error) {
	s := &Set{rules: rules, byHost: map[string][]*entry{}}
	for i, r := range rules {
		var paths []*pathPattern
		for _, p := range r.Paths {
			pp, err := compilePath(p)
			if err != nil {
				return nil, err
			}
			paths = append(paths, pp)
		}
		for _, h := range r.Hosts {
			e := &entry{rule: r, host: h, paths: paths, query: r.Query, order: i}
			q := ""
			if len(r.Query) > 0 {
				q = ", query " + strings.Join(r.Query, "&")
			}
			if len(paths) == 0 {
				e.whys = []string{"host " + h + q}
			}
			for _, p := range paths {
				e.whys = append(e.whys, "host "+h+", path "+p.src+q)
			}
			if h == "*" {
				s.anyHost = append(s.anyHost, e)
			} else {
				s.byHost[h] = append(s.byHost[h], e)
			}
		}
	}
	for _, list := range s.byHost {
		sort.SliceStable(list, func(i, j int) bool {
			pi, pj := len(list[i].paths) > 0, len(list[j].paths) > 0
			if pi != pj {
				return pi
			}
			return list[i].order < list[j].order
		})
	}
	return s, nil
}

// Match returns the most specific rule matching u, and false when none
// does (or s or u is nil, or u has no host).
//
// Specificity: a rule with a path pattern beats a host-only rule; among
// those, the longer matching host pattern wins ("*" is the shortest); ties
// go to the rule that comes first in the data file. The host is compared
// case-insensitively and matches a pattern equal to it or any parent
// domain of it; the path (decoded, "/" when empty) is compared
// case-sensitively. Match does not allocate for lower-case hosts.
func (s *Set) Match(u *url.URL) (Match, bool) {
	if s == nil || u == nil {
		return Match{}, false
	}
	host := lowerHost(u.Hostname())
	if host == "" {
		return Match{}, false
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	var hostOnly *entry
	// Walk the host's suffixes from the longest: a.b.example.com,
	// b.example.com, example.com, com.
	for h := host; h != ""; {
		for _, e := range s.byHost[h] {
			if len(e.paths) == 0 {
				// Path entries come first in each list, so once a host-only
				// entry is reached no path entry of this host can match.
				if hostOnly == nil && hasParams(u.RawQuery, e.query) {
					hostOnly = e
				}
				break
			}
			if i := e.matchPath(path); i >= 0 && hasParams(u.RawQuery, e.query) {
				return e.result(i), true
			}
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	for _, e := range s.anyHost {
		if i := e.matchPath(path); i >= 0 && hasParams(u.RawQuery, e.query) {
			return e.result(i), true
		}
	}
	if hostOnly != nil {
		return hostOnly.result(-1), true
	}
	return Match{}, false
}

// matchPath returns the index of the first path pattern matching path, or
// -1.
func (e *entry) matchPath(path string) int {
	for i, p := range e.paths {
		if p.match(path) {
			return i
		}
	}
	return -1
}

// result builds the Match for path pattern i (-1: host-only).
func (e *entry) result(i int) Match {
	if i < 0 {
		return Match{Rule: e.rule, Why: e.whys[0], Host: e.host}
	}
	return Match{Rule: e.rule, Why: e.whys[i], Host: e.host, Path: e.paths[i].src}
}

// lowerHost lower-cases host and drops a trailing dot, allocating only
// when it has to.
func lowerHost(h string) string {
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if 'A' <= h[i] && h[i] <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

// hasParams reports whether the raw query string has every parameter
// named in names (compared before unescaping; names are plain ASCII).
func hasParams(raw string, names []string) bool {
	for _, n := range names {
		if !hasParam(raw, n) {
			return false
		}
	}
	return true
}

func hasParam(raw, name string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(kv, "=")
		if k == name {
			return true
		}
	}
	return false
}
