package h2parse

import (
	"encoding/binary"
	"fmt"
)

// ClientPreface starts the client's byte stream (RFC 9113 §3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// frameHeaderLen is the size of the fixed frame header (RFC 9113 §4.1).
const frameHeaderLen = 9

// frameType is a frame's type (RFC 9113 §6, §11.2). Other types are
// ignored (RFC 9113 §4.1, §5.5).
type frameType uint8

const (
	frameData         frameType = 0x0 // §6.1
	frameHeaders      frameType = 0x1 // §6.2
	framePriority     frameType = 0x2 // §6.3
	frameRSTStream    frameType = 0x3 // §6.4
	frameSettings     frameType = 0x4 // §6.5
	framePushPromise  frameType = 0x5 // §6.6
	framePing         frameType = 0x6 // §6.7
	frameGoAway       frameType = 0x7 // §6.8
	frameWindowUpdate frameType = 0x8 // §6.9
	frameContinuation frameType = 0x9 // §6.10
)

var frameNames = [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

func (t frameType) String() string {
	if int(t) < len(frameNames) {
		return frameNames[t]
	}
	return fmt.Sprintf("frame type 0x%x", uint8(t))
}

// Frame flags (RFC 9113 §6); their meaning depends on the frame type.
const (
	flagEndStream  = 0x1  // DATA, HEADERS
	flagAck        = 0x1  // SETTINGS, PING
	flagEndHeaders = 0x4  // HEADERS, PUSH_PROMISE, CONTINUATION
	flagPadded     = 0x8  // DATA, HEADERS, PUSH_PROMISE
	flagPriority   = 0x20 // HEADERS
)

// Sizes of fixed frame fields (RFC 9113 §6).
const (
	priorityLen    = 5 // HEADERS priority fields and PRIORITY payload (§6.2, §6.3)
	promisedIDLen  = 4 // PUSH_PROMISE promised stream id (§6.6)
	settingLen     = 6 // one SETTINGS parameter (§6.5.1)
	rstStreamLen   = 4 // §6.4
	pingLen        = 8 // §6.7
	goAwayMinLen   = 8 // last stream id and error code (§6.8)
	windowUpdLen   = 4 // §6.9
	streamIDMask   = 1<<31 - 1
	settingTableID = 0x1 // SETTINGS_HEADER_TABLE_SIZE (§6.5.2)
)

// frameHeader is the fixed header of a frame (RFC 9113 §4.1).
type frameHeader struct {
	length uint32 // payload length, up to 2^24-1
	typ    frameType
	flags  uint8
	stream uint32 // the reserved bit is dropped
}

func parseFrameHeader(b *[frameHeaderLen]byte) frameHeader {
	return frameHeader{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    frameType(b[3]),
		flags:  b[4],
		stream: binary.BigEndian.Uint32(b[5:]) & streamIDMask,
	}
}

func (fh frameHeader) has(flag uint8) bool { return fh.flags&flag != 0 }

// check applies the rules that need only the header: which frames belong to
// a stream and which to the connection (stream 0), and fixed payload sizes.
func (fh frameHeader) check() error {
	onStream := true
	switch fh.typ {
	case frameData, frameHeaders, frameContinuation, framePushPromise:
	case framePriority:
		// A wrong length is only a stream error (§6.3): the peers go on.
	case frameRSTStream:
		if fh.length != rstStreamLen {
			return protocolErr("RST_STREAM of length %d", fh.length)
		}
	case frameSettings:
		onStream = false
		if fh.length%settingLen != 0 || fh.has(flagAck) && fh.length != 0 {
			return protocolErr("SETTINGS of length %d", fh.length)
		}
	case framePing:
		onStream = false
		if fh.length != pingLen {
			return protocolErr("PING of length %d", fh.length)
		}
	case frameGoAway:
		onStream = false
		if fh.length < goAwayMinLen {
			return protocolErr("GOAWAY of length %d", fh.length)
		}
	case frameWindowUpdate:
		if fh.length != windowUpdLen {
			return protocolErr("WINDOW_UPDATE of length %d", fh.length)
		}
		return nil // on a stream or on the connection
	default:
		return nil // unknown types are ignored whatever their stream
	}
	if onStream && fh.stream == 0 {
		return protocolErr("%s on stream 0", fh.typ)
	}
	if !onStream && fh.stream != 0 {
		return protocolErr("%s on stream %d", fh.typ, fh.stream)
	}
	return nil
}

// unpad removes the pad length octet and the padding of a PADDED frame's
// payload (RFC 9113 §6.1, §6.2, §6.6).
func unpad(fh frameHeader, p []byte) ([]byte, error) {
	if !fh.has(flagPadded) {
		return p, nil
	}
	if len(p) == 0 {
		return nil, protocolErr("padded frame without pad length")
	}
	n := int(p[0])
	p = p[1:]
	if n > len(p) {
		return nil, protocolErr("padding of %d bytes in a payload of %d", n, fh.length)
	}
	return p[:len(p)-n], nil
}

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}
