package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fatih/color"
	"github.com/trackaudit/trackaudit/reports"
)

// reportFlags are the output flags shared by every command that prints a
// report (analyze, report, proxy, browse).
type reportFlags struct {
	format      string
	table       string
	site        string
	showSecrets bool
	color       string
	width       int
	pii         piiFlags
}

func (rf *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.format, "format", "table", "report format: table, json, csv or html")
	fs.StringVar(&rf.table, "table", "", "the report table --format csv writes: "+strings.Join(reports.CSVTables(), ", ")+" (default leaks)")
	fs.StringVar(&rf.site, "site", "", "only report this site (registrable domain, e.g. news.example)")
	fs.BoolVar(&rf.showSecrets, "show-secrets", false, "show cookie values, tokens and hashes instead of pseudonyms")
	fs.StringVar(&rf.color, "color", "auto", "colour the table: auto, always or never (NO_COLOR is honoured by auto)")
	fs.IntVar(&rf.width, "width", 0, "table width in columns (0: $COLUMNS, else 120)")
	rf.pii.register(fs)
}

func (rf *reportFlags) validate() error {
	switch rf.format {
	case "table", "json", "html":
	case "csv":
		if rf.table != "" && !slices.Contains(reports.CSVTables(), rf.table) {
			return usagef("--table %q: want one of %s", rf.table, strings.Join(reports.CSVTables(), ", "))
		}
	default:
		return usagef("--format %q: want table, json, csv or html", rf.format)
	}
	if rf.table != "" && rf.format != "csv" {
		return usagef("--table %s: only --format csv writes a single table", rf.table)
	}
	switch rf.color {
	case "auto", "always", "never":
	default:
		return usagef("--color %q: want auto, always or never", rf.color)
	}
	if rf.width < 0 {
		return usagef("--width %d: want a positive number of columns", rf.width)
	}
	return rf.pii.load()
}

// tableWidth resolves --width: the flag, else $COLUMNS (set by most
// interactive shells), else 120.
func (rf *reportFlags) tableWidth() int {
	if rf.width > 0 {
		return max(rf.width, 60)
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return max(n, 60)
	}
	return 120
}

// useColor resolves --color. auto follows fatih/color's own decision,
// taken at start-up from stdout being a terminal, NO_COLOR and TERM=dumb.
func (rf *reportFlags) useColor() bool {
	switch rf.color {
	case "always":
		return true
	case "never":
		return false
	}
	return !color.NoColor
}

func (rf *reportFlags) reportOptions() reports.Options {
	return reports.Options{Site: rf.site, ShowSecrets: rf.showSecrets}
}

// parseFlags parses args with fs, allowing flags after positional
// arguments (trackaudit analyze a.har --format json). Errors are usage
// errors.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFileCommand parses the command line of a command that reads capture
// files and prints a report (analyze, report); extra, when not nil,
// registers the command's own flags. It returns flag.ErrHelp when -h was
// asked, and a usage error naming missing when no file is.
func parseFileCommand(name, usage, missing string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) ([]string, reportFlags, error) {
	fs := newFlagSet(name, usage, stderr)
	var rf reportFlags
	rf.register(fs)
	if extra != nil {
		extra(fs)
	}
	files, err := parseFlags(fs, args, stderr)
	if err != nil {
		return nil, rf, err
	}
	if len(files) == 0 {
		fs.Usage()
		return nil, rf, usagef("%s: %s", name, missing)
	}
	return files, rf, rf.validate()
}

// newFlagSet returns a FlagSet whose usage line names the command.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: trackaudit %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
