package quicread

// reader consumes a byte slice front to back. A read past the end marks the
// reader bad and returns zero values, so a parser checks ok once after a
// group of reads instead of after each one.
type reader struct {
	b   []byte
	bad bool
}

// ok reports whether every read so far stayed inside the input.
func (r *reader) ok() bool { return !r.bad }

// empty reports whether nothing is left to read.
func (r *reader) empty() bool { return len(r.b) == 0 }

// fail marks the reader bad and drops what is left.
func (r *reader) fail() {
	r.bad = true
	r.b = nil
}

// byte1 reads one byte.
func (r *reader) byte1() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// uint32be reads a 4-byte big-endian integer (the long header's version).
func (r *reader) uint32be() uint32 {
	b := r.bytes(4)
	if len(b) < 4 {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// bytes reads n bytes, aliasing the input.
func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// varint reads a variable-length integer (RFC 9000 §16): the two high bits
// of the first byte give its length, 1, 2, 4 or 8 bytes.
func (r *reader) varint() uint64 {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	n := 1 << (r.b[0] >> 6)
	if len(r.b) < n {
		r.fail()
		return 0
	}
	v := uint64(r.b[0] & 0x3f)
	for _, c := range r.b[1:n] {
		v = v<<8 | uint64(c)
	}
	r.b = r.b[n:]
	return v
}

// maxVarint is the largest value a variable-length integer holds, and so
// the largest stream offset and packet number (RFC 9000 §16, §12.3).
const maxVarint = 1<<62 - 1

// decodePacketNumber recovers a full packet number from its truncated
// encoding of bits bits, given the largest packet number received so far
// in its space (-1 when none), as in RFC 9000 Appendix A.3.
func decodePacketNumber(largest int64, truncated uint64, bits uint) uint64 {
	expected := largest + 1
	win := int64(1) << bits
	hwin := win / 2
	candidate := expected&^(win-1) | int64(truncated)
	switch {
	case candidate <= expected-hwin && candidate < 1<<62-win:
		return uint64(candidate + win)
	case candidate > expected+hwin && candidate >= win:
		return uint64(candidate - win)
	}
	return uint64(candidate)
}
