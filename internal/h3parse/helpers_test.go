package h3parse

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/qpack"
)

// This file builds HTTP/3 connections for the tests: QUIC stream chunks
// holding frames, with field sections from quic-go/qpack's encoder (static
// table and literals) or from qenc, a small QPACK encoder written for the
// tests that uses the dynamic table.

// chunk is one StreamData (or StreamReset) call.
type chunk struct {
	id         uint64
	fromClient bool
	data       []byte
	fin        bool
	reset      bool
}

// Stream ids of a connection's streams (RFC 9000 §2.1).
const (
	cliControl = 2
	srvControl = 3
	cliEncoder = 6
	srvEncoder = 7
	cliDecoder = 10
	srvDecoder = 11
)

// appendVarint appends v as a QUIC varint of the shortest length; v must
// be at most maxVarint.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func vint(v uint64) []byte { return appendVarint(nil, v) }

func frame(typ uint64, payload []byte) []byte {
	return append(append(vint(typ), vint(uint64(len(payload)))...), payload...)
}

func headersFrame(block []byte) []byte { return frame(frameHeaders, block) }
func dataFrame(p string) []byte        { return frame(frameData, []byte(p)) }

// settingsFrame is a SETTINGS frame of id, value pairs.
func settingsFrame(kv ...uint64) []byte {
	var p []byte
	for _, v := range kv {
		p = appendVarint(p, v)
	}
	return frame(frameSettings, p)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// staticBlock encodes name, value pairs with quic-go/qpack.
func staticBlock(t testing.TB, kv ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := qpack.NewEncoder(&b)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := enc.WriteField(qpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// appendPrefixInt encodes v with an n-bit prefix after the flag bits
// (RFC 7541 §5.1).
func appendPrefixInt(b []byte, flags byte, n uint8, v uint64) []byte {
	max := uint64(1)<<n - 1
	if v < max {
		return append(b, flags|byte(v))
	}
	b = append(b, flags|byte(max))
	v -= max
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendRaw encodes a string literal without Huffman coding; the H flag
// sits just above the n-bit prefix.
func appendRaw(b []byte, flags byte, n uint8, s string) []byte {
	return append(appendPrefixInt(b, flags, n, uint64(len(s))), s...)
}

// qenc is a test QPACK encoder for the dynamic table (RFC 9204 §4.3,
// §4.5): it writes encoder instructions and field sections with explicit
// representations.
type qenc struct {
	maxEntries uint64 // from the decoder's SETTINGS_QPACK_MAX_TABLE_CAPACITY
	inserts    uint64
	stream     []byte // encoder stream bytes written so far
}

func (e *qenc) setCapacity(c uint64) { e.stream = appendPrefixInt(e.stream, 0x20, 5, c) }

// insert adds name: value with a literal name and returns its absolute
// index.
func (e *qenc) insert(name, value string) uint64 {
	e.stream = appendRaw(e.stream, 0x40, 5, name)
	e.stream = appendRaw(e.stream, 0x00, 7, value)
	e.inserts++
	return e.inserts - 1
}

// insertStaticName adds a static name with a new value.
func (e *qenc) insertStaticName(idx uint64, value string) uint64 {
	e.stream = appendPrefixInt(e.stream, 0xc0, 6, idx)
	e.stream = appendRaw(e.stream, 0x00, 7, value)
	e.inserts++
	return e.inserts - 1
}

// duplicate inserts again the entry of absolute index abs.
func (e *qenc) duplicate(abs uint64) uint64 {
	e.stream = appendPrefixInt(e.stream, 0x00, 5, e.inserts-1-abs)
	e.inserts++
	return e.inserts - 1
}

// take returns the encoder stream bytes written since the last take.
func (e *qenc) take() []byte {
	b := e.stream
	e.stream = nil
	return b
}

// line is a field line representation for qenc.section.
type line func(b []byte, base uint64) []byte

func indexedStatic(i uint64) line {
	return func(b []byte, _ uint64) []byte { return appendPrefixInt(b, 0xc0, 6, i) }
}

// indexedDyn refers to absolute index abs, relative to the base or
// post-base as it falls.
func indexedDyn(abs uint64) line {
	return func(b []byte, base uint64) []byte {
		if abs < base {
			return appendPrefixInt(b, 0x80, 6, base-1-abs)
		}
		return appendPrefixInt(b, 0x10, 4, abs-base)
	}
}

// literalDynName uses the name of entry abs with a literal value.
func literalDynName(abs uint64, value string) line {
	return func(b []byte, base uint64) []byte {
		if abs < base {
			b = appendPrefixInt(b, 0x40, 4, base-1-abs)
		} else {
			b = appendPrefixInt(b, 0x00, 3, abs-base)
		}
		return appendRaw(b, 0x00, 7, value)
	}
}

func literalStaticName(i uint64, value string) line {
	return func(b []byte, _ uint64) []byte {
		return appendRaw(appendPrefixInt(b, 0x50, 4, i), 0x00, 7, value)
	}
}

func literal(name, value string) line {
	return func(b []byte, _ uint64) []byte {
		return appendRaw(appendRaw(b, 0x20, 3, name), 0x00, 7, value)
	}
}

// section encodes a field section with Required Insert Count ric and
// Base base (RFC 9204 §4.5.1).
func (e *qenc) section(ric, base uint64, lines ...line) []byte {
	var b []byte
	if ric == 0 {
		b = append(b, 0, 0)
	} else {
		b = appendPrefixInt(b, 0, 8, ric%(2*e.maxEntries)+1)
		if base >= ric {
			b = appendPrefixInt(b, 0, 7, base-ric)
		} else {
			b = appendPrefixInt(b, 0x80, 7, ric-base-1)
		}
	}
	for _, l := range lines {
		b = l(b, base)
	}
	return b
}

// result is what a connection gave: streams returned while feeding, at
// Close, the error and stats.
type result struct {
	done, open []*Stream
	err        error
	stats      Stats
}

// run feeds chunks, chunk i at time i; with pieces > 0 each chunk goes in
// pieces of that many bytes.
func run(maxBody int, chunks []chunk, pieces int) result {
	return runEach(maxBody, chunks, pieces, func(*Conn) {})
}

// runEach is run calling check after every chunk of data.
func runEach(maxBody int, chunks []chunk, pieces int, check func(*Conn)) result {
	c := NewConn(maxBody)
	var r result
	for i, ch := range chunks {
		t := time.Unix(int64(i), 0)
		if ch.reset {
			r.done = append(r.done, c.StreamReset(ch.id, ch.fromClient, t)...)
			continue
		}
		p := ch.data
		for pieces > 0 && len(p) > pieces {
			r.done = append(r.done, c.StreamData(ch.id, ch.fromClient, p[:pieces], false, t)...)
			p = p[pieces:]
		}
		r.done = append(r.done, c.StreamData(ch.id, ch.fromClient, p, ch.fin, t)...)
		check(c)
	}
	r.open = c.Close()
	r.err = c.Err()
	r.stats = c.Stats()
	return r
}

func summary(r result) string {
	var b strings.Builder
	for _, s := range r.done {
		fmt.Fprintf(&b, "[%d %s %s reset=%v", s.ID, s.Request.Method, s.Request.Path, s.Reset)
		if s.Response != nil {
			fmt.Fprintf(&b, " %d body=%d", s.Response.Status, len(s.Response.Body))
		}
		b.WriteString("] ")
	}
	fmt.Fprintf(&b, "open=%d err=%v", len(r.open), r.err)
	return b.String()
}

func sameResult(t *testing.T, what string, got, want result) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s changed the result:\n got %s\nwant %s", what, summary(got), summary(want))
	}
}
