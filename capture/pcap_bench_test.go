package capture

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// benchCapture builds a keep-alive HTTP capture of n requests, each with
// a Cookie and a Referer, one segment per message (the shape of
// research/perf-anchors.md §3's capture).
func benchCapture(b *testing.B, n int) []byte {
	cb := newCapBuilder(b, linkTypeEthernet)
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 128\r\n\r\n" + string(bytes.Repeat([]byte("x"), 128))
	for i := 0; i < n; {
		c := cb.conn(fmt.Sprintf("10.0.%d.%d", i/250%250, 1+i%250), "10.1.0.80", uint16(20000+i%40000), 80)
		for k := 0; k < 20 && i < n; k, i = k+1, i+1 {
			c.send(true, fmt.Sprintf("GET /tr/?id=1234&ev=PageView&dl=https%%3A%%2F%%2Fshop.example%%2Fp%%2F%d HTTP/1.1\r\nHost: t%d.tracker%d.example.com\r\nUser-Agent: Mozilla/5.0\r\nCookie: sid=%016x; _fbp=fb.1.1700000000000.%d\r\nReferer: https://shop.example/p/%d\r\n\r\n", i, i%7, i%500, i*7919, i, i), 1460)
			c.send(false, resp, 1460)
		}
		c.close()
	}
	return cb.pcap()
}

// BenchmarkReadPCAP measures ReadPCAP alone (no detectors) in MB/s of
// capture and requests/s.
func BenchmarkReadPCAP(b *testing.B) {
	data := benchCapture(b, 5000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		st, err := ReadPCAP(bytes.NewReader(data), "bench.pcap", func(*traffic.Exchange) error { return nil })
		if err != nil || st.Exchanges != 5000 {
			b.Fatalf("exchanges = %d, err = %v; want 5000", st.Exchanges, err)
		}
		n += st.Exchanges
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "requests/s")
}
