package tlskeylog

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"slices"
)

// cbcSuite is a cipher suite that protects records with AES-CBC and an
// HMAC, GenericBlockCipher (RFC 5246 §6.2.3.2), the same way whatever the
// key exchange (ECDHE or RSA) and signature.
type cbcSuite struct {
	keyLen int              // AES key length: 16 or 32
	mac    func() hash.Hash // hash of the record MAC, HMAC-hash (RFC 5246 §6.2.3.1)
	prf    func() hash.Hash // hash of the TLS 1.2 PRF (RFC 5246 §5, RFC 5289 §3.2)
	// tls12Only marks the suites with a SHA-256 or SHA-384 MAC, which
	// RFC 5246 Appendix A.5 and RFC 5289 §3 allow in TLS 1.2 only.
	tls12Only bool
}

// suitesCBC are the CBC suites we decrypt. Every suite defined before TLS
// 1.2 uses the SHA-256 PRF in TLS 1.2 (RFC 5246 §5); the _SHA384 suites of
// RFC 5289 use SHA-384 for both the PRF and the MAC.
var suitesCBC = map[uint16]cbcSuite{
	0x002F: {16, sha1.New, sha256.New, false},        // TLS_RSA_WITH_AES_128_CBC_SHA (RFC 5246 App. A.5)
	0x0035: {32, sha1.New, sha256.New, false},        // TLS_RSA_WITH_AES_256_CBC_SHA (RFC 5246 App. A.5)
	0x003C: {16, sha256.New, sha256.New, true},       // TLS_RSA_WITH_AES_128_CBC_SHA256 (RFC 5246 App. A.5)
	0x003D: {32, sha256.New, sha256.New, true},       // TLS_RSA_WITH_AES_256_CBC_SHA256 (RFC 5246 App. A.5)
	0x0033: {16, sha1.New, sha256.New, false},        // TLS_DHE_RSA_WITH_AES_128_CBC_SHA (RFC 5246 App. A.5)
	0x0039: {32, sha1.New, sha256.New, false},        // TLS_DHE_RSA_WITH_AES_256_CBC_SHA (RFC 5246 App. A.5)
	0x0067: {16, sha256.New, sha256.New, true},       // TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 (RFC 5246 App. A.5)
	0x006B: {32, sha256.New, sha256.New, true},       // TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 (RFC 5246 App. A.5)
	0xC009: {16, sha1.New, sha256.New, false},        // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (RFC 4492 §6)
	0xC00A: {32, sha1.New, sha256.New, false},        // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA (RFC 4492 §6)
	0xC013: {16, sha1.New, sha256.New, false},        // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (RFC 4492 §6)
	0xC014: {32, sha1.New, sha256.New, false},        // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA (RFC 4492 §6)
	0xC023: {16, sha256.New, sha256.New, true},       // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (RFC 5289 §3.1)
	0xC024: {32, sha512.New384, sha512.New384, true}, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 (RFC 5289 §3.1)
	0xC027: {16, sha256.New, sha256.New, true},       // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 (RFC 5289 §3.2)
	0xC028: {32, sha512.New384, sha512.New384, true}, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 (RFC 5289 §3.2)
}

// allows reports whether the suite may be negotiated in version.
func (su cbcSuite) allows(version uint16) bool {
	switch version {
	case versionTLS12:
		return true
	case versionTLS10, versionTLS11:
		return !su.tls12Only
	}
	return false
}

// keys derives both directions' record ciphers from the master secret:
// key_block = PRF(master_secret, "key expansion", server_random +
// client_random), cut into client_write_MAC_key, server_write_MAC_key,
// client_write_key, server_write_key (RFC 5246 §6.3, RFC 4346 §6.3) and,
// in TLS 1.0 only, client_write_IV and server_write_IV, the IVs of each
// direction's first record (RFC 2246 §6.3). etm says the ServerHello
// negotiated encrypt_then_mac (RFC 7366).
func (su cbcSuite) keys(version uint16, etm bool, master, clientRandom, serverRandom []byte) (client, server opener, err error) {
	seed := append(append([]byte{}, serverRandom...), clientRandom...)
	macLen, ivLen := su.mac().Size(), 0
	if version == versionTLS10 {
		ivLen = aes.BlockSize
	}
	n := 2*macLen + 2*su.keyLen + 2*ivLen
	var kb []byte
	if version == versionTLS12 {
		kb = prf12(su.prf, master, "key expansion", seed, n)
	} else {
		kb = prf10(master, "key expansion", seed, n)
	}
	take := func(k int) []byte {
		b := kb[:k:k]
		kb = kb[k:]
		return b
	}
	cmac, smac := take(macLen), take(macLen)
	ckey, skey := take(su.keyLen), take(su.keyLen)
	civ, siv := take(ivLen), take(ivLen)
	c, err := su.newCipher(etm, ckey, cmac, civ)
	if err != nil {
		return nil, nil, err
	}
	s, err := su.newCipher(etm, skey, smac, siv)
	if err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

// newCipher makes one direction's record cipher; iv is empty unless the
// records carry no IV of their own (TLS 1.0).
func (su cbcSuite) newCipher(etm bool, key, macKey, iv []byte) (*cbcCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c := &cbcCipher{block: b, mac: hmac.New(su.mac, macKey), etm: etm}
	if len(iv) > 0 {
		c.iv = bytesClone(iv)
	}
	return c, nil
}

// cbcCipher removes the CBC and HMAC protection of one direction's records.
type cbcCipher struct {
	block cipher.Block
	mac   hash.Hash // HMAC keyed with this direction's MAC key
	// etm: the MAC follows the ciphertext and covers it, IV included
	// (encrypt-then-MAC, RFC 7366 §3), instead of being encrypted with
	// the content it covers (MAC-then-encrypt, RFC 5246 §6.2.3.2).
	etm bool
	// iv is, in TLS 1.0, the IV of the next record: first from the key
	// block, then the last ciphertext block of the record before (RFC 2246
	// §6.2.3.2). nil from TLS 1.1 on, where each record starts with its
	// own IV (RFC 4346 §6.2.3.2, RFC 5246 §6.2.3.2).
	iv     []byte
	seq    uint64 // sequence number of the next record (RFC 5246 §6.1)
	pseudo [13]byte
	sum    []byte
}

// open decrypts rec (header included), checks its padding and MAC, appends
// the content to dst and returns the result. Every length is checked
// before use: a record too short for its IV, a whole block and the MAC, or
// whose padding or MAC is wrong, fails authentication (errAuth), as an
// AEAD record does. MAC comparisons need not be constant time: a passive
// reader is no padding oracle.
func (c *cbcCipher) open(dst, rec []byte) ([]byte, error) {
	hdr, body := rec[:recordHeaderLen], rec[recordHeaderLen:]
	macLen := c.mac.Size()
	var tag []byte
	if c.etm {
		// TLSCiphertext.fragment = IV + ENC(content + padding +
		// padding_length) + MAC over all that (RFC 7366 §3).
		if len(body) < macLen {
			return dst, errAuth
		}
		body, tag = body[:len(body)-macLen], body[len(body)-macLen:]
		if !c.verify(hdr, body, tag) {
			return dst, errAuth
		}
	}
	iv, ct := c.iv, body
	if iv == nil {
		if len(body) < aes.BlockSize {
			return dst, errAuth
		}
		iv, ct = body[:aes.BlockSize], body[aes.BlockSize:]
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return dst, errAuth
	}
	n := len(dst)
	out := slices.Grow(dst, len(ct))[:n+len(ct)]
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(out[n:], ct)
	plain, ok := unpad(out[n:])
	if !ok {
		return dst, errAuth
	}
	if !c.etm {
		// GenericBlockCipher: content + MAC + padding + padding_length,
		// all encrypted (RFC 5246 §6.2.3.2).
		if len(plain) < macLen {
			return dst, errAuth
		}
		plain, tag = plain[:len(plain)-macLen], plain[len(plain)-macLen:]
		if !c.verify(hdr, plain, tag) {
			return dst, errAuth
		}
	}
	if c.iv != nil {
		c.iv = append(c.iv[:0], ct[len(ct)-aes.BlockSize:]...)
	}
	c.seq++
	return out[:n+len(plain)], nil
}

// verify reports whether tag is the record's MAC over data:
//
//	HMAC_hash(MAC_write_key, seq_num + TLSCompressed.type +
//	          TLSCompressed.version + TLSCompressed.length + data)
//
// (RFC 5246 §6.2.3.1), data being the content, or with encrypt-then-MAC
// the IV and ciphertext (RFC 7366 §3); the length is that of data.
func (c *cbcCipher) verify(hdr, data, tag []byte) bool {
	binary.BigEndian.PutUint64(c.pseudo[:], c.seq)
	c.pseudo[8], c.pseudo[9], c.pseudo[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(c.pseudo[11:], uint16(len(data)))
	c.mac.Reset()
	c.mac.Write(c.pseudo[:])
	c.mac.Write(data)
	c.sum = c.mac.Sum(c.sum[:0])
	return hmac.Equal(c.sum, tag)
}

// unpad removes padding and padding_length from decrypted GenericBlockCipher
// content: padding_length+1 bytes, each equal to padding_length (RFC 5246
// §6.2.3.2, RFC 2246 §6.2.3.2). ok is false when they are not.
func unpad(p []byte) (content []byte, ok bool) {
	if len(p) == 0 {
		return nil, false
	}
	padLen := int(p[len(p)-1])
	if padLen+1 > len(p) {
		return nil, false
	}
	for _, b := range p[len(p)-1-padLen:] {
		if int(b) != padLen {
			return nil, false
		}
	}
	return p[:len(p)-1-padLen], true
}
