package proxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// TestRequestHeadersRecordedAsSent checks both sides of request header
// fidelity (reliability-security.md T8): the record holds the header the
// browser sent, hop-by-hop headers included, and the server gets it
// without those (Proxy-Connection, and what Connection names), with
// Accept-Encoding as sent.
func TestRequestHeadersRecordedAsSent(t *testing.T) {
	got := make(chan http.Header, 1)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer plain.Close()
	tp := startProxy(t, Config{Map: map[string]string{"px.test": plain.Listener.Addr().String()}})
	req, _ := http.NewRequest("GET", "http://px.test/p.gif", nil)
	req.Header.Set("Proxy-Connection", "keep-alive")
	req.Header.Set("Connection", "X-Hop, keep-alive")
	req.Header.Set("X-Hop", "for the proxy only")
	req.Header.Set("Accept-Encoding", "br, zstd")
	req.Header.Set("Cookie", "fr=abc")
	resp, err := tp.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ex := tp.next(t)
	sent := <-got
	for k, want := range map[string]string{"Proxy-Connection": "keep-alive", "X-Hop": "for the proxy only", "Accept-Encoding": "br, zstd", "Cookie": "fr=abc"} {
		if v := ex.Request.Header.Get(k); v != want {
			t.Errorf("recorded %s = %q, want %q as the browser sent it", k, v, want)
		}
	}
	for _, k := range []string{"Proxy-Connection", "X-Hop"} {
		if v, ok := sent[k]; ok {
			t.Errorf("server received %s %q, a hop-by-hop header", k, v)
		}
	}
	if v := sent.Get("Accept-Encoding"); v != "br, zstd" {
		t.Errorf("server received Accept-Encoding %q, want it as sent", v)
	}

	// A request without User-Agent reaches the server without one (Go's
	// transport would add its own) and is recorded without one.
	req, _ = http.NewRequest("GET", "http://px.test/no-ua", nil)
	req.Header.Set("User-Agent", "") // Go's client then sends none
	if resp, err = tp.client().Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ex, sent = tp.next(t), <-got
	if v, ok := sent["User-Agent"]; ok {
		t.Errorf("server received User-Agent %q, but the browser sent none", v)
	}
	if v, ok := ex.Request.Header["User-Agent"]; ok {
		t.Errorf("recorded User-Agent %q, but the browser sent none", v)
	}
}

// TestStalledUpstream504 checks that a server that never starts its
// response gets the client a 504 once ResponseHeaderTimeout passes, and
// the exchange is recorded with the failure.
func TestStalledUpstream504(t *testing.T) {
	release := make(chan struct{})
	o := newOrigins(t)
	o.serveTLS(t, "stall.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer close(release) // before the origin's Close waits for its handler
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots, ResponseHeaderTimeout: 200 * time.Millisecond})
	start := time.Now()
	resp, err := tp.client().Get("https://stall.test/slow")
	if err != nil {
		t.Fatalf("GET: %v (want a 504, not a broken connection)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("504 after %v, want about the 200 ms timeout", d)
	}
	ex := tp.next(t)
	if !strings.Contains(ex.Error, "stall.test") || !strings.Contains(ex.Error, "timeout") {
		t.Errorf("Error = %q, want the host and the timeout", ex.Error)
	}
}

// readFromWriter is a ResponseWriter with its own copy loop, as
// net/http's is.
type readFromWriter struct {
	http.ResponseWriter
	copied int64
}

func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	w.copied += n
	return n, err
}

// TestExactWriterKeepsReadFrom checks that io.Copy into the wrapped
// writer, as goproxy copies every body, still uses the server's own copy
// loop: without it io.Copy allocated 32 KiB per response, which cost the
// proxy benchmark about a sixth of its throughput.
func TestExactWriterKeepsReadFrom(t *testing.T) {
	inner := &readFromWriter{ResponseWriter: httptest.NewRecorder()}
	w := &exactWriter{ResponseWriter: inner}
	if _, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("body bytes")}); err != nil { // no WriteTo, like the recorded body
		t.Fatal(err)
	}
	if inner.copied != int64(len("body bytes")) {
		t.Errorf("the server's ReadFrom copied %d bytes, want all %d", inner.copied, len("body bytes"))
	}
	if _, ok := inner.Header()["Content-Type"]; !ok {
		t.Errorf("ReadFrom wrote the header without marking Content-Type absent")
	}
}
