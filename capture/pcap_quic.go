package capture

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// QUIC (HTTP/3) hides everything but its first packets, and those only
// thinly: a client's Initial packets are encrypted with keys anyone can
// derive from the connection ID the packet carries (RFC 9001 §5.2), and
// they hold the TLS ClientHello, server name included. Browsers speak
// HTTP/3 to Google's and Meta's hosts whenever they can, and with DNS
// over HTTPS a capture then shows no other trace of those trackers.

// quicV1Salt is the initial salt of QUIC version 1 (RFC 9001 §5.2).
var quicV1Salt = []byte{
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
}

// Bounds of the QUIC state: connections remembered, how long one waits
// for the rest of its ClientHello, and how many CRYPTO bytes and pieces
// one may hold (a ClientHello with a post-quantum key share is about
// 1.8 KB): at most 8 MiB in all.
const (
	maxQUICConns     = 1024
	quicWait         = 10 * time.Second
	maxQUICHello     = 8 << 10
	maxQUICFragments = 64
)

// quicKey identifies one QUIC connection by the client's and the server's
// address. Not by connection ID: after a Retry the client sends its
// ClientHello again under a new one, and that is still one contact.
type quicKey struct {
	client, server string
}

// quicConn collects the CRYPTO frames of a client's Initial packets until
// they hold the whole ClientHello.
type quicConn struct {
	first, last time.Time
	frags       []quicFragment
	size        int
	done        bool // the server name was found, or cannot be
}

type quicFragment struct {
	off  int
	data []byte
}

// quicTracker holds the connections seen recently.
type quicTracker struct {
	conns map[quicKey]*quicConn
}

// quicPacket looks for client Initial packets of QUIC version 1 in a UDP
// datagram (several packets may be coalesced in one) and emits a HostOnly
// record with Via "quic-sni" once a connection's ClientHello is complete.
// Anything else (short-header packets, other versions, the server's
// Initials, which do not decrypt with the client's keys) is ignored.
func (pr *pcapReader) quicPacket(p decodedPacket, ts time.Time) {
	b := p.udp.Payload
	for len(b) > 0 {
		h, rest, ok := parseQUICLong(b)
		if !ok {
			return
		}
		b = rest
		if h.typ != 0 { // not Initial
			continue
		}
		k := quicKey{client: net.JoinHostPort(p.netFlow.Src().String(), strconv.Itoa(int(p.udp.SrcPort))),
			server: net.JoinHostPort(p.netFlow.Dst().String(), strconv.Itoa(int(p.udp.DstPort)))}
		c := pr.quic.conns[k]
		if c != nil && c.done {
			if ts.Sub(c.last) < quicWait {
				c.last = ts
				continue
			}
			c = nil // quiet for long: a new connection from the same port
		}
		payload, ok := openQUICInitial(h)
		if !ok {
			continue
		}
		if c == nil {
			c = pr.quic.add(k, ts)
		}
		c.last = ts
		if !c.addFrames(payload) {
			c.done, c.frags = true, nil
			continue
		}
		switch name, res := c.serverName(); res {
		case sniFound:
			host := name
			if port := int(p.udp.DstPort); port != 443 {
				host = net.JoinHostPort(name, strconv.Itoa(port))
			}
			pr.emit(&traffic.Exchange{
				Start:    c.first,
				Client:   p.netFlow.Src().String(),
				Request:  traffic.Request{URL: &url.URL{Scheme: "https", Host: host, Path: "/"}},
				HostOnly: true,
				Via:      "quic-sni",
			}, 0, 0)
			pr.quicContacts++
			c.done, c.frags = true, nil
		case sniNone:
			c.done, c.frags = true, nil
		}
	}
}

// add starts the state of a new connection, first forgetting those idle
// for quicWait when the table is full (all of them if none is).
func (t *quicTracker) add(k quicKey, ts time.Time) *quicConn {
	if t.conns == nil {
		t.conns = map[quicKey]*quicConn{}
	}
	if len(t.conns) >= maxQUICConns {
		for k2, c := range t.conns {
			if ts.Sub(c.last) >= quicWait || c.last.Sub(ts) >= quicWait {
				delete(t.conns, k2)
			}
		}
		if len(t.conns) >= maxQUICConns {
			clear(t.conns)
		}
	}
	c := &quicConn{first: ts}
	t.conns[k] = c
	return c
}

// quicLong is a parsed long-header packet; pnOff is where its (protected)
// packet number starts within pkt.
type quicLong struct {
	typ   int
	dcid  []byte
	pkt   []byte
	pnOff int
}

// parseQUICLong parses the long header of the first packet in b (RFC 9000
// §17.2) and returns it and the bytes after it. Only version 1 is
// accepted; a short-header packet ends the datagram.
func parseQUICLong(b []byte) (quicLong, []byte, bool) {
	if len(b) < 7 || b[0]&0xc0 != 0xc0 || binary.BigEndian.Uint32(b[1:5]) != 1 {
		return quicLong{}, nil, false
	}
	h := quicLong{typ: int(b[0]>>4) & 3}
	c := tlsCursor{b: b[5:]}
	dl := c.u8()
	if dl > 20 {
		return quicLong{}, nil, false
	}
	h.dcid = c.sub(dl).b
	sl := c.u8()
	if sl > 20 {
		return quicLong{}, nil, false
	}
	c.skip(sl)
	switch h.typ {
	case 0: // Initial: a token precedes the length
		c.skip(int(quicVarint(&c)))
	case 3: // Retry: no length, no packet number; nothing of ours
		return quicLong{}, nil, false
	}
	n := quicVarint(&c)
	if c.bad || n > uint64(len(c.b)) {
		return quicLong{}, nil, false
	}
	end := len(b) - len(c.b) + int(n)
	h.pnOff = len(b) - len(c.b)
	h.pkt = b[:end]
	return h, b[end:], true
}

// quicVarint reads a variable-length integer (RFC 9000 §16).
func quicVarint(c *tlsCursor) uint64 {
	if len(c.b) == 0 {
		c.bad = true
		return 0
	}
	n := 1 << (c.b[0] >> 6)
	if len(c.b) < n {
		c.bad, c.b = true, nil
		return 0
	}
	v := uint64(c.b[0] & 0x3f)
	for _, x := range c.b[1:n] {
		v = v<<8 | uint64(x)
	}
	c.b = c.b[n:]
	return v
}

// openQUICInitial removes header protection from a client Initial packet
// and decrypts its payload with the keys its connection ID gives (RFC 9001
// §5.2-5.4). It reports false when the packet does not decrypt: a
// server's Initial, or not QUIC at all.
func openQUICInitial(h quicLong) ([]byte, bool) {
	key, iv, hp, ok := quicClientKeys(h.dcid)
	if !ok || len(h.pkt) < h.pnOff+4+16 {
		return nil, false
	}
	block, err := aes.NewCipher(hp)
	if err != nil {
		return nil, false
	}
	var mask [16]byte
	block.Encrypt(mask[:], h.pkt[h.pnOff+4:h.pnOff+20])
	// The header is rewritten unprotected in a copy: pkt points into the
	// packet source's buffer.
	hdr := slices.Clone(h.pkt[:h.pnOff+4])
	hdr[0] ^= mask[0] & 0x0f
	pnLen := int(hdr[0]&3) + 1
	var pn uint64
	for i := range pnLen {
		hdr[h.pnOff+i] ^= mask[1+i]
		pn = pn<<8 | uint64(hdr[h.pnOff+i])
	}
	hdr = hdr[:h.pnOff+pnLen]
	aesKey, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	aead, err := cipher.NewGCM(aesKey)
	if err != nil {
		return nil, false
	}
	nonce := slices.Clone(iv)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(pn >> (8 * i))
	}
	out, err := aead.Open(nil, nonce, h.pkt[h.pnOff+pnLen:], hdr)
	return out, err == nil
}

// quicClientKeys derives the client's Initial key, IV and header
// protection key from the connection ID (RFC 9001 §5.1-5.2).
func quicClientKeys(dcid []byte) (key, iv, hp []byte, ok bool) {
	initial, err := hkdf.Extract(sha256.New, dcid, quicV1Salt)
	if err != nil {
		return nil, nil, nil, false
	}
	secret := hkdfExpandLabel(initial, "client in", 32)
	key = hkdfExpandLabel(secret, "quic key", 16)
	iv = hkdfExpandLabel(secret, "quic iv", 12)
	hp = hkdfExpandLabel(secret, "quic hp", 16)
	return key, iv, hp, key != nil && iv != nil && hp != nil
}

// hkdfExpandLabel is TLS 1.3's HKDF-Expand-Label with an empty context
// (RFC 8446 §7.1).
func hkdfExpandLabel(secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		return nil
	}
	return out
}

// addFrames keeps the CRYPTO frames of a decrypted Initial payload
// (RFC 9000 §19). It reports false when the payload holds a frame not
// allowed in an Initial packet or the connection exceeds its bounds.
func (c *quicConn) addFrames(p []byte) bool {
	f := tlsCursor{b: p}
	for len(f.b) > 0 && !f.bad {
		switch t := quicVarint(&f); t {
		case 0x00, 0x01: // PADDING, PING
		case 0x02, 0x03: // ACK
			quicVarint(&f) // largest acknowledged
			quicVarint(&f) // delay
			ranges := quicVarint(&f)
			quicVarint(&f) // first range
			for i := uint64(0); i < ranges && !f.bad; i++ {
				quicVarint(&f)
				quicVarint(&f)
			}
			if t == 0x03 {
				quicVarint(&f)
				quicVarint(&f)
				quicVarint(&f)
			}
		case 0x06: // CRYPTO
			off := quicVarint(&f)
			n := quicVarint(&f)
			if f.bad || n > uint64(len(f.b)) || off+n > maxQUICHello {
				return false
			}
			data := f.sub(int(n)).b
			if len(c.frags) >= maxQUICFragments || c.size+len(data) > maxQUICHello {
				return false
			}
			c.frags = append(c.frags, quicFragment{off: int(off), data: slices.Clone(data)})
			c.size += len(data)
		case 0x1c: // CONNECTION_CLOSE
			return false
		default:
			return false
		}
	}
	return !f.bad
}

// serverName joins the CRYPTO bytes received so far from offset 0 and
// reads the ClientHello's server name once they hold all of it.
func (c *quicConn) serverName() (string, sniResult) {
	slices.SortFunc(c.frags, func(a, b quicFragment) int { return a.off - b.off })
	var hs []byte
	for _, fr := range c.frags {
		if fr.off > len(hs) {
			break // a gap: wait for the missing piece
		}
		if end := fr.off + len(fr.data); end > len(hs) {
			hs = append(hs, fr.data[len(hs)-fr.off:]...)
		}
	}
	if len(hs) < 4 {
		return "", sniNeedMore
	}
	if hs[0] != 1 { // handshake type client_hello
		return "", sniNone
	}
	n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
	if 4+n > maxQUICHello {
		return "", sniNone
	}
	if len(hs) < 4+n {
		return "", sniNeedMore
	}
	return helloServerName(hs[4 : 4+n])
}
