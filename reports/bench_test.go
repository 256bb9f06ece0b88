package reports

import (
	"fmt"
	"io"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// benchExchanges makes n exchanges from the sample, spread over 50 sites
// and 500 pages, with cookie values varying over 1,000 browsers so the
// ledger has realistic cardinality.
func benchExchanges(n int) []*traffic.Exchange {
	base := sampleExchanges()
	out := make([]*traffic.Exchange, n)
	for i := range out {
		src := base[i%len(base)]
		e := *src
		if src.Page != nil {
			p := *src.Page
			p.Site = fmt.Sprintf("site%d.example", i%50)
			p.URL = fmt.Sprintf("https://%s/article/%d", p.Site, i%500)
			e.Page = &p
		}
		e.Findings = make([]traffic.Finding, len(src.Findings))
		for j, f := range src.Findings {
			f.Evidence = append([]traffic.Evidence(nil), f.Evidence...)
			for k := range f.Evidence {
				if f.Evidence[k].Secret {
					f.Evidence[k].Value = fmt.Sprintf("%s-%d", f.Evidence[k].Value, i%1000)
				}
			}
			e.Findings[j] = f
		}
		out[i] = &e
	}
	return out
}

// BenchmarkBuilder measures Builder.Add over 100,000 exchanges plus one
// Report and WriteTable/WriteJSON, reported per exchange.
func BenchmarkBuilder(b *testing.B) {
	const n = 100_000
	exs := benchExchanges(n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bl := NewBuilder(Options{})
		for _, e := range exs {
			bl.Add(e)
		}
		r := bl.Report()
		if err := WriteJSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/exchange")
}

// BenchmarkAdd measures Builder.Add alone on repeated exchanges (the
// proxy's steady state: rows already exist).
func BenchmarkAdd(b *testing.B) {
	exs := benchExchanges(1000)
	bl := NewBuilder(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bl.Add(exs[i%len(exs)])
		i++
	}
}

func BenchmarkLiveLine(b *testing.B) {
	e := sampleExchanges()[2]
	b.ReportAllocs()
	for b.Loop() {
		LiveLine(e, LiveOptions{Color: true})
	}
}

// BenchmarkFinish measures what follows the last Add when a capture has
// been read: Report (sorting and redaction) and WriteJSON, on the
// aggregate of 100,000 exchanges over 50 sites.
func BenchmarkFinish(b *testing.B) {
	bl := NewBuilder(Options{})
	for _, e := range benchExchanges(100_000) {
		bl.Add(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(io.Discard, bl.Report()); err != nil {
			b.Fatal(err)
		}
	}
}
