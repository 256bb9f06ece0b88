package capture

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/gopacket/layers"
)

// IPv6 fragments are reassembled here: gopacket has ip4defrag but nothing
// for IPv6. Large DNS answers over IPv6 arrive fragmented (RFC 8200 §4.5).

// Bounds of the IPv6 reassembly state: datagrams waiting for fragments,
// and the largest datagram (IPv6's payload length field; no jumbograms).
const (
	maxIP6Pending  = 1024
	maxIP6Datagram = 0xffff
)

// ip6FragKey identifies the datagram a fragment belongs to (RFC 8200 §4.5:
// source, destination and Identification).
type ip6FragKey struct {
	src, dst [16]byte
	id       uint32
}

// ip6Datagram collects the fragments of one datagram.
type ip6Datagram struct {
	first  time.Time
	proto  layers.IPProtocol // from the fragment at offset 0
	total  int               // the datagram's length, -1 until its last fragment came
	pieces []ip6Piece
	size   int
	bad    bool // overlapping or inconsistent fragments: dropped when done (RFC 5722)
}

type ip6Piece struct {
	off  int
	data []byte
}

// ip6Defrag reassembles IPv6 datagrams from their fragments.
type ip6Defrag struct {
	pending map[ip6FragKey]*ip6Datagram
}

// add takes the fragment in ip (whose Payload starts with the Fragment
// header; the layer's byte slices point into the packet buffer and are
// copied) and returns the upper-layer protocol and payload of the whole
// datagram once every fragment came: decodeOK, decodeHeld while fragments
// are missing, decodeSkip for a malformed fragment or datagram.
func (d *ip6Defrag) add(ip *layers.IPv6, ts time.Time) (layers.IPProtocol, []byte, decodeResult) {
	b := ip.Payload
	if len(b) < 8 {
		return 0, nil, decodeSkip
	}
	next := layers.IPProtocol(b[0])
	field := binary.BigEndian.Uint16(b[2:])
	off, more := int(field&^7), field&1 == 1
	id := binary.BigEndian.Uint32(b[4:])
	data := b[8:]
	if off+len(data) > maxIP6Datagram || (more && len(data)%8 != 0) {
		return 0, nil, decodeSkip
	}
	if off == 0 && !more { // an atomic fragment (RFC 6946): nothing to wait for
		return next, data, decodeOK
	}
	var k ip6FragKey
	copy(k.src[:], ip.SrcIP.To16())
	copy(k.dst[:], ip.DstIP.To16())
	k.id = id
	if d.pending == nil {
		d.pending = map[ip6FragKey]*ip6Datagram{}
	}
	g := d.pending[k]
	if g == nil {
		if len(d.pending) >= maxIP6Pending {
			d.discardOlderThan(ts.Add(-ip6FragWait))
			if len(d.pending) >= maxIP6Pending {
				clear(d.pending)
			}
		}
		g = &ip6Datagram{first: ts, total: -1}
		d.pending[k] = g
	}
	if off == 0 {
		g.proto = next
	}
	if !more {
		if g.total >= 0 && g.total != off+len(data) {
			g.bad = true
		}
		g.total = off + len(data)
	}
	for _, p := range g.pieces {
		if p.off == off && string(p.data) == string(data) {
			// The same fragment twice, as `tcpdump -i any` records a
			// packet crossing a bridge and a device: keep one.
			return 0, nil, decodeHeld
		}
		if off < p.off+len(p.data) && p.off < off+len(data) {
			g.bad = true
		}
	}
	g.pieces = append(g.pieces, ip6Piece{off, slices.Clone(data)})
	g.size += len(data)
	if g.total < 0 || g.size < g.total {
		return 0, nil, decodeHeld
	}
	delete(d.pending, k)
	if g.bad || g.size != g.total {
		return 0, nil, decodeSkip
	}
	slices.SortFunc(g.pieces, func(a, b ip6Piece) int { return a.off - b.off })
	whole := make([]byte, 0, g.total)
	for _, p := range g.pieces {
		if p.off != len(whole) {
			return 0, nil, decodeSkip
		}
		whole = append(whole, p.data...)
	}
	return g.proto, whole, decodeOK
}

// ip6FragWait is how long a datagram may wait for its fragments (RFC 8200
// §4.5: 60 seconds).
const ip6FragWait = time.Minute

// discardOlderThan forgets datagrams whose first fragment came before t
// and returns how many it gave up.
func (d *ip6Defrag) discardOlderThan(t time.Time) int {
	n := 0
	for k, g := range d.pending {
		if g.first.Before(t) {
			delete(d.pending, k)
			n++
		}
	}
	return n
}
