package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Decrypted connections are served by this file's own HTTP/1.1 loop rather
// than by net/http's server. net/http's server starts a background read
// on the connection for every request (to notice a client going away) and
// copies every response header; without them the proxy served 1.07-1.10
// times the requests (BENCHMARKS.md). The loop keeps what the proxy relies on:
// timeouts for idle and slow clients, a cap on request heads (431), 100
// Continue, keep-alive and pipelining, HEAD/204/304 without bodies,
// chunked responses with trailers, hijacking for websockets, a panic
// ending only its connection, and graceful shutdown. Unlike net/http it
// does not cancel a request whose client disconnected before the answer
// came: the upstream timeouts end it.

// maxDrainBytes is how much of a request body the handler left unread is
// read and dropped to keep the connection (net/http's figure).
const maxDrainBytes = 256 << 10

// serveDecrypted serves the requests of one intercepted connection until
// the client or the proxy ends it.
func (p *Proxy) serveDecrypted(mc *mitmConn) {
	c := &decryptedConn{mitmConn: mc, p: p, lim: headLimit{r: mc, n: math.MaxInt64}, remote: mc.RemoteAddr().String()}
	if !p.conns.add(c) {
		mc.Close()
		return
	}
	defer p.conns.remove(c)
	br := bufio.NewReader(&c.lim)
	bw := bufio.NewWriter(progressWriter{mc, p.cfg.clientTimeouts.stall})
	for first := true; c.serveOne(br, bw, first); first = false {
	}
	if !c.hijacked {
		mc.Close()
	}
}

// decryptedConn is one connection served by serveDecrypted.
type decryptedConn struct {
	*mitmConn
	p        *Proxy
	lim      headLimit
	remote   string // the client's address, for Request.RemoteAddr
	hijacked bool
}

// serveOne reads one request, serves it and reports whether the
// connection can carry another.
func (c *decryptedConn) serveOne(br *bufio.Reader, bw *bufio.Writer, first bool) bool {
	head := c.p.cfg.clientTimeouts.head
	wait := idleTimeout
	if first {
		wait = head
	}
	c.SetReadDeadline(time.Now().Add(wait))
	if _, err := br.Peek(1); err != nil {
		return false
	}
	if !c.p.conns.setBusy(c, true) {
		return false
	}
	defer c.p.conns.setBusy(c, false)
	c.SetReadDeadline(time.Now().Add(head))
	c.lim.n = maxHeaderBytes + 4096 // net/http's slack for the request line
	req, err := http.ReadRequest(br)
	hitLimit := c.lim.n <= 0
	c.lim.n = math.MaxInt64
	if err != nil {
		var ne net.Error
		switch {
		case hitLimit:
			writeError(bw, http.StatusRequestHeaderFieldsTooLarge)
		case errors.Is(err, io.EOF), errors.As(err, &ne):
		default:
			writeError(bw, http.StatusBadRequest)
		}
		return false
	}
	if req.Body != http.NoBody {
		c.SetReadDeadline(time.Time{}) // no deadline for uploads; the next request sets one
	}
	if req.ProtoMajor != 1 {
		writeError(bw, http.StatusHTTPVersionNotSupported)
		return false
	}
	req.RemoteAddr = c.remote
	w := &decryptedWriter{c: c, br: br, bw: bw, req: req, header: http.Header{}}
	var body *requestBody
	if req.Body != http.NoBody {
		body = &requestBody{rc: req.Body}
		if req.ProtoAtLeast(1, 1) && httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue") {
			body.expect = w
		}
		req.Body = body
	}
	if !c.serveRecovered(w, req) {
		return false
	}
	if err := w.finish(); err != nil || w.closeAfter || w.status == http.StatusSwitchingProtocols {
		return false // incomplete, asked to close, or switched but not taken over
	}
	if body == nil {
		return true
	}
	c.SetReadDeadline(time.Now().Add(head))
	return body.drain()
}

// serveRecovered runs the handler; a panic is logged and ends the
// connection (with a 502 when no response began) but nothing else.
func (c *decryptedConn) serveRecovered(w *decryptedWriter, req *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				c.p.logf("proxy: panic serving %s %s: %v", req.Method, logURL(req.URL), v)
			}
			if !c.hijacked && w.status == 0 {
				writeError(w.bw, http.StatusBadGateway)
			}
			ok = false
		}
	}()
	c.p.serveMITM(w, req, c.mitmConn)
	return !c.hijacked
}

// writeError answers a request that is not served and flushes the answer;
// the connection is closed after it.
func writeError(bw *bufio.Writer, code int) {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n%d %s", code, http.StatusText(code), code, http.StatusText(code))
	bw.Flush()
}

// progressWriter ends a connection whose client stopped reading: each
// write must make progress within stall. A slow reader is fine.
type progressWriter struct {
	net.Conn
	stall time.Duration
}

func (w progressWriter) Write(b []byte) (int, error) {
	w.SetWriteDeadline(time.Now().Add(w.stall))
	return w.Conn.Write(b)
}

// headLimit caps how much a request head may read from the connection;
// n is reset to "unlimited" once the head is in.
type headLimit struct {
	r io.Reader
	n int64
}

func (l *headLimit) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, err
}

// decryptedWriter is the ResponseWriter of one request on a decrypted
// connection. The header goes out as the handler set it: nothing is
// added but the framing (Content-Length when the handler gave none and no
// body was written, chunked encoding when the length is unknown) and
// "Connection: close" when the connection ends after this response.
type decryptedWriter struct {
	c      *decryptedConn
	br     *bufio.Reader
	bw     *bufio.Writer
	req    *http.Request
	header http.Header

	// mu orders a 100 Continue, sent from whichever goroutine first reads
	// the request body, and the response head.
	mu     sync.Mutex
	status int // final status written; 0 before

	noBody     bool  // HEAD, 1xx, 204, 304
	chunked    bool  // chunked transfer coding
	remain     int64 // Content-Length bytes still to send; -1 when not length-framed
	closeAfter bool
	trailers   []string // declared trailer names
	err        error    // the first write error
}

func (w *decryptedWriter) Header() http.Header { return w.header }

func (w *decryptedWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		code = http.StatusInternalServerError
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.writeHead(code) // an informational response, such as 103
		w.bw.Flush()
		return
	}
	w.status = code
	h := w.header
	w.remain = -1
	w.noBody = w.req.Method == http.MethodHead || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified
	if v := h["Content-Length"]; len(v) > 0 {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if len(v) == 1 && err == nil && n >= 0 {
			w.remain = n
		} else {
			delete(h, "Content-Length")
		}
	}
	w.closeAfter = w.req.Close || !w.req.ProtoAtLeast(1, 1) || httpguts.HeaderValuesContainsToken(h["Connection"], "close") || w.c.p.conns.closing()
	switch {
	case w.noBody:
		w.remain = -1
	case w.remain >= 0:
	case w.req.ProtoAtLeast(1, 1):
		w.chunked = true
		for _, v := range h["Trailer"] {
			for name := range strings.SplitSeq(v, ",") {
				if name = textproto.TrimString(name); name != "" {
					w.trailers = append(w.trailers, http.CanonicalHeaderKey(name))
				}
			}
		}
	default:
		w.closeAfter = true // the body ends with the connection
	}
	if w.closeAfter && w.req.ProtoAtLeast(1, 1) && !httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		h["Connection"] = []string{"close"}
	}
	w.writeHead(code)
}

// writeHead writes a status line and the header, without trailers.
func (w *decryptedWriter) writeHead(code int) {
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	w.bw.WriteString("HTTP/1.1 ")
	w.bw.WriteString(strconv.Itoa(code))
	w.bw.WriteString(" ")
	w.bw.WriteString(text)
	w.bw.WriteString("\r\n")
	w.header.WriteSubset(w.bw, w.exclude())
	if w.chunked && code >= 200 {
		w.bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	w.bw.WriteString("\r\n")
}

// exclude lists what the written header leaves out: the framing, which
// writeHead sets itself, and values meant as trailers.
func (w *decryptedWriter) exclude() map[string]bool {
	var ex map[string]bool
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if ex == nil {
				ex = map[string]bool{"Transfer-Encoding": true}
			}
			ex[k] = true
		}
	}
	if ex == nil {
		return framingHeaders
	}
	return ex
}

var framingHeaders = map[string]bool{"Transfer-Encoding": true}

func (w *decryptedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	var err error
	if w.remain >= 0 && int64(len(b)) > w.remain {
		b, err = b[:w.remain], http.ErrContentLength
	}
	if len(b) == 0 {
		return 0, err
	}
	if w.chunked {
		w.bw.WriteString(strconv.FormatInt(int64(len(b)), 16))
		w.bw.WriteString("\r\n")
	}
	n, werr := w.bw.Write(b)
	if w.chunked && werr == nil {
		_, werr = w.bw.WriteString("\r\n")
	}
	if w.remain >= 0 {
		w.remain -= int64(n)
	}
	if werr != nil {
		w.err = werr
		return n, werr
	}
	return n, err
}

// copyBufs are ReadFrom's buffers: goproxy copies every body with
// io.Copy, which would otherwise allocate 32 KiB per response.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (w *decryptedWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{w}, r, *bp)
}

func (w *decryptedWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// Hijack hands the connection over (goproxy does so for websockets)
// after sending what was written so far.
func (w *decryptedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if err := w.bw.Flush(); err != nil {
		return nil, nil, err
	}
	w.c.hijacked = true
	w.c.SetDeadline(time.Time{})
	return w.c.Conn, bufio.NewReadWriter(w.br, w.bw), nil
}

// finish ends the response: the head if none was written (Content-Length
// 0), the last chunk and trailers, and a flush. An error means the
// response is incomplete and the connection must close.
func (w *decryptedWriter) finish() error {
	if w.status == 0 {
		if _, ok := w.header["Content-Length"]; !ok && w.req.Method != http.MethodHead {
			w.header["Content-Length"] = []string{"0"}
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked && w.err == nil {
		w.bw.WriteString("0\r\n")
		trailer := http.Header{}
		for _, k := range w.trailers {
			if v, ok := w.header[k]; ok {
				trailer[k] = v
			}
		}
		for k, v := range w.header {
			if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
				trailer[http.CanonicalHeaderKey(name)] = v
			}
		}
		trailer.Write(w.bw)
		w.bw.WriteString("\r\n")
	}
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err == nil && w.remain > 0 {
		w.err = fmt.Errorf("response body ended %d bytes short of its Content-Length", w.remain)
	}
	return w.err
}

// requestBody is a request's body as the handler sees it. It sends "100
// Continue" before the first read when the client asked for it (unless
// the response head went out first), and it stays readable after the
// handler closed it (the transport does), so that what is left can be
// drained to keep the connection.
type requestBody struct {
	rc     io.ReadCloser
	expect *decryptedWriter // set when the client expects 100 Continue

	mu        sync.Mutex // reads may come from the transport's goroutine
	read      bool       // Read was called
	continued bool       // 100 Continue was sent
	eof       bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.expect; w != nil && !b.read {
		w.mu.Lock()
		if w.status == 0 {
			w.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			w.bw.Flush()
			b.continued = true
		}
		w.mu.Unlock()
	}
	b.read = true
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *requestBody) Close() error { return nil }

// drain reads and drops what the handler left of the body, up to
// maxDrainBytes, and reports whether the connection can be reused.
func (b *requestBody) drain() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.eof {
		return true
	}
	if b.expect != nil && !b.continued {
		return false // the client may or may not send the body now
	}
	n, err := io.CopyN(io.Discard, b.rc, maxDrainBytes+1)
	return err == io.EOF && n <= maxDrainBytes
}

// connTracker knows the decrypted connections being served, so that a
// shutdown can wait for requests in flight and close idle connections.
type connTracker struct {
	mu    sync.Mutex
	conns map[*decryptedConn]bool // true while a request is served
	stop  atomic.Bool             // set under mu; read without it by closing
}

func (t *connTracker) add(c *decryptedConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop.Load() {
		return false
	}
	if t.conns == nil {
		t.conns = map[*decryptedConn]bool{}
	}
	t.conns[c] = false
	return true
}

func (t *connTracker) remove(c *decryptedConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// setBusy marks c serving a request or idle; marking it busy fails once
// shutdown began.
func (t *connTracker) setBusy(c *decryptedConn, busy bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if busy && t.stop.Load() {
		return false
	}
	t.conns[c] = busy
	return true
}

func (t *connTracker) closing() bool { return t.stop.Load() }

// shutdown refuses new requests, closes idle connections, and waits for
// the busy ones to finish their request until ctx ends; then it closes
// those too.
func (t *connTracker) shutdown(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		t.mu.Lock()
		t.stop.Store(true)
		busy := 0
		for c, b := range t.conns {
			if b {
				busy++
			} else {
				c.Close()
			}
		}
		t.mu.Unlock()
		if busy == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.closeAll()
			return
		case <-tick.C:
		}
	}
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stop.Store(true)
	for c := range t.conns {
		c.Close()
	}
}
