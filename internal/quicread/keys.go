package quicread

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// suite is a TLS 1.3 cipher suite as QUIC packet protection uses it: an
// AEAD, a header protection cipher and the hash of the key schedule.
type suite int

const (
	aes128GCM        suite = iota // TLS_AES_128_GCM_SHA256
	aes256GCM                     // TLS_AES_256_GCM_SHA384
	chacha20Poly1305              // TLS_CHACHA20_POLY1305_SHA256
)

// String names the suite in lowercase, for test failures.
func (s suite) String() string {
	switch s {
	case aes128GCM:
		return "aes-128-gcm"
	case aes256GCM:
		return "aes-256-gcm"
	case chacha20Poly1305:
		return "chacha20-poly1305"
	}
	return "unknown suite"
}

// hash returns the suite's key schedule hash.
func (s suite) hash() func() hash.Hash {
	if s == aes256GCM {
		return sha512.New384
	}
	return sha256.New
}

// keyLen is the length of the AEAD key and of the header protection key
// (RFC 9001 §5.1, §5.4.3, §5.4.4).
func (s suite) keyLen() int {
	if s == aes128GCM {
		return 16
	}
	return 32
}

// suitesFor lists the suites a traffic secret of this length can belong
// to: the secret is as long as the suite's hash output, 32 bytes for the
// two SHA-256 suites and 48 for TLS_AES_256_GCM_SHA384. The key log does
// not name the suite, so the caller tries each.
func suitesFor(secret []byte) []suite {
	switch len(secret) {
	case sha256.Size:
		return []suite{aes128GCM, chacha20Poly1305}
	case sha512.Size384:
		return []suite{aes256GCM}
	}
	return nil
}

// protection is what a QUIC version changes in packet protection: the
// Initial salt and the prefix of the HKDF labels.
type protection struct {
	salt   []byte
	prefix string // "quic" or "quicv2": labels "<prefix> key", " iv", " hp", " ku"
}

// protectV1 is QUIC version 1's (RFC 9001 §5.1-5.2); protectV2 version
// 2's (RFC 9369 §3.3).
var (
	protectV1 = &protection{salt: []byte{
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
	}, prefix: "quic"}
	protectV2 = &protection{salt: []byte{
		0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
	}, prefix: "quicv2"}
)

// protectionFor returns the packet protection of version, nil for a
// version this reader does not know.
func protectionFor(version uint32) *protection {
	switch version {
	case version1:
		return protectV1
	case version2:
		return protectV2
	}
	return nil
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context (RFC
// 8446 §7.1), which is all QUIC uses (RFC 9001 §5.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		// Only an output longer than 255 hash blocks fails (or a key
		// that a FIPS 140-only mode refuses): zero bytes then make
		// every packet fail authentication instead of panicking.
		return make([]byte, length)
	}
	return out
}

// initialSecrets derives the client and server Initial secrets of QUIC
// version 1 from the Destination Connection ID of the client's Initial
// (RFC 9001 §5.2).
func initialSecrets(dcid []byte) (client, server []byte) {
	return protectV1.initialSecrets(dcid)
}

// initialSecrets derives the Initial secrets under p's salt.
func (p *protection) initialSecrets(dcid []byte) (client, server []byte) {
	initial, err := hkdf.Extract(sha256.New, dcid, p.salt)
	if err != nil {
		// A FIPS 140-only mode refuses short inputs: the Initials of
		// such a connection then fail authentication.
		initial = make([]byte, sha256.Size)
	}
	return expandLabel(sha256.New, initial, "client in", 32),
		expandLabel(sha256.New, initial, "server in", 32)
}

// keys protect the packets of one direction at one key generation.
type keys struct {
	prot   *protection
	suite  suite
	secret []byte // kept to derive the next generation (RFC 9001 §6)
	aead   cipher.AEAD
	iv     []byte
	hp     headerMasker
}

// errKeyLength reports a secret too short for the suite's hash.
var errKeyLength = errors.New("quicread: secret length does not fit the cipher suite")

// newKeys derives QUIC version 1 packet protection keys from a traffic
// secret (RFC 9001 §5.1): "quic key", "quic iv" and "quic hp".
func newKeys(s suite, secret []byte) (*keys, error) {
	return protectV1.newKeys(s, secret)
}

// newKeys derives the packet protection keys of p's version.
func (p *protection) newKeys(s suite, secret []byte) (*keys, error) {
	if len(secret) != s.hash()().Size() {
		return nil, errKeyLength
	}
	hp, err := p.headerMasker(s, secret)
	if err != nil {
		return nil, err
	}
	return p.newGeneration(s, secret, hp)
}

// headerMasker derives the header protection of a traffic secret.
func (p *protection) headerMasker(s suite, secret []byte) (headerMasker, error) {
	return newHeaderMasker(s, expandLabel(s.hash(), secret, p.prefix+" hp", s.keyLen()))
}

// newGeneration derives the AEAD key and IV of one key generation; the
// header protection key is shared by all generations (RFC 9001 §6).
func (p *protection) newGeneration(s suite, secret []byte, hp headerMasker) (*keys, error) {
	key := expandLabel(s.hash(), secret, p.prefix+" key", s.keyLen())
	var aead cipher.AEAD
	var err error
	if s == chacha20Poly1305 {
		aead, err = chacha20poly1305.New(key)
	} else {
		var block cipher.Block
		if block, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCM(block)
		}
	}
	if err != nil {
		return nil, err
	}
	return &keys{
		prot:   p,
		suite:  s,
		secret: secret,
		aead:   aead,
		iv:     expandLabel(s.hash(), secret, p.prefix+" iv", 12),
		hp:     hp,
	}, nil
}

// next derives the following key generation after a key update: the
// secret is HKDF-Expand-Label(secret, "quic ku", "", Hash.length) and the
// header protection key stays (RFC 9001 §6.1). It returns nil only if the
// AEAD refuses a key, which the suite's fixed lengths rule out.
func (k *keys) next() *keys {
	h := k.suite.hash()
	secret := expandLabel(h, k.secret, k.prot.prefix+" ku", h().Size())
	n, err := k.prot.newGeneration(k.suite, secret, k.hp)
	if err != nil {
		return nil
	}
	return n
}

// nonce forms the AEAD nonce: the IV xor the packet number, left-padded to
// the IV's length (RFC 9001 §5.3).
func (k *keys) nonce(dst *[12]byte, pn uint64) []byte {
	copy(dst[:], k.iv)
	for i := 0; i < 8; i++ {
		dst[11-i] ^= byte(pn >> (8 * i))
	}
	return dst[:]
}

// headerMasker computes the 5-byte header protection mask from a 16-byte
// sample of the protected payload (RFC 9001 §5.4.1).
type headerMasker interface {
	mask(sample []byte) [5]byte
}

// newHeaderMasker builds the suite's header protection: AES-ECB for the
// AES suites (§5.4.3), ChaCha20 for ChaCha20-Poly1305 (§5.4.4).
func newHeaderMasker(s suite, key []byte) (headerMasker, error) {
	if s == chacha20Poly1305 {
		if len(key) != chacha20.KeySize {
			return nil, errKeyLength
		}
		return chachaMasker(key), nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return aesMasker{block}, nil
}

// aesMasker is AES-based header protection: mask = AES-ECB(hp, sample).
type aesMasker struct{ block cipher.Block }

func (m aesMasker) mask(sample []byte) [5]byte {
	var out [aes.BlockSize]byte
	m.block.Encrypt(out[:], sample[:aes.BlockSize])
	return [5]byte(out[:5])
}

// chachaMasker is ChaCha20-based header protection: the first 4 sample
// bytes are the little-endian block counter, the other 12 the nonce, and
// the mask is the key stream over five zero bytes.
type chachaMasker []byte

func (m chachaMasker) mask(sample []byte) [5]byte {
	var out [5]byte
	c, err := chacha20.NewUnauthenticatedCipher(m, sample[4:16])
	if err != nil {
		return out // unreachable: key and nonce lengths are fixed
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	c.XORKeyStream(out[:], out[:])
	return out
}
