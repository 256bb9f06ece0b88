package tlskeylog

import (
	"crypto/md5"
	"crypto/sha1"
)

// The ServerHello's server_version for TLS 1.0 (RFC 2246 §6.2.1) and TLS
// 1.1 (RFC 4346 §6.2.1). Both have only the CBC suites of suitesCBC that
// we decrypt: AEAD suites came with TLS 1.2 (RFC 5246 §6.2.3.3).
const (
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
)

// prf10 is the PRF of TLS 1.0 and 1.1 (RFC 2246 §5, RFC 4346 §5):
//
//	PRF(secret, label, seed) = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed)
//
// where S1 and S2 are the first and second halves of the secret, sharing
// its middle byte when its length is odd. P_hash is the one of TLS 1.2
// (prf12).
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	half := (len(secret) + 1) / 2
	s1, s2 := secret[:half], secret[len(secret)-half:]
	out := prf12(md5.New, s1, label, seed, n)
	for i, b := range prf12(sha1.New, s2, label, seed, n) {
		out[i] ^= b
	}
	return out
}
