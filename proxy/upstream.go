package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
)

// The decrypted GET and HEAD requests without a body and POSTs with a small
// one, most of a browser's and nearly all of a tracker's traffic, go
// upstream through this file's pool of keep-alive HTTP/1.1 connections: the
// request is written and the response read on the serving goroutine. net/http's Transport runs two
// goroutines per connection and hands every request and response between
// them; a minimal client measured 9-18 µs less CPU per request, 1.12-1.17x
// the throughput (BENCHMARKS.md). Larger or streamed bodies, Expect:
// 100-continue, upgrades (websockets), other methods, and requests whose
// context can be cancelled (the plain-HTTP proxy path, whose server
// cancels when the client goes away) keep the Transport, with its
// concurrent body writing, 100 Continue and cancellation.

// Bounds of the pool, as the Transport's settings in New.
const (
	upstreamIdlePerHost = 64
	upstreamIdleTotal   = 1024
	upstreamIdleTimeout = 90 * time.Second
)

// upstreamPool keeps idle upstream connections by scheme and address.
type upstreamPool struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	tls           *tls.Config
	headerTimeout time.Duration

	mu    sync.Mutex
	idle  map[string][]*upstreamConn
	nidle int
	swept time.Time // last time put closed the connections idle too long
}

// upstreamConn is one connection to a server.
type upstreamConn struct {
	net.Conn
	raw       net.Conn // the dialed connection, under TLS
	key       string
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleSince time.Time
}

// maxPooledBody bounds the body of a POST the pool takes: it is written
// before the response is read, so it must fit a socket's initial send
// buffer (Linux: 16 KiB) should the server answer without reading it.
// Pixels' and analytics beacons' events are a few KiB.
const maxPooledBody = 16 << 10

// fastPath reports whether req may take the pool: a GET or HEAD without a
// body, or a POST with a body of known length up to maxPooledBody and no
// Expect, never an upgrade, and only when its context is never cancelled.
func fastPath(req *http.Request) bool {
	switch {
	case req.Header.Get("Upgrade") != "" || req.Context().Done() != nil ||
		req.URL.Scheme != "https" && req.URL.Scheme != "http":
		return false
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		return req.Body == nil || req.Body == http.NoBody
	case req.Method == http.MethodPost:
		return req.ContentLength > 0 && req.ContentLength <= maxPooledBody && req.Header.Get("Expect") == ""
	}
	return false
}

// idempotent reports whether req may be sent again after a failure that
// may have reached the server (RFC 9110 §9.2.2).
func idempotent(req *http.Request) bool {
	return req.Method == http.MethodGet || req.Method == http.MethodHead
}

// RoundTrip sends req on an idle connection to its server, or a new one.
// A reused connection that ends or resets before a whole response head
// came (the server closed it while idle) is retried once on a new
// connection when req may be sent again (GET, HEAD). A POST is sent again
// never: it takes an idle connection only after a look at its socket found
// it open and silent.
func (u *upstreamPool) RoundTrip(req *http.Request) (*http.Response, error) {
	key, addr := upstreamAddr(req)
	for fresh := false; ; fresh = true {
		var pc *upstreamConn
		if !fresh {
			pc = u.take(key, !idempotent(req))
		}
		if pc == nil {
			var err error
			if pc, err = u.connect(req, key, addr); err != nil {
				return nil, err
			}
		}
		resp, err := u.send(pc, req)
		if err == nil {
			return resp, nil
		}
		pc.Close()
		if !pc.reused || fresh || !idempotent(req) || !closedIdle(err) {
			return nil, err
		}
	}
}

// upstreamAddr is the pool key (scheme and address) and the address to
// dial for req.
func upstreamAddr(req *http.Request) (key, addr string) {
	addr = req.URL.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		port := "443"
		if req.URL.Scheme == "http" {
			port = "80"
		}
		addr = net.JoinHostPort(addr, port)
	}
	return req.URL.Scheme + "://" + addr, addr
}

// closedIdle reports whether err is what a request on a connection the
// server had closed meets: the end of the stream or a reset.
func closedIdle(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connect dials addr (mapped, through the upstream proxy when set) and,
// for https, completes a verified TLS handshake, with the Transport's TLS
// settings (no ALPN: HTTP/1.1).
func (u *upstreamPool) connect(req *http.Request, key, addr string) (*upstreamConn, error) {
	ctx, cancel := context.WithTimeout(req.Context(), dialTimeout)
	defer cancel()
	raw, err := u.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := raw
	if req.URL.Scheme == "https" {
		cfg := u.tls.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := tc.Handshake(); err != nil {
			raw.Close()
			return nil, err
		}
		tc.SetDeadline(time.Time{})
		c = tc
	}
	return &upstreamConn{Conn: c, raw: raw, key: key, br: bufio.NewReader(c), bw: bufio.NewWriter(c)}, nil
}

// send writes req and reads the response head, skipping informational
// (1xx) responses as the Transport does.
func (u *upstreamPool) send(pc *upstreamConn, req *http.Request) (*http.Response, error) {
	// A server that neither reads a body nor answers must not hold the
	// request forever.
	body := req.Body != nil && req.Body != http.NoBody
	if body {
		pc.SetWriteDeadline(time.Now().Add(u.headerTimeout))
	}
	if err := req.Write(pc.bw); err != nil {
		return nil, err
	}
	if err := pc.bw.Flush(); err != nil {
		return nil, err
	}
	if body {
		pc.SetWriteDeadline(time.Time{})
	}
	pc.SetReadDeadline(time.Now().Add(u.headerTimeout))
	var resp *http.Response
	for {
		var err error
		if resp, err = http.ReadResponse(pc.br, req); err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	pc.SetReadDeadline(time.Time{})
	reuse := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	switch {
	case resp.Body == http.NoBody && reuse:
		u.put(pc) // HEAD, 204, 304: the response is complete
	case resp.Body == http.NoBody:
		pc.Close() // asked to close, or a 101 not asked for (no Upgrade was sent)
	default:
		resp.Body = &upstreamBody{ReadCloser: resp.Body, pool: u, pc: pc, reuse: reuse}
	}
	return resp, nil
}

// upstreamBody gives its connection back to the pool once the body was
// read to its end, and closes it when the body is closed before that.
type upstreamBody struct {
	io.ReadCloser
	pool  *upstreamPool
	pc    *upstreamConn
	reuse bool
	done  bool
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
		if b.reuse {
			b.pool.put(b.pc)
		} else {
			b.pc.Close()
		}
	}
	return n, err
}

func (b *upstreamBody) Close() error {
	if !b.done {
		b.done = true
		b.pc.Close()
	}
	return nil
}

// take returns the most recently idle connection for key that has not
// been idle too long, or nil. With probe, only one whose socket shows
// neither an end nor unread bytes (a TLS close_notify, say).
func (u *upstreamPool) take(key string, probe bool) *upstreamConn {
	for pc := u.pop(key); pc != nil; pc = u.pop(key) {
		if time.Since(pc.idleSince) < upstreamIdleTimeout && (!probe || pc.open()) {
			pc.reused = true
			return pc
		}
		pc.Close()
	}
	return nil
}

// pop removes the most recently idle connection for key from the pool.
func (u *upstreamPool) pop(key string) *upstreamConn {
	u.mu.Lock()
	defer u.mu.Unlock()
	l := u.idle[key]
	if len(l) == 0 {
		return nil
	}
	u.idle[key] = l[:len(l)-1]
	u.nidle--
	return l[len(l)-1]
}

// open looks at an idle connection's socket without reading from it: it
// is open when nothing is waiting there, not even the end of the stream.
// A connection whose socket cannot be looked at (one tunnelled through an
// upstream proxy, say) does not count as open.
func (pc *upstreamConn) open() bool {
	sc, ok := pc.raw.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = err == syscall.EAGAIN
		return true
	})
	return err == nil && open
}

// put keeps pc for reuse, within the pool's bounds.
func (u *upstreamPool) put(pc *upstreamConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.idle == nil {
		u.idle = map[string][]*upstreamConn{}
	}
	if len(u.idle[pc.key]) >= upstreamIdlePerHost || u.nidle >= upstreamIdleTotal {
		pc.Close()
		return
	}
	pc.idleSince = time.Now()
	u.idle[pc.key] = append(u.idle[pc.key], pc)
	u.nidle++
	if pc.idleSince.Sub(u.swept) >= upstreamIdleTimeout/4 {
		u.swept = pc.idleSince
		u.sweep()
	}
}

// sweep closes the connections idle longer than upstreamIdleTimeout (the
// oldest come first in each list), so that hosts not visited again do not
// keep sockets open.
func (u *upstreamPool) sweep() {
	for k, l := range u.idle {
		n := 0
		for n < len(l) && time.Since(l[n].idleSince) >= upstreamIdleTimeout {
			l[n].Close()
			n++
		}
		if n == len(l) {
			delete(u.idle, k)
		} else if n > 0 {
			u.idle[k] = slices.Delete(l, 0, n)
		}
		u.nidle -= n
	}
}

// CloseIdleConnections closes every idle connection.
func (u *upstreamPool) CloseIdleConnections() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, l := range u.idle {
		for _, pc := range l {
			pc.Close()
		}
		delete(u.idle, k)
	}
	u.nidle = 0
}
