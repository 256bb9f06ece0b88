package tlskeylog

import (
	"crypto/aes"
	"crypto/cipher"

	"github.com/pion/dtls/v3/pkg/crypto/ccm"
)

// TLS protects records with CCM, Counter with CBC-MAC (RFC 3610, NIST SP
// 800-38C), in the AES-CCM suites (RFC 6655, RFC 7251, RFC 8446 §B.4):
// AEAD_AES_128_CCM with 16-byte tags and AEAD_AES_128_CCM_8 with 8-byte
// tags, both with 12-byte nonces (RFC 5116 §5.3, RFC 6655), and the same
// for AES-256. The standard library has no CCM (golang/go#27484); Pion's
// DTLS stack, which negotiates these suites, has one.

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

// newCCM returns CCM over b, a cipher of 16-byte blocks, with nonces of
// nonceSize bytes (7 to 13) and tags of tagSize bytes (4 to 16, even).
func newCCM(b cipher.Block, nonceSize, tagSize int) (cipher.AEAD, error) {
	return ccm.NewCCM(b, tagSize, nonceSize)
}
