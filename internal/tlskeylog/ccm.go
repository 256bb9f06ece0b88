package tlskeylog

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// CCM, Counter with CBC-MAC, as RFC 3610 and NIST SP 800-38C define it: a
// CBC-MAC over a first block B_0 (flags, nonce, message length), the
// encoded associated data and the message, then counter mode encryption of
// the message with the blocks A_1, A_2, ... and of the MAC with A_0. The
// standard library has none, and TLS uses it in the AES-CCM suites (RFC
// 6655, RFC 7251, RFC 8446 §B.4) with AEAD_AES_128_CCM (16-byte tag) and
// AEAD_AES_128_CCM_8 (8-byte tag), both with 12-byte nonces (RFC 5116
// §5.3, RFC 6655), and the same for AES-256.

// ccm is CCM over a 16-byte block cipher, as a cipher.AEAD.
type ccm struct {
	b         cipher.Block
	nonceSize int // 15-L, L being the size of the length field (RFC 3610 §2)
	tagSize   int // M
	maxLen    uint64
}

var errCCMOpen = errors.New("ccm: message authentication failed")

// newCCM returns CCM over b, a cipher of 16-byte blocks, with nonces of
// nonceSize bytes (7 to 13: L = 15-nonceSize is 8 to 2) and tags of
// tagSize bytes (4, 6, 8, 10, 12, 14 or 16) (RFC 3610 §2, NIST SP 800-38C
// §A.1).
func newCCM(b cipher.Block, nonceSize, tagSize int) (cipher.AEAD, error) {
	if b.BlockSize() != aes.BlockSize {
		return nil, fmt.Errorf("ccm: block size is %d bytes, want %d", b.BlockSize(), aes.BlockSize)
	}
	if nonceSize < 7 || nonceSize > 13 {
		return nil, fmt.Errorf("ccm: nonce size %d is not between 7 and 13 bytes", nonceSize)
	}
	if tagSize < 4 || tagSize > 16 || tagSize%2 != 0 {
		return nil, fmt.Errorf("ccm: tag size %d is not one of 4, 6, 8, 10, 12, 14, 16 bytes", tagSize)
	}
	c := &ccm{b: b, nonceSize: nonceSize, tagSize: tagSize, maxLen: ^uint64(0)}
	if l := 15 - nonceSize; l < 8 {
		c.maxLen = 1<<(8*l) - 1 // the length must fit in the L-byte field of B_0
	}
	return c, nil
}

// aesCCM returns the constructor of AES-CCM with 12-byte nonces and tags
// of tagSize bytes: 16 for the TLS suites named _CCM, 8 for _CCM_8.
func aesCCM(tagSize int) func(key []byte) (cipher.AEAD, error) {
	return func(key []byte) (cipher.AEAD, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return newCCM(b, 12, tagSize)
	}
}

func (c *ccm) NonceSize() int { return c.nonceSize }
func (c *ccm) Overhead() int  { return c.tagSize }

// Seal encrypts and authenticates plaintext, authenticates additionalData
// and appends the ciphertext and tag to dst. Like the standard library's
// AEADs it panics when the nonce is not NonceSize bytes, or when the
// plaintext is too long for the length field.
func (c *ccm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != c.nonceSize {
		panic("ccm: incorrect nonce length given to Seal")
	}
	if uint64(len(plaintext)) > c.maxLen {
		panic("ccm: plaintext too long for the nonce size")
	}
	ret, out := grow(dst, len(plaintext)+c.tagSize)
	// The MAC before the encryption: out may be plaintext's own storage.
	tag := c.mac(nonce, plaintext, additionalData)
	s0 := c.ctr(nonce, out[:len(plaintext)], plaintext)
	subtle.XORBytes(out[len(plaintext):], tag[:c.tagSize], s0[:c.tagSize])
	return ret
}

// Open authenticates and decrypts ciphertext (the encrypted message and
// the tag) and additionalData, and appends the plaintext to dst. It never
// panics: a nonce of the wrong length, a ciphertext shorter than the tag or
// a tag that does not match is an error with a nil result; dst's bytes are
// untouched, and the unauthenticated plaintext written into its spare
// capacity is zeroed.
func (c *ccm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != c.nonceSize {
		return nil, fmt.Errorf("ccm: nonce is %d bytes, want %d", len(nonce), c.nonceSize)
	}
	if len(ciphertext) < c.tagSize || uint64(len(ciphertext)-c.tagSize) > c.maxLen {
		return nil, errCCMOpen
	}
	n := len(ciphertext) - c.tagSize
	var got [aes.BlockSize]byte
	copy(got[:], ciphertext[n:]) // out may be ciphertext's own storage
	ret, out := grow(dst, n)
	s0 := c.ctr(nonce, out, ciphertext[:n])
	want := c.mac(nonce, out, additionalData)
	subtle.XORBytes(want[:c.tagSize], want[:c.tagSize], s0[:c.tagSize])
	if subtle.ConstantTimeCompare(want[:c.tagSize], got[:c.tagSize]) != 1 {
		clear(out)
		return nil, errCCMOpen
	}
	return ret, nil
}

// block returns the counter block A_i, or with flags B_0 (RFC 3610 §2.2,
// §2.3): flags || nonce || a big-endian number in the remaining L bytes.
func (c *ccm) block(flags byte, nonce []byte, i uint64) [aes.BlockSize]byte {
	var a [aes.BlockSize]byte
	a[0] = flags
	copy(a[1:], nonce)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], i)
	copy(a[1+c.nonceSize:], n[8-(15-c.nonceSize):]) // L low-order bytes
	return a
}

// ctr XORs src with the key stream S_1, S_2, ... into dst (RFC 3610 §2.3)
// and returns S_0, which encrypts the tag. A_i's flags are L-1, and i never
// outgrows the L-byte field (the message is at most 2^(8L)-1 bytes), so
// the whole block may count as one big-endian number, as cipher.NewCTR
// does.
func (c *ccm) ctr(nonce, dst, src []byte) [aes.BlockSize]byte {
	flags := byte(15 - c.nonceSize - 1)
	var s0 [aes.BlockSize]byte
	a0 := c.block(flags, nonce, 0)
	c.b.Encrypt(s0[:], a0[:])
	if len(src) > 0 {
		a1 := c.block(flags, nonce, 1)
		cipher.NewCTR(c.b, a1[:]).XORKeyStream(dst, src)
	}
	return s0
}

// mac is the CBC-MAC T of RFC 3610 §2.2 (NIST SP 800-38C §6.1 steps 1 to
// 4), whole; the tag is its first tagSize bytes.
func (c *ccm) mac(nonce, msg, aad []byte) [aes.BlockSize]byte {
	// Flags of B_0: Reserved(0) || Adata || (M-2)/2 in 3 bits || L-1 in 3 bits.
	flags := byte((c.tagSize-2)/2)<<3 | byte(15-c.nonceSize-1)
	if len(aad) > 0 {
		flags |= 0x40
	}
	m := cbcMAC{b: c.b}
	b0 := c.block(flags, nonce, uint64(len(msg)))
	m.write(b0[:])
	if len(aad) > 0 {
		// The length of the associated data, encoded (RFC 3610 §2.2):
		// 2 bytes below 2^16-2^8; 0xff 0xfe and 4 bytes below 2^32; 0xff
		// 0xff and 8 bytes beyond. Then the data, zero-padded to a block.
		var enc [10]byte
		var k int
		switch n := uint64(len(aad)); {
		case n < 1<<16-1<<8:
			binary.BigEndian.PutUint16(enc[:], uint16(n))
			k = 2
		case n < 1<<32:
			enc[0], enc[1] = 0xff, 0xfe
			binary.BigEndian.PutUint32(enc[2:], uint32(n))
			k = 6
		default:
			enc[0], enc[1] = 0xff, 0xff
			binary.BigEndian.PutUint64(enc[2:], n)
			k = 10
		}
		m.write(enc[:k])
		m.write(aad)
		m.pad()
	}
	m.write(msg)
	m.pad()
	return m.x
}

// cbcMAC is the CBC-MAC state with a zero IV: X_1 = E(K, B_0), X_i+1 =
// E(K, X_i XOR B_i). Written bytes are XORed into x; each full block is
// enciphered.
type cbcMAC struct {
	b cipher.Block
	x [aes.BlockSize]byte
	n int // bytes XORed into the block not yet enciphered
}

func (m *cbcMAC) write(p []byte) {
	for len(p) > 0 {
		k := subtle.XORBytes(m.x[m.n:], m.x[m.n:], p)
		m.n += k
		p = p[k:]
		if m.n == aes.BlockSize {
			m.b.Encrypt(m.x[:], m.x[:])
			m.n = 0
		}
	}
}

// pad ends the current block with zeros, which XOR changes nothing.
func (m *cbcMAC) pad() {
	if m.n > 0 {
		m.b.Encrypt(m.x[:], m.x[:])
		m.n = 0
	}
}

// grow extends dst by n bytes, reallocating when its capacity is short, and
// returns the whole slice and the n new bytes.
func grow(dst []byte, n int) (whole, tail []byte) {
	total := len(dst) + n
	if cap(dst) >= total {
		whole = dst[:total]
	} else {
		whole = make([]byte, total)
		copy(whole, dst)
	}
	return whole, whole[len(dst):]
}
