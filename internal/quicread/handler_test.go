package quicread

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// got is what a recorder received on one stream direction.
type got struct {
	data  []byte
	fin   bool
	reset bool
	gap   bool
}

// recorder is a Handler (and GapHandler) that keeps everything and checks
// the delivery rules as it goes: nothing after FIN or reset, FIN once.
type recorder struct {
	t       testing.TB
	streams map[streamKey]*got
	times   []time.Time
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, streams: map[streamKey]*got{}}
}

func (r *recorder) get(id uint64, fromClient bool) *got {
	k := streamKey{id, fromClient}
	g := r.streams[k]
	if g == nil {
		g = &got{}
		r.streams[k] = g
	}
	return g
}

func (r *recorder) StreamData(id uint64, fromClient bool, data []byte, fin bool, t time.Time) {
	g := r.get(id, fromClient)
	if g.fin || g.reset {
		r.t.Errorf("stream %d client=%v: data after fin or reset", id, fromClient)
	}
	if len(data) == 0 && !fin {
		r.t.Errorf("stream %d client=%v: empty delivery without fin", id, fromClient)
	}
	g.data = append(g.data, data...)
	g.fin = fin
	r.times = append(r.times, t)
}

func (r *recorder) StreamReset(id uint64, fromClient bool, t time.Time) {
	g := r.get(id, fromClient)
	if g.fin || g.reset {
		r.t.Errorf("stream %d client=%v: reset after fin or reset", id, fromClient)
	}
	g.reset = true
}

func (r *recorder) StreamGap(id uint64, fromClient bool, t time.Time) {
	r.get(id, fromClient).gap = true
}

// summary describes the streams for failure messages and golden files:
// one line per direction, sorted.
func (r *recorder) summary() string {
	var sb strings.Builder
	for _, k := range slices.SortedFunc(maps.Keys(r.streams), streamKey.compare) {
		g := r.streams[k]
		dir := "server"
		if k.fromClient {
			dir = "client"
		}
		fmt.Fprintf(&sb, "stream %d %s: %d bytes fin=%v reset=%v gap=%v", k.id, dir, len(g.data), g.fin, g.reset, g.gap)
		if len(g.data) <= 64 {
			fmt.Fprintf(&sb, " %q", g.data)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// equal compares two recorders' streams exactly.
func (r *recorder) equal(o *recorder) bool {
	if len(r.streams) != len(o.streams) {
		return false
	}
	for k, g := range r.streams {
		h := o.streams[k]
		if h == nil || !bytes.Equal(g.data, h.data) || g.fin != h.fin || g.reset != h.reset || g.gap != h.gap {
			return false
		}
	}
	return true
}
