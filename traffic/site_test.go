package traffic

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"golang.org/x/net/idna"
)

// normalizeHostSlow is NormalizeHost without the ASCII fast path.
func normalizeHostSlow(host string) string {
	h := strings.ToLower(host)
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		return a
	}
	return h
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"WWW.Facebook.COM", "www.facebook.com"},
		{"www.facebook.com:443", "www.facebook.com"},
		{"[::1]:8080", "::1"},
		{"news.example.", "news.example"},
		{"Bücher.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"_dmarc.example", "_dmarc.example"},
		{"127.0.0.1", "127.0.0.1"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeHost(tc.in); got != tc.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzNormalizeHostFastPath checks that skipping idna for plain ASCII
// hosts never changes NormalizeHost's answer.
func FuzzNormalizeHostFastPath(f *testing.F) {
	for _, s := range []string{"a.example", "a..b", "-a.example", "a_b.example", "xn--a.example", "a.example.", "1.2.3.4", "a*b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		h := strings.ToLower(host)
		if !plainASCIIHost(h) {
			return
		}
		if slow := normalizeHostSlow(h); slow != h {
			t.Errorf("idna changes plain ASCII host %q to %q; the fast path would not", h, slow)
		}
	})
}

// FuzzNormalizeHostUnchanged checks that the early return for hosts
// normalHost accepts gives what the full normalisation would.
func FuzzNormalizeHostUnchanged(f *testing.F) {
	for _, s := range []string{"a.example", "a.example:80", "[::1]", "a.example.", "A.example", "xn--a.example", "", ":", "a]", "ü.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !normalHost(host) {
			return
		}
		full := host
		if h, _, err := net.SplitHostPort(full); err == nil {
			full = h
		}
		full = strings.ToLower(strings.TrimSuffix(strings.Trim(full, "[]"), "."))
		if !plainASCIIHost(full) {
			full = normalizeHostSlow(full)
		}
		if full != host {
			t.Errorf("NormalizeHost(%q) returns it unchanged, full normalisation gives %q", host, full)
		}
	})
}

func BenchmarkSite(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Site("www.facebook.com")
		NormalizeHost("www.facebook.com")
	}
}

// TestSiteMemoKeepsCopies checks that Site's memo, which outlives every
// exchange, does not keep the request head a host was cut from alive.
func TestSiteMemoKeepsCopies(t *testing.T) {
	for _, host := range []string{"www.memo-test.example", "memo-test-2.example", "192.0.2.77"} {
		head := strings.Repeat("x", 1<<16) + host
		w := weak.Make(unsafe.StringData(head))
		if got := Site(head[1<<16:]); got != site(host) {
			t.Errorf("Site(%q) = %q, want %q", host, got, site(host))
		}
		head = ""
		runtime.GC()
		runtime.GC()
		if w.Value() != nil {
			t.Errorf("Site(%q): the memo keeps the head it was cut from alive", host)
		}
	}
}
