package main

import (
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
	p.attr = traffic.NewAttributor()
	p.det = detectors.Default(detectors.Options{Rules: rules.Default(), Watch: p.o.flags.pii.parsed})
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
