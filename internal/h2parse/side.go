package h2parse

import (
	"time"

	"golang.org/x/net/http2/hpack"
)

// side is the parser state of one direction of the connection: where it is
// in the byte stream, the frame being read, and the HPACK decoder that
// holds this direction's dynamic table (RFC 7541 §2.3.2).
type side struct {
	client      bool
	prefaceLeft int   // client: bytes of the preface not yet seen
	offset      int64 // bytes of this direction consumed so far
	started     bool  // the first frame, which must be SETTINGS, was seen

	// The frame being read.
	head       [frameHeaderLen]byte
	headN      int // bytes of head filled
	fh         frameHeader
	frameStart time.Time // capture time of the frame's first byte
	frameOff   int64     // offset of the frame's first byte
	left       uint32    // payload bytes still to come

	// A DATA payload is consumed as it arrives, never buffered.
	padPending bool   // the pad length octet comes next
	dataLeft   uint32 // payload bytes before the padding

	// payload collects the whole payload of the frames the parser needs at
	// once (HEADERS, PUSH_PROMISE, CONTINUATION, SETTINGS), up to
	// maxFramePayload bytes; other payloads are skipped.
	payload []byte

	block headerBlock

	dec        *hpack.Decoder
	tableLimit uint32              // dynamic table size the peer allowed this side's encoder
	fields     []hpack.HeaderField // fields of the block being decoded
	fieldBytes int                 // their size, counted as for SETTINGS_MAX_HEADER_LIST_SIZE
	tooBig     bool                // fieldBytes passed maxHeaderBytes
}

func newSide(client bool) *side {
	s := &side{client: client, tableLimit: defaultTableSize}
	if client {
		s.prefaceLeft = len(ClientPreface)
	}
	s.dec = hpack.NewDecoder(defaultTableSize, s.emit)
	s.dec.SetMaxStringLength(maxHeaderBytes)
	return s
}

// preface checks the next bytes against the client preface.
func (c *Conn) preface(s *side, data []byte) []byte {
	at := len(ClientPreface) - s.prefaceLeft
	n := min(len(data), s.prefaceLeft)
	for i := range n {
		if data[i] != ClientPreface[at+i] {
			s.frameOff = s.offset + int64(i)
			c.fail(s, ErrNotHTTP2)
			return nil
		}
	}
	s.prefaceLeft -= n
	s.offset += int64(n)
	return data[n:]
}

// consume reads the next bytes of a frame and handles the frame when its
// last byte arrives. It returns the bytes it did not use.
func (c *Conn) consume(s *side, data []byte, t time.Time) []byte {
	if s.headN < frameHeaderLen {
		if s.headN == 0 {
			s.frameStart, s.frameOff = t, s.offset
		}
		n := copy(s.head[s.headN:], data)
		s.headN += n
		s.offset += int64(n)
		data = data[n:]
		if s.headN < frameHeaderLen {
			return data
		}
		c.beginFrame(s)
	} else {
		n := min(uint32(len(data)), s.left)
		c.framePayload(s, data[:n])
		s.left -= n
		s.offset += int64(n)
		data = data[n:]
	}
	if c.err != nil || s.left > 0 {
		return data
	}
	c.endFrame(s, t)
	s.headN = 0
	return data
}

// beginFrame checks a frame header against the connection state and
// prepares for its payload.
func (c *Conn) beginFrame(s *side) {
	fh := parseFrameHeader(&s.head)
	s.fh, s.left = fh, fh.length
	if !s.started {
		if fh.typ != frameSettings || fh.has(flagAck) {
			// The connection preface of either side ends with a
			// SETTINGS frame (RFC 9113 §3.4).
			c.fail(s, ErrNotHTTP2)
			return
		}
		s.started = true
	}
	// A field block is a contiguous sequence of frames (RFC 9113 §4.3).
	if s.block.open && (fh.typ != frameContinuation || fh.stream != s.block.stream) {
		c.fail(s, protocolErr("%s on stream %d inside the field block of stream %d", fh.typ, fh.stream, s.block.stream))
		return
	}
	if !s.block.open && fh.typ == frameContinuation {
		c.fail(s, protocolErr("CONTINUATION without HEADERS on stream %d", fh.stream))
		return
	}
	if err := fh.check(); err != nil {
		c.fail(s, err)
		return
	}
	switch fh.typ {
	case frameData:
		s.padPending = fh.has(flagPadded)
		s.dataLeft = fh.length
	case frameHeaders, framePushPromise, frameContinuation, frameSettings:
		if fh.length > maxFramePayload {
			c.fail(s, limitErr("%s of %d bytes", fh.typ, fh.length))
			return
		}
		s.payload = s.payload[:0]
	}
}

// framePayload takes the next bytes of the current frame's payload.
func (c *Conn) framePayload(s *side, p []byte) {
	switch s.fh.typ {
	case frameData:
		if s.padPending && len(p) > 0 {
			s.padPending = false
			pad := uint32(p[0])
			p = p[1:]
			if pad >= s.fh.length {
				c.fail(s, protocolErr("padding of %d bytes in a DATA payload of %d", pad, s.fh.length))
				return
			}
			s.dataLeft = s.fh.length - 1 - pad
		}
		n := min(uint32(len(p)), s.dataLeft)
		s.dataLeft -= n
		c.onData(s, p[:n]) // the rest is padding
	case frameHeaders, framePushPromise, frameContinuation, frameSettings:
		s.payload = append(s.payload, p...)
	}
}

// endFrame handles a frame once all of it has arrived; t is the capture
// time of its last byte.
func (c *Conn) endFrame(s *side, t time.Time) {
	fh := s.fh
	switch fh.typ {
	case frameData:
		if s.padPending {
			c.fail(s, protocolErr("padded DATA without pad length"))
			return
		}
		if fh.has(flagEndStream) {
			c.endStream(s.client, fh.stream, t)
		}
	case frameHeaders:
		frag, err := unpad(fh, s.payload)
		if err == nil && fh.has(flagPriority) {
			if len(frag) < priorityLen {
				err = protocolErr("HEADERS too short for its priority fields")
			} else {
				frag = frag[priorityLen:]
			}
		}
		if err != nil {
			c.fail(s, err)
			return
		}
		c.startBlock(s, 0, frag, t)
	case framePushPromise:
		if s.client {
			c.fail(s, protocolErr("PUSH_PROMISE from the client")) // RFC 9113 §8.4
			return
		}
		frag, err := unpad(fh, s.payload)
		if err == nil && len(frag) < promisedIDLen {
			err = protocolErr("PUSH_PROMISE too short for its promised stream id")
		}
		if err != nil {
			c.fail(s, err)
			return
		}
		promised := uint32(frag[0])<<24 | uint32(frag[1])<<16 | uint32(frag[2])<<8 | uint32(frag[3])
		c.startBlock(s, promised&streamIDMask, frag[promisedIDLen:], t)
	case frameContinuation:
		c.continueBlock(s, s.payload, t)
	case frameSettings:
		c.onSettings(s, s.payload)
	case frameRSTStream:
		c.reset(fh.stream)
	}
}
