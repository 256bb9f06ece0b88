package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
)

// handleConnect decides what to do with a CONNECT: refuse a loop to the
// proxy itself, intercept ports 443 and 80, tunnel everything else byte
// for byte. It returns this package's own ConnectActions only.
func (p *Proxy) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	if p.dial.isSelfLiteral(p.dial.mapAddr(host)) {
		ctx.Resp = goproxy.NewResponse(ctx.Req, goproxy.ContentTypeText, http.StatusForbidden, "trackaudit proxy: "+errLoop.Error()+"\n")
		return &goproxy.ConnectAction{Action: goproxy.ConnectReject}, host
	}
	_, port, err := net.SplitHostPort(host)
	if err != nil || port == "443" || port == "80" {
		return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: p.hijack}, host
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectAccept}, host
}

// hijack answers an intercepted CONNECT and looks at the client's first
// byte: a TLS handshake is terminated with a leaf for the SNI (or the
// CONNECT host) and served decrypted; plain HTTP is served as is; anything
// else is tunnelled to the target unchanged.
func (p *Proxy) hijack(req *http.Request, client net.Conn, _ *goproxy.ProxyCtx) {
	defer func() {
		if v := recover(); v != nil {
			p.logf("proxy: panic intercepting CONNECT %s: %v", req.Host, v)
			client.Close()
		}
	}()
	target := req.URL.Host
	if target == "" {
		target = req.Host
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(target, "443")
	}
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		client.Close()
		return
	}
	client.SetReadDeadline(time.Now().Add(p.cfg.clientTimeouts.head))
	br := bufio.NewReader(client)
	first, err := br.Peek(1)
	if err != nil {
		client.Close()
		return
	}
	var conn net.Conn = &bufferedConn{Conn: client, r: br}
	switch {
	case first[0] == 0x16: // TLS handshake record
		tc := tls.Server(conn, p.leafConfig(target))
		tc.SetDeadline(time.Now().Add(p.cfg.clientTimeouts.handshake))
		if err := tc.Handshake(); err != nil {
			p.logf("proxy: TLS handshake with client for %s failed (does it trust the trackaudit CA?): %v", target, err)
			tc.Close()
			return
		}
		tc.SetDeadline(time.Time{})
		p.serveDecrypted(&mitmConn{Conn: tc, target: target, scheme: "https"})
	case first[0] >= 'A' && first[0] <= 'Z': // an HTTP method
		client.SetReadDeadline(time.Time{})
		p.serveDecrypted(&mitmConn{Conn: conn, target: target, scheme: "http"})
	default:
		client.SetReadDeadline(time.Time{})
		p.tunnel(conn, target)
	}
}

// leafConfig serves a leaf for the client's SNI, or for the CONNECT host
// when the client sent none. No h2 is offered: every request is parsed.
func (p *Proxy) leafConfig(target string) *tls.Config {
	host, _, _ := net.SplitHostPort(target)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = host
			}
			return p.certs.Fetch(name, func() (*tls.Certificate, error) { return p.cfg.CA.SignLeaf(name) })
		},
	}
}

// tunnel copies bytes between client and target until either side ends.
func (p *Proxy) tunnel(client net.Conn, target string) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	up, err := p.dial.DialContext(ctx, "tcp", target)
	cancel()
	if err != nil {
		p.logf("proxy: tunnel to %s: %v", target, err)
		client.Close()
		return
	}
	up = newIdleConn(up, tunnelIdleTimeout)
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	go pipe(up, client)
	go pipe(client, up)
	wg.Wait()
}

// serveMITM serves one decrypted request: it makes the URL absolute and
// hands it to goproxy, which runs onRequest and the round trip.
func (p *Proxy) serveMITM(w http.ResponseWriter, r *http.Request, mc *mitmConn) {
	if r.Method == http.MethodConnect {
		http.Error(w, "trackaudit proxy: CONNECT inside an intercepted tunnel is not supported", http.StatusMethodNotAllowed)
		return
	}
	host := r.Host
	if host == "" {
		host = mc.target
	}
	r.URL.Scheme = mc.scheme
	r.URL.Host = host
	if p.cfg.beforeRequest != nil {
		p.cfg.beforeRequest(r)
	}
	p.gp.ServeHTTP(w, r)
}

// mitmConn is a client connection after CONNECT (and TLS, for https),
// with the CONNECT target.
type mitmConn struct {
	net.Conn
	target string // host:port from CONNECT
	scheme string // "https" or "http"
}

// idleConn closes a tunnel that moved no bytes for a while. It keeps
// half-close working when the wrapped conn supports it.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func newIdleConn(c net.Conn, idle time.Duration) net.Conn {
	return &idleConn{Conn: c, idle: idle}
}

func (c *idleConn) Read(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(b)
}

func (c *idleConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.Conn.Close()
}

func (c *idleConn) CloseRead() error {
	if hc, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return hc.CloseRead()
	}
	return errors.ErrUnsupported
}
