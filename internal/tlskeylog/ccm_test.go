package tlskeylog

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"fmt"
	"testing"
)

// ccmVector is a published or independently computed CCM result.
type ccmVector struct {
	name                           string
	key, nonce, aad, plain, sealed string // hex; sealed is ciphertext || tag
	aadLen                         int    // when not 0, aad repeated to this many bytes
	tagSize                        int
}

// ccmVectors are:
//   - RFC 3610 §8, packet vectors #1 to #24 (AES-128, 13-byte nonces, 8-
//     and 10-byte tags), each packet's cleartext header as the
//     associated data and the rest as the message;
//   - NIST SP 800-38C Appendix C, examples 1 to 4 (7- to 13-byte nonces,
//     4- to 14-byte tags; example 4's associated data is 65536 bytes, the
//     256 bytes 00..ff repeated, whose length takes the 6-byte encoding);
//   - computed with pyca/cryptography 48.0.0 (OpenSSL's AES-CCM): the
//     cases the published ones lack, with 12-byte nonces as TLS uses
//     them, AES-256, no associated data (the Adata flag clear), and
//     associated data of 65279 and 65280 bytes, the last length of the
//     2-byte encoding and the first of the 6-byte one (RFC 3610 §2.2).
var ccmVectors = []ccmVector{
	{name: "rfc3610 packet 1", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000003020100a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", sealed: "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0", tagSize: 8},
	{name: "rfc3610 packet 2", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000004030201a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", sealed: "72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916", tagSize: 8},
	{name: "rfc3610 packet 3", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000005040302a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", sealed: "51b1e5f44a197d1da46b0f8e2d282ae871e838bb64da8596574adaa76fbd9fb0c5", tagSize: 8},
	{name: "rfc3610 packet 4", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000006050403a0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e", sealed: "a28c6865939a9a79faaa5c4c2a9d4a91cdac8c96c861b9c9e61ef1", tagSize: 8},
	{name: "rfc3610 packet 5", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000007060504a0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e1f", sealed: "dcf1fb7b5d9e23fb9d4e131253658ad86ebdca3e51e83f077d9c2d93", tagSize: 8},
	{name: "rfc3610 packet 6", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000008070605a0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e1f20", sealed: "6fc1b011f006568b5171a42d953d469b2570a4bd87405a0443ac91cb94", tagSize: 8},
	{name: "rfc3610 packet 7", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "00000009080706a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", sealed: "0135d1b2c95f41d5d1d4fec185d166b8094e999dfed96c048c56602c97acbb7490", tagSize: 10},
	{name: "rfc3610 packet 8", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "0000000a090807a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", sealed: "7b75399ac0831dd2f0bbd75879a2fd8f6cae6b6cd9b7db24c17b4433f434963f34b4", tagSize: 10},
	{name: "rfc3610 packet 9", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "0000000b0a0908a0a1a2a3a4a5", aad: "0001020304050607", plain: "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", sealed: "82531a60cc24945a4b8279181ab5c84df21ce7f9b73f42e197ea9c07e56b5eb17e5f4e", tagSize: 10},
	{name: "rfc3610 packet 10", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "0000000c0b0a09a0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e", sealed: "07342594157785152b074098330abb141b947b566aa9406b4d999988dd", tagSize: 10},
	{name: "rfc3610 packet 11", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "0000000d0c0b0aa0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e1f", sealed: "676bb20380b0e301e8ab79590a396da78b834934f53aa2e9107a8b6c022c", tagSize: 10},
	{name: "rfc3610 packet 12", key: "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", nonce: "0000000e0d0c0ba0a1a2a3a4a5", aad: "000102030405060708090a0b", plain: "0c0d0e0f101112131415161718191a1b1c1d1e1f20", sealed: "c0ffa0d6f05bdb67f24d43a4338d2aa4bed7b20e43cd1aa31662e7ad65d6db", tagSize: 10},
	{name: "rfc3610 packet 13", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00412b4ea9cdbe3c9696766cfa", aad: "0be1a88bace018b1", plain: "08e8cf97d820ea258460e96ad9cf5289054d895ceac47c", sealed: "4cb97f86a2a4689a877947ab8091ef5386a6ffbdd080f8e78cf7cb0cddd7b3", tagSize: 8},
	{name: "rfc3610 packet 14", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "0033568ef7b2633c9696766cfa", aad: "63018f76dc8a1bcb", plain: "9020ea6f91bdd85afa0039ba4baff9bfb79c7028949cd0ec", sealed: "4ccb1e7ca981befaa0726c55d378061298c85c92814abc33c52ee81d7d77c08a", tagSize: 8},
	{name: "rfc3610 packet 15", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00103fe41336713c9696766cfa", aad: "aa6cfa36cae86b40", plain: "b916e0eacc1c00d7dcec68ec0b3bbb1a02de8a2d1aa346132e", sealed: "b1d23a2220ddc0ac900d9aa03c61fcf4a559a4417767089708a776796edb723506", tagSize: 8},
	{name: "rfc3610 packet 16", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00764c63b8058e3c9696766cfa", aad: "d0d0735c531e1becf049c244", plain: "12daac5630efa5396f770ce1a66b21f7b2101c", sealed: "14d253c3967b70609b7cbb7c499160283245269a6f49975bcadeaf", tagSize: 8},
	{name: "rfc3610 packet 17", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00f8b678094e3b3c9696766cfa", aad: "77b60f011c03e1525899bcae", plain: "e88b6a46c78d63e52eb8c546efb5de6f75e9cc0d", sealed: "5545ff1a085ee2efbf52b2e04bee1e2336c73e3f762c0c7744fe7e3c", tagSize: 8},
	{name: "rfc3610 packet 18", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00d560912d3f703c9696766cfa", aad: "cd9044d2b71fdb8120ea60c0", plain: "6435acbafb11a82e2f071d7ca4a5ebd93a803ba87f", sealed: "009769ecabdf48625594c59251e6035722675e04c847099e5ae0704551", tagSize: 8},
	{name: "rfc3610 packet 19", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "0042fff8f1951c3c9696766cfa", aad: "d85bc7e69f944fb8", plain: "8a19b950bcf71a018e5e6701c91787659809d67dbedd18", sealed: "bc218daa947427b6db386a99ac1aef23ade0b52939cb6a637cf9bec2408897c6ba", tagSize: 10},
	{name: "rfc3610 packet 20", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "00920f40e56cdc3c9696766cfa", aad: "74a0ebc9069f5b37", plain: "1761433c37c5a35fc1f39f406302eb907c6163be38c98437", sealed: "5810e6fd25874022e80361a478e3e9cf484ab04f447efff6f0a477cc2fc9bf548944", tagSize: 10},
	{name: "rfc3610 packet 21", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "0027ca0c7120bc3c9696766cfa", aad: "44a3aa3aae6475ca", plain: "a434a8e58500c6e41530538862d686ea9e81301b5ae4226bfa", sealed: "f2beed7bc5098e83feb5b31608f8e29c38819a89c8e776f1544d4151a4ed3a8b87b9ce", tagSize: 10},
	{name: "rfc3610 packet 22", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "005b8ccbcd9af83c9696766cfa", aad: "ec46bb63b02520c33c49fd70", plain: "b96b49e21d621741632875db7f6c9243d2d7c2", sealed: "31d750a09da3ed7fddd49a2032aabf17ec8ebf7d22c8088c666be5c197", tagSize: 10},
	{name: "rfc3610 packet 23", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "003ebe94044b9a3c9696766cfa", aad: "47a65ac78b3d594227e85e71", plain: "e2fcfbb880442c731bf95167c8ffd7895e337076", sealed: "e882f1dbd38ce3eda7c23f04dd65071eb41342acdf7e00dccec7ae52987d", tagSize: 10},
	{name: "rfc3610 packet 24", key: "d7828d13b2b0bdc325a76236df93cc6b", nonce: "008d493b30ae8b3c9696766cfa", aad: "6e37a6ef546d955d34ab6059", plain: "abf21c0b02feb88f856df4a37381bce3cc128517d4", sealed: "f32905b88a641b04b9c9ffb58cc390900f3da12ab16dce9e82efa16da62059", tagSize: 10},
	{name: "sp800-38c example 1", key: "404142434445464748494a4b4c4d4e4f", nonce: "10111213141516", aad: "0001020304050607", plain: "20212223", sealed: "7162015b4dac255d", tagSize: 4},
	{name: "sp800-38c example 2", key: "404142434445464748494a4b4c4d4e4f", nonce: "1011121314151617", aad: "000102030405060708090a0b0c0d0e0f", plain: "202122232425262728292a2b2c2d2e2f", sealed: "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", tagSize: 6},
	{name: "sp800-38c example 3", key: "404142434445464748494a4b4c4d4e4f", nonce: "101112131415161718191a1b", aad: "000102030405060708090a0b0c0d0e0f10111213", plain: "202122232425262728292a2b2c2d2e2f3031323334353637", sealed: "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", tagSize: 8},
	{name: "sp800-38c example 4", key: "404142434445464748494a4b4c4d4e4f", nonce: "101112131415161718191a1b1c", aad: ccmPattern, aadLen: 65536, plain: "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f", sealed: "69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b", tagSize: 14},
	{name: "computed: empty message and no associated data", key: "000102030405060708090a0b0c0d0e0f", nonce: "a0a1a2a3a4a5a6a7a8a9aaab", sealed: "443c7c943d2fb5884371b77cdedccb97", tagSize: 16},
	{name: "computed: no associated data", key: "000102030405060708090a0b0c0d0e0f", nonce: "a0a1a2a3a4a5a6a7a8a9aaab", plain: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", sealed: "aeb26ad2a13acc86dacf0af6963dd7ec5be63ddaa59ecc1797ce2a17b931f6da0cfdcf1ce7b09c707047f4bf5628940532", tagSize: 16},
	{name: "computed: tls-like record, 8-byte tag", key: "000102030405060708090a0b0c0d0e0f", nonce: "a0a1a2a3a4a5a6a7a8a9aaab", aad: "00000000000000011703030013", plain: "202122232425262728292a2b2c2d2e2f303132", sealed: "8e924af2811aeca6faef2ad6b61df7cc7bc61d40a9b97509b9f49d", tagSize: 8},
	{name: "computed: aes-256, 65279 bytes of associated data", key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", nonce: "a0a1a2a3a4a5a6a7a8a9aaab", aad: ccmPattern, aadLen: 65279, plain: "202122232425262728292a2b2c2d2e2f303132", sealed: "4fb56073b4d9c043627102094ba29cfe04f58187b2e1e3eeab4c94d1c52ff824042860", tagSize: 16},
	{name: "computed: aes-256, 65280 bytes of associated data", key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", nonce: "a0a1a2a3a4a5a6a7a8a9aaab", aad: ccmPattern, aadLen: 65280, plain: "202122232425262728292a2b2c2d2e2f303132", sealed: "4fb56073b4d9c043627102094ba29cfe04f5810c259ea4e35a75203acf74312eb38d3f", tagSize: 16},
}

// ccmPattern is the 256 bytes 00..ff, in hex.
var ccmPattern = func() string {
	var b [256]byte
	for i := range b {
		b[i] = byte(i)
	}
	return hex.EncodeToString(b[:])
}()

// decoded returns the vector's bytes.
func (v ccmVector) decoded(t *testing.T) (key, nonce, aad, plain, sealed []byte) {
	t.Helper()
	dec := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("bad hex %q: %v", s, err)
		}
		return b
	}
	key, nonce, aad, plain, sealed = dec(v.key), dec(v.nonce), dec(v.aad), dec(v.plain), dec(v.sealed)
	if v.aadLen > 0 {
		aad = bytes.Repeat(aad, v.aadLen/len(aad)+1)[:v.aadLen]
	}
	return key, nonce, aad, plain, sealed
}

func mustCCM(t testing.TB, key []byte, nonceSize, tagSize int) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newCCM(b, nonceSize, tagSize)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCCMVectors seals and opens each vector, into new and into shared
// storage, and checks that every change (a bit of the ciphertext or tag,
// the associated data, the nonce, a byte less, a tag size other than the
// vector's) fails authentication.
func TestCCMVectors(t *testing.T) {
	for _, v := range ccmVectors {
		t.Run(v.name, func(t *testing.T) {
			key, nonce, aad, plain, sealed := v.decoded(t)
			c := mustCCM(t, key, len(nonce), v.tagSize)
			if c.NonceSize() != len(nonce) || c.Overhead() != v.tagSize || len(sealed) != len(plain)+v.tagSize {
				t.Fatalf("NonceSize() = %d, Overhead() = %d for a %d-byte nonce, %d-byte tag", c.NonceSize(), c.Overhead(), len(nonce), v.tagSize)
			}
			if got := c.Seal(nil, nonce, plain, aad); !bytes.Equal(got, sealed) {
				t.Errorf("Seal = %x, want %x", got, sealed)
			}
			if got := c.Seal([]byte("dst"), nonce, plain, aad); !bytes.Equal(got, append([]byte("dst"), sealed...)) {
				t.Errorf("Seal after dst = %x", got)
			}
			inPlace := append(bytes.Clone(plain), make([]byte, v.tagSize)...)[:len(plain)]
			if got := c.Seal(inPlace[:0], nonce, inPlace, aad); !bytes.Equal(got, sealed) {
				t.Errorf("Seal in place = %x, want %x", got, sealed)
			}
			if got, err := c.Open(nil, nonce, sealed, aad); err != nil || !bytes.Equal(got, plain) {
				t.Errorf("Open = %x, %v; want %x", got, err, plain)
			}
			if got, err := c.Open([]byte("dst"), nonce, sealed, aad); err != nil || !bytes.Equal(got, append([]byte("dst"), plain...)) {
				t.Errorf("Open after dst = %x, %v", got, err)
			}
			shared := bytes.Clone(sealed)
			if got, err := c.Open(shared[:0], nonce, shared, aad); err != nil || !bytes.Equal(got, plain) {
				t.Errorf("Open in place = %x, %v; want %x", got, err, plain)
			}

			fails := func(what string, c cipher.AEAD, nonce, sealed, aad []byte) {
				t.Helper()
				if got, err := c.Open(nil, nonce, sealed, aad); err == nil {
					t.Errorf("%s: Open = %x, want an error", what, got)
				}
			}
			for i := range sealed {
				for _, bit := range []byte{0x01, 0x80} {
					broken := bytes.Clone(sealed)
					broken[i] ^= bit
					fails(fmt.Sprintf("byte %d ^ %#x", i, bit), c, nonce, broken, aad)
				}
			}
			fails("a byte less", c, nonce, sealed[:len(sealed)-1], aad)
			fails("a byte more", c, nonce, append(bytes.Clone(sealed), 0), aad)
			fails("associated data with a byte more", c, nonce, sealed, append(bytes.Clone(aad), 0))
			if len(aad) > 0 {
				fails("associated data with a byte less", c, nonce, sealed, aad[:len(aad)-1])
				broken := bytes.Clone(aad)
				broken[len(broken)-1] ^= 1
				fails("associated data changed", c, nonce, sealed, broken)
			}
			broken := bytes.Clone(nonce)
			broken[len(broken)-1] ^= 1
			fails("nonce changed", c, broken, sealed, aad)
			for _, tagSize := range []int{v.tagSize - 2, v.tagSize + 2} {
				if tagSize >= 4 && tagSize <= 16 {
					fails(fmt.Sprintf("%d-byte tag", tagSize), mustCCM(t, key, len(nonce), tagSize), nonce, sealed, aad)
				}
			}
		})
	}
}

// TestNewCCM rejects the parameters RFC 3610 §2 does not allow.
func TestNewCCM(t *testing.T) {
	aesBlock, _ := aes.NewCipher(make([]byte, 16))
	desBlock, _ := des.NewCipher(make([]byte, 8))
	tests := []struct {
		nonceSize, tagSize int
		des                bool
		ok                 bool
	}{
		{12, 16, false, true},
		{12, 8, false, true},
		{7, 4, false, true},
		{13, 14, false, true},
		{6, 16, false, false},
		{14, 16, false, false},
		{0, 16, false, false},
		{12, 2, false, false},
		{12, 5, false, false},
		{12, 18, false, false},
		{12, 0, false, false},
		{12, 16, true, false},
	}
	for _, tt := range tests {
		b := aesBlock
		if tt.des {
			b = desBlock
		}
		a, err := newCCM(b, tt.nonceSize, tt.tagSize)
		if (err == nil) != tt.ok || (a == nil) == tt.ok {
			t.Errorf("newCCM(des %v, %d, %d) = %v, %v; want ok %v", tt.des, tt.nonceSize, tt.tagSize, a, err, tt.ok)
		}
	}
}

// TestCCMOpenMalformed opens what cannot be a sealed message, with each
// length field size's limit in play (nonces of 7, 12 and 13 bytes): an
// error, never a panic, nil returned, dst unchanged, and no
// unauthenticated plaintext left in its spare capacity.
func TestCCMOpenMalformed(t *testing.T) {
	for _, nonceSize := range []int{7, 12, 13} {
		c := mustCCM(t, make([]byte, 16), nonceSize, 16)
		nonce, aad := testData(5, nonceSize), []byte("aad")
		sealed := c.Seal(nil, nonce, []byte("Cookie: id=42; session=abcdef"), aad)
		tests := []struct {
			name               string
			nonce, sealed, aad []byte
		}{
			{"nil nonce", nil, sealed, aad},
			{"nonce a byte short", nonce[:nonceSize-1], sealed, aad},
			{"nonce with a byte more", append(bytes.Clone(nonce), 0), sealed, aad},
			{"nil ciphertext", nonce, nil, aad},
			{"ciphertext shorter than the tag", nonce, sealed[:15], aad},
			{"tag alone", nonce, sealed[len(sealed)-16:], aad},
			{"zero tag", nonce, append(bytes.Clone(sealed[:len(sealed)-16]), make([]byte, 16)...), aad},
			{"other associated data", nonce, sealed, []byte("other")},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("nonce %d, %s", nonceSize, tt.name), func(t *testing.T) {
				dst := make([]byte, 3, 3+len(tt.sealed))
				copy(dst, "dst")
				spare := dst[:cap(dst)]
				for i := 3; i < len(spare); i++ {
					spare[i] = 0xAA
				}
				got, err := c.Open(dst, tt.nonce, tt.sealed, tt.aad)
				if err == nil || got != nil {
					t.Fatalf("Open = %x, %v; want nil and an error", got, err)
				}
				if string(dst) != "dst" {
					t.Errorf("dst changed to %q", dst)
				}
				for i, b := range spare[3:] {
					if b != 0 && b != 0xAA {
						t.Fatalf("spare capacity byte %d is %#x: unauthenticated plaintext left", i, b)
					}
				}
			})
		}
	}
}

// TestCCMLengthLimit checks the message length limit of a 13-byte nonce,
// whose 2-byte length field (L = 2) counts at most 65535 bytes: Seal
// panics beyond, as the standard library's AEADs do on misuse, and Open
// returns an error.
func TestCCMLengthLimit(t *testing.T) {
	c := mustCCM(t, make([]byte, 16), 13, 8)
	nonce := make([]byte, 13)
	longest := make([]byte, 1<<16-1)
	sealed := c.Seal(nil, nonce, longest, nil)
	if got, err := c.Open(nil, nonce, sealed, nil); err != nil || !bytes.Equal(got, longest) {
		t.Fatalf("65535 bytes: Open = %d bytes, %v", len(got), err)
	}
	if _, err := c.Open(nil, nonce, append(sealed, 0), nil); err == nil {
		t.Error("65536 bytes: Open succeeded")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("65536 bytes: Seal did not panic")
			}
		}()
		c.Seal(nil, nonce, make([]byte, 1<<16), nil)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Seal with an 12-byte nonce did not panic")
			}
		}()
		c.Seal(nil, nonce[:12], nil, nil)
	}()
}

// TestCCMRoundTrip opens what Seal made for every nonce and tag size and
// the lengths around the block boundaries, where the CBC-MAC pads and the
// counter moves to the next block.
func TestCCMRoundTrip(t *testing.T) {
	key := testData(1, 16)
	for nonceSize := 7; nonceSize <= 13; nonceSize++ {
		for tagSize := 4; tagSize <= 16; tagSize += 2 {
			c := mustCCM(t, key, nonceSize, tagSize)
			nonce := testData(uint64(nonceSize), nonceSize)
			for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100} {
				for _, na := range []int{0, 1, 13, 14, 15, 16, 17, 30} {
					plain, aad := testData(uint64(n), n), testData(uint64(100+na), na)
					sealed := c.Seal(nil, nonce, plain, aad)
					if len(sealed) != n+tagSize {
						t.Fatalf("nonce %d, tag %d, %d+%d bytes: sealed %d bytes", nonceSize, tagSize, n, na, len(sealed))
					}
					if n > 0 && bytes.Equal(sealed[:n], plain) {
						t.Fatalf("nonce %d, tag %d, %d+%d bytes: not encrypted", nonceSize, tagSize, n, na)
					}
					if got, err := c.Open(nil, nonce, sealed, aad); err != nil || !bytes.Equal(got, plain) {
						t.Fatalf("nonce %d, tag %d, %d+%d bytes: Open = %x, %v", nonceSize, tagSize, n, na, got, err)
					}
				}
			}
		}
	}
}

// FuzzCCMOpen opens arbitrary input with each nonce and tag size (params:
// low 3 bits the nonce size 7 + n%7, next 3 the tag size 4 + 2*(n%7)). It
// must not panic, must return nil on error, and what opens must seal back
// to the same bytes (CCM is deterministic; with a fixed key a random
// forgery is all but impossible, so that is the seeds' own messages).
func FuzzCCMOpen(f *testing.F) {
	key := testData(7, 16)
	for _, params := range []byte{5, 5 | 6<<3, 5 | 2<<3, 0, 6 | 6<<3} {
		nonceSize, tagSize := 7+int(params&7)%7, 4+2*(int(params>>3&7)%7)
		c := mustCCM(f, key, nonceSize, tagSize)
		nonce := testData(3, nonceSize)
		f.Add(params, nonce, c.Seal(nil, nonce, []byte("GET / HTTP/1.1\r\n"), []byte("aad")), []byte("aad"))
		f.Add(params, nonce, c.Seal(nil, nonce, nil, nil), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, params byte, nonce, sealed, aad []byte) {
		nonceSize, tagSize := 7+int(params&7)%7, 4+2*(int(params>>3&7)%7)
		c := mustCCM(t, key, nonceSize, tagSize)
		got, err := c.Open([]byte("dst"), nonce, sealed, aad)
		if err != nil {
			if got != nil {
				t.Fatalf("Open returned %x with error %v", got, err)
			}
			return
		}
		if len(got) != 3+len(sealed)-tagSize || string(got[:3]) != "dst" {
			t.Fatalf("Open returned %d bytes from %d", len(got), len(sealed))
		}
		if again := c.Seal(nil, nonce, got[3:], aad); !bytes.Equal(again, sealed) {
			t.Fatalf("opened %x, which seals to %x, not %x", got[3:], again, sealed)
		}
	})
}
