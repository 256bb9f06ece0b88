package proxy

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/trackaudit/trackaudit/traffic"
)

// DefaultListen is the address the trackaudit command listens on.
const DefaultListen = "127.0.0.1:8080"

// Server-side timeouts. There is deliberately no whole-request timeout:
// it would cut long downloads and streams.
const (
	readHeaderTimeout     = 30 * time.Second
	idleTimeout           = 2 * time.Minute
	responseHeaderTimeout = 2 * time.Minute
	tunnelIdleTimeout     = 10 * time.Minute
	maxHeaderBytes        = 1 << 20
)

// Config configures a Proxy.
type Config struct {
	// Listen is the TCP address to listen on; "" means 127.0.0.1 on a free
	// port. A non-loopback address is allowed but logged as a warning:
	// anyone who can reach it can use the proxy.
	Listen string
	// Map sends connections for a host elsewhere, like curl --resolve:
	// key "HOST" or "HOST:PORT", value "ADDR" or "ADDR:PORT" (without a
	// port the original port is kept); key "*" maps every host no other
	// key names. TLS names and Host headers are unchanged. nil maps
	// nothing.
	Map map[string]string
	// UpstreamRoots verifies servers' certificates; nil means the system
	// roots.
	UpstreamRoots *x509.CertPool
	// UpstreamProxy, when not nil, carries every outgoing connection
	// (requests, CONNECT tunnels, mapped hosts) as a CONNECT tunnel
	// through this http:// or https:// proxy.
	UpstreamProxy *url.URL
	// Insecure turns off upstream certificate verification and marks every
	// exchange Insecure.
	Insecure bool
	// CA signs the certificates shown to clients. Required.
	CA *CA
	// BodyCap is how many body bytes are kept per message; 0 means
	// traffic.BodyCap. Bodies always pass through whole.
	BodyCap int
	// ResponseHeaderTimeout is how long a server may take to start its
	// response before the client gets 504; 0 means 2 minutes (long
	// enough for long-polling endpoints).
	ResponseHeaderTimeout time.Duration
	// OnExchange is called once per completed exchange, from many
	// goroutines at once; it must not keep the proxy waiting long. A panic
	// in it is logged and otherwise ignored. nil drops exchanges.
	OnExchange func(*traffic.Exchange)
	// OnRequest, when set, is called as each request starts, before it is
	// sent on, with the exchange OnExchange will later get; only its
	// request fields (ID, Source, Start, Client, Request without Body) are
	// set. It must neither change the exchange nor keep it: it is still
	// being recorded. It runs on the request's goroutine, so for one
	// client connection it comes before the exchanges that end after it.
	// A panic in it is logged and otherwise ignored.
	OnRequest func(*traffic.Exchange)
	// LookupCNAME, when set, is asked once per host (none when an
	// UpstreamProxy resolves names: the lookups would bypass it) which
	// name the host is a DNS alias of, e.g.
	// net.DefaultResolver.LookupCNAME. The lookup starts with the host's
	// first request, in the background; an answer other than the host
	// itself goes into Exchange.CNAME of the exchanges recorded after it
	// came (a tracker behind a name of the site's own: CNAME cloaking).
	// At most 4096 hosts are remembered.
	LookupCNAME func(ctx context.Context, host string) (string, error)
	// Logf receives the proxy's and goproxy's log lines, one line per call
	// without a trailing newline, from many goroutines at once; nil
	// discards them.
	Logf func(format string, args ...any)

	// clientTimeouts bounds slow or silent clients; zero fields mean the
	// defaults. Tests shorten them.
	clientTimeouts clientTimeouts
	// beforeRequest, when set, runs before each decrypted request is
	// served; tests make it panic.
	beforeRequest func(*http.Request)
}

// clientTimeouts are how long a client may take to send a request head
// (the CONNECT line, each request on a connection, and the first byte
// after CONNECT) and to finish its TLS handshake with the proxy.
type clientTimeouts struct {
	head, handshake time.Duration
	// stall is how long a write to a decrypted client may make no
	// progress: a client that stopped reading is disconnected.
	stall time.Duration
}

// Proxy is a running intercepting proxy. Create it with New, run it with
// Serve, stop it with Close or by cancelling Serve's context.
type Proxy struct {
	cfg    Config
	gp     *goproxy.ProxyHttpServer
	tr     *http.Transport // requests fastPath does not take
	up     *upstreamPool   // requests it takes (upstream.go)
	dial   *dialer
	certs  *certCache
	ln     net.Listener
	srv    *http.Server // proxy requests and CONNECT
	conns  connTracker  // decrypted connections (serve.go)
	cnames *cnames      // nil unless Config.LookupCNAME is used
	nextID atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg and starts listening (so Addr is known), but serves
// nothing until Serve.
func New(cfg Config) (*Proxy, error) {
	if cfg.CA == nil {
		return nil, errors.New("proxy: no CA given")
	}
	if cfg.BodyCap <= 0 {
		cfg.BodyCap = traffic.BodyCap
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.clientTimeouts.head = cmp.Or(cfg.clientTimeouts.head, readHeaderTimeout)
	cfg.clientTimeouts.handshake = cmp.Or(cfg.clientTimeouts.handshake, handshakeTimeout)
	cfg.clientTimeouts.stall = cmp.Or(cfg.clientTimeouts.stall, idleTimeout)
	if cfg.UpstreamProxy != nil && cfg.UpstreamProxy.Scheme != "http" && cfg.UpstreamProxy.Scheme != "https" {
		return nil, fmt.Errorf("upstream proxy %s: want an http:// or https:// URL", cfg.UpstreamProxy.Redacted())
	}
	hostMap := map[string]string{}
	for k, v := range cfg.Map {
		k = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(k)), ".")
		if k == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("map %q=%q: want HOST=ADDR", k, v)
		}
		hostMap[k] = strings.TrimSpace(v)
	}
	p := &Proxy{cfg: cfg, certs: newCertCache(DefaultCertCacheSize)}
	if p.cfg.Logf == nil {
		p.cfg.Logf = func(string, ...any) {}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	p.ln = ln
	if !isLoopback(ln.Addr()) {
		p.logf("WARNING: listening on %s, which is not a loopback address: anyone who can reach it can use this proxy and read what it records", ln.Addr())
	}

	tlsCfg := &tls.Config{RootCAs: cfg.UpstreamRoots, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure}
	if cfg.LookupCNAME != nil && cfg.UpstreamProxy == nil {
		p.cnames = &cnames{lookup: cfg.LookupCNAME, hosts: map[string]*cnameEntry{}}
	}
	p.dial = &dialer{hostMap: hostMap, upstream: cfg.UpstreamProxy, roots: tlsCfg, self: ln.Addr, net: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}}
	p.tr = &http.Transport{
		DialContext:           p.dial.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   handshakeTimeout,
		ResponseHeaderTimeout: cmp.Or(cfg.ResponseHeaderTimeout, responseHeaderTimeout),
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		// The browser's Accept-Encoding goes upstream as sent, and the
		// server's bytes come back as sent: decoding is done only on the
		// recorded copy.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}

	p.up = &upstreamPool{dial: p.dial.DialContext, tls: tlsCfg, headerTimeout: p.tr.ResponseHeaderTimeout}

	gp := goproxy.NewProxyHttpServer()
	gp.Tr = p.tr
	gp.Logger = logfPrinter(p.logf)
	gp.Verbose = false
	gp.KeepAcceptEncoding = true
	gp.AllowHTTP2 = false
	gp.CertStore = p.certs
	gp.ConnectDial = nil
	gp.ConnectDialWithReq = func(req *http.Request, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(req.Context(), dialTimeout)
		defer cancel()
		c, err := p.dial.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newIdleConn(c, tunnelIdleTimeout), nil
	}
	gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this is trackaudit's proxy: configure it as your browser's HTTP and HTTPS proxy, or run 'trackaudit browse'", http.StatusBadRequest)
	})
	gp.OnRequest().HandleConnectFunc(p.handleConnect)
	gp.OnRequest().DoFunc(p.onRequest)
	p.gp = gp

	errLog := log.New(logfWriter(p.logf), "", 0)
	p.srv = &http.Server{
		Handler:           recoverHandler(p.logf, exactResponse(gp)),
		ReadHeaderTimeout: cfg.clientTimeouts.head,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errLog,
	}
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Serve serves until ctx is cancelled or Close is called, then waits (up
// to a few seconds) for requests in flight to finish, so their exchanges
// are emitted before it returns. It returns nil after a requested stop.
func (p *Proxy) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- p.srv.Serve(p.ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	p.shutdown()
	return err
}

func (p *Proxy) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
	p.conns.shutdown(ctx)
	p.Close()
}

// Close stops the proxy at once, closing open connections.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.closeErr = p.srv.Close()
		p.conns.closeAll()
		p.ln.Close()
		p.tr.CloseIdleConnections()
		p.up.CloseIdleConnections()
	})
	return p.closeErr
}

func (p *Proxy) logf(format string, args ...any) { p.cfg.Logf(format, args...) }

// onRequest starts the record of every proxied request (plain HTTP and
// decrypted HTTPS alike) and routes its round trip through roundTrip.
func (p *Proxy) onRequest(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	defer func() {
		if v := recover(); v != nil {
			p.logf("proxy: panic recording %s: %v", logURL(r.URL), v)
		}
	}()
	rec := p.newRecorder(r)
	ctx.UserData = rec
	rec.started()
	ctx.RoundTripper = goproxy.RoundTripperFunc(p.roundTrip)
	dropConnectionNamed(r.Header)
	if _, ok := r.Header["User-Agent"]; !ok {
		// Go's transport sends its own User-Agent when the header is
		// absent, and none when it is present but empty.
		r.Header["User-Agent"] = nil
	}
	return r, nil
}

// dropConnectionNamed deletes the headers a Connection header names: they
// are hop-by-hop too (RFC 9110 §7.6.1), and goproxy removes only
// Connection itself. Upgrade stays, for websocket handshakes. The record
// made before keeps them, as the browser sent them.
func dropConnectionNamed(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" && !strings.EqualFold(name, "upgrade") {
				h.Del(name)
			}
		}
	}
}

// roundTrip sends req upstream. A failure becomes a 502 answer to the
// client (504 when the server did not answer in time) and an exchange
// with Error set; the client never sees a bare EOF.
func (p *Proxy) roundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	rec, _ := ctx.UserData.(*recorder)
	var rt http.RoundTripper = p.tr
	if fastPath(req) {
		rt = p.up
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		msg := err.Error()
		if rec != nil {
			msg = rec.fail(err)
		}
		p.logf("proxy: %s", msg)
		status := http.StatusBadGateway
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			status = http.StatusGatewayTimeout
		}
		return goproxy.NewResponse(req, goproxy.ContentTypeText, status, "trackaudit proxy: "+msg+"\n"), nil
	}
	if rec != nil {
		rec.response(resp)
	}
	return resp, nil
}

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// logfPrinter adapts Logf to goproxy's Logger.
type logfPrinter func(format string, args ...any)

func (f logfPrinter) Printf(format string, args ...any) {
	f(strings.TrimSuffix(format, "\n"), args...)
}

// logfWriter adapts Logf to an io.Writer for log.Logger.
type logfWriter func(format string, args ...any)

func (f logfWriter) Write(b []byte) (int, error) {
	f("%s", strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// recoverHandler keeps a panic in one request from doing more than ending
// that request (net/http would recover too, but logs to its own logger and
// re-panics http.ErrAbortHandler).
func recoverHandler(logf func(string, ...any), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logf("proxy: panic serving %s %s: %v", r.Method, logURL(r.URL), v)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// logURL is u without its query, fragment and user info, for log lines:
// logs never carry tokens or other values a URL may hold.
func logURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// panicError turns a recovered value into an error.
func panicError(v any) error { return fmt.Errorf("panic: %v", v) }
