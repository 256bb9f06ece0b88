package quicread

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"io"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
	xhkdf "golang.org/x/crypto/hkdf"
)

// sealKeys protect packets as a QUIC sender does. They are written apart
// from the package's opening side (golang.org/x/crypto/hkdf instead of
// crypto/hkdf, their own label encoding, AEAD and header protection), so
// that the two checking each other means something.
type sealKeys struct {
	suite      suite
	secret     []byte
	key, iv    []byte
	hp         []byte
	hashOf     func() hash.Hash
	keyLen     int
	generation int
}

// sealLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func sealLabel(t testing.TB, h func() hash.Hash, secret []byte, label string, n int) []byte {
	t.Helper()
	info := []byte{byte(n >> 8), byte(n), byte(6 + len(label))}
	info = append(info, "tls13 "+label...)
	info = append(info, 0)
	out := make([]byte, n)
	if _, err := io.ReadFull(xhkdf.Expand(h, secret, info), out); err != nil {
		t.Fatal(err)
	}
	return out
}

func newSealKeys(t testing.TB, s suite, secret []byte) sealKeys {
	k := sealKeys{suite: s, secret: secret, hashOf: sha256.New, keyLen: 32}
	switch s {
	case aes128GCM:
		k.keyLen = 16
	case aes256GCM:
		k.hashOf = sha512.New384
	}
	k.key = sealLabel(t, k.hashOf, secret, "quic key", k.keyLen)
	k.iv = sealLabel(t, k.hashOf, secret, "quic iv", 12)
	k.hp = sealLabel(t, k.hashOf, secret, "quic hp", k.keyLen)
	return k
}

// initialSealKeys derives Initial keys for a client DCID (RFC 9001 §5.2).
func initialSealKeys(t testing.TB, dcid []byte) (client, server sealKeys) {
	salt := []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	initial := xhkdf.Extract(sha256.New, dcid, salt)
	return newSealKeys(t, aes128GCM, sealLabel(t, sha256.New, initial, "client in", 32)),
		newSealKeys(t, aes128GCM, sealLabel(t, sha256.New, initial, "server in", 32))
}

// updated returns the next key generation (RFC 9001 §6.1); the header
// protection key stays.
func (k sealKeys) updated(t testing.TB) sealKeys {
	n := newSealKeys(t, k.suite, sealLabel(t, k.hashOf, k.secret, "quic ku", k.hashOf().Size()))
	n.hp = k.hp
	n.generation = k.generation + 1
	return n
}

func (k sealKeys) aead(t testing.TB) cipher.AEAD {
	if k.suite == chacha20Poly1305 {
		a, err := chacha20poly1305.New(k.key)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	b, err := aes.NewCipher(k.key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (k sealKeys) mask(t testing.TB, sample []byte) []byte {
	out := make([]byte, 16)
	if k.suite == chacha20Poly1305 {
		c, err := chacha20.NewUnauthenticatedCipher(k.hp, sample[4:16])
		if err != nil {
			t.Fatal(err)
		}
		c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
		c.XORKeyStream(out[:5], out[:5])
		return out[:5]
	}
	b, err := aes.NewCipher(k.hp)
	if err != nil {
		t.Fatal(err)
	}
	b.Encrypt(out, sample)
	return out[:5]
}

// seal protects a packet whose unprotected header hdr ends with a pnLen-byte
// packet number pn; it pads the payload so the header protection sample
// fits (RFC 9001 §5.4.2).
func (k sealKeys) seal(t testing.TB, hdr []byte, pnLen int, pn uint64, payload []byte) []byte {
	t.Helper()
	for pnLen+len(payload) < 4 {
		payload = append(payload, 0) // PADDING
	}
	nonce := append([]byte(nil), k.iv...)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	pkt := k.aead(t).Seal(append([]byte(nil), hdr...), nonce, payload, hdr)
	pnOffset := len(hdr) - pnLen
	m := k.mask(t, pkt[pnOffset+4:pnOffset+20])
	if pkt[0]&0x80 != 0 {
		pkt[0] ^= m[0] & 0x0f
	} else {
		pkt[0] ^= m[0] & 0x1f
	}
	for i := 0; i < pnLen; i++ {
		pkt[pnOffset+i] ^= m[1+i]
	}
	return pkt
}

// appendPN appends the low pnLen bytes of pn.
func appendPN(b []byte, pn uint64, pnLen int) []byte {
	for i := pnLen - 1; i >= 0; i-- {
		b = append(b, byte(pn>>(8*i)))
	}
	return b
}

// short seals a 1-RTT packet (RFC 9000 §17.3.1).
func (k sealKeys) short(t testing.TB, dcid []byte, pn uint64, pnLen int, payload []byte) []byte {
	t.Helper()
	first := byte(0x40 | (pnLen - 1))
	if k.generation%2 == 1 {
		first |= 0x04 // Key Phase
	}
	hdr := appendPN(append([]byte{first}, dcid...), pn, pnLen)
	return k.seal(t, hdr, pnLen, pn, payload)
}

// long seals a long header packet of type typ (Initial with an empty
// token, 0-RTT or Handshake) (RFC 9000 §17.2).
func (k sealKeys) long(t testing.TB, typ byte, dcid, scid []byte, pn uint64, pnLen int, payload []byte) []byte {
	t.Helper()
	for pnLen+len(payload) < 4 {
		payload = append(payload, 0)
	}
	hdr := []byte{0xc0 | typ<<4 | byte(pnLen-1), 0, 0, 0, 1, byte(len(dcid))}
	hdr = append(hdr, dcid...)
	hdr = append(hdr, byte(len(scid)))
	hdr = append(hdr, scid...)
	if typ == typeInitial {
		hdr = append(hdr, 0) // token length
	}
	hdr = appendVarint(hdr, uint64(pnLen+len(payload)+16))
	hdr = appendPN(hdr, pn, pnLen)
	return k.seal(t, hdr, pnLen, pn, payload)
}

// appendVarint appends v in the shortest encoding (RFC 9000 §16).
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Frame builders (RFC 9000 §19).

func streamFrame(id, off uint64, data []byte, fin bool) []byte {
	typ := byte(0x08 | 0x04 | 0x02)
	if fin {
		typ |= 0x01
	}
	b := appendVarint(appendVarint([]byte{typ}, id), off)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

func cryptoFrame(off uint64, data []byte) []byte {
	b := appendVarint(appendVarint([]byte{0x06}, off), uint64(len(data)))
	return append(b, data...)
}

func resetFrame(id, code, final uint64) []byte {
	return appendVarint(appendVarint(appendVarint([]byte{0x04}, id), code), final)
}
