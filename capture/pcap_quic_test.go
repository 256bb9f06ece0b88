package capture

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

// quicCrypto is a CRYPTO frame of a test Initial packet.
func quicCrypto(off int, data []byte) []byte {
	return append(append(append([]byte{0x06}, quicVarintBytes(uint64(off))...), quicVarintBytes(uint64(len(data)))...), data...)
}

func quicVarintBytes(v uint64) []byte {
	switch {
	case v < 1<<6:
		return []byte{byte(v)}
	case v < 1<<14:
		return []byte{0x40 | byte(v>>8), byte(v)}
	default:
		return []byte{0x80 | byte(v>>24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
}

// sealQUICInitial protects frames as a client Initial packet of QUIC
// version 1 for dcid with packet number pn, padded to 1200 bytes as
// clients do (RFC 9001 §5.2-5.4), independently of quicread: its key
// derivation gives RFC 9001 Appendix A.1's keys (TestSealQUICInitialKeys).
func sealQUICInitial(t testing.TB, dcid []byte, pn uint32, frames []byte) []byte {
	t.Helper()
	return sealQUICInitialTo(t, dcid, dcid, pn, frames)
}

// sealQUICInitialTo is sealQUICInitial for a later Initial of a
// connection: sent to dcid, with the keys of the connection's first
// Initial, sent to first.
func sealQUICInitialTo(t testing.TB, first, dcid []byte, pn uint32, frames []byte) []byte {
	t.Helper()
	key, iv, hp := quicClientKeys(t, first)
	hdr := []byte{0xc3, 0, 0, 0, 1, byte(len(dcid))}
	hdr = append(hdr, dcid...)
	hdr = append(hdr, 0, 0) // no source connection ID, no token
	if pad := 1200 - len(hdr) - 2 - 4 - len(frames) - 16; pad > 0 {
		frames = append(frames, make([]byte, pad)...)
	}
	n := 4 + len(frames) + 16
	hdr = append(hdr, 0x40|byte(n>>8), byte(n))
	pnOff := len(hdr)
	hdr = append(hdr, byte(pn>>24), byte(pn>>16), byte(pn>>8), byte(pn))
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := append([]byte(nil), iv...)
	for i := range 4 {
		nonce[len(nonce)-1-i] ^= byte(pn >> (8 * i))
	}
	ct := aead.Seal(nil, nonce, frames, hdr)
	hpBlock, _ := aes.NewCipher(hp)
	var mask [16]byte
	hpBlock.Encrypt(mask[:], ct[:16])
	pkt := append(hdr, ct...)
	pkt[0] ^= mask[0] & 0x0f
	for i := range 4 {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}

// quicClientKeys derives a client's Initial key, IV and header
// protection key from the connection ID (RFC 9001 §5.1-5.2).
func quicClientKeys(t testing.TB, dcid []byte) (key, iv, hp []byte) {
	t.Helper()
	salt := []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a} // QUIC v1, RFC 9001 §5.2
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		t.Fatal(err)
	}
	label := func(secret []byte, label string, n int) []byte { // TLS 1.3 HKDF-Expand-Label, empty context
		full := "tls13 " + label
		info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
		out, err := hkdf.Expand(sha256.New, secret, string(append(info, 0)), n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	secret := label(initial, "client in", 32)
	return label(secret, "quic key", 16), label(secret, "quic iv", 12), label(secret, "quic hp", 16)
}

// TestSealQUICInitialKeys checks the test's own key derivation against
// RFC 9001 Appendix A.1.
func TestSealQUICInitialKeys(t *testing.T) {
	key, iv, hp := quicClientKeys(t, []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08})
	for _, c := range []struct{ name, got, want string }{
		{"key", hex.EncodeToString(key), "1f369613dd76d5467730efcbe3b1a22d"},
		{"iv", hex.EncodeToString(iv), "fa044b2f42a3fd3b46fb255c"},
		{"hp", hex.EncodeToString(hp), "9f50449e04a0e810283a1e9933adedd2"},
	} {
		if c.got != c.want {
			t.Errorf("client Initial %s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// quicUDP adds one UDP datagram from cli:cport to srv:sport.
func (b *capBuilder) quicUDP(cli, srv string, cport, sport uint16, payload []byte) {
	b.add(b.frame(net.ParseIP(cli), net.ParseIP(srv), &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: layers.UDPPort(sport)}, payload))
}

// buildQUIC adds a browser's QUIC connection attempts to b: a ClientHello
// for connect.facebook.net in three CRYPTO frames, shuffled over two
// Initial packets sent in reverse order and the first sent again; a
// server's Initial (keys of another connection ID) and a short-header
// packet, which must give nothing; the ClientHello again after the
// server's Retry, and a minute later; a ClientHello for a non-443 port; and one whose
// second half never came; and a port used by two connections at once.
func buildQUIC(t testing.TB) *capBuilder {
	b := newCapBuilder(t, linkTypeEthernet)
	hello := realClientHello(t, "connect.facebook.net")[5:] // the handshake message, without its record header
	third := len(hello) / 3
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	p1 := sealQUICInitial(t, dcid, 0, append(append(quicCrypto(2*third, hello[2*third:]), 0x01), quicCrypto(0, hello[:third])...))
	p2 := sealQUICInitial(t, dcid, 1, quicCrypto(third, hello[third:2*third]))
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, p2)
	b.quicUDP("157.240.0.35", "10.0.0.2", 443, 50500, sealQUICInitial(t, []byte{9, 9, 9, 9}, 0, []byte{0x02, 0, 0, 0, 0}))
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, p1)
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, p1) // retransmitted: no second contact
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, []byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	// After a Retry the client sends its ClientHello again under the
	// connection ID the server chose: the same connection, no second
	// contact. The same port a minute later is a new connection.
	retrySCID := []byte{0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5}
	retry := append([]byte{0xf0, 0, 0, 0, 1, 0, byte(len(retrySCID))}, retrySCID...) // RFC 9000 §17.2.5, to the client's empty ID
	retry = append(retry, make([]byte, 16+16)...)                                    // token and integrity tag (not checked)
	b.quicUDP("157.240.0.35", "10.0.0.2", 443, 50500, retry)
	again := sealQUICInitial(t, retrySCID, 2, quicCrypto(0, hello))
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, again)
	b.now = b.now.Add(time.Minute)
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, again)

	alt := realClientHello(t, "www.google-analytics.com")[5:]
	b.quicUDP("10.0.0.2", "142.250.0.10", 50501, 8443, sealQUICInitial(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0, quicCrypto(0, alt)))

	lost := realClientHello(t, "lost.example")[5:]
	b.quicUDP("10.0.0.2", "192.0.2.9", 50502, 443, sealQUICInitial(t, []byte{7, 7, 7, 7, 7, 7, 7, 7}, 0, quicCrypto(0, lost[:100])))

	// Port 50503: an Initial of the connection sent to an ID the server
	// handed over (with the first Initial's keys) is the same connection;
	// a new ClientHello at once to a new ID is a new one.
	first := []byte{5, 5, 5, 5, 5, 5, 5, 5}
	b.quicUDP("10.0.0.2", "157.240.0.36", 50503, 443, sealQUICInitial(t, first, 0, quicCrypto(0, realClientHello(t, "static.xx.fbcdn.net")[5:])))
	b.quicUDP("10.0.0.2", "157.240.0.36", 50503, 443, sealQUICInitialTo(t, first, []byte{6, 6, 6, 6}, 1, []byte{0x02, 0, 0, 0, 0}))
	b.quicUDP("10.0.0.2", "157.240.0.36", 50503, 443, sealQUICInitial(t, []byte{4, 4, 4, 4, 4, 4, 4, 4}, 0, quicCrypto(0, realClientHello(t, "www.facebook.com")[5:])))
	return b
}
