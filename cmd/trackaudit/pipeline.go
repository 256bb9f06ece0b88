package main

import (
	"cmp"
	"context"
	"io"
	"sync"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/detectors"
	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// pipelineOptions configure a pipeline.
type pipelineOptions struct {
	flags reportFlags
	// store, when not nil, receives every exchange after detection.
	store *capture.Store
	// live, when not nil, is called with every exchange after detection.
	live func(*traffic.Exchange)
}

// pipeline is the one path every exchange takes, whatever its source:
// page attribution, then the detectors, then the capture store and the
// report. It is not safe for concurrent use: sources that produce
// exchanges concurrently (the proxy) funnel them into one goroutine.
type pipeline struct {
	o    pipelineOptions
	attr *traffic.Attributor
	det  *detectors.Set
	rep  *reports.Builder
}

func newPipeline(o pipelineOptions) *pipeline {
	p := &pipeline{o: o, rep: reports.NewBuilder(o.flags.reportOptions())}
	p.startInput()
	return p
}

// startInput gives the next input (one file, one live session) fresh
// attribution and detector state, so pages and cookies of one capture are
// never mixed into another.
func (p *pipeline) startInput() {
	rs := rules.Default()
	p.attr = newAttributor(rs)
	p.det = detectors.Default(detectors.Options{Rules: rs, Watch: p.o.flags.pii.parsed})
}

// newAttributor ties exchanges to their pages, knowing trackers by rs.
func newAttributor(rs *rules.Set) *traffic.Attributor {
	a := traffic.NewAttributor()
	a.IsTracker = func(ex *traffic.Exchange) bool { _, ok := rs.Match(ex.Request.URL); return ok }
	return a
}

// Add runs one exchange through the pipeline: detect, then record.
func (p *pipeline) Add(ex *traffic.Exchange) error {
	p.detect(ex)
	return p.record(ex)
}

// Begin tells attribution that a live request has started (see
// traffic.Attributor.Begin). It runs on the goroutine of detect.
func (p *pipeline) Begin(ex *traffic.Exchange) { p.attr.Begin(ex) }

// detect ties ex to its page and runs the detectors. It and record may run
// on two goroutines (see feed), each called in capture order: they share
// no state, and an exchange reaches record only after detect is done.
func (p *pipeline) detect(ex *traffic.Exchange) error {
	p.attr.Attribute(ex)
	p.det.Run(ex)
	return nil
}

// record stores ex, prints its live line and adds it to the report.
func (p *pipeline) record(ex *traffic.Exchange) error {
	if p.o.store != nil {
		if err := p.o.store.Add(ex); err != nil {
			return err
		}
	}
	if p.o.live != nil {
		p.o.live(ex)
	}
	p.rep.Add(ex)
	return nil
}

// AddInput records what one input held, for the report's header.
func (p *pipeline) AddInput(in reports.Input) { p.rep.AddInput(in) }

// Finish prints the report in the chosen format.
func (p *pipeline) Finish(stdout io.Writer) error {
	r := p.rep.Report()
	switch p.o.flags.format {
	case "json":
		return reports.WriteJSON(stdout, r)
	case "csv":
		return reports.WriteCSV(stdout, r, cmp.Or(p.o.flags.table, "leaks"))
	case "html":
		return reports.WriteHTML(stdout, r)
	}
	return reports.WriteTable(stdout, r, reports.TableOptions{Color: p.o.flags.useColor(), Width: p.o.flags.tableWidth()})
}

// feedBatch is how many exchanges the reader hands on at once: one
// channel operation (and at most one wake-up) per batch and stage instead
// of per exchange.
const feedBatch = 64

// feedQueue is how many batches may wait for each stage. It bounds what is
// held in flight (about feedQueue+2 batches of exchanges with their bodies
// per stage) while letting earlier stages run ahead through short stalls.
const feedQueue = 4

// feed runs read on the calling goroutine and each of stages on a
// goroutine of its own, one after the other: every exchange goes through
// stages[0], then stages[1], …, so that decoding a capture and the steps
// of analysing it use several cores.
//
// read must call its fn from one goroutine, in capture order, and must not
// modify an exchange after handing it to fn (reading it is fine): the
// exchange then belongs to the stages. capture.ReadPCAP, ReadHAR and
// ReadStore build a fresh exchange (header maps and bodies included) per
// record.
//
// Each stage sees every exchange in the order read produced them, from one
// goroutine, after the stage before it is done with the exchange. When a
// stage fails, read's fn returns that error from then on (read stops), the
// exchanges not yet through every stage are dropped, and feed returns the
// stage's error. When ctx is done, read and the stages are stopped the
// same way and feed returns ctx.Err(). When read fails by itself, every
// exchange it handed over before still goes through every stage and read's
// error is returned. feed returns only once every stage goroutine has
// ended.
func feed(ctx context.Context, read func(fn func(*traffic.Exchange) error) error, stages ...func(*traffic.Exchange) error) error {
	var (
		stop     = make(chan struct{}) // closed at the first stage failure
		stopOnce sync.Once
		stageErr error // written before close(stop)
		wg       sync.WaitGroup
	)
	halt := func(err error) { stopOnce.Do(func() { stageErr = err; close(stop) }) }
	halted := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	batches := make(chan []*traffic.Exchange, feedQueue)
	in := batches
	for i, fn := range stages {
		var out chan []*traffic.Exchange
		if i < len(stages)-1 {
			out = make(chan []*traffic.Exchange, feedQueue)
		}
		wg.Add(1)
		go func(in <-chan []*traffic.Exchange, out chan<- []*traffic.Exchange) {
			defer wg.Done()
			if out != nil {
				defer close(out)
			}
			for b := range in {
				if halted() {
					continue // drain what was queued before the others saw stop
				}
				if err := ctx.Err(); err != nil {
					halt(err)
					continue
				}
				for _, ex := range b {
					if err := fn(ex); err != nil {
						halt(err)
						break
					}
				}
				if out != nil && !halted() {
					out <- b // the next stage drains its input whatever happens
				}
			}
		}(in, out)
		in = out
	}

	cur := make([]*traffic.Exchange, 0, feedBatch)
	var stopErr error // why the reader was told to stop, if it was
	send := func() error {
		if halted() {
			stopErr = stageErr
			return stopErr
		}
		select {
		case batches <- cur:
			cur = make([]*traffic.Exchange, 0, feedBatch)
			return nil
		case <-stop:
			stopErr = stageErr
		case <-ctx.Done():
			stopErr = ctx.Err()
		}
		return stopErr
	}
	readErr := read(func(ex *traffic.Exchange) error {
		if stopErr != nil {
			return stopErr
		}
		cur = append(cur, ex)
		if len(cur) < feedBatch {
			return nil
		}
		return send()
	})
	if stopErr == nil && len(cur) > 0 {
		send()
	}
	close(batches)
	wg.Wait()
	switch {
	case stageErr != nil:
		return stageErr
	case stopErr != nil:
		return stopErr
	}
	return readErr
}
