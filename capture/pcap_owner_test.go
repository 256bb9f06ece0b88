package capture

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// exchangeFingerprint renders everything ReadPCAP fills in an exchange.
func exchangeFingerprint(ex *traffic.Exchange) string {
	var b strings.Builder
	hdr := func(h map[string][]string) {
		for _, k := range slices.Sorted(maps.Keys(h)) {
			fmt.Fprintf(&b, " %s=%q", k, h[k])
		}
	}
	fmt.Fprintf(&b, "%d %s %v %s %q %#v %q", ex.ID, ex.Source, ex.Start, ex.Client, ex.Request.Method, *ex.Request.URL, ex.Request.Proto)
	hdr(ex.Request.Header)
	fmt.Fprintf(&b, " body=%q/%v err=%q", ex.Request.Body, ex.Request.BodyTruncated, ex.Error)
	if r := ex.Response; r != nil {
		fmt.Fprintf(&b, " | %d %q", r.Status, r.Proto)
		hdr(r.Header)
		fmt.Fprintf(&b, " body=%q/%v", r.Body, r.BodyTruncated)
	}
	return b.String()
}

// TestReadPCAPHandsOverOwnership checks the callback contract: an
// exchange belongs to the callee once handed over. A consumer goroutine
// checks each exchange against its state at hand-over and then scribbles
// over every map, slice and byte of it while the reader goes on; the race
// detector (go test -race) and the final comparison catch any reuse.
func TestReadPCAPHandsOverOwnership(t *testing.T) {
	cb := newCapBuilder(t, linkTypeEthernet)
	for i := 0; i < 60; i++ {
		c := cb.conn(fmt.Sprintf("10.0.0.%d", 1+i), "10.1.0.80", uint16(20000+i), 80)
		var reqs, resps strings.Builder
		for k := 0; k < 8; k++ {
			body := strings.Repeat(string(rune('a'+k)), 10+k*37)
			fmt.Fprintf(&reqs, "POST /c/%d/%d?x=%d&y HTTP/1.1\r\nhost: h%d.example\r\nX-Dup: one\r\nX-Dup: two\r\nX-Fold: a\r\n b\r\nCookie: n=%d\r\nContent-Length: %d\r\n\r\n%s",
				i, k, k, i%3, i*k, len(body), body)
			if k%2 == 0 {
				fmt.Fprintf(&resps, "HTTP/1.1 200 OK\r\nSet-Cookie: a=%d\r\nSet-Cookie: b=%d\r\nContent-Length: %d\r\n\r\n%s", k, i, len(body), body)
			} else {
				fmt.Fprintf(&resps, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-K: %d\r\n\r\n5\r\nhello\r\n%x\r\n%s\r\n0\r\n\r\n", k, len(body), body)
			}
		}
		// Pipelined, in odd-sized segments so that heads and bodies
		// straddle segments.
		c.send(true, reqs.String(), 97+i)
		c.send(false, resps.String(), 131+i)
		c.close()
	}
	data := cb.pcap()

	type handed struct {
		ex *traffic.Exchange
		fp string
	}
	ch := make(chan handed, 16)
	done := make(chan []handed)
	go func() {
		var all []handed
		for h := range ch {
			if got := exchangeFingerprint(h.ex); got != h.fp {
				t.Errorf("exchange %d changed after hand-over:\n%s\nwas\n%s", h.ex.ID, got, h.fp)
			}
			all = append(all, h)
			// Scribble: the callee owns all of it.
			ex := h.ex
			ex.Request.URL.Path += "/x"
			for _, h := range []map[string][]string{ex.Request.Header, ex.Response.Header} {
				for k, vs := range h {
					for i := range vs {
						vs[i] = "scribbled"
					}
					h[k] = append(vs, "more")
				}
				h["New"] = []string{"v"}
			}
			for _, b := range [][]byte{ex.Request.Body, ex.Response.Body} {
				for i := range b {
					b[i] = '#'
				}
			}
			ex.Request.Body = append(ex.Request.Body, '!')
			ex.Response.Body = append(ex.Response.Body, '!')
			ex.Response.Status = 999
		}
		done <- all
	}()
	var before []string
	st, err := ReadPCAP(bytes.NewReader(data), "owner.pcap", func(ex *traffic.Exchange) error {
		if ex.Response == nil {
			t.Fatalf("exchange %d without response", ex.ID)
		}
		fp := exchangeFingerprint(ex)
		before = append(before, fp)
		ch <- handed{ex, fp}
		return nil
	})
	close(ch)
	all := <-done
	if err != nil || st.Exchanges != 480 {
		t.Fatalf("ReadPCAP: %d exchanges, err %v; want 480", st.Exchanges, err)
	}
	for i, h := range all {
		if h.fp != before[i] {
			t.Fatalf("exchange %d: fingerprints out of order", i)
		}
		if !strings.Contains(h.fp, `"X-Dup"=["one" "two"]`) && !strings.Contains(h.fp, `X-Dup=["one" "two"]`) {
			t.Fatalf("exchange %d: duplicate header lost: %s", h.ex.ID, h.fp)
		}
	}
}
