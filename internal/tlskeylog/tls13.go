package tlskeylog

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// versionTLS13 is the selected_version of a TLS 1.3 ServerHello's
// supported_versions extension (RFC 8446 §4.2.1).
const versionTLS13 = 0x0304

// suite is how a cipher suite protects records.
type suite struct {
	keyLen int
	ivLen  int                                   // TLS 1.3: always 12; TLS 1.2: 4 for GCM and CCM (salt), 12 for ChaCha20
	aead   func(key []byte) (cipher.AEAD, error) // AES-GCM, AES-CCM (ccm.go) or ChaCha20-Poly1305
	hash   func() hash.Hash                      // HKDF hash (TLS 1.3) or PRF hash (TLS 1.2)
}

// suites13 are the TLS 1.3 cipher suites we decrypt: all five of RFC 8446
// §B.4. The CCM ones use AEAD_AES_128_CCM (16-byte tag, RFC 5116 §5.3) and
// AEAD_AES_128_CCM_8 (8-byte tag, RFC 6655), both with 12-byte nonces.
var suites13 = map[uint16]suite{
	0x1301: {16, 12, aesGCM, sha256.New},               // TLS_AES_128_GCM_SHA256
	0x1302: {32, 12, aesGCM, sha512.New384},            // TLS_AES_256_GCM_SHA384
	0x1303: {32, 12, chacha20poly1305.New, sha256.New}, // TLS_CHACHA20_POLY1305_SHA256
	0x1304: {16, 12, aesCCM(16), sha256.New},           // TLS_AES_128_CCM_SHA256
	0x1305: {16, 12, aesCCM(8), sha256.New},            // TLS_AES_128_CCM_8_SHA256
}

func aesGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1) with an empty context,
// the only kind the record keys need:
//
//	HkdfLabel = uint16 length || opaque label<7..255> = "tls13 " + Label || opaque context<0..255>
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 2+1+len(full)+1)
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // empty context
	return hkdf.Expand(h, secret, string(info), length)
}

// cipher13 makes the record cipher of a traffic secret: key and iv by
// HKDF-Expand-Label(secret, "key" / "iv", "", length) (RFC 8446 §7.3),
// sequence number 0 (RFC 8446 §5.3: it is reset with every key change).
func (su suite) cipher13(secret []byte) (*recordCipher, error) {
	if len(secret) != su.hash().Size() {
		return nil, errAuth // a secret of another hash cannot belong to this suite
	}
	key, err := expandLabel(su.hash, secret, "key", su.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(su.hash, secret, "iv", su.ivLen)
	if err != nil {
		return nil, err
	}
	a, err := su.aead(key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{aead: a, iv: iv}, nil
}

// nextSecret is the traffic secret after a KeyUpdate (RFC 8446 §7.2):
//
//	application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
func (su suite) nextSecret(secret []byte) ([]byte, error) {
	return expandLabel(su.hash, secret, "traffic upd", su.hash().Size())
}
