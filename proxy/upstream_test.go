package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpstreamPool checks the keep-alive pool that decrypted GET and HEAD
// requests take: what each kind of server answer does to the client's
// response and to the connection (kept for the next request, or closed),
// and the retry when a server closed a connection while it was idle.
func TestUpstreamPool(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{} // client addresses of the origin's connections
	conns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	dropped := make(chan struct{}, 4) // the origin closed after a /drop answer
	o := newOrigins(t)
	o.serveTLS(t, "up.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.RemoteAddr] = true
		mu.Unlock()
		switch r.URL.Path {
		case "/len":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "/chunked":
			io.WriteString(w, "ab")
			w.(http.Flusher).Flush()
			io.WriteString(w, "cd")
		case "/hints": // an informational answer before the final one
			w.Header().Set("Link", "</s.js>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "final")
		case "/eof": // a body that ends with the connection
			c, rw, _ := w.(http.Hijacker).Hijack()
			rw.WriteString("HTTP/1.1 200 OK\r\n\r\nuntil close")
			rw.Flush()
			c.Close()
		case "/drop": // a keep-alive answer, then the server closes anyway
			w.Header().Set("Content-Length", "4")
			io.WriteString(w, "once")
			w.(http.Flusher).Flush()
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			dropped <- struct{}{}
		case "/big":
			io.WriteString(w, strings.Repeat("x", 1<<20))
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b)
		}
	}))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})

	tests := []struct {
		name, method, path string
		read               int    // bytes of the body the client reads; -1 for all
		body               string // what it reads
		idle               int    // pooled connections afterwards
		newConns           int    // connections the origin accepted for it
		sent               string // the request's body, for a POST
	}{
		{"length-framed, kept", "GET", "/len", -1, "hello", 1, 1, ""},
		{"reused", "GET", "/len", -1, "hello", 1, 0, ""},
		{"HEAD, reused", "HEAD", "/len", -1, "", 1, 0, ""},
		{"chunked, reused", "GET", "/chunked", -1, "abcd", 1, 0, ""},
		{"1xx skipped", "GET", "/hints", -1, "final", 1, 0, ""},
		{"ends with the connection: not kept", "GET", "/eof", -1, "until close", 0, 0, ""},
		{"server closes after answering", "GET", "/drop", -1, "once", 1, 1, ""},
		{"closed while idle: retried on a new connection", "GET", "/len", -1, "hello", 1, 1, ""},
		{"body left unread: closed", "GET", "/big", 10, strings.Repeat("x", 10), 0, 0, ""},
		{"POST on a new connection", "POST", "/echo", -1, "ev=PageView", 1, 1, "ev=PageView"},
		{"POST reuses a connection found open", "POST", "/echo", -1, "ev=Purchase", 1, 0, "ev=Purchase"},
		{"server closes after answering, again", "GET", "/drop", -1, "once", 1, 0, ""},
		{"POST sees the closed connection and takes a new one", "POST", "/echo", -1, "ev=Lead", 1, 1, "ev=Lead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := conns()
			tc, br := dialMITM(t, tp, "up.test")
			head := tt.method + " " + tt.path + " HTTP/1.1\r\nHost: up.test\r\n"
			if tt.sent != "" {
				head += "Content-Length: " + strconv.Itoa(len(tt.sent)) + "\r\n"
			}
			io.WriteString(tc, head+"\r\n"+tt.sent)
			resp, err := http.ReadResponse(br, &http.Request{Method: tt.method})
			if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = resp.Body
			if tt.read >= 0 {
				r = io.LimitReader(resp.Body, int64(tt.read))
			}
			b, _ := io.ReadAll(r)
			if string(b) != tt.body || resp.StatusCode != http.StatusOK {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, b, tt.body)
			}
			tc.Close()
			if tt.method == "HEAD" && resp.ContentLength != 5 {
				t.Errorf("HEAD Content-Length %d, want the server's 5", resp.ContentLength)
			}
			tp.next(t) // recorded, so the proxy is done with the body
			if tt.path == "/drop" {
				// The client has the answer before the origin closes:
				// wait for the close, which the next request must see.
				select {
				case <-dropped:
				case <-time.After(5 * time.Second):
					t.Fatal("the origin did not close after /drop")
				}
			}
			if idle := poolIdle(tp); idle != tt.idle {
				t.Errorf("%d idle upstream connections, want %d", idle, tt.idle)
			}
			if n := conns() - before; n != tt.newConns {
				t.Errorf("origin accepted %d connections, want %d", n, tt.newConns)
			}
		})
	}
}

func poolIdle(tp *testProxy) int {
	tp.up.mu.Lock()
	defer tp.up.mu.Unlock()
	return tp.up.nidle
}

// TestUpstreamPoolOnlyForSimpleRequests: only bodiless GET and HEAD and
// POSTs with a small body of known length take the pool; the rest keep
// net/http's Transport.
func TestUpstreamPoolOnlyForSimpleRequests(t *testing.T) {
	get := func(h string) *http.Request {
		r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /x HTTP/1.1\r\nHost: a.test\r\n" + h + "\r\n")))
		r.URL.Scheme, r.URL.Host = "https", "a.test"
		return r
	}
	post := func(h string, n int) *http.Request {
		r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader("POST /x HTTP/1.1\r\nHost: a.test\r\n" + h + "\r\n" + strings.Repeat("b", n))))
		r.URL.Scheme, r.URL.Host = "https", "a.test"
		return r
	}
	del, _ := http.NewRequest("DELETE", "https://a.test/x", nil)
	for _, tt := range []struct {
		name string
		req  *http.Request
		want bool
	}{
		{"GET", get(""), true},
		{"websocket upgrade", get("Upgrade: websocket\r\nConnection: Upgrade\r\n"), false},
		{"GET with a body", get("Content-Length: 3\r\n"), false},
		{"POST with a small body", post("Content-Length: 300\r\n", 300), true},
		{"POST at the body bound", post("Content-Length: 16384\r\n", 16384), true},
		{"POST over the body bound", post("Content-Length: 16385\r\n", 16385), false},
		{"POST with a chunked body", post("Transfer-Encoding: chunked\r\n", 0), false},
		{"POST expecting 100 Continue", post("Content-Length: 3\r\nExpect: 100-continue\r\n", 3), false},
		{"POST without a body", post("", 0), false},
		{"DELETE", del, false},
		{"cancellable context (plain proxy path)", get("").WithContext(t.Context()), false},
	} {
		if got := fastPath(tt.req); got != tt.want {
			t.Errorf("%s: fastPath = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestUpstreamPoolBounds: the pool keeps at most upstreamIdlePerHost
// connections per server, hands out the most recently used first, and
// closes those idle longer than upstreamIdleTimeout.
func TestUpstreamPoolBounds(t *testing.T) {
	u := &upstreamPool{}
	closed := func(pc *upstreamConn) bool {
		pc.SetWriteDeadline(time.Now().Add(time.Millisecond))
		_, err := pc.Write([]byte{0})
		return errors.Is(err, io.ErrClosedPipe)
	}
	var all []*upstreamConn
	for range upstreamIdlePerHost + 1 {
		c, _ := net.Pipe()
		pc := &upstreamConn{Conn: c, key: "https://a.test:443"}
		all = append(all, pc)
		u.put(pc)
	}
	if u.nidle != upstreamIdlePerHost || !closed(all[upstreamIdlePerHost]) || closed(all[0]) {
		t.Fatalf("%d idle, the one over the bound closed: %v, want %d and true", u.nidle, closed(all[upstreamIdlePerHost]), upstreamIdlePerHost)
	}
	for _, pc := range all[:10] {
		pc.idleSince = time.Now().Add(-upstreamIdleTimeout)
	}
	if pc := u.take("https://a.test:443", false); pc != all[upstreamIdlePerHost-1] || !pc.reused {
		t.Errorf("take gave connection %d, want the most recently idle", slices.Index(all, pc))
	}
	u.sweep()
	if u.nidle != upstreamIdlePerHost-11 || !closed(all[0]) || !closed(all[9]) || closed(all[10]) {
		t.Errorf("after the sweep %d idle, want %d, the 10 expired closed", u.nidle, upstreamIdlePerHost-11)
	}
	if u.take("https://b.test:443", false) != nil {
		t.Errorf("take for another server gave a connection")
	}
	u.CloseIdleConnections()
	if u.nidle != 0 || !closed(all[10]) {
		t.Errorf("CloseIdleConnections left %d", u.nidle)
	}
}

// TestUpstreamConnOpen: the look at an idle connection's socket tells an
// open, silent one from one the server closed or wrote to, and does not
// trust a connection it cannot look at.
func TestUpstreamConnOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (*upstreamConn, net.Conn) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
		return &upstreamConn{Conn: c, raw: c}, s
	}
	settle := func() { time.Sleep(20 * time.Millisecond) } // loopback delivers at once; be generous
	pc, _ := pair()
	if !pc.open() {
		t.Errorf("open, silent connection not open")
	}
	pc, srv := pair()
	srv.Close()
	settle()
	if pc.open() {
		t.Errorf("connection the server closed counted open")
	}
	pc, srv = pair()
	srv.Write([]byte{0x15}) // a TLS alert's first byte
	settle()
	if pc.open() {
		t.Errorf("connection with unread bytes counted open")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if (&upstreamConn{Conn: a, raw: a}).open() {
		t.Errorf("a connection without a socket counted open")
	}
}
