package quicread

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Bounds of stream reassembly. Data that arrives ahead of a hole is
// buffered; each buffered piece costs its length plus segmentOverhead, so
// that floods of tiny pieces are bounded too. A stream that would go over
// its own or the connection's budget, or over maxSegments pieces, is given
// up as a gap rather than grow.
const (
	maxStreamBuffer = 1 << 20
	maxConnBuffer   = 8 << 20
	segmentOverhead = 64
	maxSegments     = 2048
	// maxOpenStreams bounds the stream directions with state at once.
	maxOpenStreams = 1000
	// maxDoneStreams bounds the streams remembered as finished above the
	// per-type watermark (see doneSet).
	maxDoneStreams = 4096
)

// streamKey names one direction of one stream.
type streamKey struct {
	id         uint64
	fromClient bool
}

// compare orders keys for deterministic reports.
func (k streamKey) compare(o streamKey) int {
	if c := cmp.Compare(k.id, o.id); c != 0 {
		return c
	}
	switch {
	case k.fromClient == o.fromClient:
		return 0
	case k.fromClient:
		return -1
	}
	return 1
}

// validSender reports whether the peer may send on this stream: both on a
// bidirectional stream, only the initiator on a unidirectional one (RFC
// 9000 §2.1: bit 0x01 is the initiator, set for the server; bit 0x02 marks
// unidirectional streams).
func (k streamKey) validSender() bool {
	if k.id&0x02 == 0 {
		return true
	}
	return k.fromClient == (k.id&0x01 == 0)
}

// segment is buffered stream data at an offset.
type segment struct {
	off  uint64
	data []byte
}

func (s segment) end() uint64 { return s.off + uint64(len(s.data)) }

// recvStream is the reassembly state of one stream direction.
type recvStream struct {
	next     uint64    // offset of the next byte to deliver
	final    uint64    // final size, when hasFinal
	hasFinal bool      // a FIN has been seen
	pending  []segment // data past a hole: sorted, not overlapping, past next
	buffered int       // cost of pending
	reset    bool      // RESET_STREAM seen: end with a reset, not a FIN
}

// streams reassembles the stream data of one connection and hands it to
// the Handler in order (RFC 9000 §2.2: data at an offset, retransmitted
// possibly in other frames, must be delivered once and in order).
type streams struct {
	h        Handler
	gaps     GapHandler // h, when it implements GapHandler
	open     map[streamKey]*recvStream
	done     doneSet
	buffered int // cost of all pending data
	stats    *Stats
}

func newStreams(h Handler, stats *Stats) *streams {
	s := &streams{h: h, open: map[streamKey]*recvStream{}, stats: stats}
	s.gaps, _ = h.(GapHandler)
	return s
}

// get returns the open stream direction k, opened now if new; nil, and
// k given up as a gap, when too many are open.
func (s *streams) get(k streamKey, t time.Time) *recvStream {
	st := s.open[k]
	if st == nil {
		if len(s.open) >= maxOpenStreams {
			s.markGap(k, t)
			return nil
		}
		st = &recvStream{}
		s.open[k] = st
	}
	return st
}

// data takes one STREAM frame's data (RFC 9000 §19.8).
func (s *streams) data(k streamKey, off uint64, data []byte, fin bool, t time.Time) {
	if s.done.has(k) {
		return // finished, reset or given up: a retransmission
	}
	st := s.get(k, t)
	if st == nil {
		return
	}
	end := off + uint64(len(data))
	if fin && !st.hasFinal && end >= st.next && !s.beyond(st, end) {
		st.final, st.hasFinal = end, true
	}
	// Bytes past the final size break the protocol (§4.5): drop them.
	if st.hasFinal && end > st.final {
		data = data[:max(0, int64(st.final)-int64(off))]
		end = off + uint64(len(data))
	}
	// Bytes already delivered are retransmissions.
	if end <= st.next {
		data = nil
	} else if off < st.next {
		data, off = data[st.next-off:], st.next
	}
	if len(data) > 0 {
		if off == st.next {
			if s.emit(k, st, data, t) {
				return
			}
		} else if !s.buffer(k, st, off, data, t) {
			return
		}
	}
	s.drain(k, st, t)
}

// beyond reports whether buffered data already reaches past end, which a
// FIN at end contradicts.
func (s *streams) beyond(st *recvStream, end uint64) bool {
	return len(st.pending) > 0 && st.pending[len(st.pending)-1].end() > end
}

// drain delivers the buffered segments that the delivered data has
// reached, then the FIN once the final size is reached.
func (s *streams) drain(k streamKey, st *recvStream, t time.Time) {
	for len(st.pending) > 0 && st.pending[0].off <= st.next {
		seg := st.pending[0]
		st.pending = st.pending[1:]
		s.release(st, seg)
		if seg.end() <= st.next {
			continue
		}
		if s.emit(k, st, seg.data[st.next-seg.off:], t) {
			return
		}
	}
	if st.hasFinal && st.next == st.final {
		s.emit(k, st, nil, t)
	}
}

// emit hands in-order data to the Handler, with fin when it reaches the
// final size (or, after RESET_STREAM, then reports the reset); it reports
// whether that finished the stream direction.
func (s *streams) emit(k streamKey, st *recvStream, data []byte, t time.Time) bool {
	st.next += uint64(len(data))
	s.stats.StreamBytes += uint64(len(data))
	end := st.hasFinal && st.next == st.final
	if len(data) > 0 || end && !st.reset {
		s.h.StreamData(k.id, k.fromClient, data, end && !st.reset, t)
	}
	switch {
	case end && st.reset:
		s.reportReset(k, st, t)
	case end:
		s.finish(k, st, t)
	}
	return end
}

// buffer keeps data that lies past a hole, copying only the bytes not
// buffered yet. It gives the stream up, and reports false, when the
// stream's or the connection's budget would be exceeded.
func (s *streams) buffer(k streamKey, st *recvStream, off uint64, data []byte, t time.Time) bool {
	pieces := holes(st.pending, segment{off, data})
	cost := 0
	for _, p := range pieces {
		cost += len(p.data) + segmentOverhead
	}
	if st.buffered+cost > maxStreamBuffer || s.buffered+cost > maxConnBuffer ||
		len(st.pending)+len(pieces) > maxSegments {
		s.giveUp(k, st, t)
		return false
	}
	for _, p := range pieces {
		p.data = slices.Clone(p.data)
		i, _ := slices.BinarySearchFunc(st.pending, p.off, func(e segment, off uint64) int {
			return cmp.Compare(e.off, off)
		})
		st.pending = slices.Insert(st.pending, i, p)
	}
	st.buffered += cost
	s.buffered += cost
	s.stats.Buffered = s.buffered
	s.stats.MaxBuffered = max(s.stats.MaxBuffered, s.buffered)
	return true
}

// holes returns the parts of seg that the sorted, disjoint list does not
// cover yet; they alias seg's data.
func holes(list []segment, seg segment) []segment {
	i, _ := slices.BinarySearchFunc(list, seg.off, func(e segment, off uint64) int {
		if e.end() <= off {
			return -1
		}
		return 1
	})
	var out []segment
	cursor, end := seg.off, seg.end()
	for ; i < len(list) && list[i].off < end; i++ {
		if list[i].off > cursor {
			out = append(out, segment{cursor, seg.data[cursor-seg.off : list[i].off-seg.off]})
		}
		cursor = max(cursor, list[i].end())
	}
	if cursor < end {
		out = append(out, segment{cursor, seg.data[cursor-seg.off:]})
	}
	return out
}

// release subtracts a segment from the budgets once it leaves the buffer.
func (s *streams) release(st *recvStream, seg segment) {
	cost := len(seg.data) + segmentOverhead
	st.buffered -= cost
	s.buffered -= cost
	s.stats.Buffered = s.buffered
}

// reset takes RESET_STREAM (RFC 9000 §19.4): the sender abandoned the
// stream direction after finalSize bytes. A capture may reorder the reset
// before data the sender did send, so the reset is reported once the data
// up to the final size has been delivered, or at Close when it never is.
// It is reported once, and not at all after a FIN was delivered.
func (s *streams) reset(k streamKey, finalSize uint64, t time.Time) {
	if s.done.has(k) {
		return
	}
	st := s.get(k, t)
	if st == nil {
		return
	}
	st.reset = true
	if !st.hasFinal && finalSize >= st.next && !s.beyond(st, finalSize) {
		st.final, st.hasFinal = finalSize, true
	}
	if !st.hasFinal || st.next >= st.final {
		s.reportReset(k, st, t)
	}
}

// reportReset hands a reset to the Handler and forgets the stream.
func (s *streams) reportReset(k streamKey, st *recvStream, t time.Time) {
	s.finish(k, st, t)
	s.stats.Resets++
	s.h.StreamReset(k.id, k.fromClient, t)
}

// finish frees a stream direction that delivered its FIN or was reset and
// remembers it as done, so retransmissions are not delivered again.
func (s *streams) finish(k streamKey, st *recvStream, t time.Time) {
	s.drop(k, st)
	s.markDone(k, t)
}

// drop frees a stream direction's buffers and state.
func (s *streams) drop(k streamKey, st *recvStream) {
	s.buffered -= st.buffered
	s.stats.Buffered = s.buffered
	st.pending, st.buffered = nil, 0
	delete(s.open, k)
}

// giveUp abandons a stream direction whose data cannot all be delivered,
// reporting a gap.
func (s *streams) giveUp(k streamKey, st *recvStream, t time.Time) {
	s.drop(k, st)
	s.markGap(k, t)
}

// markGap records a gap on a stream direction and ignores it from then on.
func (s *streams) markGap(k streamKey, t time.Time) {
	s.stats.Gaps++
	if s.gaps != nil {
		s.gaps.StreamGap(k.id, k.fromClient, t)
	}
	s.markDone(k, t)
}

// markDone remembers k as done. When the set of remembered streams
// overflows, the open streams it then covers are given up.
func (s *streams) markDone(k streamKey, t time.Time) {
	if !s.done.add(k) {
		return
	}
	for _, ok := range slices.SortedFunc(maps.Keys(s.open), streamKey.compare) {
		if s.done.has(ok) {
			s.giveUp(ok, s.open[ok], t)
		}
	}
}

// close reports the open stream directions with missing bytes as gaps,
// then the resets still waiting for data, and frees all state.
func (s *streams) close(t time.Time) {
	for _, k := range slices.SortedFunc(maps.Keys(s.open), streamKey.compare) {
		st := s.open[k]
		if len(st.pending) > 0 || st.hasFinal && st.next < st.final {
			s.stats.Gaps++
			if s.gaps != nil {
				s.gaps.StreamGap(k.id, k.fromClient, t)
			}
		}
		if st.reset {
			s.stats.Resets++
			s.h.StreamReset(k.id, k.fromClient, t)
		}
		s.drop(k, st)
	}
	s.done = doneSet{}
}

// doneSet remembers the stream directions that are finished, bounded: a
// stream's number is its ID without the two type bits (RFC 9000 §2.1), and
// streams of a type are opened in number order, so most finish in order
// too. Per type and direction, all numbers below a watermark are done;
// above it a set holds the ones that finished early. When the set
// overflows, the watermarks jump past its highest entries.
type doneSet struct {
	below [8]uint64 // by class: stream type (2 bits) and direction
	above map[streamKey]struct{}
}

func class(k streamKey) int {
	c := int(k.id & 0x03)
	if k.fromClient {
		c += 4
	}
	return c
}

func (d *doneSet) has(k streamKey) bool {
	if k.id>>2 < d.below[class(k)] {
		return true
	}
	_, ok := d.above[k]
	return ok
}

// add marks k done and reports whether the set overflowed and moved its
// watermarks.
func (d *doneSet) add(k streamKey) (moved bool) {
	if d.has(k) {
		return false
	}
	if d.above == nil {
		d.above = map[streamKey]struct{}{}
	}
	d.above[k] = struct{}{}
	d.compact(class(k), k.fromClient, k.id&0x03)
	if len(d.above) <= maxDoneStreams {
		return false
	}
	for a := range d.above {
		c := class(a)
		d.below[c] = max(d.below[c], a.id>>2+1)
	}
	clear(d.above)
	return true
}

// compact advances a class's watermark over the numbers done in a row.
func (d *doneSet) compact(c int, fromClient bool, typ uint64) {
	for {
		k := streamKey{id: d.below[c]<<2 | typ, fromClient: fromClient}
		if _, ok := d.above[k]; !ok {
			return
		}
		delete(d.above, k)
		d.below[c]++
	}
}
