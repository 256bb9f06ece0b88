package main

import (
	"context"
	"io"

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

func newPipeline(o pipelineOptions) (*pipeline, error) {
	p := &pipeline{o: o, rep: reports.NewBuilder(o.flags.reportOptions())}
	p.startInput()
	return p, nil
}

// startInput gives the next input (one file, one live session) fresh
// attribution and detector state, so pages and cookies of one capture are
// never mixed into another.
func (p *pipeline) startInput() {
	rs := rules.Default()
	p.attr = traffic.NewAttributor()
	p.attr.IsTracker = func(ex *traffic.Exchange) bool { _, ok := rs.Match(ex.Request.URL); return ok }
	p.det = detectors.Default(detectors.Options{Rules: rs, Watch: p.o.flags.pii.parsed})
}

// Add runs one exchange through the pipeline.
func (p *pipeline) Add(ex *traffic.Exchange) error {
	p.attr.Attribute(ex)
	p.det.Run(ex)
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
	if p.o.flags.format == "json" {
		return reports.WriteJSON(stdout, r)
	}
	return reports.WriteTable(stdout, r, reports.TableOptions{Color: p.o.flags.useColor(), Width: p.o.flags.tableWidth()})
}

// feedBatch is how many exchanges the reader hands to the pipeline
// goroutine at once: one channel operation (and at most one wake-up) per
// batch instead of per exchange.
const feedBatch = 64

// feedQueue is how many batches may wait for the pipeline goroutine. It
// bounds what is held in flight (feedQueue+2 batches of exchanges with
// their bodies) while letting the reader run ahead through short stalls.
const feedQueue = 4

// feed runs read on the calling goroutine and add on one other goroutine,
// so that decoding a capture and analysing it use two cores.
//
// read must call its fn from one goroutine, in capture order, and must not
// modify an exchange after handing it to fn (reading it is fine): the
// exchange then belongs to add. capture.ReadPCAP, ReadHAR and ReadStore
// build a fresh exchange (header maps and bodies included) per record.
//
// add sees every exchange in the order read produced them, from one
// goroutine, as pipeline.Add requires. When add fails, read's fn returns
// that error from then on (read stops), the exchanges not yet added are
// dropped, and feed returns add's error. When ctx is done, read and add
// are stopped the same way and feed returns ctx.Err(). When read fails by
// itself, every exchange it handed over before is still added and read's
// error is returned. feed returns only once the add goroutine has ended.
func feed(ctx context.Context, read func(fn func(*traffic.Exchange) error) error, add func(*traffic.Exchange) error) error {
	batches := make(chan []*traffic.Exchange, feedQueue)
	stop := make(chan struct{}) // closed by the add goroutine when it gives up
	done := make(chan struct{})
	var addErr error // written by the add goroutine before close(stop)
	go func() {
		defer close(done)
		for b := range batches {
			if addErr != nil {
				continue // drain what was queued before the reader saw stop
			}
			if err := ctx.Err(); err != nil {
				addErr = err
				close(stop)
				continue
			}
			for _, ex := range b {
				if err := add(ex); err != nil {
					addErr = err
					close(stop)
					break
				}
			}
		}
	}()

	cur := make([]*traffic.Exchange, 0, feedBatch)
	var stopErr error // why the reader was told to stop, if it was
	send := func() error {
		select {
		case <-stop:
			stopErr = addErr
			return stopErr
		default:
		}
		select {
		case batches <- cur:
			cur = make([]*traffic.Exchange, 0, feedBatch)
			return nil
		case <-stop:
			stopErr = addErr
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
	<-done
	switch {
	case addErr != nil:
		return addErr
	case stopErr != nil:
		return stopErr
	}
	return readErr
}
