package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// origins stands for the real internet: HTTPS servers whose certificates
// come from a CA the proxy is told to trust (UpstreamRoots), reached
// through Map, so no test leaves the machine.
type origins struct {
	ca    *CA
	roots *x509.CertPool
	hosts map[string]string
}

func newOrigins(t testing.TB) *origins {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return &origins{ca: ca, roots: roots, hosts: map[string]string{}}
}

// serveTLS starts an HTTPS server for host, signed by signer.
func (o *origins) serveTLS(t testing.TB, host string, signer *CA, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return signer.SignLeaf(host)
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	o.hosts[host] = srv.Listener.Addr().String()
	return srv
}

type testProxy struct {
	*Proxy
	ca   *CA
	exs  chan *traffic.Exchange
	logs *logBuf
	stop func() error // stops Serve (once) and returns its result
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	fmt.Fprintf(&l.b, format+"\n", args...)
	l.mu.Unlock()
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startProxy(t testing.TB, cfg Config) *testProxy {
	t.Helper()
	if cfg.CA == nil {
		ca, err := NewCA()
		if err != nil {
			t.Fatal(err)
		}
		cfg.CA = ca
	}
	tp := &testProxy{ca: cfg.CA, exs: make(chan *traffic.Exchange, 10000), logs: &logBuf{}}
	if cfg.OnExchange == nil {
		cfg.OnExchange = func(ex *traffic.Exchange) { tp.exs <- ex }
	}
	cfg.Logf = tp.logs.logf
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp.Proxy = p
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	tp.stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := tp.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tp
}

// client returns an HTTP client that uses the proxy and trusts its CA.
func (tp *testProxy) client() *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(tp.ca.Cert)
	return &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyURL(&url.URL{Scheme: "http", Host: tp.Addr().String()}),
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
	}, Timeout: 20 * time.Second}
}

// next waits for the next emitted exchange.
func (tp *testProxy) next(t *testing.T) *traffic.Exchange {
	t.Helper()
	select {
	case ex := <-tp.exs:
		return ex
	case <-time.After(10 * time.Second):
		t.Fatalf("no exchange emitted; proxy log:\n%s", tp.logs)
		return nil
	}
}

func gzipped(t *testing.T, b []byte) []byte { return gz(b) }

func TestMITMRecordsAndPassesThrough(t *testing.T) {
	o := newOrigins(t)
	page := []byte("<html><body>news <iframe src=\"https://www.facebook.com/plugins/like.php\"></iframe></body></html>")
	payload := bytes.Repeat([]byte("compressible tracker script; "), 200)
	gzBody := gzipped(t, payload)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gz":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/javascript")
			w.Write(gzBody)
		default:
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cr3t", Path: "/"})
			w.Header().Set("Content-Type", "text/html")
			w.Write(page)
		}
	}))
	var fbSaw atomic.Value
	o.serveTLS(t, "www.facebook.com", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fbSaw.Store(string(b))
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a"))
	}))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})
	c := tp.client()

	get := func(method, u, body string, h map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	resp, b := get("GET", "https://news.test/article?id=7", "", map[string]string{"Cookie": "sid=abc; consent=yes"})
	if !bytes.Equal(b, page) || resp.StatusCode != 200 {
		t.Errorf("page: status %d body %q, want 200 %q", resp.StatusCode, b, page)
	}
	if got := resp.TLS.PeerCertificates[0].Issuer.CommonName; got != tp.ca.Cert.Subject.CommonName {
		t.Errorf("leaf issuer %q, want the proxy CA %q", got, tp.ca.Cert.Subject.CommonName)
	}
	exPage := tp.next(t)

	form := "ev=PageView&dl=https%3A%2F%2Fnews.test%2Farticle%3Fid%3D7"
	get("POST", "https://www.facebook.com/tr?id=123&ev=PageView", form, map[string]string{
		"Cookie": "c_user=100; fr=xyz", "Referer": "https://news.test/article?id=7",
		"Content-Type": "application/x-www-form-urlencoded",
	})
	exPixel := tp.next(t)

	resp, b = get("GET", "https://news.test/gz", "", map[string]string{"Accept-Encoding": "gzip, br"})
	if !bytes.Equal(b, gzBody) {
		t.Errorf("gzip body altered: got %d bytes, want the server's %d bytes", len(b), len(gzBody))
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip passed through", ce)
	}
	if cl := resp.ContentLength; cl != int64(len(gzBody)) {
		t.Errorf("Content-Length = %d, want %d", cl, len(gzBody))
	}
	exGz := tp.next(t)

	tests := []struct {
		name, got, want string
	}{
		{"page URL", exPage.Request.URL.String(), "https://news.test/article?id=7"},
		{"page cookie", exPage.Request.Header.Get("Cookie"), "sid=abc; consent=yes"},
		{"page set-cookie", exPage.Response.Header.Get("Set-Cookie"), "sid=s3cr3t; Path=/"},
		{"page body", string(exPage.Response.Body), string(page)},
		{"page source", exPage.Source, "proxy"},
		{"page client", exPage.Client, "127.0.0.1"},
		{"pixel method", exPixel.Request.Method, "POST"},
		{"pixel cookie", exPixel.Request.Header.Get("Cookie"), "c_user=100; fr=xyz"},
		{"pixel referer", exPixel.Request.Header.Get("Referer"), "https://news.test/article?id=7"},
		{"pixel body", string(exPixel.Request.Body), form},
		{"pixel body reached server", fmt.Sprint(fbSaw.Load()), form},
		{"pixel response", string(exPixel.Response.Body), "GIF89a"},
		{"gz decoded copy", string(exGz.Response.Body), string(payload)},
		{"gz accept-encoding kept", exGz.Request.Header.Get("Accept-Encoding"), "gzip, br"},
		{"gz error", exGz.Error, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !(exPage.ID < exPixel.ID && exPixel.ID < exGz.ID) {
		t.Errorf("IDs %d %d %d not in request order", exPage.ID, exPixel.ID, exGz.ID)
	}
	if exPage.Insecure {
		t.Errorf("Insecure set without --insecure")
	}
}

func TestPlainHTTPProxied(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain "+r.URL.Query().Get("q"))
	}))
	defer plain.Close()
	tp := startProxy(t, Config{Map: map[string]string{"plain.test": plain.Listener.Addr().String()}})
	resp, err := tp.client().Get("http://plain.test/x?q=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain 1" {
		t.Errorf("body %q, want %q", b, "plain 1")
	}
	ex := tp.next(t)
	if got := ex.Request.URL.String(); got != "http://plain.test/x?q=1" {
		t.Errorf("URL = %q", got)
	}
	if ex.Response == nil || string(ex.Response.Body) != "plain 1" {
		t.Errorf("recorded response %+v", ex.Response)
	}
}

func TestUpstreamCertificateFailure(t *testing.T) {
	o := newOrigins(t)
	rogue, err := NewCA() // a CA the proxy was not told to trust
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	o.serveTLS(t, "evil.test", rogue, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "secret accepted")
	}))
	for _, insecure := range []bool{false, true} {
		t.Run(fmt.Sprintf("insecure=%v", insecure), func(t *testing.T) {
			hits.Store(0)
			tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots, Insecure: insecure})
			req, _ := http.NewRequest("POST", "https://evil.test/login", strings.NewReader("password=hunter2"))
			resp, err := tp.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ex := tp.next(t)
			if insecure {
				if resp.StatusCode != 200 || !ex.Insecure || ex.Error != "" || hits.Load() != 1 {
					t.Errorf("insecure: status %d Insecure=%v Error=%q hits=%d, want 200 true \"\" 1", resp.StatusCode, ex.Insecure, ex.Error, hits.Load())
				}
				return
			}
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			if !strings.Contains(string(b), "evil.test") || !strings.Contains(string(b), "verification failed") {
				t.Errorf("502 page %q does not name the host and the failure", b)
			}
			if hits.Load() != 0 {
				t.Errorf("the unverified server received %d requests", hits.Load())
			}
			if !strings.Contains(ex.Error, "upstream TLS verification failed for evil.test") {
				t.Errorf("Error = %q", ex.Error)
			}
			if ex.Response != nil {
				t.Errorf("Response = %+v, want nil", ex.Response)
			}
			if len(ex.Findings) != 1 || ex.Findings[0].Kind != traffic.KindUpstreamError || ex.Findings[0].Severity != traffic.SeverityHigh {
				t.Errorf("findings %+v, want one high upstream-error", ex.Findings)
			}
		})
	}
}

func TestUnreachableUpstream(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	tp := startProxy(t, Config{Map: map[string]string{"down.test": dead, "down-plain.test": dead}})
	for _, u := range []string{"https://down.test/", "http://down-plain.test/"} {
		resp, err := tp.client().Get(u)
		if err != nil {
			t.Fatalf("%s: %v (want a 502, not a broken connection)", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502", u, resp.StatusCode)
		}
		ex := tp.next(t)
		if !strings.Contains(ex.Error, "cannot reach") || len(ex.Findings) != 1 || ex.Findings[0].Kind != traffic.KindUpstreamError {
			t.Errorf("%s: Error %q findings %+v", u, ex.Error, ex.Findings)
		}
	}
}

func TestListenDefaultsToLoopback(t *testing.T) {
	tp := startProxy(t, Config{})
	if !isLoopback(tp.Addr()) {
		t.Errorf("default listen address %v is not loopback", tp.Addr())
	}
	if strings.Contains(tp.logs.String(), "WARNING") {
		t.Errorf("warning on loopback: %s", tp.logs)
	}
	wide := startProxy(t, Config{Listen: "0.0.0.0:0"})
	if !strings.Contains(wide.logs.String(), "not a loopback address") {
		t.Errorf("no warning for 0.0.0.0; log: %q", wide.logs)
	}
}

// connect opens a CONNECT tunnel through the proxy and returns the
// connection and the status line.
func connect(t *testing.T, proxyAddr, target string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatal(err)
	}
	return c, br, resp.Status
}

// echoServer starts a TCP server that sends back what it receives, and
// half-closes when the client has; it returns its address.
func echoServer(t *testing.T) string {
	t.Helper()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.(*net.TCPConn).CloseWrite() }()
		}
	}()
	return echo.Addr().String()
}

func TestNonTLSConnectTunnelledByteExact(t *testing.T) {
	echo := echoServer(t)
	tp := startProxy(t, Config{})
	c, br, status := connect(t, tp.Addr().String(), echo)
	defer c.Close()
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT status %q", status)
	}
	payload := make([]byte, 256<<10)
	rand.Read(payload)
	go func() {
		c.Write(payload)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("tunnel returned %d bytes, want the same %d bytes", len(got), len(payload))
	}
	select {
	case ex := <-tp.exs:
		t.Errorf("a blind tunnel emitted an exchange: %+v", ex)
	default:
	}
}

func TestSelfLoopRefused(t *testing.T) {
	tp := startProxy(t, Config{})
	self := tp.Addr().String()
	_, port, _ := net.SplitHostPort(self)
	for _, target := range []string{self, "localhost:" + port} {
		c, _, status := connect(t, self, target)
		c.Close()
		if !strings.HasPrefix(status, "403") {
			t.Errorf("CONNECT %s: status %q, want 403", target, status)
		}
	}
	tp2 := startProxy(t, Config{Map: map[string]string{"loop.test": "127.0.0.1:1"}})
	tp2.dial.hostMap["loop.test"] = tp2.Addr().String()
	resp, err := tp2.client().Get("http://loop.test/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "loop") {
		t.Errorf("mapped loop: status %d body %q, want 502 naming the loop", resp.StatusCode, b)
	}
}

func TestPanicInHooksKeepsServing(t *testing.T) {
	o := newOrigins(t)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	for _, hook := range []string{"OnExchange", "OnRequest"} {
		t.Run(hook, func(t *testing.T) {
			var calls atomic.Int32
			fn := func(*traffic.Exchange) {
				calls.Add(1)
				panic("detector bug")
			}
			cfg := Config{Map: o.hosts, UpstreamRoots: o.roots}
			if hook == "OnExchange" {
				cfg.OnExchange = fn
			} else {
				cfg.OnRequest = fn
			}
			tp := startProxy(t, cfg)
			c := tp.client()
			for i := 0; i < 5; i++ {
				resp, err := c.Get("https://news.test/account?token=CANARY_LOG")
				if err != nil {
					t.Fatalf("request %d after a panic: %v", i, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(b) != "ok" {
					t.Errorf("request %d: status %d body %q", i, resp.StatusCode, b)
				}
			}
			if calls.Load() != 5 {
				t.Errorf("%s called %d times, want 5", hook, calls.Load())
			}
			logs := tp.logs.String()
			if !strings.Contains(logs, hook+" panicked on https://news.test/account") {
				t.Errorf("panic not logged with its URL: %q", logs)
			}
			if strings.Contains(logs, "CANARY_LOG") {
				t.Errorf("the log shows a query value: %q", logs)
			}
		})
	}
}

// TestOnRequestBeforeResponse checks that OnRequest comes as the request
// starts, before the origin answers, with the request fields of the
// exchange OnExchange gets when it ends.
func TestOnRequestBeforeResponse(t *testing.T) {
	o := newOrigins(t)
	started, begunCh := make(chan struct{}), make(chan *traffic.Exchange, 1)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-started:
			io.WriteString(w, "<title>A</title>")
		case <-time.After(5 * time.Second):
			http.Error(w, "OnRequest did not come before the answer", http.StatusInternalServerError)
		}
	}))
	ended := make(chan *traffic.Exchange, 1)
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots,
		OnRequest: func(ex *traffic.Exchange) {
			c := *ex // what a hook may do: copy, not keep
			begunCh <- &c
			close(started)
		},
		OnExchange: func(ex *traffic.Exchange) { ended <- ex }})
	req, _ := http.NewRequest("GET", "https://news.test/article", nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	resp, err := tp.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: OnRequest did not come before the origin answered", resp.StatusCode)
	}
	begun, ex := <-begunCh, <-ended
	if begun.ID == 0 || begun.ID != ex.ID || begun.Source != ex.Source || begun.Client != ex.Client || !begun.Start.Equal(ex.Start) {
		t.Errorf("OnRequest got ID %d source %q client %q start %v; OnExchange ID %d source %q client %q start %v",
			begun.ID, begun.Source, begun.Client, begun.Start, ex.ID, ex.Source, ex.Client, ex.Start)
	}
	if begun.Response != nil || begun.Request.URL.String() != "https://news.test/article" || begun.Request.Header.Get("Sec-Fetch-Dest") != "document" {
		t.Errorf("OnRequest got response %v, URL %v, header %v; want no response, the request's URL and headers",
			begun.Response, begun.Request.URL, begun.Request.Header)
	}
}

func TestBodyCapTruncates(t *testing.T) {
	o := newOrigins(t)
	big := bytes.Repeat([]byte("x"), 100000)
	o.serveTLS(t, "big.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(big) }))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots, BodyCap: 1000})
	resp, err := tp.client().Get("https://big.test/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != len(big) {
		t.Errorf("client got %d bytes, want all %d", len(b), len(big))
	}
	ex := tp.next(t)
	if len(ex.Response.Body) != 1000 || !ex.Response.BodyTruncated {
		t.Errorf("recorded %d bytes truncated=%v, want 1000 true", len(ex.Response.Body), ex.Response.BodyTruncated)
	}
}

func TestNoGoroutineGrowth(t *testing.T) {
	o := newOrigins(t)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots, OnExchange: func(*traffic.Exchange) {}})
	warm := tp.client()
	warm.Get("https://news.test/")
	warm.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()

	n := 2000
	if testing.Short() {
		n = 300
	}
	c := tp.client()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/8; i++ {
				resp, err := c.Get(fmt.Sprintf("https://news.test/p?i=%d", i))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	c.CloseIdleConnections()
	tp.tr.CloseIdleConnections()
	tp.up.CloseIdleConnections()
	var after int
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		if after = runtime.NumGoroutine(); after <= before+2 {
			break
		}
	}
	if after > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines %d before, %d after %d requests\n%s", before, after, n, buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 64<<20 {
		t.Errorf("heap %d MiB after %d requests, want < 64 MiB", ms.HeapAlloc>>20, n)
	}
}

func TestCurlThroughProxy(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	o := newOrigins(t)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("Cookie"))
	}))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, tp.ca.CertPEM(), 0o644)
	out, err := exec.Command(curl, "-sS", "--noproxy", "", "--proxy", "http://"+tp.Addr().String(), "--cacert", caFile,
		"-H", "Cookie: _fbp=fb.1.123", "https://news.test/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s\nproxy log:\n%s", err, out, tp.logs)
	}
	if string(out) != "hello _fbp=fb.1.123" {
		t.Errorf("curl output %q", out)
	}
	ex := tp.next(t)
	if !strings.HasPrefix(ex.Request.Header.Get("User-Agent"), "curl/") || ex.Request.Header.Get("Cookie") != "_fbp=fb.1.123" {
		t.Errorf("recorded headers %v", ex.Request.Header)
	}
}

// TestUpstreamProxyCarriesEgress checks that intercepted HTTPS, plain HTTP
// and blind tunnels all leave through --upstream-proxy (research
// reliability-security.md T7): only the upstream proxy can reach the
// test hosts, so any direct dial fails the test.
func TestUpstreamProxyCarriesEgress(t *testing.T) {
	o := newOrigins(t)
	o.serveTLS(t, "news.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "via upstream") }))
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain via upstream") }))
	defer plain.Close()
	o.hosts["plain.test"] = plain.Listener.Addr().String()
	o.hosts["echo.test:7000"] = echoServer(t)
	// upstream is itself a trackaudit proxy: only it knows where the hosts are.
	upstream := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})
	roots := x509.NewCertPool()
	roots.AddCert(upstream.ca.Cert)
	front := startProxy(t, Config{UpstreamRoots: roots, UpstreamProxy: &url.URL{Scheme: "http", Host: upstream.Addr().String()}})
	resp, err := front.client().Get("https://news.test/chained")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "via upstream" {
		t.Fatalf("status %d body %q; front log:\n%s", resp.StatusCode, b, front.logs)
	}
	if ex := upstream.next(t); ex.Request.URL.String() != "https://news.test/chained" {
		t.Errorf("upstream proxy recorded %s", ex.Request.URL)
	}
	if ex := front.next(t); ex.Error != "" || ex.Response == nil {
		t.Errorf("front recorded error %q", ex.Error)
	}

	resp, err = front.client().Get("http://plain.test/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain via upstream" {
		t.Errorf("plain HTTP: status %d body %q; front log:\n%s", resp.StatusCode, b, front.logs)
	}

	c, br, status := connect(t, front.Addr().String(), "echo.test:7000")
	defer c.Close()
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT echo.test:7000: status %q; front log:\n%s", status, front.logs)
	}
	io.WriteString(c, "ping through two proxies")
	got := make([]byte, len("ping through two proxies"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping through two proxies" {
		t.Errorf("tunnel echoed %q, %v; front log:\n%s", got, err, front.logs)
	}
}
