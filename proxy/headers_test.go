package proxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestResponseHeadersAsServerSent checks that the browser gets the
// response header the server sent, no more, over HTTPS and plain HTTP:
// net/http's server would add a sniffed Content-Type and a Date to a
// response without them, and a sniffed "text/plain" beside
// "X-Content-Type-Options: nosniff" makes a browser refuse a script it
// would otherwise run. The proxy's own 502 page keeps its Content-Type.
func TestResponseHeadersAsServerSent(t *testing.T) {
	script := []byte("window.tracked = true;")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = nil // keep net/http from adding them at the origin
		h["Date"] = nil
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(script)
	})
	o := newOrigins(t)
	o.serveTLS(t, "cdn.test", o.ca, bare)
	plain := httptest.NewServer(bare)
	defer plain.Close()
	o.hosts["plain-cdn.test"] = plain.Listener.Addr().String()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	o.hosts["down.test"] = ln.Addr().String()
	ln.Close()
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})

	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := tp.client().Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		tp.next(t)
		return resp, b
	}
	for _, u := range []string{"https://cdn.test/tag.js", "http://plain-cdn.test/tag.js"} {
		resp, b := get(u)
		if string(b) != string(script) {
			t.Errorf("%s: body %q, want %q", u, b, script)
		}
		for _, k := range []string{"Content-Type", "Date"} {
			if v, ok := resp.Header[k]; ok {
				t.Errorf("%s: the proxy added %s %q; the server sent none", u, k, v)
			}
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", u, got)
		}
	}
	resp, _ := get("https://down.test/")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("unreachable upstream: status %d Content-Type %q, want 502 text/plain", resp.StatusCode, ct)
	}
}
