package capture

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// processCPU returns the CPU time (user and system) the process has used,
// all goroutines together. Per operation it varies far less than wall
// time on a shared machine, and it counts the writer goroutine's work and
// the garbage collector, which wall time on two cores partly hides.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStoreAddProxied measures the store on what the proxy benchmark
// sends: small tracker requests with no body, each with several findings.
func BenchmarkStoreAddProxied(b *testing.B) {
	for _, nf := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("findings=%d", nf), func(b *testing.B) {
			s, err := CreateStore(filepath.Join(b.TempDir(), "bench.db"), StoreMeta{})
			if err != nil {
				b.Fatal(err)
			}
			exs := make([]*traffic.Exchange, 1000)
			for i := range exs {
				ex := &traffic.Exchange{
					ID: int64(i + 1), Source: "proxy", Client: "127.0.0.1", Start: time.Unix(1700000000, 0).UTC(),
					Request: traffic.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "127.0.0.1", Path: fmt.Sprintf("/p/1/%d/pixel.gif", i), RawQuery: "utm_source=news&cb=1"},
						Proto: "HTTP/1.1", Header: http.Header{"Cookie": {"_fbp=fb.1.1700000000000.1234567890; sid=0123456789abcdef"}, "Referer": {"https://news.example/article?id=7"}, "User-Agent": {"Go-http-client/1.1"}}},
					Response: &traffic.Response{Status: 200, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"image/gif"}, "Content-Length": {"128"}}, Body: make([]byte, 128)},
					Page:     &traffic.Page{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"},
				}
				for k := 0; k < nf; k++ {
					ex.Findings = append(ex.Findings, traffic.Finding{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityMedium, Detector: "cookie-leak",
						Company: "127.0.0.1", Summary: "sent cookie _fbp (browser) to 127.0.0.1",
						Evidence: []traffic.Evidence{{Where: "cookie:_fbp", Label: "browser", Value: "fb.1.1700000000000.1234567890", Secret: true}}})
				}
				exs[i] = ex
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if err := s.Add(exs[i%len(exs)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
