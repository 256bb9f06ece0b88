package quicread

// sampleLen is the size of the header protection sample (RFC 9001 §5.4.2).
const sampleLen = 16

// unprotected is a packet header with header protection removed.
type unprotected struct {
	header    []byte // the unprotected header up to the packet number: the AAD
	first     byte   // header[0]
	pnLen     int    // length of the packet number encoding, 1 to 4
	truncated uint64 // the packet number as encoded
}

// keyPhase is the Key Phase bit of a short header (RFC 9000 §17.3.1).
func (u *unprotected) keyPhase() bool { return u.first&0x04 != 0 }

// unmask removes header protection from pkt, whose packet number starts at
// pnOffset (RFC 9001 §5.4.1). The header is copied into buf (reused by the
// caller) and pkt is left as it is, so the caller can try other keys. The
// sample starts 4 bytes after the packet number offset whatever the packet
// number's length (§5.4.2); a packet too short for it fails.
func unmask(hp headerMasker, pkt []byte, pnOffset int, long bool, buf []byte) (unprotected, bool) {
	if pnOffset < 1 || len(pkt) < pnOffset+4+sampleLen {
		return unprotected{}, false
	}
	m := hp.mask(pkt[pnOffset+4 : pnOffset+4+sampleLen])
	first := pkt[0]
	if long {
		first ^= m[0] & 0x0f // reserved bits and packet number length
	} else {
		first ^= m[0] & 0x1f // also the key phase bit
	}
	pnLen := int(first&0x03) + 1
	hdr := append(buf[:0], pkt[:pnOffset+pnLen]...)
	hdr[0] = first
	var truncated uint64
	for i := 0; i < pnLen; i++ {
		hdr[pnOffset+i] ^= m[1+i]
		truncated = truncated<<8 | uint64(hdr[pnOffset+i])
	}
	return unprotected{header: hdr, first: first, pnLen: pnLen, truncated: truncated}, true
}

// openPayload authenticates and decrypts the payload that follows the
// unprotected header u in pkt, for packet number pn (RFC 9001 §5.3: the
// nonce is the IV xor the packet number, the AAD the unprotected header).
// The plaintext goes into dst's storage; ok is false when the packet does
// not authenticate.
func openPayload(k *keys, pkt []byte, u unprotected, pn uint64, dst []byte) ([]byte, bool) {
	var nonce [12]byte
	ct := pkt[len(u.header):]
	if len(ct) < k.aead.Overhead() {
		return nil, false
	}
	plain, err := k.aead.Open(dst[:0], k.nonce(&nonce, pn), ct, u.header)
	if err != nil {
		return nil, false
	}
	return plain, true
}

// pnCandidates lists the packet numbers to try for a truncated encoding:
// the RFC 9000 Appendix A.3 decoding first and, when reordered is set,
// the values one window below and above, for captures whose packets are
// further out of order than the sender allowed for. Authentication tells
// which one is right. The result lives in dst.
func pnCandidates(dst *[3]uint64, largest int64, u unprotected, reordered bool) []uint64 {
	bits := uint(8 * u.pnLen)
	pn := decodePacketNumber(largest, u.truncated, bits)
	out := append(dst[:0], pn)
	if !reordered {
		return out
	}
	win := uint64(1) << bits
	if pn >= win {
		out = append(out, pn-win)
	}
	if pn+win <= maxVarint {
		out = append(out, pn+win)
	}
	return out
}
