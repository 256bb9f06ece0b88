package main

import (
	"bytes"
	"context"
	"io"
	"os"
)

// runReport re-runs the current detectors over saved captures (.db files
// written by the proxy) and prints the report. It is analyze restricted to
// saved captures: the exchanges go through the same pipeline, so new rules
// apply to old captures, and findings recorded live are ignored.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	files, rf, err := parseFileCommand("report", "report [flags] FILE.db ...", "name a saved capture (FILE.db)", args, stderr, nil)
	if err != nil {
		return err
	}
	for _, name := range files {
		if !maybeSavedCapture(name) {
			return usagef("report: %s is not a saved capture (.db); use 'trackaudit analyze' for HAR and pcap files", name)
		}
	}
	return analyzeFiles(ctx, files, rf, inputOptions{}, stdout, stderr)
}

// maybeSavedCapture reports whether name could be a saved capture: it is
// false only when the file can be read and plainly is something else, so
// that a missing or unreadable file gets its own error (exit 1) from the
// reader rather than a usage error.
func maybeSavedCapture(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return true
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	return n == 0 || bytes.Equal(head[:n], []byte("SQLite format 3\x00")[:n])
}
