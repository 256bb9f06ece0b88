package h3parse

// maxVarint is the largest value of a QUIC variable-length integer
// (RFC 9000 §16).
const maxVarint = 1<<62 - 1

// varintLen is the encoded length of a QUIC varint whose first byte is b:
// its two most significant bits are the base-2 logarithm of the length
// (RFC 9000 §16).
func varintLen(b byte) int { return 1 << (b >> 6) }

// parseVarint decodes the QUIC varint at the start of p; n is 0 when p
// holds only part of it.
func parseVarint(p []byte) (v uint64, n int) {
	if len(p) == 0 || len(p) < varintLen(p[0]) {
		return 0, 0
	}
	n = varintLen(p[0])
	v = uint64(p[0] & 0x3f)
	for _, b := range p[1:n] {
		v = v<<8 | uint64(b)
	}
	return v, n
}

// varintReader assembles a QUIC varint from bytes that arrive in pieces.
type varintReader struct {
	buf [8]byte
	n   int // bytes of buf filled
}

// feed takes the bytes of the varint from the start of p and reports how
// many it used and whether the varint is complete; then value returns it.
func (r *varintReader) feed(p []byte) (used int, done bool) {
	if len(p) == 0 {
		return 0, false
	}
	if r.n == 0 {
		r.buf[0] = p[0]
		r.n, used = 1, 1
	}
	want := varintLen(r.buf[0])
	k := copy(r.buf[r.n:want], p[used:])
	r.n += k
	return used + k, r.n == want
}

// started reports that some bytes of the varint have been fed.
func (r *varintReader) started() bool { return r.n > 0 }

// value returns the completed varint and resets the reader.
func (r *varintReader) value() uint64 {
	v, _ := parseVarint(r.buf[:r.n])
	r.n = 0
	return v
}
