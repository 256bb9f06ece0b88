package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// siteHandler is the origin of the serving-loop tests: one path per kind
// of response framing.
func siteHandler(w http.ResponseWriter, r *http.Request) {
	// net/http would add these; the proxy must not.
	w.Header()["Date"] = nil
	w.Header()["Content-Type"] = nil
	switch r.URL.Path {
	case "/len":
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	case "/stream": // no length known: chunked
		io.WriteString(w, "ab")
		w.(http.Flusher).Flush()
		io.WriteString(w, "cd")
	case "/trailer":
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "data")
		w.(http.Flusher).Flush()
		w.Header().Set("X-Sum", "42")
	case "/204":
		w.WriteHeader(http.StatusNoContent)
	case "/304":
		w.WriteHeader(http.StatusNotModified)
	case "/echo":
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	case "/deny": // answers without reading the body
		w.WriteHeader(http.StatusUnauthorized)
	case "/close":
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	case "/big": // more than socket buffers hold
		big := bytes.Repeat([]byte("x"), 1<<20)
		for range 64 {
			if _, err := w.Write(big); err != nil {
				return
			}
		}
	case "/slow":
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "slow")
	}
}

// siteProxy starts a proxy for which site.test is siteHandler over TLS.
func siteProxy(t *testing.T, cfg Config) *testProxy {
	o := newOrigins(t)
	o.serveTLS(t, "site.test", o.ca, http.HandlerFunc(siteHandler))
	cfg.Map, cfg.UpstreamRoots = o.hosts, o.roots
	return startProxy(t, cfg)
}

// dialMITM opens a TLS connection to host through the proxy's CONNECT.
func dialMITM(t *testing.T, tp *testProxy, host string) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", tp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, "CONNECT "+host+":443 HTTP/1.1\r\nHost: "+host+":443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(tp.ca.Cert)
	tc := tls.Client(c, &tls.Config{ServerName: host, RootCAs: roots})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	return tc, bufio.NewReader(tc)
}

// TestDecryptedServing sends raw HTTP/1.x over intercepted TLS and checks
// what the serving loop writes back: framing, keep-alive, pipelining,
// trailers, 100 Continue and errors.
func TestDecryptedServing(t *testing.T) {
	tp := siteProxy(t, Config{})

	type reply struct {
		method  string // of the request, so HEAD is read without a body
		status  int
		body    string
		framing string // "length", "chunked" or "close"
		close   bool   // the reply says "Connection: close"
		header  map[string]string
	}
	tests := []struct {
		name    string
		send    string
		replies []reply
		closed  bool // the proxy closes the connection after the replies
	}{
		{
			name: "pipelined, each framed as the server's answer allows",
			send: "GET /len HTTP/1.1\r\nHost: site.test\r\n\r\n" +
				"GET /stream HTTP/1.1\r\nHost: site.test\r\n\r\n" +
				"HEAD /len HTTP/1.1\r\nHost: site.test\r\n\r\n" +
				"GET /204 HTTP/1.1\r\nHost: site.test\r\n\r\n" +
				"GET /304 HTTP/1.1\r\nHost: site.test\r\n\r\n" +
				"POST /echo HTTP/1.1\r\nHost: site.test\r\nContent-Length: 3\r\n\r\nabc",
			replies: []reply{
				{status: 200, body: "hello", framing: "length"},
				{status: 200, body: "abcd", framing: "chunked"},
				{method: "HEAD", status: 200, framing: "length", header: map[string]string{"Content-Length": "5"}},
				{status: 204, framing: "length"},
				{status: 304, framing: "length"},
				{status: 200, body: "abc", framing: "length"},
			},
		},
		{
			name:    "trailers",
			send:    "GET /trailer HTTP/1.1\r\nHost: site.test\r\n\r\n",
			replies: []reply{{status: 200, body: "data", framing: "chunked", header: map[string]string{"X-Sum": "42"}}},
		},
		{
			name:    "client asks to close",
			send:    "GET /len HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
			replies: []reply{{status: 200, body: "hello", framing: "length", close: true}},
			closed:  true,
		},
		{
			// The server's Connection header is about its own connection.
			name:    "server closes its connection, the client's stays",
			send:    "GET /close HTTP/1.1\r\nHost: site.test\r\n\r\nGET /len HTTP/1.1\r\nHost: site.test\r\n\r\n",
			replies: []reply{{status: 200, body: "bye", framing: "length"}, {status: 200, body: "hello", framing: "length"}},
		},
		{
			name:    "HTTP/1.0 body ends with the connection",
			send:    "GET /stream HTTP/1.0\r\nHost: site.test\r\n\r\n",
			replies: []reply{{status: 200, body: "abcd", framing: "close"}},
			closed:  true,
		},
		{
			name:    "bad request line",
			send:    "GET\r\n\r\n",
			replies: []reply{{status: 400, body: "400 Bad Request", framing: "close"}},
			closed:  true,
		},
		{
			name:    "HTTP/2 over HTTP/1 framing",
			send:    "GET /len HTTP/2.0\r\nHost: site.test\r\n\r\n",
			replies: []reply{{status: 505, body: "505 HTTP Version Not Supported", framing: "close"}},
			closed:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, br := dialMITM(t, tp, "site.test")
			if _, err := io.WriteString(tc, tt.send); err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.replies {
				resp, err := http.ReadResponse(br, &http.Request{Method: cmpOr(want.method, "GET")})
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("reply %d body: %v", i, err)
				}
				framing := "length"
				switch {
				case len(resp.TransferEncoding) > 0:
					framing = "chunked"
				case resp.ContentLength < 0:
					framing = "close"
				}
				if resp.StatusCode != want.status || string(b) != want.body || framing != want.framing || resp.Close != (want.close || want.framing == "close") {
					t.Errorf("reply %d: %d %q framed by %s, close %v; want %d %q framed by %s, close %v", i, resp.StatusCode, b, framing, resp.Close, want.status, want.body, want.framing, want.close)
				}
				for k, v := range want.header {
					if got := resp.Header.Get(k) + resp.Trailer.Get(k); got != v {
						t.Errorf("reply %d: %s = %q, want %q", i, k, got, v)
					}
				}
				for _, k := range []string{"Date", "Content-Type"} {
					if _, ok := resp.Header[k]; ok && want.status < 400 {
						t.Errorf("reply %d: proxy added %s, which the server did not send", i, k)
					}
				}
			}
			tc.SetReadDeadline(time.Now().Add(time.Second))
			rest, err := io.ReadAll(br)
			timedOut := err != nil && strings.Contains(err.Error(), "timeout")
			if tt.closed == timedOut || len(rest) > 0 {
				t.Errorf("after the replies: read %q, %v; want the connection closed: %v", rest, err, tt.closed)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestDecryptedExpectContinue: a client that asks for 100 Continue gets it
// before it sends its body, and then the server's answer.
func TestDecryptedExpectContinue(t *testing.T) {
	tp := siteProxy(t, Config{})
	tc, br := dialMITM(t, tp, "site.test")
	io.WriteString(tc, "POST /echo HTTP/1.1\r\nHost: site.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v; want 100 Continue before the body", line, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("100 Continue not followed by a blank line: %q", blank)
	}
	io.WriteString(tc, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "hello" {
		t.Errorf("got %d %q, want the body echoed", resp.StatusCode, b)
	}
	if ex := tp.next(t); string(ex.Request.Body) != "hello" {
		t.Errorf("recorded request body %q", ex.Request.Body)
	}

	// A server that answers at once gets no body: no 100 Continue is
	// sent, and as the client may or may not send its body now, the
	// connection closes after the answer.
	io.WriteString(tc, "POST /deny HTTP/1.1\r\nHost: site.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("denied upload: %v %v, want 401 without a 100 Continue first", resp, err)
	}
	io.ReadAll(resp.Body)
	tc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := br.Read(make([]byte, 1)); n > 0 || err != io.EOF {
		t.Errorf("connection not closed after an unsent body: %d %v", n, err)
	}
}

// TestDecryptedShutdown: stopping the proxy lets a request in flight
// finish (and be recorded) and closes idle connections.
func TestDecryptedShutdown(t *testing.T) {
	tp := siteProxy(t, Config{})

	idle, idleR := dialMITM(t, tp, "site.test")
	io.WriteString(idle, "GET /len HTTP/1.1\r\nHost: site.test\r\n\r\n")
	if resp, err := http.ReadResponse(idleR, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("idle connection's request: %v %v", resp, err)
	}
	io.Copy(io.Discard, io.LimitReader(idleR, 5))
	tp.next(t)

	busy, busyR := dialMITM(t, tp, "site.test")
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: site.test\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // the request is at the origin
	done := make(chan error, 1)
	go func() { done <- tp.stop() }()
	resp, err := http.ReadResponse(busyR, nil)
	if err != nil {
		t.Fatalf("request in flight during shutdown: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "slow" || !resp.Close {
		t.Errorf("in-flight answer %q (Connection: close %v), want \"slow\" and close", b, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if ex := tp.next(t); ex.Request.URL.Path != "/slow" {
		t.Errorf("recorded %s, want the in-flight /slow", ex.Request.URL)
	}
	idle.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := idleR.Read(make([]byte, 1)); n > 0 || err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("idle connection still open after shutdown: %d, %v", n, err)
	}
}

// FuzzDecryptedConn feeds arbitrary client bytes to the serving loop of an
// intercepted connection (plain HTTP after CONNECT, so no TLS in the way)
// whose requests, whatever their host, reach a local origin. The loop must
// end once the client stops sending, answer only with HTTP/1.1 status
// lines, and never panic, in the loop or in the handler it runs.
func FuzzDecryptedConn(f *testing.F) {
	for _, seed := range []string{
		"GET /len HTTP/1.1\r\nHost: site.test\r\n\r\nHEAD /len HTTP/1.1\r\nHost: site.test\r\n\r\nGET /stream HTTP/1.1\r\nHost: site.test\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: site.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"POST /echo HTTP/1.1\r\nHost: site.test\r\nContent-Length: 30\r\n\r\nshort",
		"GET /trailer HTTP/1.1\r\nHost: site.test\r\n\r\nGET /204 HTTP/1.0\r\n\r\n",
		"GET /len HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\nGET /len HTTP/1.1\r\n\r\n",
		"GET\r\n\r\n",
		"CONNECT site.test:443 HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	origin := httptest.NewServer(http.HandlerFunc(siteHandler))
	f.Cleanup(origin.Close)
	tp := startProxy(f, Config{Map: map[string]string{"*": origin.Listener.Addr().String()},
		OnExchange: func(*traffic.Exchange) {}, clientTimeouts: clientTimeouts{head: 2 * time.Second}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })

	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			tp.serveDecrypted(&mitmConn{Conn: sc, target: "site.test:80", scheme: "http"})
			close(done)
		}()
		go func() {
			c.Write(in)
			c.(*net.TCPConn).CloseWrite()
		}()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		out, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading the answers: %v (the loop did not end)", err)
		}
		<-done
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Errorf("answer does not begin with a status line: %q", out[:min(len(out), 80)])
		}
		if logs := tp.logs.String(); strings.Contains(logs, "panic") {
			t.Fatalf("panic while serving %q:\n%s", in, logs)
		}
	})
}

// TestDecryptedPanicIsolated: a panic while serving one request answers it
// with 502 and closes its connection; the proxy keeps serving others.
func TestDecryptedPanicIsolated(t *testing.T) {
	tp := siteProxy(t, Config{beforeRequest: func(r *http.Request) {
		if r.URL.Query().Has("panic") {
			panic("test panic")
		}
	}})
	tc, br := dialMITM(t, tp, "site.test")
	io.WriteString(tc, "GET /len?panic HTTP/1.1\r\nHost: site.test\r\n\r\nGET /len HTTP/1.1\r\nHost: site.test\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusBadGateway || !resp.Close {
		t.Fatalf("panicking request: %v %v, want 502 and close", resp, err)
	}
	io.ReadAll(resp.Body)
	tc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := br.Read(make([]byte, 1)); n > 0 || err != io.EOF {
		t.Errorf("connection not closed after the panic: %d %v", n, err)
	}
	if !strings.Contains(tp.logs.String(), "proxy: panic serving GET https://site.test/len: test panic") {
		t.Errorf("panic not logged; log:\n%s", tp.logs)
	}
	c := tp.client()
	for range 3 {
		resp, err := c.Get("https://site.test/len")
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
			t.Errorf("after the panic: %q", b)
		}
		resp.Body.Close()
	}
}

// TestDecryptedStalledReader: a client that stops reading its response is
// disconnected once writes make no progress for the stall timeout, and the
// exchange is still recorded, its body cut.
func TestDecryptedStalledReader(t *testing.T) {
	tp := siteProxy(t, Config{clientTimeouts: clientTimeouts{stall: 300 * time.Millisecond}})
	tc, _ := dialMITM(t, tp, "site.test")
	io.WriteString(tc, "GET /big HTTP/1.1\r\nHost: site.test\r\n\r\n")
	ex := tp.next(t) // emitted once the proxy gave up writing
	if ex.Request.URL.Path != "/big" || ex.Response == nil || !ex.Response.BodyTruncated {
		t.Errorf("recorded %s, response %v, want /big with its body cut", ex.Request.URL, ex.Response)
	}
	tc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, tc)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("connection still open after the client stalled: %v", err)
	}
}

// TestDecryptedHostileClientsLeakNothing: clients that vanish at every
// stage (before the answer, in the middle of a large body, in the middle of
// the head or of an upload) leave no goroutine and no tracked connection
// behind, and every request that reached the server is still recorded.
func TestDecryptedHostileClientsLeakNothing(t *testing.T) {
	exs := make(chan *traffic.Exchange, 1000)
	tp := siteProxy(t, Config{OnExchange: func(ex *traffic.Exchange) { exs <- ex }})
	warm, _ := dialMITM(t, tp, "site.test")
	warm.Close()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()

	const n = 20
	cases := []struct {
		send     string
		read     int  // bytes of the answer to read before going away
		recorded bool // the request reached the server
	}{
		{"GET /slow HTTP/1.1\r\nHost: site.test\r\n\r\n", 0, true},
		{"GET /big HTTP/1.1\r\nHost: site.test\r\n\r\n", 100 << 10, true},
		{"GET /len HTTP/1.1\r\nHost: site.te", 0, false},
		{"POST /echo HTTP/1.1\r\nHost: site.test\r\nContent-Length: 1000\r\n\r\nonly a little", 0, true},
	}
	var wg sync.WaitGroup
	want := 0
	for _, c := range cases {
		if c.recorded {
			want += n
		}
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tc, br := dialMITM(t, tp, "site.test")
				io.WriteString(tc, c.send)
				if c.read > 0 {
					io.ReadFull(br, make([]byte, c.read))
				} else {
					time.Sleep(20 * time.Millisecond) // the request is on its way
				}
				tc.NetConn().(*net.TCPConn).SetLinger(0) // a reset, not a close
				tc.NetConn().Close()
			}()
		}
	}
	wg.Wait()
	got := map[string]int{}
	for range want {
		select {
		case ex := <-exs:
			got[ex.Request.URL.Path]++
		case <-time.After(10 * time.Second):
			t.Fatalf("recorded %v, want %d of each request that reached the server", got, n)
		}
	}
	if got["/slow"] != n || got["/big"] != n || got["/echo"] != n {
		t.Errorf("recorded %v, want %d each of /slow, /big and /echo", got, n)
	}
	tp.tr.CloseIdleConnections()
	tp.up.CloseIdleConnections()
	var after, tracked int
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		tp.conns.mu.Lock()
		tracked = len(tp.conns.conns)
		tp.conns.mu.Unlock()
		if after = runtime.NumGoroutine(); after <= before+2 && tracked == 0 {
			break
		}
	}
	if after > before+2 || tracked > 0 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines %d before, %d after; %d connections still tracked\n%s", before, after, tracked, buf[:runtime.Stack(buf, true)])
	}
}
