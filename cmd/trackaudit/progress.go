package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/trackaudit/trackaudit/traffic"
)

// progressMin is the smallest capture whose reading shows progress: a
// smaller one is read before the first line would be printed.
const progressMin = 64 << 20

// progressEvery is how often the progress line is redrawn.
var progressEvery = time.Second

// terminal returns w when it is a terminal (where a redrawn line is
// read, not logged), else nil.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return w
	}
	return nil
}

// progress redraws one line on a terminal while a large capture is read:
// how much of the file and how many exchanges so far. It counts from the
// reading goroutine and draws from its own.
type progress struct {
	w         io.Writer
	name      string
	size      int64
	read      atomic.Int64
	exchanges atomic.Int64
	stop      chan struct{}
	wg        sync.WaitGroup
}

// startProgress begins drawing progress of reading name (size bytes) on
// w; nil, which every method accepts, when w is nil or the file small.
func startProgress(w io.Writer, name string, size int64) *progress {
	if w == nil || size < progressMin {
		return nil
	}
	p := &progress{w: w, name: name, size: size, stop: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				// A saved capture (SQLite) is read by its path, not
				// through reader: only its exchanges are counted.
				if read := p.read.Load(); read > 0 {
					fmt.Fprintf(p.w, "\rtrackaudit: reading %s: %.0f of %.0f MB (%d %%), %d exchanges\x1b[K",
						p.name, float64(read)/1e6, float64(p.size)/1e6, read*100/p.size, p.exchanges.Load())
				} else {
					fmt.Fprintf(p.w, "\rtrackaudit: reading %s: %d exchanges\x1b[K", p.name, p.exchanges.Load())
				}
			}
		}
	})
	return p
}

// reader counts what is read from r.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return progressReader{r, &p.read}
}

// counting counts the exchanges fn is handed.
func (p *progress) counting(fn func(*traffic.Exchange) error) func(*traffic.Exchange) error {
	if p == nil {
		return fn
	}
	return func(ex *traffic.Exchange) error {
		p.exchanges.Add(1)
		return fn(ex)
	}
}

// end stops drawing and clears the line.
func (p *progress) end() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\x1b[K")
}

type progressReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c progressReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
