package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compress returns data compressed with gzip or zstd.
func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		err = w.Close()
	case "zstd":
		var w *zstd.Encoder
		if w, err = zstd.NewWriter(&buf); err == nil {
			w.Write(data)
			err = w.Close()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAnalyzeCompressed: a HAR or packet capture compressed with gzip or
// zstd gives the report the plain file gives; only the input's format
// says how it was compressed.
func TestAnalyzeCompressed(t *testing.T) {
	inputLine := regexp.MustCompile(`(?s)"inputs": \[.*?\n  \],`)
	for _, example := range []string{newsExample, "../../examples/news-visit.pcap", exampleHTTP3} {
		plain, err := os.ReadFile(example)
		if err != nil {
			t.Fatal(err)
		}
		_, want := analyzeJSON(t, example)
		for _, kind := range []string{"gzip", "zstd"} {
			t.Run(filepath.Base(example)+"/"+kind, func(t *testing.T) {
				name := filepath.Join(t.TempDir(), filepath.Base(example)+"."+kind)
				if err := os.WriteFile(name, compress(t, kind, plain), 0o600); err != nil {
					t.Fatal(err)
				}
				r, got := analyzeJSON(t, name)
				if len(r.Inputs) != 1 || !strings.HasSuffix(r.Inputs[0].Format, " ("+kind+")") {
					t.Errorf("inputs %+v; want the format to name %s", r.Inputs, kind)
				}
				if a, b := inputLine.ReplaceAllString(got, ""), inputLine.ReplaceAllString(want, ""); a != b {
					t.Errorf("report of the %s file differs from the plain file's:\n%.1500s\nwant\n%.1500s", kind, a, b)
				}
			})
		}
	}
}

// TestCompressedInputErrors: what cannot be read from a compressed file
// gets a one-line error naming it.
func TestCompressedInputErrors(t *testing.T) {
	db := writeFile(t, "capture.db.gz", string(compress(t, "gzip", []byte("SQLite format 3\x00 and the rest of a database"))))
	noise := writeFile(t, "noise.gz", string(compress(t, "zstd", []byte("\x00\x01 not a capture"))))
	empty := writeFile(t, "empty.har.gz", string(compress(t, "gzip", nil)))
	badHeader := writeFile(t, "bad.pcap.gz", "\x1f\x8b\x09 not deflate")
	for _, tt := range []struct {
		name, file, wantErr string
	}{
		{"compressed database", db, "capture.db.gz: a gzip-compressed trackaudit capture: decompress it first"},
		{"compressed noise", noise, "noise.gz: unrecognised format: not a HAR, pcap/pcapng or trackaudit capture (.db) (zstd)"},
		{"empty", empty, "empty.har.gz: empty once decompressed (gzip)"},
		{"bad gzip header", badHeader, "bad.pcap.gz: gzip: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "analyze", tt.file)
			if code != 1 || !strings.Contains(stderr, tt.wantErr) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want 1 and one line with %q", code, stderr, tt.wantErr)
			}
		})
	}
}
