package h3parse

import (
	"errors"

	"golang.org/x/net/http2/hpack"
)

// errShort reports that an instruction or representation continues past
// the bytes at hand. It never leaves the package.
var errShort = errors.New("truncated")

// maxPrefixIntBytes bounds the continuation bytes of a prefixed integer:
// QPACK integers fit 62 bits (RFC 9204 §4.1.1), so 9 bytes of 7 bits
// after the prefix cover every valid value.
const maxPrefixIntBytes = 9

// readPrefixInt decodes an integer with an n-bit prefix (RFC 7541 §5.1,
// as RFC 9204 §4.1.1 uses it) from the start of p; the bits of p[0] above
// the prefix belong to the caller. It returns errShort when p ends first.
func readPrefixInt(p []byte, n uint8) (v uint64, used int, err error) {
	if len(p) == 0 {
		return 0, 0, errShort
	}
	mask := uint64(1)<<n - 1
	v = uint64(p[0]) & mask
	if v < mask {
		return v, 1, nil
	}
	for i := 1; ; i++ {
		if i > maxPrefixIntBytes {
			return 0, 0, protocolErr("prefixed integer longer than %d bytes", maxPrefixIntBytes+1)
		}
		if i >= len(p) {
			return 0, 0, errShort
		}
		b := p[i]
		v += uint64(b&0x7f) << (7 * (i - 1))
		if v > maxVarint {
			return 0, 0, protocolErr("prefixed integer above 2^62") // §4.1.1
		}
		if b&0x80 == 0 {
			return v, i + 1, nil
		}
	}
}

// stringEnd returns the end of the string literal (RFC 7541 §5.2,
// RFC 9204 §4.1.2) at the start of p without decoding it, or errShort when
// p ends first. The Huffman flag is the bit just above the n-bit length
// prefix of p[0]. A string that would decode to more than maxLen bytes is
// refused before it is buffered: raw strings by their length, Huffman
// strings by a quarter of it (codes are at most 30 bits, RFC 7541
// Appendix B).
func stringEnd(p []byte, n uint8, maxLen int) (end int, err error) {
	if len(p) == 0 {
		return 0, errShort
	}
	length, used, err := readPrefixInt(p, n)
	if err != nil {
		return 0, err
	}
	limit := uint64(maxLen)
	if p[0]&(1<<n) != 0 {
		limit = 4*limit + 4
	}
	if length > limit {
		return 0, limitErr("string literal of %d bytes", length)
	}
	end = used + int(length)
	if end > len(p) {
		return 0, errShort
	}
	return end, nil
}

// readString decodes the string literal at the start of p, as stringEnd
// finds it.
func readString(p []byte, n uint8, maxLen int) (s string, used int, err error) {
	end, err := stringEnd(p, n, maxLen)
	if err != nil {
		return "", 0, err
	}
	_, start, _ := readPrefixInt(p, n)
	if p[0]&(1<<n) == 0 {
		return string(p[start:end]), end, nil
	}
	s, err = hpack.HuffmanDecodeToString(p[start:end])
	if err != nil {
		return "", 0, protocolErr("huffman: %v", err) // RFC 7541 §5.2
	}
	return s, end, nil
}
