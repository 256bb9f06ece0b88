package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process and returns stdout, stderr and the exit
// code main would use.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageAndInputErrors(t *testing.T) {
	garbage := writeFile(t, "noise.har", "\x00\x01garbage bytes, not a capture")
	empty := writeFile(t, "empty.har", "")
	notHAR := writeFile(t, "other.json", `{"hello": "world"}`)
	badKeys := writeFile(t, "bad.keys", "CLIENT_RANDOM 00 11\n")
	noKeys := writeFile(t, "none.keys", "# written by a browser, but no secrets yet\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // substring of stderr
	}{
		{"no command", nil, 2, "missing command"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"analyze without files", []string{"analyze"}, 2, "name at least one capture file"},
		{"bad flag", []string{"analyze", "--bogus", "x.har"}, 2, "flag provided but not defined"},
		{"bad format", []string{"analyze", "--format", "xml", "x.har"}, 2, `--format "xml"`},
		{"bad table", []string{"analyze", "--format", "csv", "--table", "cookies", "x.har"}, 2, `--table "cookies": want one of pages, `},
		{"table without csv", []string{"analyze", "--table", "events", "x.har"}, 2, "only --format csv writes a single table"},
		{"bad color", []string{"analyze", "--color", "sometimes", "x.har"}, 2, `--color "sometimes"`},
		{"bad pii", []string{"analyze", "--pii", "shoe=42", "x.har"}, 2, `unknown kind "shoe"`},
		{"missing file", []string{"analyze", filepath.Join(t.TempDir(), "gone.har")}, 1, "gone.har: no such file or directory"},
		{"garbage", []string{"analyze", garbage}, 1, "noise.har: unrecognised format"},
		{"empty", []string{"analyze", empty}, 1, "empty.har: empty file"},
		{"directory", []string{"analyze", filepath.Dir(empty)}, 1, ": a directory, not a capture file"},
		{"json but not HAR", []string{"analyze", notHAR}, 1, "other.json: "},
		{"missing key log", []string{"analyze", "--keylog", filepath.Join(t.TempDir(), "gone.keys"), "x.pcap"}, 1, "read key log "},
		{"bad key log", []string{"analyze", "--keylog", badKeys, "x.pcap"}, 1, "bad.keys: not a TLS key log: line 1: client random is not 32 bytes of hex"},
		{"empty key log", []string{"analyze", "--keylog", noKeys, "x.pcap"}, 1, "none.keys: no TLS secrets in the key log"},
		{"key log for report", []string{"report", "--keylog", noKeys, "x.db"}, 2, "flag provided but not defined: -keylog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantErr)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr shows a panic: %q", stderr)
			}
		})
	}
}

// TestCommandHelp checks that every command's -h prints its usage line
// and flags and exits 0.
func TestCommandHelp(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, name, "-h")
			if code != 0 || !strings.Contains(stderr, "usage: trackaudit "+name) || !strings.Contains(stderr, "flags:") {
				t.Errorf("%s -h: exit %d, stderr %q; want 0 and the command's usage", name, code, stderr)
			}
		})
	}
}

func TestParseFlagsAllowsFlagsAfterFiles(t *testing.T) {
	var rf reportFlags
	fs := newFlagSet("analyze", "analyze", &bytes.Buffer{})
	rf.register(fs)
	files, err := parseFlags(fs, []string{"a.har", "--format", "json", "b.pcap", "--site", "news.example", "--", "--c.har"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(files, " "), "a.har b.pcap --c.har"; got != want {
		t.Errorf("files = %q, want %q", got, want)
	}
	if rf.format != "json" || rf.site != "news.example" {
		t.Errorf("flags = %+v, want format json and site news.example", rf)
	}
}
