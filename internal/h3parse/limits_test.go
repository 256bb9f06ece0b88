package h3parse

import (
	"strings"
	"testing"
)

// checkBounds asserts the memory bounds a Conn promises, whatever it was
// fed.
func checkBounds(t testing.TB, c *Conn) {
	t.Helper()
	if len(c.order) > maxStreams || len(c.streams) != len(c.order) {
		t.Fatalf("%d streams open (%d in the map), max %d", len(c.order), len(c.streams), maxStreams)
	}
	if c.buffered < 0 || c.buffered > maxBufferedBytes {
		t.Fatalf("%d encoded bytes held, max %d", c.buffered, maxBufferedBytes)
	}
	if c.waiting < 0 || c.waiting > maxWaiting {
		t.Fatalf("%d sections waiting, max %d", c.waiting, maxWaiting)
	}
	if c.headerBytes < 0 || c.headerBytes > maxOpenHeaderBytes+maxHeaderBytes {
		t.Fatalf("%d decoded field bytes kept", c.headerBytes)
	}
	if len(c.uni) > maxPendingUni || len(c.gone.m) > maxGone {
		t.Fatalf("%d unidirectional streams, %d gone ids", len(c.uni), len(c.gone.m))
	}
	held, waiting := 0, 0
	for _, rs := range c.order {
		held += rs.buffered
		waiting += len(rs.req.queue) + len(rs.resp.queue)
	}
	if held != c.buffered || waiting != c.waiting {
		t.Fatalf("streams hold %d bytes and %d sections, the Conn counts %d and %d", held, waiting, c.buffered, c.waiting)
	}
	for _, s := range []*side{c.client, c.server} {
		tb := &s.dec.table
		if tb.size > tb.capacity || tb.capacity > maxTableCapacity || len(s.blocked) > len(c.order) {
			t.Fatalf("table size %d capacity %d, %d blocked streams", tb.size, tb.capacity, len(s.blocked))
		}
		if len(s.dec.partial) > 2*(4*maxTableCapacity+4)+2*(maxPrefixIntBytes+1) {
			t.Fatalf("%d bytes of a partial encoder instruction", len(s.dec.partial))
		}
	}
}

// TestEndlessBlocked opens stream after stream whose sections wait for
// insertions that never come: streams, waiting sections and held bytes
// stay bounded, the oldest streams come back incomplete.
func TestEndlessBlocked(t *testing.T) {
	e := &qenc{maxEntries: 4096 / 32}
	c := NewConn(0)
	for _, ch := range preamble() {
		c.StreamData(ch.id, ch.fromClient, ch.data, ch.fin, at(0))
	}
	big := strings.Repeat("v", 100<<10)
	returned := 0
	for i := range 3000 {
		sec := e.section(100, 100, indexedDyn(5), literal("x", big[:i*37%len(big)]))
		got := c.StreamData(uint64(4*i), true, headersFrame(sec), true, at(1))
		returned += len(got)
		for _, s := range got {
			if s.Request.Path != "" || !s.Request.End.IsZero() {
				t.Fatalf("stream %d decoded: %+v", s.ID, s.Request)
			}
		}
		if i%100 == 0 {
			checkBounds(t, c)
		}
	}
	checkBounds(t, c)
	open := c.Close()
	if returned+len(open) != 3000 || len(open) > maxWaiting || c.Stats().BrokenStreams == 0 {
		t.Errorf("%d returned, %d open at Close, %d broken", returned, len(open), c.Stats().BrokenStreams)
	}
}

// TestTooManyStreams keeps maxStreams open requests; the oldest go first.
func TestTooManyStreams(t *testing.T) {
	c := NewConn(0)
	var returned []*Stream
	for i := range maxStreams + 10 {
		returned = append(returned, c.StreamData(uint64(4*i), true, headersFrame(staticBlock(t, ":path", "/")), false, at(i))...)
	}
	checkBounds(t, c)
	if len(returned) != 10 || returned[0].ID != 0 || returned[9].ID != 36 || returned[0].Request.Path != "/" {
		t.Fatalf("returned %d streams", len(returned))
	}
	// Late bytes of a dropped stream do not open it again.
	if got := c.StreamData(0, true, headersFrame(staticBlock(t, ":path", "/again")), true, at(0)); len(got) != 0 || len(c.order) != maxStreams {
		t.Errorf("late bytes: %v, %d open", got, len(c.order))
	}
	if open := c.Close(); len(open) != maxStreams || open[0].ID != 40 {
		t.Errorf("Close returned %d", len(open))
	}
}

// TestHeaderBudget keeps at most maxOpenHeaderBytes of decoded fields on
// open streams.
func TestHeaderBudget(t *testing.T) {
	c := NewConn(0)
	v := strings.Repeat("c", 200<<10)
	returned := 0
	for i := range 200 {
		returned += len(c.StreamData(uint64(4*i), true, headersFrame(staticBlock(t, "cookie", v)), false, at(i)))
		checkBounds(t, c)
	}
	if c.headerBytes > maxOpenHeaderBytes || returned == 0 {
		t.Errorf("%d field bytes kept, %d streams returned", c.headerBytes, returned)
	}
}

// TestBigEncoderInstruction feeds a table-sized insertion one byte at a
// time: it is decoded once, when complete.
func TestBigEncoderInstruction(t *testing.T) {
	e := &qenc{}
	e.setCapacity(maxTableCapacity)
	e.insert("big", strings.Repeat("x", maxTableCapacity-40))
	c := NewConn(0)
	c.StreamData(srvControl, false, cat([]byte{uniControl}, settingsFrame(0x01, maxTableCapacity)), false, at(0))
	c.StreamData(cliEncoder, true, []byte{uniEncoder}, false, at(0))
	for _, b := range e.stream {
		c.StreamData(cliEncoder, true, []byte{b}, false, at(0))
	}
	checkBounds(t, c)
	if c.Err() != nil || c.client.dec.table.insertCount() != 1 || c.client.dec.table.size != maxTableCapacity-5 {
		t.Errorf("err %v, %d inserts, size %d", c.Err(), c.client.dec.table.insertCount(), c.client.dec.table.size)
	}
}

// TestIDSet forgets the oldest ids beyond its size.
func TestIDSet(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []uint64{1, 2, 3, 2, 4, 5} {
		s.add(id)
	}
	for id, want := range map[uint64]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		if s.has(id) != want {
			t.Errorf("has(%d) = %v, want %v", id, !want, want)
		}
	}
	if len(s.m) != 3 || len(s.ring) != 3 {
		t.Errorf("holds %d ids, ring of %d", len(s.m), len(s.ring))
	}
}
