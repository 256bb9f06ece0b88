package quicread

import "errors"

// Frame types of RFC 9000 §19 (Table 3 of §12.4) and RFC 9221 §4.
const (
	framePadding            = 0x00
	framePing               = 0x01
	frameAck                = 0x02
	frameAckECN             = 0x03
	frameResetStream        = 0x04
	frameStopSending        = 0x05
	frameCrypto             = 0x06
	frameNewToken           = 0x07
	frameStream             = 0x08 // to 0x0f: OFF 0x04, LEN 0x02, FIN 0x01
	frameMaxData            = 0x10
	frameMaxStreamData      = 0x11
	frameMaxStreamsBidi     = 0x12
	frameMaxStreamsUni      = 0x13
	frameDataBlocked        = 0x14
	frameStreamDataBlocked  = 0x15
	frameStreamsBlockedBidi = 0x16
	frameStreamsBlockedUni  = 0x17
	frameNewConnectionID    = 0x18
	frameRetireConnectionID = 0x19
	framePathChallenge      = 0x1a
	framePathResponse       = 0x1b
	frameConnectionClose    = 0x1c
	frameConnectionCloseApp = 0x1d
	frameHandshakeDone      = 0x1e
	frameDatagram           = 0x30 // RFC 9221 §4: without a Length field
	frameDatagramLen        = 0x31
)

// Frame parsing errors; both end the parsing of a packet.
var (
	errFrameTruncated = errors.New("quicread: truncated or malformed frame")
	errFrameUnknown   = errors.New("quicread: unknown frame type")
)

// frame is one parsed frame, reduced to what the reader uses: stream and
// crypto data and resets. Other frames are parsed only to be stepped over.
type frame struct {
	typ    uint64
	stream uint64 // stream ID of STREAM and RESET_STREAM
	offset uint64 // of STREAM and CRYPTO data; RESET_STREAM's final size
	data   []byte // STREAM and CRYPTO data, NEW_CONNECTION_ID's connection ID; aliasing the packet
	fin    bool   // STREAM: the data ends the stream
}

// nextFrame parses the frame at the front of r (RFC 9000 §19). A frame
// whose fields run past the packet, or whose data would end beyond the
// largest offset (§19.6, §19.8), is errFrameTruncated; a type this reader
// does not know is errFrameUnknown, since its length cannot be known.
func nextFrame(r *reader) (frame, error) {
	f := frame{typ: r.varint()}
	switch t := f.typ; {
	case t == framePadding:
		// Runs of PADDING are common (Initials are padded to 1200 bytes):
		// step over the whole run as one frame.
		for len(r.b) > 0 && r.b[0] == 0 {
			r.b = r.b[1:]
		}
	case t == framePing, t == frameHandshakeDone:
	case t == frameAck, t == frameAckECN:
		readAck(r, t == frameAckECN)
	case t == frameResetStream:
		f.stream = r.varint()
		r.varint() // application error code
		f.offset = r.varint()
	case t == frameStopSending:
		r.varint() // stream ID
		r.varint() // application error code
	case t == frameCrypto:
		f.offset = r.varint()
		f.data = r.bytes(r.varint())
	case t == frameNewToken:
		r.bytes(r.varint())
	case t >= frameStream && t <= frameStream|0x07:
		readStream(r, &f)
	case t == frameMaxData, t == frameMaxStreamsBidi, t == frameMaxStreamsUni,
		t == frameDataBlocked, t == frameStreamsBlockedBidi, t == frameStreamsBlockedUni,
		t == frameRetireConnectionID:
		r.varint()
	case t == frameMaxStreamData, t == frameStreamDataBlocked:
		r.varint() // stream ID
		r.varint() // limit
	case t == frameNewConnectionID:
		f.data = readNewConnectionID(r)
	case t == framePathChallenge, t == framePathResponse:
		r.bytes(8)
	case t == frameConnectionClose, t == frameConnectionCloseApp:
		r.varint() // error code
		if t == frameConnectionClose {
			r.varint() // frame type
		}
		r.bytes(r.varint()) // reason phrase
	case t == frameDatagram:
		r.bytes(uint64(len(r.b)))
	case t == frameDatagramLen:
		r.bytes(r.varint())
	default:
		if !r.ok() {
			return f, errFrameTruncated
		}
		return f, errFrameUnknown
	}
	if !r.ok() || f.offset+uint64(len(f.data)) > maxVarint {
		return f, errFrameTruncated
	}
	return f, nil
}

// readAck steps over an ACK frame (RFC 9000 §19.3): largest acknowledged,
// delay, range count, first range, the ranges, and ECN counts for 0x03.
func readAck(r *reader, ecn bool) {
	r.varint() // largest acknowledged
	r.varint() // ACK delay
	ranges := r.varint()
	r.varint() // first ACK range
	// Every range takes at least two bytes, so a count beyond the bytes
	// left cannot be satisfied: stop at the first failed read.
	for i := uint64(0); i < ranges && r.ok(); i++ {
		r.varint() // gap
		r.varint() // ACK range length
	}
	if ecn {
		r.varint() // ECT0
		r.varint() // ECT1
		r.varint() // ECN-CE
	}
}

// readStream reads a STREAM frame (RFC 9000 §19.8); the type's low bits
// say whether Offset and Length are present and whether FIN is set.
func readStream(r *reader, f *frame) {
	f.stream = r.varint()
	if f.typ&0x04 != 0 {
		f.offset = r.varint()
	}
	if f.typ&0x02 != 0 {
		f.data = r.bytes(r.varint())
	} else {
		f.data = r.bytes(uint64(len(r.b)))
	}
	f.fin = f.typ&0x01 != 0
}

// readNewConnectionID reads NEW_CONNECTION_ID (RFC 9000 §19.15):
// sequence number, retire prior to, a 1-to-20-byte connection ID, which
// it returns, and a 16-byte stateless reset token.
func readNewConnectionID(r *reader) []byte {
	r.varint() // sequence number
	r.varint() // retire prior to
	n := r.byte1()
	if n < 1 || n > maxCIDLen {
		r.fail()
		return nil
	}
	cid := r.bytes(uint64(n))
	r.bytes(16)
	return cid
}
