package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/internal/tlskeylog"
	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/traffic"
)

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var keyLogPath string
	files, rf, err := parseFileCommand("analyze", "analyze [flags] FILE.har|FILE.pcap|FILE.pcapng|FILE.db ...",
		"name at least one capture file", args, stderr, keyLogFlag(&keyLogPath))
	if err != nil {
		return err
	}
	opt, err := loadKeyLog(keyLogPath)
	if err != nil {
		return err
	}
	stopProfile, err := startProfiles(stderr)
	if err != nil {
		return err
	}
	defer stopProfile()
	return analyzeFiles(ctx, files, rf, opt, stdout, stderr)
}

// keyLogFlag registers --keylog, the key log of pcap captures, into path.
func keyLogFlag(path *string) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(path, "keylog", "", "decrypt the TLS connections of pcap captures with this key log (a browser's SSLKEYLOGFILE)")
	}
}

// inputOptions change how captures are read.
type inputOptions struct {
	// keyLog decrypts TLS in packet captures; nil for none.
	keyLog *tlskeylog.KeyLog
	// progress is a terminal to show the reading of a large capture on;
	// nil for none.
	progress io.Writer
}

// loadKeyLog reads the key log at path ("" for none).
func loadKeyLog(path string) (inputOptions, error) {
	if path == "" {
		return inputOptions{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return inputOptions{}, fmt.Errorf("read key log %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	kl, err := tlskeylog.Parse(bufio.NewReader(f))
	if err != nil {
		return inputOptions{}, fmt.Errorf("%s: not a TLS key log: %w", path, err)
	}
	if kl.Len() == 0 {
		return inputOptions{}, fmt.Errorf("%s: no TLS secrets in the key log (want NSS key log lines such as CLIENT_RANDOM or CLIENT_TRAFFIC_SECRET_0, as browsers write to SSLKEYLOGFILE)", path)
	}
	return inputOptions{keyLog: kl}, nil
}

// analyzeFiles runs every file through one pipeline and prints one report.
// A file that fails part-way keeps what was read before the failure: the
// report is printed, then the first error is returned. An interrupt
// (ctx done) stops reading and prints the report of what was analysed
// until then, as the proxy does.
func analyzeFiles(ctx context.Context, files []string, rf reportFlags, opt inputOptions, stdout, stderr io.Writer) error {
	p, readErr := readFiles(ctx, files, rf, opt, stderr)
	if err := p.Finish(stdout); err != nil {
		return err
	}
	return readErr
}

// readFiles runs every file through one new pipeline, ready for its
// report. Warnings and errors are printed as they come; the first error
// is returned (as errReported) with the pipeline holding what was read.
func readFiles(ctx context.Context, files []string, rf reportFlags, opt inputOptions, stderr io.Writer) (*pipeline, error) {
	p := newPipeline(pipelineOptions{flags: rf})
	opt.progress = terminal(stderr)
	var firstErr error
	for _, name := range files {
		p.startInput()
		in, err := analyzeInput(ctx, name, opt, p)
		if ctx.Err() != nil {
			err = fmt.Errorf("%s: interrupted; the report covers what was analysed before", name)
		}
		for _, w := range in.Warnings {
			fmt.Fprintf(stderr, "trackaudit: warning: %s\n", w)
		}
		p.AddInput(in)
		if err != nil {
			fmt.Fprintf(stderr, "trackaudit: %v\n", err)
			if firstErr == nil {
				firstErr = errReported{err}
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return p, firstErr
}

// errReported is an error already printed; main only sets the exit code.
type errReported struct{ error }

// analyzeInput runs one capture through p: the capture is decoded on this
// goroutine while the detectors and the report builder work through what
// was read so far on two others (see feed).
func analyzeInput(ctx context.Context, name string, opt inputOptions, p *pipeline) (reports.Input, error) {
	var in reports.Input
	err := feed(ctx, func(fn func(*traffic.Exchange) error) error {
		var err error
		in, err = readInput(name, opt, fn)
		return err
	}, p.detect, p.record)
	return in, err
}

// readInput reads one capture, recognised by its first bytes rather than
// its name, and hands its exchanges to fn. A HAR or packet capture may be
// compressed with gzip or zstd (as Wireshark writes and reads them).
func readInput(name string, opt inputOptions, fn func(*traffic.Exchange) error) (reports.Input, error) {
	in := reports.Input{Name: name}
	f, err := os.Open(name)
	if err != nil {
		return in, fmt.Errorf("read %s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		return in, fmt.Errorf("%s: a directory, not a capture file", name)
	}
	var pr *progress
	if err == nil {
		pr = startProgress(opt.progress, reports.Sanitize(name), fi.Size())
		defer pr.end()
		fn = pr.counting(fn)
	}
	br := bufio.NewReaderSize(pr.reader(f), 1<<16)
	head, _ := br.Peek(16)
	switch {
	case len(head) == 0:
		return in, fmt.Errorf("%s: empty file", name)
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		in.Format = "trackaudit capture"
		_, err := capture.ReadStore(name, count(&in, fn))
		return in, err
	}
	r, compression, err := decompress(br)
	if err != nil {
		return in, fmt.Errorf("%s: %w", name, err)
	}
	if compression != "" {
		defer r.Close()
		br = bufio.NewReaderSize(r, 1<<16)
		if head, _ = br.Peek(16); len(head) == 0 {
			return in, fmt.Errorf("%s: empty once decompressed (%s)", name, compression)
		}
	}
	switch {
	case capture.IsPCAP(head):
		in.Format = "pcap"
		if bytes.HasPrefix(head, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
			in.Format = "pcapng"
		}
		in.Format += compressed(compression)
		st, err := capture.ReadPCAPWith(br, name, capture.PCAPOptions{KeyLog: opt.keyLog}, count(&in, fn))
		in.Skipped = st.Skipped
		in.Decrypted = st.Decrypted
		in.Warnings = append(in.Warnings, st.Warnings...)
		return in, err
	case looksLikeJSON(head):
		in.Format = "HAR" + compressed(compression)
		st, err := capture.ReadHAR(br, name, count(&in, fn))
		in.Skipped = st.Skipped
		if st.Entries > 0 && st.CookieHeaders == 0 {
			in.Warnings = append(in.Warnings, capture.SanitizedHARWarning(name))
		}
		return in, err
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return in, fmt.Errorf("%s: a %s-compressed trackaudit capture: decompress it first (SQLite reads only plain files)", name, compression)
	}
	return in, fmt.Errorf("%s: unrecognised format: not a HAR, pcap/pcapng or trackaudit capture (.db)%s", name, compressed(compression))
}

// decompress returns a reader of r's content: r itself (compression "")
// or, when r starts with a gzip or zstd frame, its decompressed bytes.
func decompress(r *bufio.Reader) (io.ReadCloser, string, error) {
	head, _ := r.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}): // RFC 1952 §2.3.1
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, "", fmt.Errorf("gzip: %w", err)
		}
		return zr, "gzip", nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}): // RFC 8878 §3.1.1
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, "", fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), "zstd", nil
	}
	return io.NopCloser(r), "", nil
}

// compressed is " (gzip)" for a compressed input's format, "" otherwise.
func compressed(compression string) string {
	if compression == "" {
		return ""
	}
	return " (" + compression + ")"
}

// count wraps fn to count exchanges into in.
func count(in *reports.Input, fn func(*traffic.Exchange) error) func(*traffic.Exchange) error {
	return func(ex *traffic.Exchange) error {
		in.Exchanges++
		return fn(ex)
	}
}

func looksLikeJSON(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && (head[0] == '{' || head[0] == '[')
}

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the
// file name the caller already gives.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
