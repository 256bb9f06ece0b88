package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Dial timeouts for every egress connection.
const (
	dialTimeout      = 15 * time.Second
	handshakeTimeout = 15 * time.Second
)

// errLoop is returned for a connection that would reach the proxy itself.
var errLoop = errors.New("refused: the target is this proxy's own listening address (request loop)")

// dialer makes every outgoing connection of the proxy: it applies the
// host map, refuses loops to the proxy's own address, and goes through the
// upstream proxy when one is configured, so no egress path bypasses it.
type dialer struct {
	hostMap  map[string]string // lower-case "host" or "host:port" → addr
	upstream *url.URL
	roots    *tls.Config // for an https:// upstream proxy
	self     func() net.Addr
	net      net.Dialer
}

// mapAddr applies the host map to addr ("host:port").
func (d *dialer) mapAddr(addr string) string {
	if len(d.hostMap) == 0 {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if to, ok := d.hostMap[net.JoinHostPort(host, port)]; ok {
		return to
	}
	to, ok := d.hostMap[host]
	if !ok {
		if to, ok = d.hostMap["*"]; !ok {
			return addr
		}
	}
	if _, _, err := net.SplitHostPort(to); err == nil {
		return to
	}
	return net.JoinHostPort(to, port)
}

// DialContext dials addr (after mapping) directly or via the upstream
// proxy.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	target := d.mapAddr(addr)
	if d.isSelfLiteral(target) {
		return nil, errLoop
	}
	if d.upstream != nil {
		return d.dialUpstream(ctx, network, target)
	}
	c, err := d.net.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	if d.isSelf(c.RemoteAddr()) {
		c.Close()
		return nil, errLoop
	}
	return c, nil
}

// isSelfLiteral reports whether addr names the proxy's listening socket
// without resolving anything (a loopback or unspecified IP, localhost, or
// the listen IP, with the listen port).
func (d *dialer) isSelfLiteral(addr string) bool {
	if d.self == nil {
		return false
	}
	self, ok := d.self().(*net.TCPAddr)
	if !ok {
		return false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != fmt.Sprint(self.Port) {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified() || ip.Equal(self.IP))
}

// isSelf reports whether a connected peer is the proxy's own listener.
func (d *dialer) isSelf(remote net.Addr) bool {
	r, ok := remote.(*net.TCPAddr)
	if !ok || d.self == nil {
		return false
	}
	self, ok := d.self().(*net.TCPAddr)
	if !ok || r.Port != self.Port {
		return false
	}
	if self.IP.IsUnspecified() || self.IP.Equal(r.IP) || r.IP.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(r.IP) {
			return true
		}
	}
	return false
}

// dialUpstream opens a CONNECT tunnel to target through the upstream
// proxy (http:// or https://).
func (d *dialer) dialUpstream(ctx context.Context, network, target string) (net.Conn, error) {
	u := d.upstream
	hostport := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			hostport = net.JoinHostPort(u.Hostname(), "443")
		} else {
			hostport = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	c, err := d.net.DialContext(ctx, network, hostport)
	if err != nil {
		return nil, fmt.Errorf("upstream proxy %s: %w", u.Redacted(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(dialTimeout + handshakeTimeout))
	}
	if u.Scheme == "https" {
		cfg := d.roots.Clone()
		cfg.ServerName = u.Hostname()
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("upstream proxy %s: %w", u.Redacted(), err)
		}
		c = tc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u.User != nil {
		req.SetBasicAuth(u.User.Username(), passwordOf(u.User))
	}
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("upstream proxy %s: %w", u.Redacted(), err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("upstream proxy %s: %w", u.Redacted(), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("upstream proxy %s refused CONNECT %s: %s", u.Redacted(), target, resp.Status)
	}
	c.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

func passwordOf(u *url.Userinfo) string {
	p, _ := u.Password()
	return p
}

// bufferedConn is a conn whose first bytes were already read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

// Read drains r first, then reads the conn directly: every later read
// would otherwise pass through r's small buffer, one extra copy and, for
// TLS records larger than it, extra read calls.
func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}
