package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/traffic"
)

// runDiff analyses two captures of the same sites (before and after
// consent, logged out and in, last month and today) with today's rules,
// or reads their saved JSON reports, and prints what changed: per site,
// the trackers requested and what left the browser to whom, added,
// removed or kept (reports.Diff).
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var keyLogPath string
	files, rf, err := parseFileCommand("diff", "diff [flags] BEFORE AFTER   (each a HAR, pcap/pcapng, saved capture .db or JSON report)",
		"name two captures: before and after", args, stderr, keyLogFlag(&keyLogPath))
	if err != nil {
		return err
	}
	if len(files) != 2 {
		return usagef("diff: name two captures, before and after (got %d)", len(files))
	}
	if rf.table != "" {
		return usagef("diff: --table %s: the diff is a single table", rf.table)
	}
	opt, err := loadKeyLog(keyLogPath)
	if err != nil {
		return err
	}
	var sides [2]*reports.Report
	for i, name := range files {
		r, err := savedReport(name, rf.site)
		if err != nil {
			return err
		}
		if r == nil {
			p, err := readFiles(ctx, []string{name}, rf, opt, stderr)
			if err != nil {
				return err // printed; a diff of part of a capture would mislead
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%s: interrupted", name)
			}
			r = p.rep.Report()
		}
		sides[i] = r
	}
	d := reports.Diff(sides[0], sides[1])
	switch rf.format {
	case "json":
		return reports.WriteDiffJSON(stdout, d)
	case "csv":
		return reports.WriteDiffCSV(stdout, d)
	case "html":
		return reports.WriteDiffHTML(stdout, d)
	}
	return reports.WriteDiffTable(stdout, d, reports.TableOptions{Color: rf.useColor(), Width: rf.tableWidth()})
}

// savedReport reads name when it is a JSON report trackaudit wrote
// (--format json), limited to site when not ""; nil, nil when name is
// something else (a capture), left to the capture readers.
func savedReport(name, site string) (*reports.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil // the capture reader names the problem
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	if !looksLikeJSON(head) || !bytes.Contains(head, []byte(`"trackaudit.report/`)) {
		return nil, nil
	}
	r, err := reports.ReadJSON(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if site != "" {
		site = traffic.Site(site)
		r.Sites = slices.DeleteFunc(r.Sites, func(s reports.Site) bool { return s.Site != site })
	}
	return r, nil
}
