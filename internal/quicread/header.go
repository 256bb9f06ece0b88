package quicread

// version1 is QUIC version 1 (RFC 9000 §15), version2 QUIC version 2
// (RFC 9369 §3.1), which differs in the packet protection's constants
// and in the long header's type bits.
const (
	version1 = 0x00000001
	version2 = 0x6b3343cf
)

// maxCIDLen is the longest connection ID QUIC version 1 allows (RFC 9000
// §17.2).
const maxCIDLen = 20

// Long header packet types of version 1 (RFC 9000 §17.2, Table 5).
const (
	typeInitial   = 0
	typeZeroRTT   = 1
	typeHandshake = 2
	typeRetry     = 3
)

// longHeader is the part of a long header that is not protected: all but
// the reserved bits, the packet number length and the packet number.
type longHeader struct {
	version  uint32
	typ      byte // one of the type constants; meaningful for version 1
	dcid     []byte
	scid     []byte
	pnOffset int // where the packet number starts in the packet
	size     int // the whole packet's length; the rest of the datagram follows
}

// isLong reports a long header: the Header Form bit (RFC 9000 §17.2).
func isLong(first byte) bool { return first&0x80 != 0 }

// parseLong reads the long header at the start of b (RFC 9000 §17.2).
//
// For a Version Negotiation packet (version 0, §17.2.1) and for versions
// other than 1 and 2, whose layout past the connection IDs is not known, size is
// the rest of the datagram. For Retry (§17.2.5), which has no Length
// field, it is the rest of the datagram too. For Initial, 0-RTT and
// Handshake packets the Length field gives where the packet ends
// (§17.2.2-4), which lets the caller step over packets it does not
// decrypt in a coalesced datagram (§12.2). ok is false for a truncated
// header, connection IDs longer than version 1 allows, or a Length beyond
// the datagram.
func parseLong(b []byte) (h longHeader, ok bool) {
	r := reader{b: b}
	first := r.byte1()
	h.version = r.uint32be()
	dcidLen := r.byte1()
	h.dcid = r.bytes(uint64(dcidLen))
	scidLen := r.byte1()
	h.scid = r.bytes(uint64(scidLen))
	if !r.ok() {
		return h, false
	}
	if h.version != version1 && h.version != version2 {
		// The connection ID lengths are only bounded in version 1
		// (§17.2.1: Version Negotiation carries up to 255 bytes).
		h.size = len(b)
		return h, true
	}
	if dcidLen > maxCIDLen || scidLen > maxCIDLen {
		return h, false
	}
	h.typ = first >> 4 & 0x03
	if h.version == version2 {
		// Version 2 numbers the types one up: Initial 1, 0-RTT 2,
		// Handshake 3, Retry 0 (RFC 9369 §3.2).
		h.typ = (h.typ + 3) & 0x03
	}
	switch h.typ {
	case typeRetry:
		h.size = len(b)
		return h, true
	case typeInitial:
		r.bytes(r.varint()) // token (§17.2.2)
	}
	length := r.varint()
	if !r.ok() || length > uint64(len(r.b)) {
		return h, false
	}
	h.pnOffset = len(b) - len(r.b)
	h.size = h.pnOffset + int(length)
	return h, true
}
