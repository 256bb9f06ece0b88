package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestProgress reads a "capture" slowly through a progress and checks the
// redrawn lines: bytes of the file, percentage and exchanges so far, and
// the line cleared at the end. Small files and non-terminals show none.
func TestProgress(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = time.Millisecond
	var out syncBuffer
	const size = progressMin * 2
	p := startProgress(&out, "big.pcap", size)
	if p == nil {
		t.Fatal("no progress for a large file")
	}
	r := p.reader(io.LimitReader(zeros{}, size))
	fn := p.counting(func(*traffic.Exchange) error { return nil })
	buf := make([]byte, size/8)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			fn(&traffic.Exchange{})
			time.Sleep(2 * time.Millisecond)
		}
		if err != nil {
			break
		}
	}
	// The ticker draws from its own goroutine: wait for the line of the
	// whole file before ending.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "(100 %), 8 exchanges") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	p.end()
	got := out.String()
	if !strings.Contains(got, "\rtrackaudit: reading big.pcap: ") || !strings.Contains(got, "of 134 MB (") || !strings.Contains(got, " exchanges\x1b[K") ||
		!strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress lines %q", got)
	}
	if !strings.Contains(got, "(100 %), 8 exchanges") {
		t.Errorf("progress lines %q lack the whole file and its 8 exchanges", got)
	}
	if startProgress(&out, "small.har", progressMin-1) != nil || startProgress(nil, "big.pcap", size) != nil {
		t.Error("progress for a small file or without a terminal")
	}
	if terminal(&bytes.Buffer{}) != nil {
		t.Error("a buffer taken for a terminal")
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }
