package capture

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/gopacket/reassembly"

	"github.com/trackaudit/trackaudit/internal/h2parse"
	"github.com/trackaudit/trackaudit/internal/tlskeylog"
	"github.com/trackaudit/trackaudit/traffic"
)

// tlsFollow decrypts one TLS connection with the key log and parses the
// HTTP inside it. Until the first application data decrypts, the
// connection's TLS contact record (its server name) is held back: it is
// handed over instead of exchanges when the connection cannot be
// decrypted, and dropped when it can.
type tlsFollow struct {
	sess      *tlskeylog.Session
	start     time.Time // time of the client's first bytes (the ClientHello)
	decrypted bool      // application data came out
	proto     tlsProto
	h2        *h2parse.Conn
	// early holds server plaintext that came before the protocol was
	// known (an HTTP/2 server's SETTINGS may precede the client's
	// preface), at most maxEarly bytes.
	early []byte
}

type tlsProto uint8

const (
	protoUnknown tlsProto = iota
	protoHTTP1
	protoHTTP2
)

const maxEarly = 64 << 10

// decrypt feeds one direction's reassembled bytes of a TLS connection
// followed with the key log.
func (s *tcpStream) decrypt(dir reassembly.TCPFlowDirection, data []byte) {
	f := s.tls
	fromClient := dir == s.cliDir
	if f.start.IsZero() && fromClient {
		f.start = s.pr.packetTime()
	}
	plain := f.sess.Feed(fromClient, data)
	if len(plain) > 0 {
		if !f.decrypted {
			f.decrypted = true
			s.pr.st.Decrypted++
		}
		s.plaintext(fromClient, plain)
	}
	switch f.sess.State() {
	case tlskeylog.Handshake, tlskeylog.Decrypting:
	default:
		s.endDecrypt("")
	}
}

// endDecrypt stops following the connection: what was parsed is handed
// over, and a connection that never decrypted becomes a contact record.
// Why the connection was not decrypted, or not to its end, is counted
// for the warnings: why, or else the session's state when it stopped.
func (s *tcpStream) endDecrypt(why string) {
	f := s.tls
	if f == nil {
		return
	}
	s.tls = nil
	s.kind = kindOpaque
	st := f.sess.End()
	if why == "" && st != tlskeylog.Decrypting && st != tlskeylog.NotTLS {
		why = st.String()
	}
	if f.decrypted {
		if why != "" {
			s.pr.tlsStopped[why]++
		}
		s.closeHTTP(f)
		return
	}
	if why != "" {
		s.pr.tlsUndecrypted[why]++
	}
	if name := f.sess.Info().ServerName; name != "" {
		if v, ok := validHostName([]byte(name)); ok {
			s.contact(v, f.start)
		}
	}
}

// closeHTTP finishes the messages of a decrypted connection.
func (s *tcpStream) closeHTTP(f *tlsFollow) {
	switch f.proto {
	case protoHTTP1:
		s.res.close(s)
		s.req.close(s)
	case protoHTTP2:
		for _, st := range f.h2.Close() {
			s.h2Exchange(st)
		}
		if err := f.h2.Err(); err != nil {
			s.pr.h2Errors++
		}
	}
}

// plaintext routes decrypted application data to the HTTP/1.x parsers or
// the HTTP/2 one, deciding which from the first bytes (or ALPN).
func (s *tcpStream) plaintext(fromClient bool, data []byte) {
	f := s.tls
	if f.proto == protoUnknown {
		switch alpn := f.sess.Info().ALPN; {
		case alpn == "h2":
			f.proto = protoHTTP2
		case alpn == "http/1.1", alpn == "http/1.0":
			f.proto = protoHTTP1
		case fromClient && bytes.HasPrefix(data, []byte(h2parse.ClientPreface[:min(len(data), len(h2parse.ClientPreface))])):
			f.proto = protoHTTP2
		case fromClient && looksLikeRequest(data), !fromClient && looksLikeResponse(data):
			f.proto = protoHTTP1
		case !fromClient && len(f.early)+len(data) <= maxEarly:
			f.early = append(f.early, data...)
			return
		default: // not HTTP: nothing to show, and no contact either
			s.endDecrypt("")
			return
		}
		if f.proto == protoHTTP2 {
			f.h2 = h2parse.NewConn(traffic.BodyCap)
		}
		if early := f.early; len(early) > 0 {
			f.early = nil
			s.plaintext(false, early)
		}
	}
	switch f.proto {
	case protoHTTP1:
		if fromClient {
			s.req.feed(s, data)
		} else {
			s.res.feed(s, data)
		}
	case protoHTTP2:
		for _, st := range f.h2.Feed(fromClient, data, s.pr.packetTime()) {
			s.h2Exchange(st)
		}
		if f.h2.Err() != nil {
			s.endDecrypt("")
		}
	}
}

// h2Exchange turns one HTTP/2 stream into an exchange.
func (s *tcpStream) h2Exchange(st *h2parse.Stream) {
	reset := ""
	if st.Reset {
		reset = "stream reset by RST_STREAM before it completed"
	}
	s.send(streamExchange((*httpMessage)(&st.Request), (*httpMessage)(st.Response), reset, "HTTP/2.0", s.clientAddr(), s.serverHost()))
}

// httpMessage is one half of a decrypted HTTP/2 or HTTP/3 stream, as the
// passive parsers h2parse and h3parse give it: their Message types
// convert to it.
type httpMessage struct {
	Method, Scheme, Authority, Path string
	Status                          int
	Header, Trailer                 http.Header
	Body                            []byte
	Truncated                       bool
	Start, End                      time.Time
}

// streamExchange turns one HTTP/2 or HTTP/3 stream into an exchange: req
// and resp (nil when none was seen) are its two halves, reset the error
// when the stream was reset, proto the protocol version, client the
// client's address and server the server's host, for a request that names
// none.
func streamExchange(req, resp *httpMessage, reset, proto, client, server string) *traffic.Exchange {
	b := &exchangeBlock{}
	ex, u := &b.ex, &b.url
	if !parseOriginForm(req.Path, u) {
		p, err := url.ParseRequestURI(req.Path)
		if err != nil {
			p = &url.URL{Path: "/"}
			ex.Error = "request :path " + strconv.Quote(req.Path) + " is not a valid request target"
		}
		*u = *p
	}
	u.Scheme = req.Scheme
	if u.Scheme == "" {
		u.Scheme = "https"
	}
	u.Host = req.Authority
	if u.Host == "" {
		u.Host = req.Header.Get("Host")
	}
	if u.Host == "" {
		u.Host = server
	}
	ex.Start = req.Start
	ex.Client = client
	ex.Request = traffic.Request{Method: req.Method, URL: u, Proto: proto, Header: req.Header}
	ex.Request.Body, ex.Request.BodyTruncated = decodedBody(ex, "request ", req)
	if resp != nil {
		r := &b.res
		r.Status, r.Proto, r.Header = resp.Status, proto, resp.Header
		r.Body, r.BodyTruncated = decodedBody(ex, "response ", resp)
		ex.Response = r
	}
	if reset != "" && ex.Error == "" {
		ex.Error = reset
	}
	return ex
}

// decodedBody returns m's body with its content coding removed; a coding
// that cannot be removed is noted in ex.Error.
func decodedBody(ex *traffic.Exchange, which string, m *httpMessage) ([]byte, bool) {
	var body []byte
	if len(m.Body) > 0 {
		body = m.Body
	}
	enc := m.Header.Get("Content-Encoding")
	if enc == "" || len(body) == 0 {
		return body, m.Truncated
	}
	out, trunc, err := decodeContent(enc, body, m.Truncated)
	if err != nil && ex.Error == "" {
		ex.Error = which + err.Error()
	}
	return out, trunc
}
