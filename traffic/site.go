package traffic

import (
	"net"
	"strings"
	"sync"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// NormalizeHost lower-cases a host name, strips a trailing dot, IPv6
// brackets and a port, and converts IDNs to punycode.
func NormalizeHost(host string) string {
	if normalHost(host) {
		// Nothing below would change it; SplitHostPort's error for a
		// host without a port allocates, and this is called several
		// times per exchange.
		return host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	host = strings.ToLower(host)
	if plainASCIIHost(host) {
		// ToASCII would return it unchanged or fail (and a failure keeps
		// the host as is): skip it, it showed in the proxy's CPU profile.
		return host
	}
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	return host
}

// normalHost reports whether NormalizeHost would return host unchanged
// without looking closer: plain lower-case ASCII without a port, brackets
// or a trailing dot.
func normalHost(host string) bool {
	return !strings.HasSuffix(host, ".") && !strings.ContainsAny(host, ":[]") && plainASCIIHost(host)
}

// plainASCIIHost reports whether host is ASCII without upper-case letters
// and without an "xn--" label, which idna.Lookup.ToASCII leaves unchanged
// when it succeeds.
func plainASCIIHost(host string) bool {
	for i := 0; i < len(host); i++ {
		if c := host[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return !strings.Contains(host, "xn--")
}

// Site returns the registrable domain (eTLD+1, public suffix list including
// private domains) of host. IP addresses, localhost and hosts that are
// themselves public suffixes are their own site.
//
// Results are memoised in a small bounded cache: the same few hosts recur
// in every capture and the public-suffix lookup dominates otherwise.
func Site(host string) string {
	if s, ok := siteCache.get(host); ok {
		return s
	}
	// The memo outlives the exchange: it keeps a copy of host (the site
	// is a part of it or a new string), so it does not keep a whole
	// request head (a substring's backing) alive.
	host = strings.Clone(host)
	s := site(host)
	siteCache.put(host, s)
	return s
}

func site(host string) string {
	host = NormalizeHost(host)
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return host
	}
	s, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return s
}

// siteCacheMax bounds the memo; when full it starts over.
const siteCacheMax = 4096

var siteCache = &memo{m: map[string]string{}}

// memo is a concurrency-safe string map that is emptied when it reaches
// siteCacheMax entries, so memory stays bounded on captures with
// millions of distinct hosts.
type memo struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *memo) get(k string) (string, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *memo) put(k, v string) {
	c.mu.Lock()
	if len(c.m) >= siteCacheMax {
		c.m = make(map[string]string, siteCacheMax)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// SameSite reports whether two hosts belong to the same registrable domain.
func SameSite(a, b string) bool { return Site(a) == Site(b) }
