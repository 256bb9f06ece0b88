package capture

import (
	"bytes"
	"net/http"
	"time"
)

// parseState is where an httpParser is within the current message.
type parseState uint8

const (
	stHeader     parseState = iota // before or inside the header block
	stFixed                        // reading a Content-Length body
	stChunkSize                    // expecting a chunk-size line
	stChunkData                    // inside a chunk
	stChunkEnd                     // expecting the CRLF after a chunk
	stTrailer                      // after the last chunk, until an empty line
	stUntilClose                   // response body delimited by the connection's end
	stResync                       // after a gap: waiting for a segment that starts a message
	stLost                         // cannot follow this direction any more
)

// Parser bounds: a header block (net/http's default limit is 1 MB; real
// headers are a few KB) and a chunk-size or trailer line.
const (
	maxHeaderBytes = 64 << 10
	maxLineBytes   = 4 << 10
)

// httpParser follows one direction of an HTTP/1.x connection
// incrementally: reassembled bytes are fed as they come and each byte is
// looked at once, so a stream costs no goroutine and no re-parsing.
// Header blocks are parsed by scanHTTPHead; the body framing
// (Content-Length, chunked, until close) is followed here, and bodies are
// kept up to traffic.BodyCap.
type httpParser struct {
	resp  bool
	state parseState
	buf   []byte // partial header block or line
	// remain is what is left of a fixed body or chunk.
	remain int64
	body   []byte
	trunc  bool
	start  time.Time
	// head is the message being read; have says a head was parsed and
	// its body is pending.
	head httpHead
	have bool
	// scratch is reused by the scanner from head to head.
	scratch headScratch
}

// feed consumes data, the next reassembled bytes of this direction.
func (p *httpParser) feed(s *tcpStream, data []byte) {
	for len(data) > 0 {
		switch p.state {
		case stLost:
			return
		case stResync:
			if !looksLikeMessageStart(data, p.resp) {
				return
			}
			p.state = stHeader
		case stHeader:
			if len(p.buf) == 0 {
				i := 0
				for i < len(data) && (data[i] == '\r' || data[i] == '\n') {
					i++
				}
				data = data[i:]
				if len(data) == 0 {
					return
				}
				p.start = s.pr.packetTime()
				if e := headerEnd(data, 0); e >= 0 {
					hdr := data[:e]
					data = data[e:]
					p.header(s, hdr)
					continue
				}
				if len(data) > maxHeaderBytes {
					p.lose(s)
					return
				}
				p.buf = append(p.buf, data...)
				return
			}
			old := len(p.buf)
			p.buf = append(p.buf, data...)
			e := headerEnd(p.buf, max(0, old-3))
			if e < 0 {
				if len(p.buf) > maxHeaderBytes {
					p.lose(s)
				}
				return
			}
			used := e - old
			data = data[used:]
			p.header(s, p.buf[:e])
			p.buf = p.buf[:0]
		case stFixed, stChunkData:
			n := int64(len(data))
			if n > p.remain {
				n = p.remain
			}
			p.collect(data[:n])
			data = data[n:]
			p.remain -= n
			if p.remain == 0 {
				if p.state == stFixed {
					p.done(s)
				} else {
					p.state = stChunkEnd
				}
			}
		case stUntilClose:
			p.collect(data)
			return
		case stChunkSize, stChunkEnd, stTrailer:
			line, used, ok := p.line(data)
			data = data[used:]
			if !ok {
				if len(p.buf) > maxLineBytes {
					p.lose(s)
				}
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			switch p.state {
			case stChunkEnd:
				p.state = stChunkSize
			case stTrailer:
				if len(line) == 0 {
					p.done(s)
				}
			case stChunkSize:
				size, ok := parseChunkSize(line)
				switch {
				case !ok:
					p.lose(s)
				case size == 0:
					p.state = stTrailer
				default:
					p.remain, p.state = size, stChunkData
				}
			}
			p.buf = p.buf[:0]
		}
	}
}

// line returns the next line of data (with its newline), joining bytes
// held from earlier calls; ok is false when the line is not complete yet
// (the bytes are then held).
func (p *httpParser) line(data []byte) (line []byte, used int, ok bool) {
	j := bytes.IndexByte(data, '\n')
	if j < 0 {
		p.buf = append(p.buf, data...)
		return nil, len(data), false
	}
	if len(p.buf) > 0 {
		p.buf = append(p.buf, data[:j+1]...)
		return p.buf, j + 1, true
	}
	return data[:j+1], j + 1, true
}

// header parses a complete header block and sets up the body framing.
func (p *httpParser) header(s *tcpStream, hdr []byte) {
	h := &p.head
	if err := scanHead(hdr, p.resp, h, &p.scratch); err != nil {
		p.state = stLost
		return
	}
	if !p.resp {
		p.have = true
		switch {
		case h.Chunked:
			p.state = stChunkSize
		case h.Length > 0:
			p.state, p.remain = stFixed, h.Length
		default:
			p.done(s)
		}
		return
	}
	method := s.pendingMethod()
	code := h.Status
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // interim response (100 Continue, 103 Early Hints): the real one follows
	}
	p.have = true
	switch {
	case method == http.MethodHead, code == http.StatusNoContent, code == http.StatusNotModified,
		code == http.StatusSwitchingProtocols, method == http.MethodConnect && code/100 == 2:
		p.done(s)
	case h.Chunked:
		p.state = stChunkSize
	case h.TE: // a coding other than chunked last: the body runs until the close
		p.state = stUntilClose
	case h.Length > 0:
		p.state, p.remain = stFixed, h.Length
	case h.Length == 0:
		p.done(s)
	default:
		p.state = stUntilClose
	}
}

func (p *httpParser) collect(b []byte) {
	var cut bool
	p.body, cut = appendCapped(p.body, b)
	if cut {
		p.trunc = true
	}
}

// done hands the finished message to the stream and resets for the next.
func (p *httpParser) done(s *tcpStream) {
	have, body, trunc, start := p.have, p.body, p.trunc, p.start
	p.state, p.have, p.body, p.trunc, p.remain = stHeader, false, nil, false, 0
	p.buf = p.buf[:0]
	if !have {
		return
	}
	if p.resp {
		s.onResponse(&p.head, body, trunc)
	} else {
		s.onRequest(&p.head, body, trunc, start)
	}
}

// inMessage reports whether a header was parsed and its body is pending.
func (p *httpParser) inMessage() bool { return p.have }

// lose gives up on this direction, keeping any message begun (cut short).
func (p *httpParser) lose(s *tcpStream) {
	if p.inMessage() {
		p.trunc = true
		p.done(s)
	}
	p.state, p.buf = stLost, nil
}

// gap is called when skip bytes (or an unknown number, skip < 0) are
// missing from the capture before the next data.
func (p *httpParser) gap(s *tcpStream, skip int) {
	switch {
	case p.state == stLost:
	case p.state == stUntilClose:
		p.trunc = true
	case p.state == stFixed && skip > 0 && int64(skip) < p.remain:
		p.remain -= int64(skip)
		p.trunc = true
	default:
		if p.inMessage() {
			p.trunc = true
			p.done(s)
		}
		p.state, p.buf = stResync, p.buf[:0]
	}
}

// close ends the direction: a body delimited by the close is complete, a
// body still expecting bytes is cut short, a partial header is dropped.
func (p *httpParser) close(s *tcpStream) {
	switch {
	case p.state == stUntilClose:
		p.done(s)
	case p.inMessage():
		p.trunc = true
		p.done(s)
	}
	p.state, p.buf = stLost, nil
}

// headerEnd returns the index just past the blank line that ends the
// header block in b (CRLF or bare LF line ends), searching lines that end
// at or after from; -1 when there is none yet.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		k := i + j + 1
		if k < len(b) && b[k] == '\n' {
			return k + 1
		}
		if k+1 < len(b) && b[k] == '\r' && b[k+1] == '\n' {
			return k + 2
		}
		i = k
	}
	return -1
}

// parseChunkSize reads a chunk-size line's hex number, ignoring chunk
// extensions; sizes beyond 2^60 are refused.
func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// httpMethods are the request methods that start a plaintext request.
var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// looksLikeRequest reports whether b starts like an HTTP request line.
func looksLikeRequest(b []byte) bool {
	for _, m := range httpMethods {
		if len(b) >= len(m) && string(b[:len(m)]) == m {
			return true
		}
	}
	return false
}

// looksLikeResponse reports whether b starts like an HTTP/1 status line.
func looksLikeResponse(b []byte) bool {
	return len(b) >= 7 && string(b[:7]) == "HTTP/1."
}

// looksLikeTLSHandshake reports whether b starts like a TLS handshake
// record (type 22, version 3.x).
func looksLikeTLSHandshake(b []byte) bool {
	return len(b) >= 6 && b[0] == 22 && b[1] == 3 && b[2] <= 4
}

// looksLikeTLSRecord reports whether b starts a TLS record of any type
// (change_cipher_spec 20, alert 21, handshake 22, application_data 23;
// RFC 8446 §5.1).
func looksLikeTLSRecord(b []byte) bool {
	return len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4
}

// looksLikeMessageStart reports whether b starts a request (resp false)
// or a response (resp true).
func looksLikeMessageStart(b []byte, resp bool) bool {
	if resp {
		return looksLikeResponse(b)
	}
	return looksLikeRequest(b)
}
