package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// recorder collects one exchange while its bodies stream through, and
// hands it to the proxy's OnExchange exactly once: when the response body
// has been read to its end or closed, or at once when there is no body to
// wait for (an upstream error, a websocket handshake).
type recorder struct {
	p     *Proxy
	alias string // the host whose DNS alias is looked up; "" for none
	ex    *traffic.Exchange
	req   *capture // request body copy
	resp  *capture // response body copy; nil until a response arrived
	once  sync.Once
}

func (p *Proxy) newRecorder(r *http.Request) *recorder {
	u := *r.URL
	if r.URL.User != nil {
		u.User = r.URL.User
	}
	client := r.RemoteAddr
	if h, _, err := net.SplitHostPort(client); err == nil {
		client = h
	}
	rec := &recorder{p: p, ex: &traffic.Exchange{
		ID:       p.nextID.Add(1),
		Source:   "proxy",
		Start:    time.Now(),
		Client:   client,
		Insecure: p.cfg.Insecure,
		Request: traffic.Request{
			Method: r.Method,
			URL:    &u,
			Proto:  r.Proto,
			Header: r.Header.Clone(),
		},
	}}
	if r.Body != nil && r.Body != http.NoBody {
		rec.req = newCapture(r.Body, p.cfg.BodyCap, nil)
		r.Body = rec.req
	}
	if rec.alias = p.aliasHost(&u); rec.alias != "" {
		p.cnames.start(rec.alias)
	}
	return rec
}

// aliasHost is u's host when the proxy looks up whether it is a DNS alias
// (Config.LookupCNAME); "" otherwise.
func (p *Proxy) aliasHost(u *url.URL) string {
	if p.cnames == nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// started calls OnRequest. A panic in it is logged, never passed on.
func (rec *recorder) started() {
	fn := rec.p.cfg.OnRequest
	if fn == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			rec.p.logf("proxy: OnRequest panicked on %s: %v\n%s", logURL(rec.ex.Request.URL), r, debug.Stack())
		}
	}()
	fn(rec.ex)
}

// response records resp and wraps its body so the exchange is emitted when
// the body ends.
//
// The record shares resp.Header rather than copying it (the copy was the
// largest allocation per exchange in the benchmark's profile): after the
// round trip nothing writes to it. goproxy only reads it (it deletes
// Content-Length only when a response handler replaced the body, and this
// proxy installs none), and the transport is done with it. The request's
// header, in contrast, is copied in newRecorder because goproxy removes
// proxy headers from it before sending it on.
func (rec *recorder) response(resp *http.Response) {
	rec.ex.Response = &traffic.Response{
		Status: resp.StatusCode,
		Proto:  resp.Proto,
		Header: resp.Header,
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		// A websocket's body is the live connection: record the handshake now.
		rec.emit()
		return
	}
	rec.resp = newCapture(resp.Body, rec.p.cfg.BodyCap, rec.emit)
	resp.Body = rec.resp
}

// fail records an upstream failure: Error, and an upstream-error finding.
func (rec *recorder) fail(err error) string {
	host := rec.ex.Request.URL.Host
	msg, tlsFail := describeUpstreamError(host, err)
	rec.ex.Error = msg
	sev := traffic.SeverityLow
	summary := "could not reach " + rec.ex.Host()
	if tlsFail {
		sev = traffic.SeverityHigh
		summary = "certificate of " + rec.ex.Host() + " failed verification; nothing was sent to it"
	}
	rec.ex.Findings = append(rec.ex.Findings, traffic.Finding{
		Kind:     traffic.KindUpstreamError,
		Severity: sev,
		Detector: "proxy",
		Summary:  summary,
		Evidence: []traffic.Evidence{{Where: "upstream", Label: "error", Value: msg}},
	})
	rec.emit()
	return msg
}

// emit finishes the record and calls OnExchange once. A panic in
// OnExchange is logged, never passed on.
func (rec *recorder) emit() {
	rec.once.Do(func() {
		ex := rec.ex
		if rec.req != nil {
			ex.Request.Body, ex.Request.BodyTruncated = rec.decoded(rec.req, ex.Request.Header)
		}
		if rec.resp != nil && ex.Response != nil {
			ex.Response.Body, ex.Response.BodyTruncated = rec.decoded(rec.resp, ex.Response.Header)
		}
		if rec.alias != "" {
			ex.CNAME = rec.p.cnames.known(rec.alias)
		}
		fn := rec.p.cfg.OnExchange
		if fn == nil {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				rec.p.logf("proxy: OnExchange panicked on %s: %v\n%s", logURL(ex.Request.URL), r, debug.Stack())
			}
		}()
		fn(ex)
	})
}

// decoded returns the captured copy with its Content-Encoding removed.
func (rec *recorder) decoded(c *capture, h http.Header) ([]byte, bool) {
	raw, truncated := c.snapshot()
	if raw == nil {
		return nil, truncated
	}
	enc := h.Get("Content-Encoding")
	if enc == "" {
		return raw, truncated
	}
	out, t, err := DecodeBody(enc, raw, rec.p.cfg.BodyCap)
	if err != nil && !truncated && rec.ex.Error == "" {
		rec.ex.Error = "decode body: " + err.Error()
	}
	return out, truncated || t
}

// describeUpstreamError turns a transport error into one line naming the
// host, and says whether it was a certificate verification failure.
func describeUpstreamError(host string, err error) (string, bool) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Sprintf("upstream TLS verification failed for %s: %v", host, unwrapURLError(err)), true
	case errors.Is(err, errLoop):
		return fmt.Sprintf("%s: %v", host, errLoop), false
	}
	return fmt.Sprintf("cannot reach %s: %v", host, unwrapURLError(err)), false
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// capture tees a body into a copy of at most max bytes while it streams
// through unbuffered. done, when not nil, runs once at EOF or Close.
type capture struct {
	rc   io.ReadCloser
	max  int
	done func()

	mu        sync.Mutex
	buf       []byte
	truncated bool // more than max bytes passed
	eof       bool
	frozen    bool // snapshot taken; later bytes are not kept
}

func newCapture(rc io.ReadCloser, max int, done func()) *capture {
	return &capture{rc: rc, max: max, done: done}
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.mu.Lock()
	if n > 0 && !c.frozen {
		room := c.max - len(c.buf)
		if room >= n {
			c.buf = append(c.buf, p[:n]...)
		} else {
			if room > 0 {
				c.buf = append(c.buf, p[:room]...)
			}
			c.truncated = true
		}
	}
	if err == io.EOF {
		c.eof = true
	}
	c.mu.Unlock()
	if err == io.EOF && c.done != nil {
		c.done()
	}
	return n, err
}

func (c *capture) Close() error {
	err := c.rc.Close()
	if c.done != nil {
		c.done()
	}
	return err
}

// snapshot returns the copy so far and whether it is incomplete (cut at
// the cap, or the body was not read to its end), and stops copying.
func (c *capture) snapshot() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = true
	return c.buf, c.truncated || (!c.eof && len(c.buf) > 0)
}
