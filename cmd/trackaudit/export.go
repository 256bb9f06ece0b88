package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// runExport writes a capture (a saved one, a HAR file, or a packet
// capture, decrypted with --keylog) as HAR 1.2, its exchanges tied to
// their pages as analyze ties them. Unless --show-secrets, secrets are
// redacted as capture.WriteHAR describes (cookies, credentials, tokens,
// personal values; bodies of unknown shape and response bodies left out),
// so a HAR or a capture can be turned into one fit to share. The output is
// written to a temporary file (mode 0600) beside it and renamed into place
// only when complete, so a failed export never leaves half a HAR, and an
// existing file is replaced only with --force.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export FILE.db|FILE.har|FILE.pcap|FILE.pcapng --har OUT.har [--keylog FILE] [--show-secrets] [--force]", stderr)
	out := fs.String("har", "", "write the capture as HAR to this `file`")
	keyLogPath := fs.String("keylog", "", "decrypt the TLS connections of a pcap capture with this key log (a browser's SSLKEYLOGFILE)")
	showSecrets := fs.Bool("show-secrets", false, "keep cookie values, credentials, tokens and bodies in the HAR (the file is still 0600)")
	force := fs.Bool("force", false, "replace the output file if it exists")
	files, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(files) != 1:
		fs.Usage()
		return usagef("export: name exactly one capture, got %d", len(files))
	case *out == "":
		fs.Usage()
		return usagef("export: say where to write with --har OUT.har")
	}
	opt, err := loadKeyLog(*keyLogPath)
	if err != nil {
		return err
	}
	src, dst := files[0], *out
	if !*force {
		if _, err := os.Lstat(dst); err == nil {
			return fmt.Errorf("export: %s already exists; pass --force to replace it", dst)
		}
	}
	if same, _ := sameFile(src, dst); same {
		return usagef("export: the output %s is the capture itself", dst)
	}
	if *showSecrets {
		fmt.Fprintf(stderr, "trackaudit: warning: %s will contain cookie values and credentials in clear; keep it private\n", dst)
	}
	n, hostOnly, err := exportHAR(ctx, src, dst, *force, opt, capture.HARWriteOptions{ShowSecrets: *showSecrets, Creator: "trackaudit"}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d exchanges from %s to %s\n", n, src, dst)
	if hostOnly > 0 {
		fmt.Fprintf(stdout, "left out %d host-only contacts (TLS SNI, DNS): HAR has no place for a request without content\n", hostOnly)
	}
	return nil
}

// exportHAR streams the capture at src into a HAR at dst, attributing
// pages on the way; the reader's warnings go to stderr. It returns the
// number of exchanges written and of host-only contacts left out.
func exportHAR(ctx context.Context, src, dst string, replace bool, opt inputOptions, opts capture.HARWriteOptions, stderr io.Writer) (n, hostOnly int, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp") // mode 0600
	if err != nil {
		return 0, 0, fmt.Errorf("export: create %s: %w", dst, unwrapPath(err))
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var readErr error
	attr := newAttributor(rules.Default())
	seq := func(yield func(*traffic.Exchange) bool) {
		var in reports.Input
		in, readErr = readInput(src, opt, func(ex *traffic.Exchange) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			attr.Attribute(ex)
			if ex.HostOnly || ex.Request.URL == nil {
				hostOnly++ // WriteHAR leaves these out
			} else {
				n++
			}
			if !yield(ex) {
				return errStopExport
			}
			return nil
		})
		for _, w := range in.Warnings {
			fmt.Fprintf(stderr, "trackaudit: warning: %s\n", w)
		}
	}
	werr := capture.WriteHAR(tmp, iter.Seq[*traffic.Exchange](seq), opts)
	if readErr != nil && !errors.Is(readErr, errStopExport) {
		return 0, 0, readErr
	}
	if werr != nil {
		return 0, 0, fmt.Errorf("export: write %s: %w", dst, werr)
	}
	if err := tmp.Sync(); err != nil {
		return 0, 0, fmt.Errorf("export: write %s: %w", dst, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, fmt.Errorf("export: write %s: %w", dst, unwrapPath(err))
	}
	if replace {
		err = os.Rename(tmp.Name(), dst)
	} else {
		// A hard link fails if dst appeared meanwhile: never clobber.
		if err = os.Link(tmp.Name(), dst); err == nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, 0, fmt.Errorf("export: %s already exists; pass --force to replace it", dst)
		}
		return 0, 0, fmt.Errorf("export: write %s: %w", dst, unwrapPath(err))
	}
	committed = true
	syncDir(filepath.Dir(dst))
	return n, hostOnly, nil
}

var errStopExport = errors.New("export stopped by the HAR writer")

// syncDir makes a rename durable; failure only weakens durability, so it
// is not reported (some systems cannot sync directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
