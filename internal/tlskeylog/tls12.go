package tlskeylog

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// versionTLS12 is the ServerHello's server_version for TLS 1.2 (RFC 5246
// §7.4.1.3).
const versionTLS12 = 0x0303

// suites12 are the TLS 1.2 cipher suites we decrypt: the AEAD ones, whose
// record protection does not depend on the key exchange. Their PRF hash is
// SHA-256 unless the suite name ends in _SHA384 (RFC 5288 §3); the AES-CCM
// suites, whose names end in no hash, use SHA-256 (RFC 6655 §3, RFC 7251).
// An AES-CCM record's nonce is, as with AES-GCM, a 4-byte implicit salt
// from the key block and the record's 8-byte explicit part (RFC 6655 §3);
// its tag is 16 bytes, or 8 in the _CCM_8 suites (ccm.go).
var suites12 = map[uint16]suite{
	0x009C: {16, 4, aesGCM, sha256.New},                // TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288)
	0x009D: {32, 4, aesGCM, sha512.New384},             // TLS_RSA_WITH_AES_256_GCM_SHA384 (RFC 5288)
	0x009E: {16, 4, aesGCM, sha256.New},                // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288)
	0x009F: {32, 4, aesGCM, sha512.New384},             // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 (RFC 5288)
	0xC02B: {16, 4, aesGCM, sha256.New},                // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
	0xC02C: {32, 4, aesGCM, sha512.New384},             // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (RFC 5289)
	0xC02F: {16, 4, aesGCM, sha256.New},                // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
	0xC030: {32, 4, aesGCM, sha512.New384},             // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (RFC 5289)
	0xCCA8: {32, 12, chacha20poly1305.New, sha256.New}, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
	0xCCA9: {32, 12, chacha20poly1305.New, sha256.New}, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
	0xCCAA: {32, 12, chacha20poly1305.New, sha256.New}, // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
	0xC09C: {16, 4, aesCCM(16), sha256.New},            // TLS_RSA_WITH_AES_128_CCM (RFC 6655)
	0xC09D: {32, 4, aesCCM(16), sha256.New},            // TLS_RSA_WITH_AES_256_CCM (RFC 6655)
	0xC09E: {16, 4, aesCCM(16), sha256.New},            // TLS_DHE_RSA_WITH_AES_128_CCM (RFC 6655)
	0xC09F: {32, 4, aesCCM(16), sha256.New},            // TLS_DHE_RSA_WITH_AES_256_CCM (RFC 6655)
	0xC0A0: {16, 4, aesCCM(8), sha256.New},             // TLS_RSA_WITH_AES_128_CCM_8 (RFC 6655)
	0xC0A1: {32, 4, aesCCM(8), sha256.New},             // TLS_RSA_WITH_AES_256_CCM_8 (RFC 6655)
	0xC0A2: {16, 4, aesCCM(8), sha256.New},             // TLS_DHE_RSA_WITH_AES_128_CCM_8 (RFC 6655)
	0xC0A3: {32, 4, aesCCM(8), sha256.New},             // TLS_DHE_RSA_WITH_AES_256_CCM_8 (RFC 6655)
	0xC0AC: {16, 4, aesCCM(16), sha256.New},            // TLS_ECDHE_ECDSA_WITH_AES_128_CCM (RFC 7251)
	0xC0AD: {32, 4, aesCCM(16), sha256.New},            // TLS_ECDHE_ECDSA_WITH_AES_256_CCM (RFC 7251)
	0xC0AE: {16, 4, aesCCM(8), sha256.New},             // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251)
	0xC0AF: {32, 4, aesCCM(8), sha256.New},             // TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 (RFC 7251)
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed),
//
//	P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret, A(2) + seed) + ...
//	A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
//
// cut to n bytes.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	mac.Write(labelSeed)
	a := mac.Sum(nil) // A(1)
	out := make([]byte, 0, n+mac.Size())
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// keys12 derives both directions' record ciphers from the master secret:
// key_block = PRF(master_secret, "key expansion", server_random +
// client_random), cut into client_write_key, server_write_key,
// client_write_IV, server_write_IV (RFC 5246 §6.3; AEAD suites have no MAC
// keys, RFC 5246 §6.2.3.3).
func (su suite) keys12(master, clientRandom, serverRandom []byte) (client, server opener, err error) {
	seed := append(append([]byte{}, serverRandom...), clientRandom...)
	kb := prf12(su.hash, master, "key expansion", seed, 2*su.keyLen+2*su.ivLen)
	ck, kb := kb[:su.keyLen], kb[su.keyLen:]
	sk, kb := kb[:su.keyLen], kb[su.keyLen:]
	civ, siv := kb[:su.ivLen], kb[su.ivLen:]
	ca, err := su.aead(ck)
	if err != nil {
		return nil, nil, err
	}
	sa, err := su.aead(sk)
	if err != nil {
		return nil, nil, err
	}
	return &recordCipher{aead: ca, iv: civ, tls12: true}, &recordCipher{aead: sa, iv: siv, tls12: true}, nil
}
