package tlskeylog

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// Record content types (RFC 8446 §5.1, RFC 5246 §6.2.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
	recordHeartbeat        = 24 // RFC 6520; never decrypted for its content
)

const (
	// recordHeaderLen is type(1) legacy_record_version(2) length(2)
	// (RFC 8446 §5.1).
	recordHeaderLen = 5
	// maxRecordBody bounds a record's length field: TLS 1.0 to 1.2 allow
	// 2^14 + 2048 bytes of ciphertext (RFC 5246 §6.2.3, RFC 2246 §6.2.3),
	// TLS 1.3 2^14 + 256 (RFC 8446 §5.2). AEAD records add only 24 bytes
	// to at most 2^14 of plaintext, but a CBC record adds an IV, a MAC of
	// up to 48 bytes and up to 256 bytes of padding (RFC 5246 §6.2.3.2),
	// so the larger bound is the one that holds for everything we read.
	maxRecordBody = 1<<14 + 2048
)

// halfConn is one direction of the connection: its record framing,
// handshake message reassembly and record protection.
type halfConn struct {
	fromClient bool
	seen       bool   // a whole record has arrived
	buf        []byte // a record not yet complete, header first
	hs         hsBuffer

	cipher  opener // protects the records now; nil while they are plaintext
	pending opener // TLS 1.0 to 1.2: takes over at this direction's ChangeCipherSpec

	// TLS 1.3 only.
	secret    []byte // traffic secret of cipher, the base of a KeyUpdate
	appSecret []byte // application traffic secret, taken after Finished; nil once in use
	rekey     bool   // Finished or KeyUpdate ended the current record: change keys after it
	trials    int    // records still allowed to fail authentication before the first one passes
	searched  int    // records tried by Session.searchKeys
	opened    bool   // a record passed authentication
}

// validHeader returns the body length announced by a record header, or
// false when the header cannot start a TLS record here. The first record
// must be a handshake (ClientHello, ServerHello) or, from the server, an
// alert refusing the ClientHello.
func (h *halfConn) validHeader(hdr []byte) (int, bool) {
	typ, n := hdr[0], int(binary.BigEndian.Uint16(hdr[3:]))
	if typ < recordChangeCipherSpec || typ > recordHeartbeat || hdr[1] != 3 || hdr[2] > 4 || n > maxRecordBody {
		return 0, false
	}
	if !h.seen && typ != recordHandshake && (h.fromClient || typ != recordAlert) {
		return 0, false
	}
	return n, true
}

// next consumes data until one record is whole and returns it with the rest
// of data; rec is nil when data ran out first (the partial record is kept,
// bounded by maxRecordBody). A record lying whole in data is returned
// without copying; a buffered one is valid until the next call. ok is false
// when a header is not a TLS record header.
func (h *halfConn) next(data []byte) (rec, rest []byte, ok bool) {
	if len(h.buf) == 0 && len(data) >= recordHeaderLen {
		n, ok := h.validHeader(data)
		if !ok {
			return nil, nil, false
		}
		if len(data) >= recordHeaderLen+n {
			return data[:recordHeaderLen+n], data[recordHeaderLen+n:], true
		}
	}
	if len(h.buf) < recordHeaderLen {
		k := min(recordHeaderLen-len(h.buf), len(data))
		h.buf, data = append(h.buf, data[:k]...), data[k:]
		if len(h.buf) < recordHeaderLen {
			return nil, data, true
		}
	}
	n, ok := h.validHeader(h.buf)
	if !ok {
		return nil, nil, false
	}
	k := min(recordHeaderLen+n-len(h.buf), len(data))
	h.buf, data = append(h.buf, data[:k]...), data[k:]
	if len(h.buf) < recordHeaderLen+n {
		return nil, data, true
	}
	rec, h.buf = h.buf, h.buf[:0]
	return rec, data, true
}

// opener removes the protection of one direction's records: an AEAD
// (recordCipher) or CBC encryption with an HMAC (cbcCipher). open decrypts
// rec (header included), appends the plaintext to dst and returns the
// result; on success the sequence number advances. On error (errAuth) dst
// keeps its length, but its spare capacity may have been written.
type opener interface {
	open(dst, rec []byte) ([]byte, error)
}

// recordCipher removes the AEAD protection of one direction's records.
type recordCipher struct {
	aead  cipher.AEAD
	tls12 bool
	// iv is XORed with the sequence number to make the nonce (TLS 1.3,
	// RFC 8446 §5.3; ChaCha20-Poly1305 in TLS 1.2, RFC 7905 §2), except for
	// AES-GCM and AES-CCM in TLS 1.2, where it is the 4-byte implicit salt
	// that precedes the record's 8-byte explicit nonce (RFC 5288 §3, RFC
	// 6655 §3).
	iv    []byte
	seq   uint64 // sequence number of the next record (RFC 5246 §6.1, RFC 8446 §5.3)
	nonce [12]byte
}

// explicitNonceLen is the per-record nonce carried by TLS 1.2 AES-GCM and
// AES-CCM records ahead of the ciphertext (RFC 5288 §3, RFC 6655 §3).
const explicitNonceLen = 8

var errAuth = errors.New("record failed authentication")

// open decrypts rec (header included), appends the plaintext to dst and
// returns the result; on success the sequence number advances. On error dst
// keeps its length, but its spare capacity may have been written.
func (c *recordCipher) open(dst, rec []byte) ([]byte, error) {
	hdr, body := rec[:recordHeaderLen], rec[recordHeaderLen:]
	var aad []byte
	var aadBuf [13]byte
	if c.tls12 && len(c.iv) == 4 {
		if len(body) < explicitNonceLen+c.aead.Overhead() {
			return dst, errAuth
		}
		copy(c.nonce[:4], c.iv)
		copy(c.nonce[4:], body[:explicitNonceLen])
		body = body[explicitNonceLen:]
	} else {
		copy(c.nonce[:], c.iv)
		for i := range 8 {
			c.nonce[4+i] ^= byte(c.seq >> (56 - 8*i))
		}
	}
	if c.tls12 {
		// additional_data = seq_num + TLSCompressed.type +
		// TLSCompressed.version + TLSCompressed.length (RFC 5246 §6.2.3.3),
		// the length being that of the plaintext.
		if len(body) < c.aead.Overhead() {
			return dst, errAuth
		}
		binary.BigEndian.PutUint64(aadBuf[:], c.seq)
		aadBuf[8], aadBuf[9], aadBuf[10] = hdr[0], hdr[1], hdr[2]
		binary.BigEndian.PutUint16(aadBuf[11:], uint16(len(body)-c.aead.Overhead()))
		aad = aadBuf[:]
	} else {
		// additional_data = TLSCiphertext.opaque_type || legacy_record_version
		// || length: the record header (RFC 8446 §5.2).
		aad = hdr
	}
	out, err := c.aead.Open(dst, c.nonce[:], body, aad)
	if err != nil {
		return dst, errAuth
	}
	c.seq++
	return out, nil
}
