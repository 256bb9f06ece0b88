package quicread

import (
	"bytes"
	"slices"
	"testing"
)

// TestMergeSpan checks the received-range list.
func TestMergeSpan(t *testing.T) {
	tests := []struct {
		list []span
		add  span
		want []span
	}{
		{nil, span{5, 10}, []span{{5, 10}}},
		{[]span{{5, 10}}, span{0, 2}, []span{{0, 2}, {5, 10}}},
		{[]span{{5, 10}}, span{10, 12}, []span{{5, 12}}},
		{[]span{{5, 10}}, span{2, 5}, []span{{2, 10}}},
		{[]span{{0, 2}, {5, 10}, {20, 30}}, span{1, 21}, []span{{0, 30}}},
		{[]span{{0, 2}, {5, 10}, {20, 30}}, span{6, 8}, []span{{0, 2}, {5, 10}, {20, 30}}},
		{[]span{{0, 2}, {20, 30}}, span{40, 50}, []span{{0, 2}, {20, 30}, {40, 50}}},
	}
	for _, tt := range tests {
		if got := mergeSpan(slices.Clone(tt.list), tt.add); !slices.Equal(got, tt.want) {
			t.Errorf("%v + %v = %v, want %v", tt.list, tt.add, got, tt.want)
		}
	}
}

// TestHelloBuffer reassembles a ClientHello from fragments in every
// rotation of their order, with a duplicate, and checks the bounds.
func TestHelloBuffer(t *testing.T) {
	hello := testHello(700)
	frags := []span{{0, 3}, {3, 200}, {150, 400}, {400, 699}, {699, 700}, {3, 200}}
	for rot := range frags {
		var h helloBuffer
		for i := range frags {
			f := frags[(i+rot)%len(frags)]
			h.add(f.from, hello[f.from:f.to])
		}
		if !bytes.Equal(h.done, hello) {
			t.Fatalf("rotation %d: %x", rot, h.done)
		}
		if r, ok := h.random(); !ok || !bytes.Equal(r, hello[6:38]) {
			t.Errorf("random %x", r)
		}
	}

	var h helloBuffer
	h.add(0, []byte{2, 0, 0, 4}) // a ServerHello
	if !h.broken || h.done != nil {
		t.Error("not a ClientHello, accepted")
	}
	h = helloBuffer{}
	h.add(0, []byte{1, 0, 0x40, 0}) // 16 KiB + 4
	if !h.broken {
		t.Error("oversized ClientHello accepted")
	}
	h = helloBuffer{}
	h.add(maxHello, []byte{1})
	h.add(1<<62, []byte{1})
	if h.buf != nil {
		t.Error("data beyond the bound buffered")
	}
	h = helloBuffer{}
	for i := range maxHelloFragments + 10 {
		h.add(uint64(10+2*i), []byte{1})
	}
	if h.fragments != maxHelloFragments+10 || len(h.have) > maxHelloFragments {
		t.Errorf("%d spans kept", len(h.have))
	}
	h.add(0, hello)
	if h.done != nil {
		t.Error("took a fragment past the fragment bound")
	}
	var short helloBuffer
	short.add(0, []byte{1, 0, 0, 2, 3, 3})
	if _, ok := short.random(); ok || short.done == nil {
		t.Error("random of a ClientHello too short to hold one")
	}
}
