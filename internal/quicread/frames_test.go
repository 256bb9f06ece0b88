package quicread

import (
	"bytes"
	"errors"
	"testing"
)

// TestFrames parses one frame of each type RFC 9000 §19 and RFC 9221
// define, followed by a PING so that stepping over the frame exactly is
// checked; every shorter cut of the frame must fail.
func TestFrames(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want frame
	}{
		{"padding", "000000", frame{typ: 0}},
		{"ping", "01", frame{typ: 1}},
		{"ack", "02 4064 05 02 03 01 02 00 00", frame{typ: 2}},
		{"ack ecn", "03 10 00 00 00 01 02 03", frame{typ: 3}},
		{"reset stream", "04 04 4001 07", frame{typ: 4, stream: 4, offset: 7}},
		{"stop sending", "05 04 01", frame{typ: 5}},
		{"crypto", "06 4100 03 616263", frame{typ: 6, offset: 256, data: []byte("abc")}},
		{"new token", "07 02 aabb", frame{typ: 7}},
		{"stream bare", "08 00 6869", frame{typ: 8, data: []byte("hi")}},
		{"stream fin", "09 04 6869", frame{typ: 9, stream: 4, data: []byte("hi"), fin: true}},
		{"stream len", "0a 04 02 6869", frame{typ: 0x0a, stream: 4, data: []byte("hi")}},
		{"stream len fin", "0b 04 02 6869", frame{typ: 0x0b, stream: 4, data: []byte("hi"), fin: true}},
		{"stream off", "0c 04 10 6869", frame{typ: 0x0c, stream: 4, offset: 16, data: []byte("hi")}},
		{"stream off fin", "0d 04 10 6869", frame{typ: 0x0d, stream: 4, offset: 16, data: []byte("hi"), fin: true}},
		{"stream off len", "0e 04 10 02 6869", frame{typ: 0x0e, stream: 4, offset: 16, data: []byte("hi")}},
		{"stream all", "0f 04 10 02 6869", frame{typ: 0x0f, stream: 4, offset: 16, data: []byte("hi"), fin: true}},
		{"max data", "10 4400", frame{typ: 0x10}},
		{"max stream data", "11 04 4400", frame{typ: 0x11}},
		{"max streams bidi", "12 10", frame{typ: 0x12}},
		{"max streams uni", "13 10", frame{typ: 0x13}},
		{"data blocked", "14 10", frame{typ: 0x14}},
		{"stream data blocked", "15 04 10", frame{typ: 0x15}},
		{"streams blocked bidi", "16 10", frame{typ: 0x16}},
		{"streams blocked uni", "17 10", frame{typ: 0x17}},
		{"new connection id", "18 01 00 04 01020304 00112233445566778899aabbccddeeff", frame{typ: 0x18, data: []byte{1, 2, 3, 4}}},
		{"retire connection id", "19 01", frame{typ: 0x19}},
		{"path challenge", "1a 0102030405060708", frame{typ: 0x1a}},
		{"path response", "1b 0102030405060708", frame{typ: 0x1b}},
		{"connection close", "1c 0a 08 03 626164", frame{typ: 0x1c}},
		{"connection close app", "1d 00 02 6f6b", frame{typ: 0x1d}},
		{"handshake done", "1e", frame{typ: 0x1e}},
		{"datagram len", "31 03 646772", frame{typ: 0x31}},
		{"frame type in two bytes", "4001", frame{typ: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.hex)
			// Without a Length field, STREAM data runs to the packet's end.
			toEnd := tt.want.typ&^0x07 == frameStream && tt.want.typ&0x02 == 0
			r := reader{b: bytes.Clone(b)}
			if !toEnd {
				r.b = append(r.b, 0x01)
			}
			f, err := nextFrame(&r)
			if err != nil || f.typ != tt.want.typ || f.stream != tt.want.stream || f.offset != tt.want.offset ||
				!bytes.Equal(f.data, tt.want.data) || f.fin != tt.want.fin {
				t.Fatalf("%+v %v", f, err)
			}
			if toEnd {
				if !r.empty() {
					t.Fatalf("left %x", r.b)
				}
				return
			}
			if len(r.b) != 1 || r.b[0] != 0x01 {
				t.Fatalf("left %x", r.b)
			}
			for n := 1; n < len(b); n++ {
				if f.typ == framePadding {
					break
				}
				r := reader{b: b[:n]}
				if _, err := nextFrame(&r); err == nil {
					t.Errorf("cut to %d bytes: parsed", n)
				}
			}
		})
	}
}

// TestFramesInvalid checks the errors.
func TestFramesInvalid(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"unknown type", "20", errFrameUnknown},
		{"unknown extension type", "4020", errFrameUnknown},
		{"truncated type", "40", errFrameTruncated},
		{"crypto beyond the data", "06 00 10 6162", errFrameTruncated},
		{"stream past 2^62", "0e 00 ffffffffffffffff 02 6869", errFrameTruncated},
		{"ack with a range count beyond the data", "02 10 00 ffffffff 00 01", errFrameTruncated},
		{"new connection id of length 0", "18 01 00 00 00112233445566778899aabbccddeeff", errFrameTruncated},
		{"new connection id of length 21", "18 01 00 15" + "00112233445566778899aabbccddeeff0011223344", errFrameTruncated},
	}
	for _, tt := range tests {
		r := reader{b: unhex(t, tt.hex)}
		if _, err := nextFrame(&r); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// DATAGRAM without a Length takes the rest of the packet.
	r := reader{b: unhex(t, "30 010203")}
	if _, err := nextFrame(&r); err != nil || !r.empty() {
		t.Errorf("datagram: %v, left %x", err, r.b)
	}
}
