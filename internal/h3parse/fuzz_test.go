package h3parse

import (
	"encoding/binary"
	"reflect"
	"testing"
)

const fuzzMaxBody = 64

// encodeChunks writes chunks in FuzzConn's input format: for each chunk,
// the stream id (one byte), flags (bit 0 from the client, bit 1 FIN, bit 2
// reset), a two-byte big-endian length and the data.
func encodeChunks(chunks []chunk) []byte {
	var b []byte
	for _, ch := range chunks {
		flags := byte(0)
		if ch.fromClient {
			flags |= 1
		}
		if ch.fin {
			flags |= 2
		}
		if ch.reset {
			flags |= 4
		}
		b = append(b, byte(ch.id), flags)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ch.data)))
		b = append(b, ch.data...)
	}
	return b
}

// decodeChunks reads FuzzConn's input format; a short last chunk takes
// what is left.
func decodeChunks(b []byte) []chunk {
	var chunks []chunk
	for len(b) >= 2 {
		ch := chunk{id: uint64(b[0]), fromClient: b[1]&1 != 0, fin: b[1]&2 != 0, reset: b[1]&4 != 0}
		b = b[2:]
		n := 0
		if len(b) >= 2 {
			n = int(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		n = min(n, len(b))
		ch.data, b = b[:n], b[n:]
		chunks = append(chunks, ch)
	}
	return chunks
}

// fuzzSeeds are the connections of the tests.
func fuzzSeeds(f *testing.F) [][]chunk {
	seeds := [][]chunk{dynamicConn(f), preamble()}
	rfc := []chunk{
		{id: srvControl, data: cat([]byte{uniControl}, settingsFrame(0x01, 220))},
		{id: cliEncoder, fromClient: true, data: cat([]byte{uniEncoder}, unhex(f, "3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468"))},
		{id: 4, fromClient: true, data: headersFrame(unhex(f, "03811011")), fin: true},
		{id: 4, data: headersFrame(staticBlock(f, ":status", "200")), fin: true},
	}
	seeds = append(seeds, rfc, move(dynamicConn(f), 6, 9))
	get := staticBlock(f, ":method", "GET", ":path", "/g", "cookie", "a=1", "cookie", "b=2")
	seeds = append(seeds, append(preamble(),
		chunk{id: 14, fromClient: true, data: cat(vint(0x21), []byte("grease"))},
		chunk{id: 19, data: cat(vint(uniPush), vint(0))},
		chunk{id: 0, fromClient: true, data: cat(frame(0x21, nil), headersFrame(get), dataFrame("body"))},
		chunk{id: 0, fromClient: true, fin: true},
		chunk{id: 0, data: cat(headersFrame(staticBlock(f, ":status", "103")), headersFrame(staticBlock(f, ":status", "200")), dataFrame("ok")), fin: true},
		chunk{id: 4, fromClient: true, data: headersFrame(get)},
		chunk{id: 4, reset: true},
		chunk{id: srvControl, data: frame(frameGoAway, vint(8))},
	))
	return seeds
}

// FuzzConn feeds a sequence of stream chunks. It checks that nothing
// panics, that memory stays within the bounds, that bodies respect
// maxBody, that no stream is returned twice, and that feeding every chunk
// one byte at a time changes nothing.
func FuzzConn(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(encodeChunks(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		chunks := decodeChunks(in)
		got := runChecked(t, chunks, 0)
		if bytewise := runChecked(t, chunks, 1); !reflect.DeepEqual(got, bytewise) {
			t.Fatalf("1-byte pieces changed the result:\n got %s\nwant %s", summary(bytewise), summary(got))
		}
		seen := map[uint64]bool{}
		for _, s := range append(got.done, got.open...) {
			if seen[s.ID] || s.ID%4 != 0 {
				t.Errorf("stream %d returned twice or not a request stream", s.ID)
			}
			seen[s.ID] = true
			for _, m := range []*Message{&s.Request, s.Response} {
				if m != nil && (len(m.Body) > fuzzMaxBody || m.Header == nil) {
					t.Errorf("stream %d: body of %d bytes, header %v", s.ID, len(m.Body), m.Header)
				}
			}
		}
	})
}

// runChecked is run with checkBounds after every chunk.
func runChecked(t *testing.T, chunks []chunk, pieces int) result {
	return runEach(fuzzMaxBody, chunks, pieces, func(c *Conn) { checkBounds(t, c) })
}

// FuzzSection decodes one field section against a table of a few
// entries: no panic, the size limit holds and the reported size is the
// fields' size.
func FuzzSection(f *testing.F) {
	e := &qenc{maxEntries: 220 / 32}
	e.setCapacity(220)
	a := e.insert("custom-key", "custom-value")
	b := e.insertStaticName(0, "www.example.com")
	f.Add(unhex(f, "0000510b2f696e6465782e68746d6c"))
	f.Add(unhex(f, "0381", "10", "11"))
	f.Add(unhex(f, "0500", "80", "c1", "81"))
	f.Add(e.section(2, 2, indexedDyn(a), literalDynName(b, "x"), literal("n", "v"), indexedStatic(98)))
	f.Add(e.section(2, 0, indexedDyn(a), literalDynName(b, "x")))
	f.Add(staticBlock(f, ":method", "GET", "cookie", "a=1", "x-huff", "caf\xc3\xa9"))
	stream := e.stream
	f.Fuzz(func(t *testing.T, in []byte) {
		var d decoder
		d.setMaxCapacity(220)
		for p := stream; len(p) > 0; {
			n, _, err := d.instruction(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		sec := section{data: in}
		fields, size, err := d.decode(&sec)
		if err != nil {
			return
		}
		sum := 0
		for _, f := range fields {
			sum += f.size()
		}
		if sum != size || size > maxHeaderBytes {
			t.Fatalf("size %d, fields sum to %d", size, sum)
		}
	})
}
