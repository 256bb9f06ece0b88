package quicread

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unhex decodes hex with spaces and newlines, as RFC text shows it.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hexFile reads a testdata file of hex, skipping # comment lines.
func hexFile(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			sb.WriteString(line)
		}
	}
	return unhex(t, sb.String())
}

// TestInitialKeysRFC9001 checks Initial key derivation against RFC 9001
// Appendix A.1.
func TestInitialKeysRFC9001(t *testing.T) {
	client, server := initialSecrets(unhex(t, "8394c8f03e515708"))
	tests := []struct {
		name           string
		secret         []byte
		wantSecret     string
		key, iv, hpKey string
	}{
		{"client", client,
			"c00cf151ca5be075ed0ebfb5c80323c4 2d6b7db67881289af4008f1f6c357aea",
			"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{"server", server,
			"3c199828fd139efd216c155ad844cc81 fb82fa8d7446fa7d78be803acdda951b",
			"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.secret, unhex(t, tt.wantSecret)) {
				t.Fatalf("secret %x", tt.secret)
			}
			h := aes128GCM.hash()
			if got := expandLabel(h, tt.secret, "quic key", 16); !bytes.Equal(got, unhex(t, tt.key)) {
				t.Errorf("key %x", got)
			}
			if got := expandLabel(h, tt.secret, "quic iv", 12); !bytes.Equal(got, unhex(t, tt.iv)) {
				t.Errorf("iv %x", got)
			}
			if got := expandLabel(h, tt.secret, "quic hp", 16); !bytes.Equal(got, unhex(t, tt.hpKey)) {
				t.Errorf("hp %x", got)
			}
			k, err := newKeys(aes128GCM, tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k.iv, unhex(t, tt.iv)) {
				t.Errorf("keys iv %x", k.iv)
			}
		})
	}
}

// a5Secret is the server's 1-RTT secret of RFC 9001 Appendix A.5.
const a5Secret = "9ac312a7f877468ebe69422748ad00a1 5443f18203a07d6060f688f30f21632b"

// TestChaChaKeysRFC9001 checks 1-RTT key derivation, the key update secret
// and the ChaCha20 header protection mask against RFC 9001 Appendix A.5.
func TestChaChaKeysRFC9001(t *testing.T) {
	secret := unhex(t, a5Secret)
	h := chacha20Poly1305.hash()
	for _, v := range []struct{ label, want string }{
		{"quic key", "c6d98ff3441c3fe1b2182094f69caa2e d4b716b65488960a7a984979fb23e1c8"},
		{"quic iv", "e0459b3474bdd0e44a41c144"},
		{"quic hp", "25a282b9e82f06f21f488917a4fc8f1b 73573685608597d0efcb076b0ab7a7a4"},
		{"quic ku", "1223504755036d556342ee9361d25342 1a826c9ecdf3c7148684b36b714881f9"},
	} {
		want := unhex(t, v.want)
		if got := expandLabel(h, secret, v.label, len(want)); !bytes.Equal(got, want) {
			t.Errorf("%s: %x", v.label, got)
		}
	}
	k, err := newKeys(chacha20Poly1305, secret)
	if err != nil {
		t.Fatal(err)
	}
	var nonce [12]byte
	if got := k.nonce(&nonce, 654360564); !bytes.Equal(got, unhex(t, "e0459b3474bdd0e46d417eb0")) {
		t.Errorf("nonce %x", got)
	}
	m := k.hp.mask(unhex(t, "5e5cd55c41f69080575d7999c25a5bfb"))
	if !bytes.Equal(m[:], unhex(t, "aefefe7d03")) {
		t.Errorf("mask %x", m)
	}
	if next := k.next(); !bytes.Equal(next.secret, unhex(t, "1223504755036d556342ee9361d25342 1a826c9ecdf3c7148684b36b714881f9")) {
		t.Errorf("next generation secret %x", next.secret)
	}
}

// TestSuitesFor checks which suites a secret's length admits, and that
// newKeys refuses a secret of the wrong length.
func TestSuitesFor(t *testing.T) {
	tests := []struct {
		n    int
		want []suite
	}{
		{32, []suite{aes128GCM, chacha20Poly1305}},
		{48, []suite{aes256GCM}},
		{0, nil},
		{31, nil},
		{64, nil},
	}
	for _, tt := range tests {
		got := suitesFor(make([]byte, tt.n))
		if len(got) != len(tt.want) {
			t.Errorf("%d bytes: %v, want %v", tt.n, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%d bytes: %v, want %v", tt.n, got, tt.want)
			}
		}
	}
	if _, err := newKeys(aes256GCM, make([]byte, 32)); err == nil {
		t.Error("aes-256-gcm took a 32-byte secret")
	}
	if _, err := newKeys(aes128GCM, make([]byte, 48)); err == nil {
		t.Error("aes-128-gcm took a 48-byte secret")
	}
}

// TestSealKeysAgree checks the test's own sealing keys against the RFC too,
// so that tests built on them rest on the RFC rather than on the package.
func TestSealKeysAgree(t *testing.T) {
	c, _ := initialSealKeys(t, unhex(t, "8394c8f03e515708"))
	if !bytes.Equal(c.key, unhex(t, "1f369613dd76d5467730efcbe3b1a22d")) {
		t.Errorf("seal key %x", c.key)
	}
	s := newSealKeys(t, chacha20Poly1305, unhex(t, a5Secret))
	u := s.updated(t)
	if !bytes.Equal(u.secret, unhex(t, "1223504755036d556342ee9361d25342 1a826c9ecdf3c7148684b36b714881f9")) {
		t.Errorf("seal ku %x", u.secret)
	}
	pkt := s.short(t, nil, 654360564, 3, []byte{0x01})
	if !bytes.Equal(pkt, hexFile(t, "rfc9001-a5-short-header.hex")) {
		t.Errorf("sealed A.5 packet %x", pkt)
	}
}
