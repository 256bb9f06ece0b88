package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/trackaudit/trackaudit/internal/chromium"
)

func runBrowse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("browse", "browse [flags] [URL...]", stderr)
	var pf proxyFlags
	pf.register(fs, "127.0.0.1:0")
	headless := fs.Bool("headless", false, "run Chromium without a window: load the first URL, then stop (for scripts)")
	browser := fs.String("browser", "", "Chromium executable to use (default: first of "+fmt.Sprint(chromium.Names)+" on PATH)")
	urls, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := pf.report.validate(); err != nil {
		return err
	}
	exe, err := chromium.Find(*browser)
	if err != nil {
		return err
	}
	if *headless && len(urls) == 0 {
		return usagef("browse --headless: name the URL to load")
	}
	s, err := startSession(pf, stdout, stderr)
	if err != nil {
		return err
	}
	stderr = s.stderr // shared with the proxy's log, which writes concurrently
	profile, err := os.MkdirTemp("", "trackaudit-browse-")
	if err != nil {
		s.finish(nil, io.Discard)
		return fmt.Errorf("create a temporary browser profile: %w", err)
	}
	defer os.RemoveAll(profile)

	pctx, stopProxy := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.p.Serve(pctx) }()

	cmd := exec.CommandContext(ctx, exe, chromiumArgs(s.p.Addr().String(), s.ca.SPKIHash(), profile, *headless, urls)...)
	if !*headless {
		cmd.Stdout, cmd.Stderr = stderr, stderr
	}
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(stderr, "trackaudit: opening %s; close the browser to see the report\n", exe)
	runErr := cmd.Run()
	if ctx.Err() == nil && runErr != nil {
		fmt.Fprintf(stderr, "trackaudit: warning: %s exited: %v\n", exe, runErr)
	}
	stopProxy()
	return s.finish(<-served, stdout)
}

// chromiumArgs starts Chromium with a throwaway profile that trusts the
// proxy's CA by its SPKI hash only, without touching any system store.
func chromiumArgs(proxyAddr, spki, profile string, headless bool, urls []string) []string {
	args := []string{
		"--user-data-dir=" + profile,
		"--proxy-server=http://" + proxyAddr,
		"--ignore-certificate-errors-spki-list=" + spki,
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to start its sandbox as root
	}
	if headless {
		args = append(args, "--headless", "--disable-gpu", "--dump-dom")
	}
	return append(args, urls...)
}
