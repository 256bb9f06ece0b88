package tlskeylog

import (
	"bytes"
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	typeClientHello         = 1
	typeServerHello         = 2
	typeEncryptedExtensions = 8
	typeFinished            = 20
	typeKeyUpdate           = 24
)

// Extension types (RFC 8446 §4.2).
const (
	extServerName        = 0  // RFC 6066 §3
	extALPN              = 16 // RFC 7301 §3.1
	extEncryptThenMAC    = 22 // RFC 7366 §2
	extEarlyData         = 42 // RFC 8446 §4.2.10
	extSupportedVersions = 43 // RFC 8446 §4.2.1
	// extECH is encrypted_client_hello (draft-ietf-tls-esni-22 §5). Chrome
	// also sends it with random contents (ECH GREASE) when it has no ECH
	// configuration for the server.
	extECH = 0xfe0d
)

// maxHandshake bounds the handshake messages we keep to read; others
// (certificates, tickets) are skipped without being buffered.
const maxHandshake = 64 << 10

// helloRetryRandom is the ServerHello.random that marks a HelloRetryRequest:
// SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

var errHandshakeTooLarge = errors.New("handshake message too large")

// hsBuffer reassembles handshake messages, type(1) length(3) body (RFC 8446
// §4), from the content of consecutive handshake records: a message may
// span records and a record may hold several.
type hsBuffer struct {
	buf  []byte // header and body so far of a message kept whole
	skip int    // body bytes still to drop of a message not kept
}

// kept reports whether messages of type typ are kept whole for reading.
func kept(typ byte) bool {
	switch typ {
	case typeClientHello, typeServerHello, typeEncryptedExtensions, typeFinished, typeKeyUpdate:
		return true
	}
	return false
}

// add consumes handshake bytes and calls fn with each whole kept message;
// fn returns false to stop. Body is valid only during the call.
func (b *hsBuffer) add(p []byte, fn func(typ byte, body []byte) bool) error {
	for {
		if b.skip > 0 {
			if len(p) == 0 {
				return nil
			}
			n := min(b.skip, len(p))
			b.skip, p = b.skip-n, p[n:]
			continue
		}
		if len(b.buf) < 4 {
			if len(p) == 0 {
				return nil
			}
			n := min(4-len(b.buf), len(p))
			b.buf, p = append(b.buf, p[:n]...), p[n:]
			if len(b.buf) < 4 {
				return nil
			}
			if n := bodyLen(b.buf); !kept(b.buf[0]) {
				b.buf, b.skip = b.buf[:0], n
				continue
			} else if n > maxHandshake {
				return errHandshakeTooLarge
			}
		}
		want := 4 + bodyLen(b.buf)
		n := min(want-len(b.buf), len(p))
		b.buf, p = append(b.buf, p[:n]...), p[n:]
		if len(b.buf) < want {
			return nil
		}
		typ, body := b.buf[0], b.buf[4:]
		b.buf = b.buf[:0]
		if !fn(typ, body) {
			return nil
		}
	}
}

func bodyLen(hdr []byte) int { return int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3]) }

// reset drops a partial message: handshake messages do not span key
// changes (RFC 8446 §5.1).
func (b *hsBuffer) reset() { b.buf, b.skip = b.buf[:0], 0 }

// clientHello is what we read from a ClientHello (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2).
type clientHello struct {
	random     []byte
	serverName string
	earlyData  bool // offers 0-RTT data
	ech        bool // carries an encrypted_client_hello extension
}

func parseClientHello(body []byte) (clientHello, bool) {
	var ch clientHello
	s := cryptobyte.String(body)
	var legacyVersion uint16
	var sessionID, suites, compression cryptobyte.String
	if !s.ReadUint16(&legacyVersion) || !s.ReadBytes(&ch.random, randomLen) ||
		!s.ReadUint8LengthPrefixed(&sessionID) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&compression) {
		return ch, false
	}
	ok := readExtensions(&s, func(typ uint16, data cryptobyte.String) bool {
		switch typ {
		case extServerName:
			// server_name_list of {name_type, opaque HostName<1..2^16-1>} (RFC 6066 §3).
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return false
			}
			for !list.Empty() {
				var nameType uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
					return false
				}
				if nameType == 0 && ch.serverName == "" {
					ch.serverName = printable(name)
				}
			}
		case extEarlyData:
			ch.earlyData = true
		case extECH:
			ch.ech = true
		}
		return true
	})
	return ch, ok
}

// serverHello is what we read from a ServerHello (RFC 8446 §4.1.3,
// RFC 5246 §7.4.1.3).
type serverHello struct {
	random      []byte
	version     uint16 // supported_versions when present, else legacy_version
	cipherSuite uint16
	alpn        string // TLS 1.2; TLS 1.3 sends it in EncryptedExtensions
	etm         bool   // encrypt_then_mac: CBC records are MACed after encryption
}

func parseServerHello(body []byte) (serverHello, bool) {
	var sh serverHello
	s := cryptobyte.String(body)
	var sessionID cryptobyte.String
	var compression uint8
	if !s.ReadUint16(&sh.version) || !s.ReadBytes(&sh.random, randomLen) ||
		!s.ReadUint8LengthPrefixed(&sessionID) || !s.ReadUint16(&sh.cipherSuite) ||
		!s.ReadUint8(&compression) {
		return sh, false
	}
	ok := readExtensions(&s, func(typ uint16, data cryptobyte.String) bool {
		switch typ {
		case extSupportedVersions:
			return data.ReadUint16(&sh.version)
		case extALPN:
			sh.alpn, _ = readALPN(data)
		case extEncryptThenMAC:
			sh.etm = true
		}
		return true
	})
	return sh, ok
}

// parseEncryptedExtensions returns the ALPN protocol of a TLS 1.3
// EncryptedExtensions message (RFC 8446 §4.3.1), or "".
func parseEncryptedExtensions(body []byte) string {
	var alpn string
	s := cryptobyte.String(body)
	readExtensions(&s, func(typ uint16, data cryptobyte.String) bool {
		if typ == extALPN {
			alpn, _ = readALPN(data)
		}
		return true
	})
	return alpn
}

// readExtensions calls fn for each extension of the block that ends a hello
// message (absent in a TLS 1.2 hello without extensions); false when the
// block or fn finds it malformed.
func readExtensions(s *cryptobyte.String, fn func(typ uint16, data cryptobyte.String) bool) bool {
	if s.Empty() {
		return true
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return false
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) || !fn(typ, data) {
			return false
		}
	}
	return true
}

// readALPN returns the first protocol of a ProtocolNameList (RFC 7301 §3.1);
// a server's list holds exactly one.
func readALPN(data cryptobyte.String) (string, bool) {
	var list, name cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&name) {
		return "", false
	}
	return printable(name), true
}

// printable returns b as a string when it is printable ASCII without
// spaces, as host names and registered ALPN ids are, else "": the peer
// chooses these bytes and they end up in reports.
func printable(b []byte) string {
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return ""
		}
	}
	return string(b)
}

func isHelloRetry(random []byte) bool { return bytes.Equal(random, helloRetryRandom) }
