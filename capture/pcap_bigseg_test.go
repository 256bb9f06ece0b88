package capture

import (
	"fmt"
	"strings"
	"testing"
)

// TestReadPCAPLargeSegmentOutOfOrder: a large segment (as captured with
// GRO/TSO, far beyond the assembler's 1900-byte pages) arrives before
// the segment preceding it, and carries pipelined requests that start
// in its later pages. Every request must come out, with a time, and no
// packet may make the decoder fail (gopacket keeps the capture context
// on the first page of a buffered packet only).
func TestReadPCAPLargeSegmentOutOfOrder(t *testing.T) {
	cb := newCapBuilder(t, linkTypeEthernet)
	c := cb.conn("10.0.0.2", "10.1.0.80", 40000, 80)
	var reqs strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&reqs, "GET /r/%d?pad=%s HTTP/1.1\r\nHost: a.example\r\nCookie: n=%d\r\n\r\n", i, strings.Repeat("x", 100), i)
	}
	data := []byte(reqs.String())
	segs := c.segments(true, data[:60], 60)
	segs = append(segs, c.segments(true, data[60:], len(data))...)
	cb.add(segs[1]) // the large one first
	cb.add(segs[0])
	var resps strings.Builder
	for i := 0; i < 40; i++ {
		resps.WriteString(gifResponse)
	}
	c.send(false, resps.String(), 1400)
	c.close()
	exs, st, err := pcapReadAll(t, cb.pcap(), "big.pcap")
	if err != nil || st.Skipped != 0 || len(st.Warnings) != 0 {
		t.Fatalf("err %v, skipped %d, warnings %q; want none", err, st.Skipped, st.Warnings)
	}
	if len(exs) != 40 {
		t.Fatalf("got %d exchanges, want 40", len(exs))
	}
	for i, ex := range exs {
		if want := fmt.Sprintf("/r/%d", i); ex.Request.URL.Path != want || ex.Response == nil || ex.Start.IsZero() {
			t.Errorf("exchange %d: %s %v response %v, want %s with a response and a time", i, ex.Request.URL, ex.Start, ex.Response != nil, want)
		}
	}
}
