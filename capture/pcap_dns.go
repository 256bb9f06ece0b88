package capture

import (
	"net/url"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"

	"github.com/trackaudit/trackaudit/traffic"
)

// dnsWindow is how long a lookup of one name by one client counts as a
// repeat. Browsers ask for A and AAAA at once and both answers come back:
// four packets, one contact.
const dnsWindow = time.Minute

// The SVCB and HTTPS record types (RFC 9460 §14.1), which gopacket does
// not name.
const (
	dnsTypeSVCB  layers.DNSType = 64
	dnsTypeHTTPS layers.DNSType = 65
)

// dnsKey identifies a lookup for deduplication.
type dnsKey struct{ client, name string }

// dnsTracker decodes DNS packets and remembers recent lookups and the
// aliases (CNAME records) answers gave.
type dnsTracker struct {
	dns     layers.DNS
	seen    map[dnsKey]time.Time
	aliases map[string]string // name → the name it is an alias of
}

func (d *dnsTracker) init() { d.seen, d.aliases = map[dnsKey]time.Time{}, map[string]string{} }

// maxAliases bounds the CNAME records remembered; past it they start over.
const maxAliases = 1 << 14

// learnAlias remembers that name is an alias of target (a CNAME record).
func (d *dnsTracker) learnAlias(name, target []byte) {
	n, ok := validHostName(trimDot(name))
	t, ok2 := validHostName(trimDot(target))
	if !ok || !ok2 || n == t {
		return
	}
	if len(d.aliases) >= maxAliases {
		clear(d.aliases)
	}
	d.aliases[n] = t
}

// canonical is the name host is an alias of, its chain of CNAME records
// followed (at most 8 links, so a loop ends), or "" when the capture's
// DNS answers made it no alias.
func (d *dnsTracker) canonical(host string) string {
	t, ok := d.aliases[host]
	for i := 0; ok && i < 8; i++ {
		var next string
		if next, ok = d.aliases[t]; ok {
			t = next
		}
	}
	return t
}

// dnsPacket turns the names in a DNS message on UDP port 53 into HostOnly
// records (see dnsMessage); it reports false for a datagram of another
// port. The client is the side that is not port 53.
func (pr *pcapReader) dnsPacket(p decodedPacket, ts time.Time) bool {
	u := p.udp
	var client string
	switch {
	case u.DstPort == 53:
		client = pr.hosts.client(p.netFlow.Src())
	case u.SrcPort == 53:
		client = pr.hosts.client(p.netFlow.Dst())
	default:
		return false
	}
	pr.dnsMessage(client, u.Payload, ts, 0, 0)
	return true
}

// dnsMessage turns the names in one DNS message into HostOnly records:
// every question, and in answers every CNAME target (a CNAME to a
// tracker's domain is how first-party "cloaked" trackers hide). stream and
// seq order the records as for emit. It reports whether msg decoded.
func (pr *pcapReader) dnsMessage(client string, msg []byte, ts time.Time, stream, seq int) bool {
	d := &pr.dns
	if err := d.dns.DecodeFromBytes(msg, gopacket.NilDecodeFeedback); err != nil {
		return false
	}
	for _, q := range d.dns.Questions {
		pr.dnsName(client, q.Name, ts, stream, seq)
	}
	if d.dns.QR {
		for _, a := range d.dns.Answers {
			switch a.Type {
			case layers.DNSTypeCNAME:
				d.learnAlias(a.Name, a.CNAME)
				pr.dnsName(client, a.CNAME, ts, stream, seq)
			case dnsTypeSVCB, dnsTypeHTTPS:
				pr.ech.learnHTTPSRecord(a.Data)
			}
		}
	}
	return true
}

// maxDNSTCPBuffer bounds what one direction of a DNS-over-TCP connection
// may hold while a message is incomplete: one message of the largest
// length its 2-byte prefix can give, and that prefix.
const maxDNSTCPBuffer = 2 + 0xffff

// dnsStream takes the in-order bytes of one direction of a DNS-over-TCP
// connection (RFC 1035 §4.2.2: each message is preceded by its length in
// two bytes) and decodes every complete message. A message that does not
// decode makes the connection opaque: its framing can no longer be
// trusted.
func (s *tcpStream) dnsStream(dir reassembly.TCPFlowDirection, data []byte) {
	buf := &s.dnsBuf[0]
	if dir != s.cliDir {
		buf = &s.dnsBuf[1]
	}
	b := data
	if len(*buf) > 0 {
		*buf = append(*buf, data...)
		b = *buf
	}
	for len(b) >= 2 {
		n := int(b[0])<<8 | int(b[1])
		if len(b) < 2+n {
			break
		}
		s.seq++
		if !s.pr.dnsMessage(s.clientAddr(), b[2:2+n], s.pr.packetTime(), s.idx, s.seq) {
			s.kind, s.dnsBuf = kindOpaque, [2][]byte{}
			return
		}
		b = b[2+n:]
	}
	// Keep the incomplete rest; copy it when it still points into data,
	// which reassembly reuses.
	*buf = append((*buf)[:0], b...)
	if len(*buf) > maxDNSTCPBuffer {
		s.kind, s.dnsBuf = kindOpaque, [2][]byte{}
	}
}

// dnsName emits one contact unless client looked name up within
// dnsWindow.
func (pr *pcapReader) dnsName(client string, raw []byte, ts time.Time, stream, seq int) {
	name, ok := validHostName(trimDot(raw))
	if !ok {
		return
	}
	d := &pr.dns
	k := dnsKey{client, name}
	if last, ok := d.seen[k]; ok && ts.Sub(last) < dnsWindow && ts.Sub(last) > -dnsWindow {
		return
	}
	if len(d.seen) >= 1<<14 {
		for k2, t := range d.seen {
			if ts.Sub(t) >= dnsWindow {
				delete(d.seen, k2)
			}
		}
		if len(d.seen) >= 1<<14 { // all recent: start over rather than grow
			clear(d.seen)
		}
	}
	d.seen[k] = ts
	pr.emit(&traffic.Exchange{
		Start:    ts,
		Client:   client,
		Request:  traffic.Request{URL: &url.URL{Scheme: "https", Host: name, Path: "/"}},
		HostOnly: true,
		Via:      "dns",
	}, stream, seq)
}

func trimDot(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '.' {
		return b[:n-1]
	}
	return b
}
