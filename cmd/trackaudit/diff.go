package main

import (
	"context"
	"fmt"
	"io"

	"github.com/trackaudit/trackaudit/reports"
)

// runDiff analyses two captures of the same sites (before and after
// consent, logged out and in, last month and today) with today's rules and
// prints what changed: per site, the trackers requested and what left the
// browser to whom, added, removed or kept (reports.Diff).
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var keyLogPath string
	files, rf, err := parseFileCommand("diff", "diff [flags] BEFORE AFTER   (each a HAR, pcap/pcapng or saved capture .db)",
		"name two captures: before and after", args, stderr, keyLogFlag(&keyLogPath))
	if err != nil {
		return err
	}
	if len(files) != 2 {
		return usagef("diff: name two captures, before and after (got %d)", len(files))
	}
	if rf.format == "html" {
		return usagef("diff: --format html: want table, json or csv")
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
		p, err := readFiles(ctx, []string{name}, rf, opt, stderr)
		if err != nil {
			return err // printed; a diff of part of a capture would mislead
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: interrupted", name)
		}
		sides[i] = p.rep.Report()
	}
	d := reports.Diff(sides[0], sides[1])
	switch rf.format {
	case "json":
		return reports.WriteDiffJSON(stdout, d)
	case "csv":
		return reports.WriteDiffCSV(stdout, d)
	}
	return reports.WriteDiffTable(stdout, d, reports.TableOptions{Color: rf.useColor(), Width: rf.tableWidth()})
}
