package capture

import (
	"net/url"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/trackaudit/trackaudit/traffic"
)

// dnsWindow is how long a lookup of one name by one client counts as a
// repeat. Browsers ask for A and AAAA at once and both answers come back:
// four packets, one contact.
const dnsWindow = time.Minute

// dnsKey identifies a lookup for deduplication.
type dnsKey struct{ client, name string }

// dnsTracker decodes DNS packets and remembers recent lookups.
type dnsTracker struct {
	dns  layers.DNS
	seen map[dnsKey]time.Time
}

func (d *dnsTracker) init() { d.seen = map[dnsKey]time.Time{} }

// dnsPacket turns the names in a DNS message on UDP port 53 into HostOnly
// records: every question, and in answers every CNAME target (a CNAME to
// a tracker's domain is how first-party "cloaked" trackers hide). The
// client is the side that is not port 53.
func (pr *pcapReader) dnsPacket(p decodedPacket, ts time.Time) {
	u := p.udp
	var client string
	switch {
	case u.DstPort == 53:
		client = p.netFlow.Src().String()
	case u.SrcPort == 53:
		client = p.netFlow.Dst().String()
	default:
		return
	}
	d := &pr.dns
	if err := d.dns.DecodeFromBytes(u.Payload, gopacket.NilDecodeFeedback); err != nil {
		return
	}
	for _, q := range d.dns.Questions {
		pr.dnsName(client, q.Name, ts)
	}
	if d.dns.QR {
		for _, a := range d.dns.Answers {
			if a.Type == layers.DNSTypeCNAME {
				pr.dnsName(client, a.CNAME, ts)
			}
		}
	}
}

// dnsName emits one contact unless client looked name up within
// dnsWindow.
func (pr *pcapReader) dnsName(client string, raw []byte, ts time.Time) {
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
	}, 0, 0)
}

func trimDot(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '.' {
		return b[:n-1]
	}
	return b
}
