package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// BenchmarkSetRunProxied runs the default detectors on what the proxy
// benchmark sends (bench/proxy): a third-party pixel GET with a Cookie and
// a full-URL Referer, attributed to the page the Referer names. Each
// client has its own *traffic.Page, as traffic.Attributor makes them, and
// the clients take turns. Each run gets a fresh copy of its exchange (no
// memoised cookies or parameters; the copy costs one allocation).
func BenchmarkSetRunProxied(b *testing.B) {
	set := Default(Options{Rules: rules.Default()})
	const clients = 64
	exs := make([]*traffic.Exchange, clients)
	for i := range exs {
		ex := newTestExchange(b, "GET", fmt.Sprintf("https://127.0.0.1/p/%d/1/pixel.gif?utm_source=news&cb=1", i),
			withHeader("Cookie", "_fbp=fb.1.1700000000000.1234567890; sid=0123456789abcdef0123456789abcdef"),
			withHeader("Referer", "https://news.example/article?id=7"), withHeader("User-Agent", "Go-http-client/1.1"))
		ex.Source, ex.Client, ex.Start = "proxy", "127.0.0.1", time.Unix(1700000000, 0).UTC()
		ex.Page = &traffic.Page{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"}
		ex.Response = &traffic.Response{Status: 200, Proto: "HTTP/1.1"}
		exs[i] = ex
	}
	if set.Run(exs[0]); len(exs[0].Findings) == 0 {
		b.Fatal("no findings: the benchmark does not measure leaking requests")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ex := *exs[i%clients] // fresh, as every proxied exchange is
		ex.Findings = nil
		set.Run(&ex)
		i++
	}
}
