// Command trackaudit shows which trackers a web page talks to and what it
// tells them: a local MITM proxy and an offline analyzer of HAR files, packet
// captures and saved captures, with per-site tracking reports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. It returns a usageError for bad arguments.
type command struct {
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	short string
}

var commands = map[string]command{
	"analyze": {runAnalyze, "analyze HAR, pcap/pcapng or saved captures and print per-site reports"},
	"report":  {runReport, "re-run the detectors over a saved capture (.db) and print the report"},
	"export":  {runExport, "write a saved capture as HAR"},
	"proxy":   {runProxy, "run the intercepting proxy and report live"},
	"ca":      {runCA, "show, export or rotate the proxy's certificate authority"},
	"browse":  {runBrowse, "open Chromium through the proxy with a throwaway profile"},
	"diff":    {runDiff, "compare two captures of the same sites: trackers and data added, removed, kept"},
}

// offline are the commands that read captures and exit.
var offline = map[string]bool{"analyze": true, "report": true, "export": true, "diff": true}

// usageError is a wrong command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	if len(os.Args) > 1 && offline[os.Args[1]] && os.Getenv("GOGC") == "" {
		// The offline commands' memory is bounded by their state, not by
		// the input, and they are short-lived: half as many collections
		// make analyze 9-19 % faster for about half as much again peak
		// memory, still well under tshark's (BENCHMARKS.md). The proxy
		// keeps Go's default, for its RSS bound.
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err and maps it to the process exit code: 0 ok, 1
// failure, 2 usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var done errReported
	if errors.As(err, &done) {
		return 1
	}
	fmt.Fprintf(stderr, "trackaudit: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return usagef("missing command")
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return usagef("unknown command %q (try 'trackaudit help')", args[0])
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // "trackaudit CMD -h" printed the command's usage
	}
	return err
}

func printUsage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: trackaudit <command> [flags] [args]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, commands[n].short)
	}
	b.WriteString("\nRun 'trackaudit <command> -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
