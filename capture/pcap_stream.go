package capture

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"

	"github.com/trackaudit/trackaudit/traffic"
)

// streamFactory makes one tcpStream per TCP connection.
type streamFactory struct{ pr *pcapReader }

func (f *streamFactory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	f.pr.streams++
	return &tcpStream{
		pr:      f.pr,
		idx:     f.pr.streams,
		netFlow: netFlow,
		tcpFlow: tcpFlow,
		req:     httpParser{},
		res:     httpParser{resp: true},
	}
}

// streamKind is what a connection turned out to carry.
type streamKind uint8

const (
	kindUnknown streamKind = iota // no payload yet
	kindHTTP                      // plaintext HTTP/1.x
	kindTLS                       // TLS, until the ClientHello is read
	kindDNS                       // DNS over TCP (port 53)
	kindOpaque                    // nothing more to learn: ignore its bytes
)

// maxPending bounds the requests of one connection waiting for their
// responses (a capture that holds only one direction); beyond it the
// oldest is handed over without a response.
const maxPending = 64

// tcpStream follows one TCP connection. Its kind is decided by the first
// payload bytes, not by port: a request line makes it HTTP (that side is
// the client), a TLS handshake record makes it TLS.
type tcpStream struct {
	pr               *pcapReader
	idx              int
	netFlow, tcpFlow gopacket.Flow // as first seen: reassembly's client-to-server direction

	kind   streamKind
	cliDir reassembly.TCPFlowDirection // the client's direction, once kind is known

	req, res httpParser
	pending  []*exchangeBlock
	tlsBuf   []byte
	dnsBuf   [2][]byte // incomplete DNS messages: from the client, to it
	seq      int       // records made, ordering them within a flush
	client   string    // the client's address, once asked for

	// tls follows a TLS connection the key log may decrypt; nil when
	// there is no key log or the connection is no longer followed.
	// tlsScheme says its HTTP is "https".
	tls       *tlsFollow
	tlsScheme bool
}

// Accept takes every packet except the payload of connections with
// nothing more to learn; FIN and RST still pass so that they close. A
// connection whose handshake was not captured starts at the first segment
// that begins an HTTP message or a TLS record; earlier segments wait for
// the idle flush.
func (s *tcpStream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	if s.kind == kindOpaque && !tcp.FIN && !tcp.RST {
		return false
	}
	if !*start && nextSeq == -1 && !tcp.SYN && len(tcp.Payload) > 0 {
		b := tcp.Payload
		if looksLikeRequest(b) || looksLikeResponse(b) || looksLikeTLSRecord(b) {
			*start = true
		}
	}
	return true
}

// ReassembledSG receives the next in-order bytes of one direction.
func (s *tcpStream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	n, _ := sg.Lengths()
	if s.kind == kindOpaque {
		return
	}
	if skip != 0 {
		s.gap(dir, skip)
	}
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	if s.kind == kindUnknown {
		s.classify(dir, data)
	}
	switch s.kind {
	case kindHTTP:
		if dir == s.cliDir {
			s.req.feed(s, data)
		} else {
			s.res.feed(s, data)
		}
	case kindTLS:
		if s.tls != nil {
			s.decrypt(dir, data)
		} else if dir == s.cliDir {
			s.clientHello(data)
		}
	case kindDNS:
		s.dnsStream(dir, data)
	}
}

// classify decides the connection's kind from its first payload; only
// DNS, whose messages have no recognisable first bytes, goes by its port.
func (s *tcpStream) classify(dir reassembly.TCPFlowDirection, data []byte) {
	s.client = ""
	switch {
	case flowPort(s.tcpFlow.Dst()) == 53:
		s.kind, s.cliDir = kindDNS, reassembly.TCPDirClientToServer
	case flowPort(s.tcpFlow.Src()) == 53:
		s.kind, s.cliDir = kindDNS, reassembly.TCPDirServerToClient
	case looksLikeRequest(data):
		s.kind, s.cliDir = kindHTTP, dir
	case looksLikeResponse(data):
		s.kind, s.cliDir = kindHTTP, dir.Reverse()
	case looksLikeTLSHandshake(data) && data[5] == 1: // ClientHello
		s.kind, s.cliDir = kindTLS, dir
		if s.pr.keyLog != nil {
			s.tls = &tlsFollow{sess: s.pr.keyLog.NewSession()}
			s.tlsScheme = true
		}
	case looksLikeTLSHandshake(data) && data[5] == 2: // ServerHello came first
		s.kind, s.cliDir = kindTLS, dir.Reverse()
	case looksLikeTLSRecord(data):
		// Encrypted records first: the connection began before the
		// capture, and neither its server name nor its keys' client
		// random are in it.
		s.kind = kindOpaque
		s.pr.tlsMidstream++
	default:
		s.kind = kindOpaque
	}
}

// gap tells the parsers that bytes are missing from the capture.
func (s *tcpStream) gap(dir reassembly.TCPFlowDirection, skip int) {
	switch s.kind {
	case kindHTTP:
		if dir == s.cliDir {
			s.req.gap(s, skip)
		} else {
			s.res.gap(s, skip)
		}
	case kindTLS:
		// Ciphertext with a hole cannot be decrypted on: records are
		// numbered and their boundaries are lost.
		s.endDecrypt("bytes missing from the capture")
		if dir == s.cliDir {
			s.kind, s.tlsBuf = kindOpaque, nil
		}
	case kindDNS:
		s.kind, s.dnsBuf = kindOpaque, [2][]byte{}
	}
}

// clientHello gathers the client's first bytes until the ClientHello is
// complete and emits its server name.
func (s *tcpStream) clientHello(data []byte) {
	first := len(s.tlsBuf) == 0
	buf := data
	if !first {
		s.tlsBuf = append(s.tlsBuf, data...)
		buf = s.tlsBuf
	}
	name, res := parseClientHelloSNI(buf)
	switch res {
	case sniNeedMore:
		if len(buf) > maxClientHello {
			s.kind, s.tlsBuf = kindOpaque, nil
			return
		}
		if first {
			s.tlsBuf = append(make([]byte, 0, 2048), data...)
		}
		return
	case sniFound:
		t := s.pr.now
		if first {
			t = s.pr.packetTime()
		}
		s.contact(name, t)
	}
	s.kind, s.tlsBuf = kindOpaque, nil
}

// contact hands over a TLS contact record for the server name name.
func (s *tcpStream) contact(name string, t time.Time) {
	host := name
	if port := s.serverPort(); port != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if t.IsZero() {
		t = s.pr.packetTime()
	}
	s.seq++
	s.pr.emit(&traffic.Exchange{
		Start:    t,
		Client:   s.clientAddr(),
		Request:  traffic.Request{URL: &url.URL{Scheme: "https", Host: host, Path: "/"}},
		HostOnly: true,
		Via:      s.pr.ech.via("tls", name),
	}, s.idx, s.seq)
}

// serverHost is the server's address as a URL host, with its port when
// it is not the scheme's default.
func (s *tcpStream) serverHost() string {
	def := 80
	if s.tlsScheme {
		def = 443
	}
	return hostPort(s.endpoint(s.cliDir.Reverse()), s.serverPort(), def)
}

// hostPort is host with port appended unless it is def; IPv6 addresses
// are bracketed.
func hostPort(host string, port, def int) string {
	if port != def {
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "[" + host + "]"
	}
	return host
}

// endpoint returns the IP address of the side sending in direction dir.
func (s *tcpStream) endpoint(dir reassembly.TCPFlowDirection) string {
	if dir == reassembly.TCPDirClientToServer {
		return s.netFlow.Src().String()
	}
	return s.netFlow.Dst().String()
}

// clientAddr returns the client's name (hostTracker.client), found once
// per connection rather than once per request.
func (s *tcpStream) clientAddr() string {
	if s.client == "" {
		ep := s.netFlow.Dst()
		if s.cliDir == reassembly.TCPDirClientToServer {
			ep = s.netFlow.Src()
		}
		s.client = s.pr.hosts.client(ep)
	}
	return s.client
}

// serverPort returns the TCP port of the side that is not the client.
func (s *tcpStream) serverPort() int {
	if s.cliDir != reassembly.TCPDirClientToServer {
		return flowPort(s.tcpFlow.Src())
	}
	return flowPort(s.tcpFlow.Dst())
}

// flowPort returns the TCP port ep holds; 0 when it holds none.
func flowPort(ep gopacket.Endpoint) int {
	b := ep.Raw()
	if len(b) != 2 {
		return 0
	}
	return int(b[0])<<8 | int(b[1])
}

// exchangeBlock is one allocation for an HTTP exchange, its response
// and its URL, instead of three. The whole block is handed over with the
// exchange (ex.Response and ex.Request.URL point into it) and never
// touched by the reader afterwards.
type exchangeBlock struct {
	ex  traffic.Exchange
	res traffic.Response
	url url.URL
}

// pendingMethod is the method of the oldest request awaiting a response.
func (s *tcpStream) pendingMethod() string {
	if len(s.pending) == 0 {
		return ""
	}
	return s.pending[0].ex.Request.Method
}

// onRequest records a finished request; it waits for its response.
// h is only borrowed: nothing of it but its strings, URL and Header is
// kept.
func (s *tcpStream) onRequest(h *httpHead, body []byte, trunc bool, start time.Time) {
	b := &exchangeBlock{}
	u := &b.url
	if h.URL != nil {
		*u = *h.URL // h.URL may point to the parser's scratch
	} else {
		u.Path = "/"
	}
	if u.Host == "" {
		u.Host = h.Host
	}
	if u.Host == "" { // HTTP/1.0 without Host: the server's address
		u.Host = s.serverHost()
	}
	if u.Scheme == "" {
		u.Scheme = "http"
		if s.tlsScheme {
			u.Scheme = "https"
		}
	}
	// Field by field: b is fresh and zero, and copying a whole literal
	// into the heap costs a write-barrier pass over every word while
	// the GC runs.
	ex := &b.ex
	ex.Start = start
	ex.Client = s.clientAddr()
	ex.Request.Method, ex.Request.URL, ex.Request.Proto, ex.Request.Header = h.Method, u, h.Proto, h.Header
	ex.Request.Body, ex.Request.BodyTruncated = body, trunc
	if enc := contentEncoding(h, body); enc != "" {
		b, t, err := decodeContent(enc, body, trunc)
		ex.Request.Body, ex.Request.BodyTruncated = b, t
		if err != nil {
			ex.Error = "request " + err.Error()
		}
	}
	s.pending = append(s.pending, b)
	if len(s.pending) > maxPending {
		s.send(&s.popPending().ex)
	}
}

// popPending removes and returns the oldest pending request. The queue
// is shifted rather than resliced so that its array is reused for the
// connection's life (it is short: usually one request).
func (s *tcpStream) popPending() *exchangeBlock {
	b := s.pending[0]
	n := copy(s.pending, s.pending[1:])
	s.pending[n] = nil
	s.pending = s.pending[:n]
	return b
}

// onResponse pairs a finished response with the oldest pending request;
// h is only borrowed, as for onRequest.
func (s *tcpStream) onResponse(h *httpHead, body []byte, trunc bool) {
	if len(s.pending) == 0 {
		s.pr.orphanResponses++
		return
	}
	b := s.popPending()
	ex, r := &b.ex, &b.res
	r.Status, r.Proto, r.Header = h.Status, h.Proto, h.Header
	r.Body, r.BodyTruncated = body, trunc
	if enc := contentEncoding(h, body); enc != "" {
		b, t, err := decodeContent(enc, body, trunc)
		r.Body, r.BodyTruncated = b, t
		if err != nil && ex.Error == "" {
			ex.Error = "response " + err.Error()
		}
	}
	ex.Response = r
	s.send(ex)
	switch {
	case h.Status == http.StatusSwitchingProtocols:
		s.kind = kindOpaque // WebSocket or h2c from here on
	case ex.Request.Method == http.MethodConnect && h.Status/100 == 2:
		// A tunnel through a plaintext proxy: look at what it carries
		// (usually a TLS ClientHello naming the real server).
		s.emitPending()
		s.kind = kindUnknown
		s.req, s.res = httpParser{}, httpParser{resp: true}
	}
}

// contentEncoding is the message's Content-Encoding when it has a body
// to decode, else "". Header keys are canonical, so no Header.Get.
func contentEncoding(h *httpHead, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if vs := h.Header["Content-Encoding"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (s *tcpStream) send(ex *traffic.Exchange) {
	s.seq++
	s.pr.emit(ex, s.idx, s.seq)
}

func (s *tcpStream) emitPending() {
	for i, b := range s.pending {
		s.send(&b.ex)
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
}

// ReassemblyComplete ends the connection: messages delimited by the close
// are finished, requests without a response are handed over as they are.
func (s *tcpStream) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	if s.kind == kindHTTP {
		s.res.close(s)
		s.req.close(s)
	}
	s.endDecrypt("")
	s.emitPending()
	s.tlsBuf = nil
	return true
}
