package capture

import (
	"strings"
)

// sniResult says what parseClientHelloSNI made of the bytes so far.
type sniResult int

const (
	sniNeedMore sniResult = iota // a ClientHello may follow; give more bytes
	sniNone                      // not a ClientHello, or one without a usable server name
	sniFound                     // the server name was found
)

// maxClientHello bounds how many bytes of a client stream are kept while
// waiting for a whole ClientHello. Post-quantum key shares make them
// 1.5-1.8 KB today (research/go-stack.md §3); 64 KiB is far beyond that.
const maxClientHello = 1 << 16

// parseClientHelloSNI reads the server name (SNI) from the start of a
// reassembled TLS client stream. The ClientHello may span several TCP
// segments and, in principle, several TLS records; b must hold the stream
// from its first byte.
//
// With Encrypted Client Hello (ECH) only the outer, public name is
// visible: the name returned is then the client-facing server's (e.g. a
// CDN's), not the site the browser really asked for.
func parseClientHelloSNI(b []byte) (string, sniResult) {
	var hs []byte // handshake bytes, concatenated record bodies
	single := true
	for off := 0; ; {
		if len(b)-off < 5 {
			return "", sniNeedMore
		}
		// record: type 22 (handshake), version 3.x, 16-bit length
		if b[off] != 22 || b[off+1] != 3 {
			return "", sniNone
		}
		n := int(b[off+3])<<8 | int(b[off+4])
		if n == 0 || n > 16384+2048 {
			return "", sniNone
		}
		if len(b)-off-5 < n {
			return "", sniNeedMore
		}
		body := b[off+5 : off+5+n]
		off += 5 + n
		if hs == nil && single {
			hs = body
		} else {
			if single {
				hs = append([]byte(nil), hs...)
				single = false
			}
			hs = append(hs, body...)
		}
		if hs[0] != 1 { // handshake type client_hello
			return "", sniNone
		}
		if len(hs) < 4 {
			single = false
			hs = append([]byte(nil), hs...)
			continue
		}
		hlen := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		if hlen > maxClientHello {
			return "", sniNone
		}
		if len(hs) >= 4+hlen {
			return helloServerName(hs[4 : 4+hlen])
		}
	}
}

// helloServerName walks a ClientHello body to its server_name extension.
func helloServerName(h []byte) (string, sniResult) {
	data, ok := helloExtension(h, 0) // server_name
	if !ok {
		return "", sniNone
	}
	list := data.sub(data.u16())
	for !list.bad && len(list.b) > 0 {
		nameType := list.u8()
		name := list.sub(list.u16())
		if list.bad {
			break
		}
		if nameType == 0 {
			if s, ok := validHostName(name.b); ok {
				return s, sniFound
			}
			return "", sniNone
		}
	}
	return "", sniNone
}

// helloExtension returns the data of a ClientHello body's first extension
// of type typ (RFC 8446 §4.1.2).
func helloExtension(h []byte, typ int) (tlsCursor, bool) {
	p := tlsCursor{b: h}
	p.skip(2 + 32)        // client version, random
	p.skip(p.u8())        // session id
	p.skip(p.u16())       // cipher suites
	p.skip(p.u8())        // compression methods
	ext := p.sub(p.u16()) // extensions
	for !p.bad && !ext.bad && len(ext.b) > 0 {
		t := ext.u16()
		data := ext.sub(ext.u16())
		if !ext.bad && t == typ {
			return data, true
		}
	}
	return tlsCursor{}, false
}

// validHostName accepts a DNS host name (letters, digits, '-', '_', '.')
// and returns it in lower case.
func validHostName(b []byte) (string, bool) {
	if len(b) == 0 || len(b) > 253 {
		return "", false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return "", false
		}
	}
	return strings.ToLower(string(b)), true
}

// tlsCursor reads big-endian fields from b; any read past the end sets
// bad and yields zeros, so parsers check bad once at the end.
type tlsCursor struct {
	b   []byte
	bad bool
}

func (c *tlsCursor) u8() int {
	if len(c.b) < 1 {
		c.bad = true
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v
}

func (c *tlsCursor) u16() int {
	if len(c.b) < 2 {
		c.bad = true
		c.b = nil
		return 0
	}
	v := int(c.b[0])<<8 | int(c.b[1])
	c.b = c.b[2:]
	return v
}

func (c *tlsCursor) skip(n int) {
	if len(c.b) < n {
		c.bad = true
		c.b = nil
		return
	}
	c.b = c.b[n:]
}

func (c *tlsCursor) sub(n int) tlsCursor {
	if c.bad || len(c.b) < n {
		c.bad = true
		c.b = nil
		return tlsCursor{bad: true}
	}
	s := tlsCursor{b: c.b[:n]}
	c.b = c.b[n:]
	return s
}
