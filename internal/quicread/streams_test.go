package quicread

import (
	"strings"
	"testing"
	"time"
)

// counting is a Handler that counts deliveries, for the bounds tests.
type counting struct {
	recorder
	calls int
}

func (c *counting) StreamData(id uint64, fromClient bool, data []byte, fin bool, t time.Time) {
	c.calls++
	c.recorder.StreamData(id, fromClient, data, fin, t)
}

// op is one STREAM or RESET_STREAM frame on stream 0 from the client.
type op struct {
	off   uint64
	data  string
	fin   bool
	reset bool
}

// TestReassembly feeds frames in various orders; the bytes must come out
// once, in order, with FIN or reset at the end.
func TestReassembly(t *testing.T) {
	tests := []struct {
		name  string
		ops   []op
		want  string
		fin   bool
		reset bool
		calls int // deliveries, when checked
	}{
		{"in order", []op{{0, "ab", false, false}, {2, "cd", true, false}}, "abcd", true, false, 2},
		{"reversed", []op{{2, "cd", true, false}, {0, "ab", false, false}}, "abcd", true, false, 2},
		{"duplicate after delivery", []op{{0, "ab", false, false}, {0, "ab", false, false}, {2, "c", true, false}}, "abc", true, false, 2},
		{"overlap into delivered", []op{{0, "abc", false, false}, {1, "bcde", false, false}}, "abcde", false, false, 2},
		{"overlapping buffered, fin before them ignored", []op{{4, "ef", false, false}, {2, "cdefg", false, false}, {0, "ab", true, false}}, "abcdefg", false, false, 0},
		{"fills holes between buffered", []op{{2, "c", false, false}, {5, "f", false, false}, {1, "bcdefgh", true, false}, {0, "a", false, false}}, "abcdefgh", true, false, 0},
		{"fin alone", []op{{0, "abc", false, false}, {3, "", true, false}}, "abc", true, false, 2},
		{"fin first, empty stream", []op{{0, "", true, false}}, "", true, false, 1},
		{"data past the final size", []op{{0, "ab", true, false}, {2, "cd", false, false}}, "ab", true, false, 1},
		{"retransmission after fin", []op{{0, "ab", true, false}, {0, "ab", true, false}}, "ab", true, false, 1},
		{"reset after data", []op{{0, "ab", false, false}, {2, "", false, true}}, "ab", false, true, 1},
		{"reset before its data", []op{{4, "", false, true}, {2, "cd", false, false}, {0, "ab", false, false}}, "abcd", false, true, 0},
		{"reset after fin", []op{{0, "ab", true, false}, {2, "", false, true}}, "ab", true, false, 1},
		{"data after reset", []op{{0, "ab", false, true}, {0, "abcd", false, false}}, "", false, true, 0},
		{"conflicting fin ignored", []op{{0, "abc", true, false}, {0, "a", true, false}}, "abc", true, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stats Stats
			h := &counting{recorder: *newRecorder(t)}
			s := newStreams(h, &stats)
			k := streamKey{0, true}
			for _, o := range tt.ops {
				if o.reset {
					s.reset(k, o.off, time.Time{})
				} else {
					s.data(k, o.off, []byte(o.data), o.fin, time.Time{})
				}
			}
			s.close(time.Time{})
			g := h.streams[k]
			if g == nil {
				g = &got{}
			}
			if string(g.data) != tt.want || g.fin != tt.fin || g.reset != tt.reset || g.gap {
				t.Errorf("got %q fin=%v reset=%v gap=%v", g.data, g.fin, g.reset, g.gap)
			}
			if tt.calls > 0 && h.calls != tt.calls {
				t.Errorf("%d deliveries, want %d", h.calls, tt.calls)
			}
			if stats.Buffered != 0 || len(s.open) != 0 {
				t.Errorf("left buffered %d, open %d", stats.Buffered, len(s.open))
			}
		})
	}
}

// TestValidSender checks which peer may send on which stream type.
func TestValidSender(t *testing.T) {
	for id, want := range map[uint64][2]bool{0: {true, true}, 1: {true, true}, 2: {true, false}, 3: {false, true}, 6: {true, false}} {
		if got := (streamKey{id, true}).validSender(); got != want[0] {
			t.Errorf("stream %d from client: %v", id, got)
		}
		if got := (streamKey{id, false}).validSender(); got != want[1] {
			t.Errorf("stream %d from server: %v", id, got)
		}
	}
}

// TestStreamBounds floods the reassembly and checks it stays within its
// bounds, giving streams up as gaps rather than growing.
func TestStreamBounds(t *testing.T) {
	chunk := []byte(strings.Repeat("x", 1000))
	t.Run("out of order flood on one stream", func(t *testing.T) {
		var stats Stats
		rec := newRecorder(t)
		s := newStreams(rec, &stats)
		for i := range 3000 {
			s.data(streamKey{0, true}, uint64(1+i*1000), chunk, false, time.Time{})
		}
		if stats.MaxBuffered > maxStreamBuffer || stats.Gaps != 1 || !rec.streams[streamKey{0, true}].gap || stats.Buffered != 0 {
			t.Errorf("stats %+v", stats)
		}
	})
	t.Run("tiny pieces", func(t *testing.T) {
		var stats Stats
		s := newStreams(newRecorder(t), &stats)
		for i := range 10000 {
			s.data(streamKey{4, false}, uint64(10+2*i), []byte{1}, false, time.Time{})
		}
		if stats.MaxBuffered > maxStreamBuffer || stats.Gaps != 1 {
			t.Errorf("stats %+v", stats)
		}
	})
	t.Run("connection budget over many streams", func(t *testing.T) {
		var stats Stats
		s := newStreams(newRecorder(t), &stats)
		for id := range uint64(20) {
			for i := range 1000 {
				s.data(streamKey{id * 4, true}, uint64(1+i*1000), chunk, false, time.Time{})
			}
		}
		if stats.MaxBuffered > maxConnBuffer || stats.Gaps < 12 {
			t.Errorf("stats %+v", stats)
		}
	})
	t.Run("huge offsets", func(t *testing.T) {
		var stats Stats
		s := newStreams(newRecorder(t), &stats)
		for i := range uint64(100) {
			s.data(streamKey{0, true}, maxVarint-1000-i*5, []byte("abc"), i == 0, time.Time{})
		}
		if stats.MaxBuffered > maxStreamBuffer || stats.StreamBytes != 0 {
			t.Errorf("stats %+v", stats)
		}
	})
	t.Run("many streams", func(t *testing.T) {
		var stats Stats
		rec := newRecorder(t)
		s := newStreams(rec, &stats)
		for id := range uint64(5000) {
			s.data(streamKey{id * 4, true}, 0, []byte("open"), false, time.Time{})
			if len(s.open) > maxOpenStreams {
				t.Fatalf("%d open", len(s.open))
			}
		}
		if stats.Gaps != 5000-maxOpenStreams {
			t.Errorf("stats %+v", stats)
		}
		// A refused stream stays refused.
		s.data(streamKey{4999 * 4, true}, 4, []byte("more"), true, time.Time{})
		if got := rec.streams[streamKey{4999 * 4, true}]; got == nil || !got.gap || len(got.data) != 0 {
			t.Errorf("refused stream: %+v", got)
		}
	})
	t.Run("finished streams remembered, bounded", func(t *testing.T) {
		var stats Stats
		h := &counting{recorder: *newRecorder(t)}
		s := newStreams(h, &stats)
		// Stream 0 stays open; the others finish, out of order with it.
		s.data(streamKey{0, true}, 0, []byte("a"), false, time.Time{})
		for id := uint64(1); id <= 2*maxDoneStreams; id++ {
			s.data(streamKey{id * 4, true}, 0, []byte("b"), true, time.Time{})
		}
		for id := uint64(1); id <= 2*maxDoneStreams; id++ {
			s.data(streamKey{id * 4, true}, 0, []byte("b"), true, time.Time{})
		}
		if h.calls != 1+2*maxDoneStreams || len(s.done.above) > maxDoneStreams {
			t.Errorf("%d deliveries, %d remembered", h.calls, len(s.done.above))
		}
		// The overflow moved the watermark past stream 0: given up.
		if g := h.streams[streamKey{0, true}]; !g.gap || stats.Gaps != 1 {
			t.Errorf("stream 0: %+v, stats %+v", g, stats)
		}
	})
}

// TestDoneSetCompacts checks that in-order completion keeps the set empty.
func TestDoneSetCompacts(t *testing.T) {
	var d doneSet
	for id := uint64(0); id < 100; id++ {
		d.add(streamKey{id*4 + 2, false})
	}
	if len(d.above) != 0 || !d.has(streamKey{98*4 + 2, false}) || d.has(streamKey{2, true}) || d.has(streamKey{100*4 + 2, false}) {
		t.Errorf("below %v, %d above", d.below, len(d.above))
	}
}
