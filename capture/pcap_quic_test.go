package capture

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

// TestQUICInitialRFC9001 decrypts the client Initial packet of RFC 9001
// Appendix A.2, an oracle independent of this package: its ClientHello
// asks for example.com.
func TestQUICInitialRFC9001(t *testing.T) {
	raw, err := os.ReadFile("testdata/quic/rfc9001-a2-client-initial.hex")
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil || len(pkt) != 1200 {
		t.Fatalf("test vector: %d bytes, %v", len(pkt), err)
	}
	key, iv, hp, _ := quicClientKeys(pkt[6:14])
	for _, c := range []struct{ name, got, want string }{
		// RFC 9001 Appendix A.1.
		{"key", hex.EncodeToString(key), "1f369613dd76d5467730efcbe3b1a22d"},
		{"iv", hex.EncodeToString(iv), "fa044b2f42a3fd3b46fb255c"},
		{"hp", hex.EncodeToString(hp), "9f50449e04a0e810283a1e9933adedd2"},
	} {
		if c.got != c.want {
			t.Errorf("client Initial %s = %s, want %s", c.name, c.got, c.want)
		}
	}
	h, rest, ok := parseQUICLong(pkt)
	if !ok || h.typ != 0 || len(rest) != 0 {
		t.Fatalf("parseQUICLong: ok=%v type=%d rest=%d", ok, h.typ, len(rest))
	}
	payload, ok := openQUICInitial(h)
	if !ok {
		t.Fatal("the RFC's client Initial did not decrypt")
	}
	if !bytes.HasPrefix(payload, []byte{0x06, 0x00, 0x40, 0xf1, 0x01}) {
		t.Errorf("payload starts % x, want the RFC's CRYPTO frame", payload[:8])
	}
	var c quicConn
	if !c.addFrames(payload) {
		t.Fatal("addFrames refused the RFC's frames")
	}
	if name, res := c.serverName(); res != sniFound || name != "example.com" {
		t.Errorf("server name %q (%d), want example.com", name, res)
	}
	// A flipped byte fails authentication.
	pkt[100] ^= 1
	if _, ok := openQUICInitial(h); ok {
		t.Error("a corrupted Initial decrypted")
	}
}

// quicFrame is one frame of a test Initial packet.
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
// clients do (RFC 9001 §5.3-5.4, the inverse of openQUICInitial; the key
// derivation is checked against the RFC by TestQUICInitialRFC9001).
func sealQUICInitial(t testing.TB, dcid []byte, pn uint32, frames []byte) []byte {
	t.Helper()
	key, iv, hp, _ := quicClientKeys(dcid)
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

// quicUDP adds one UDP datagram from cli:cport to srv:sport.
func (b *capBuilder) quicUDP(cli, srv string, cport, sport uint16, payload []byte) {
	b.add(b.frame(net.ParseIP(cli), net.ParseIP(srv), &layers.UDP{SrcPort: layers.UDPPort(cport), DstPort: layers.UDPPort(sport)}, payload))
}

// buildQUIC adds a browser's QUIC connection attempts to b: a ClientHello
// for connect.facebook.net in three CRYPTO frames, shuffled over two
// Initial packets sent in reverse order and the first sent again; a
// server's Initial (keys of another connection ID) and a short-header
// packet, which must give nothing; the ClientHello again after a Retry,
// and a minute later; a ClientHello for a non-443 port; and one whose
// second half never came.
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
	again := sealQUICInitial(t, []byte{0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5}, 2, quicCrypto(0, hello))
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, again)
	b.now = b.now.Add(time.Minute)
	b.quicUDP("10.0.0.2", "157.240.0.35", 50500, 443, again)

	alt := realClientHello(t, "www.google-analytics.com")[5:]
	b.quicUDP("10.0.0.2", "142.250.0.10", 50501, 8443, sealQUICInitial(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0, quicCrypto(0, alt)))

	lost := realClientHello(t, "lost.example")[5:]
	b.quicUDP("10.0.0.2", "192.0.2.9", 50502, 443, sealQUICInitial(t, []byte{7, 7, 7, 7, 7, 7, 7, 7}, 0, quicCrypto(0, lost[:100])))
	return b
}

// FuzzQUICInitial feeds arbitrary bytes to each step of the QUIC decoder:
// as a datagram's packets (parseQUICLong, openQUICInitial) and as the
// decrypted payloads of one connection's Initials (addFrames,
// serverName), which random datagrams almost never reach. Nothing may
// panic, and a name found must be a valid host name.
func FuzzQUICInitial(f *testing.F) {
	raw, err := os.ReadFile("testdata/quic/rfc9001-a2-client-initial.hex")
	if err != nil {
		f.Fatal(err)
	}
	pkt, _ := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	f.Add(pkt, []byte{})
	hello := realClientHello(f, "connect.facebook.net")[5:]
	f.Add([]byte{0xc3, 0, 0, 0, 1, 0}, append(quicCrypto(40, hello[40:]), append([]byte{0x02, 1, 0, 0, 0, 0x01}, quicCrypto(0, hello[:40])...)...))
	f.Add([]byte{}, []byte{0x06, 0x3f, 0x3f})
	f.Fuzz(func(t *testing.T, datagram, frames []byte) {
		for b := datagram; len(b) > 0; {
			h, rest, ok := parseQUICLong(b)
			if !ok {
				break
			}
			openQUICInitial(h)
			b = rest
		}
		var c quicConn
		// The frames arrive in two packets, the second half first.
		half := len(frames) / 2
		for _, p := range [][]byte{frames[half:], frames[:half]} {
			if !c.addFrames(p) {
				return
			}
			if name, res := c.serverName(); res == sniFound {
				if _, ok := validHostName([]byte(name)); !ok {
					t.Fatalf("server name %q is no host name", name)
				}
			}
		}
	})
}
