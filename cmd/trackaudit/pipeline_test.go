package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestFeed checks the reader/pipeline hand-over, with one stage and with
// two: capture order in every stage, every exchange read before a reader
// error still through every stage, a stage error or a cancellation
// stopping the reader and being returned, and the stage goroutines gone
// when feed returns.
func TestFeed(t *testing.T) {
	for _, stages := range []int{1, 2} {
		for _, failStage := range []int{0, stages - 1} {
			if stages == 1 && failStage > 0 {
				continue
			}
			t.Run(fmt.Sprintf("stages=%d/fail-in=%d", stages, failStage), func(t *testing.T) { testFeed(t, stages, failStage) })
		}
	}
}

func testFeed(t *testing.T, stages, failStage int) {
	errRead := errors.New("read failed")
	errAdd := errors.New("add failed")
	// inFlight is the most a reader can hand over after a stage failed
	// before it is told to stop: per stage, the queued batches, the one it
	// was working on and the one blocked on its way in; and the batch being
	// filled.
	inFlight := feedBatch * ((feedQueue+2)*stages + 1)
	tests := []struct {
		name     string
		n        int   // exchanges the capture holds
		readErr  error // returned by read after n exchanges
		failAt   int   // add fails on this exchange ID; 0: never
		cancelAt int   // ctx is cancelled when this ID is read; 0: never
		wantErr  error
		wantAdd  int // exchanges added; -1: fewer than n
	}{
		{name: "empty", n: 0, wantAdd: 0},
		{name: "one", n: 1, wantAdd: 1},
		{name: "one batch less one", n: feedBatch - 1, wantAdd: feedBatch - 1},
		{name: "one batch", n: feedBatch, wantAdd: feedBatch},
		{name: "one batch and one", n: feedBatch + 1, wantAdd: feedBatch + 1},
		{name: "many", n: 10000, wantAdd: 10000},
		{name: "read error keeps what was read", n: 1000, readErr: errRead, wantErr: errRead, wantAdd: 1000},
		{name: "read error in first batch", n: 3, readErr: errRead, wantErr: errRead, wantAdd: 3},
		{name: "add error stops reading", n: 100000, failAt: 10, wantErr: errAdd, wantAdd: 10},
		{name: "add error in last partial batch", n: feedBatch + 5, failAt: feedBatch + 3, wantErr: errAdd, wantAdd: feedBatch + 3},
		{name: "add error wins over read error", n: 500, readErr: errRead, failAt: 100, wantErr: errAdd, wantAdd: 100},
		{name: "cancel stops reading", n: 100000, cancelAt: 1000, wantErr: context.Canceled, wantAdd: -1},
		{name: "cancel in first batch", n: 10, cancelAt: 2, wantErr: context.Canceled, wantAdd: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			read, fnErrs := 0, 0
			var firstFnErr error
			readFn := func(fn func(*traffic.Exchange) error) error {
				for i := 1; i <= tt.n; i++ {
					read++
					if i == tt.cancelAt {
						cancel()
					}
					if err := fn(&traffic.Exchange{ID: int64(i)}); err != nil {
						fnErrs++
						firstFnErr = err
						return err // as the capture readers do: stop
					}
				}
				return tt.readErr
			}
			seen := make([][]int64, stages) // exchange IDs in the order each stage saw them
			fns := make([]func(*traffic.Exchange) error, stages)
			for i := range fns {
				fns[i] = func(ex *traffic.Exchange) error {
					// Each stage marks the exchange for the next (the reader
					// leaves Client empty).
					if want := fmt.Sprint(i); ex.Client != want && !(i == 0 && ex.Client == "") {
						t.Errorf("stage %d got exchange %d marked %q, want %q: the stage before was not done with it", i, ex.ID, ex.Client, want)
					}
					ex.Client = fmt.Sprint(i + 1)
					seen[i] = append(seen[i], ex.ID)
					if i == failStage && ex.ID == int64(tt.failAt) {
						return errAdd
					}
					return nil
				}
			}
			err := feed(ctx, readFn, fns...)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("feed() = %v, want %v", err, tt.wantErr)
			}
			for s := range seen {
				for i, id := range seen[s] {
					if id != int64(i+1) {
						t.Fatalf("stage %d: exchange %d came at position %d, want %d (capture order)", s, id, i+1, id)
					}
				}
			}
			added := seen[stages-1]
			if failStage < stages-1 && tt.failAt > 0 {
				// The failing stage saw failAt; the last one fewer.
				added = seen[failStage]
				if n := len(seen[stages-1]); n >= tt.failAt {
					t.Errorf("last stage got %d exchanges, want fewer than %d (stage %d failed)", n, tt.failAt, failStage)
				}
			}
			switch {
			case tt.wantAdd >= 0 && len(added) != tt.wantAdd:
				t.Errorf("added %d exchanges, want %d", len(added), tt.wantAdd)
			case tt.wantAdd < 0 && len(added) >= tt.n:
				t.Errorf("added %d exchanges, want fewer than %d", len(added), tt.n)
			}
			if tt.failAt > 0 || tt.cancelAt > 0 {
				stopAt := max(tt.failAt, tt.cancelAt)
				if tt.n > stopAt+inFlight && read > stopAt+inFlight {
					t.Errorf("read %d exchanges after the stop at %d, want at most %d more", read, stopAt, inFlight)
				}
				if read < tt.n && (fnErrs != 1 || !errors.Is(firstFnErr, tt.wantErr)) {
					t.Errorf("reader stopped after %d exchanges by fn error %v, want %v", read, firstFnErr, tt.wantErr)
				}
			}
			waitGoroutines(t, before)
		})
	}
}

// TestAnalyzeInputOrder runs a capture through analyzeInput and checks the
// pipeline saw every exchange once, in the order the reader numbered them.
func TestAnalyzeInputOrder(t *testing.T) {
	p := newPipeline(pipelineOptions{flags: reportFlags{format: "json", color: "never"}})
	var ids []int64
	live := func(ex *traffic.Exchange) { ids = append(ids, ex.ID) }
	p.o.live = live
	in, err := analyzeInput(context.Background(), newsExample, inputOptions{}, p)
	if err != nil {
		t.Fatalf("analyzeInput(%s) = %v", newsExample, err)
	}
	if in.Exchanges == 0 || len(ids) != in.Exchanges {
		t.Fatalf("pipeline saw %d exchanges, reader counted %d; want the same, more than 0", len(ids), in.Exchanges)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("exchange %d reached the pipeline at position %d, want %d", id, i+1, id)
		}
	}
}

// waitGoroutines fails t unless the goroutine count drops back to n soon.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines left running, want %d (leak)", runtime.NumGoroutine(), n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}
