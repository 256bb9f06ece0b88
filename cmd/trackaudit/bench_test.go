package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/traffic"
)

// benchPCAPRequests is the size of the capture BenchmarkAnalyzePCAP
// generates when TRACKAUDIT_BENCH_PCAP names none.
const benchPCAPRequests = 20000

var (
	benchPCAPOnce sync.Once
	benchPCAPPath string
	benchPCAPErr  error
)

// benchPCAP returns the capture to analyze: the file named by
// TRACKAUDIT_BENCH_PCAP (e.g. one written by bench/pcap/gen), else one of
// benchPCAPRequests requests generated once per test binary with
// bench/pcap/gen.
func benchPCAP(b *testing.B) string {
	if p := os.Getenv("TRACKAUDIT_BENCH_PCAP"); p != "" {
		return p
	}
	benchPCAPOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trackaudit-bench")
		if err != nil {
			benchPCAPErr = err
			return
		}
		benchPCAPPath = filepath.Join(dir, "bench.pcap")
		cmd := exec.Command("go", "run", "../../bench/pcap/gen", "-n", strconv.Itoa(benchPCAPRequests), "-o", benchPCAPPath)
		if out, err := cmd.CombinedOutput(); err != nil {
			benchPCAPErr = err
			b.Logf("go run bench/pcap/gen: %s", out)
		}
	})
	if benchPCAPErr != nil {
		b.Fatalf("generate bench capture: %v", benchPCAPErr)
	}
	return benchPCAPPath
}

// BenchmarkAnalyzePCAP runs what `trackaudit analyze --format json` runs
// (analyzeInput: the reader on one goroutine; attribution, every default
// detector and the report builder on another; then the JSON writer) over
// a generated plaintext-HTTP capture, in MB/s of capture and requests/s. Profile it with -cpuprofile / -memprofile.
func BenchmarkAnalyzePCAP(b *testing.B) {
	name := benchPCAP(b)
	fi, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	rf := reportFlags{format: "json", color: "never"}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	requests := 0
	for b.Loop() {
		p := newPipeline(pipelineOptions{flags: rf})
		in, err := analyzeInput(context.Background(), name, inputOptions{}, p)
		if err != nil || in.Exchanges == 0 {
			b.Fatalf("readInput(%s) = %d exchanges, %v; want some, no error", name, in.Exchanges, err)
		}
		p.AddInput(in)
		if err := p.Finish(io.Discard); err != nil {
			b.Fatalf("finish: %v", err)
		}
		requests += in.Exchanges
	}
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "requests/s")
}

// BenchmarkPipelinePCAP measures the pipeline alone (attribution, every
// default detector, the report builder, the JSON writer): the capture's
// first pipelineBenchMax exchanges are read once, and each iteration runs
// fresh copies of them, in requests/s and allocations per request.
func BenchmarkPipelinePCAP(b *testing.B) {
	const pipelineBenchMax = 20000
	name := benchPCAP(b)
	var read []traffic.Exchange
	_, err := readInput(name, inputOptions{}, func(ex *traffic.Exchange) error {
		if len(read) < pipelineBenchMax {
			read = append(read, *ex)
		}
		return nil
	})
	if err != nil || len(read) == 0 {
		b.Fatalf("readInput(%s) = %d exchanges, %v; want some, no error", name, len(read), err)
	}
	rf := reportFlags{format: "json", color: "never"}
	exs := make([]traffic.Exchange, len(read))
	b.ReportAllocs()
	for b.Loop() {
		copy(exs, read)
		p := newPipeline(pipelineOptions{flags: rf})
		for i := range exs {
			if err := p.Add(&exs[i]); err != nil {
				b.Fatal(err)
			}
		}
		p.AddInput(reports.Input{Name: name, Exchanges: len(exs)})
		if err := p.Finish(io.Discard); err != nil {
			b.Fatalf("finish: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(exs)), "ns/request")
}
