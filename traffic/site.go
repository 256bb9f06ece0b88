package traffic

import (
	"net"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// NormalizeHost lower-cases a host name, strips a trailing dot, IPv6
// brackets and a port, and converts IDNs to punycode.
func NormalizeHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	host = strings.ToLower(host)
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	return host
}

// Site returns the registrable domain (eTLD+1, public suffix list including
// private domains) of host. IP addresses, localhost and hosts that are
// themselves public suffixes are their own site.
func Site(host string) string {
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

// SameSite reports whether two hosts belong to the same registrable domain.
func SameSite(a, b string) bool { return Site(a) == Site(b) }
