package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/trackaudit/trackaudit/internal/chromium"
)

func runBrowse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("browse", "browse [flags] [URL...]", stderr)
	var pf proxyFlags
	pf.register(fs, "127.0.0.1:0")
	headless := fs.Bool("headless", false, "run Chromium without a window: load each URL in turn, each in a fresh profile (unless --profile), then stop (for scripts and site lists)")
	keep := fs.String("profile", "", "use `dir` as Chromium's profile and keep it (created mode 0700): log in to a site once, then audit it logged in, headless too; it holds your logins, keep it private")
	urlsFile := fs.String("urls", "", "also load the URLs listed in `file`, one per line (# starts a comment; a bare name such as news.example means https://news.example)")
	wait := fs.Duration("wait", 5*time.Second, "with --headless: how long each page runs after it loaded, in the page's time: its timers are run ahead, so trackers it fires later are seen at once")
	pageTimeout := fs.Duration("page-timeout", 45*time.Second, "with --headless: stop a page that has not finished after this long, keeping what it sent")
	browser := fs.String("browser", "", "Chromium executable to use (default: first of "+fmt.Sprint(chromium.Names)+" on PATH)")
	urls, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := pf.report.validate(); err != nil {
		return err
	}
	if urls, err = browseURLs(urls, *urlsFile); err != nil {
		return err
	}
	if *wait < 0 || *pageTimeout <= 0 {
		return usagef("--wait %s --page-timeout %s: want a wait of zero or more and a positive timeout", *wait, *pageTimeout)
	}
	exe, err := chromium.Find(*browser)
	if err != nil {
		return err
	}
	if *headless && len(urls) == 0 {
		return usagef("browse --headless: name the URLs to load")
	}
	if *keep != "" {
		if err := os.MkdirAll(*keep, 0o700); err != nil {
			return fmt.Errorf("--profile %s: %w", *keep, unwrapPath(err))
		}
	}
	s, err := startSession(pf, stdout, stderr)
	if err != nil {
		return err
	}
	stderr = s.stderr // shared with the proxy's log, which writes concurrently
	pctx, stopProxy := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.p.Serve(pctx) }()
	if *headless {
		for i, u := range urls {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "trackaudit: [%d/%d] loading %s\n", i+1, len(urls), u)
			err := withProfile(*keep, func(profile string) error {
				return loadHeadless(ctx, exe, s, u, profile, *wait, *pageTimeout)
			})
			if err != nil {
				fmt.Fprintf(stderr, "trackaudit: warning: %s: %v\n", u, err)
			}
		}
	} else if err := withProfile(*keep, func(profile string) error { return runChromium(ctx, exe, s, urls, profile, stderr) }); err != nil {
		fmt.Fprintf(stderr, "trackaudit: warning: %v\n", err)
	}
	stopProxy()
	return s.finish(<-served, stdout)
}

// withProfile calls fn with the Chromium profile directory to use: keep
// when not "", or else a new throwaway one, removed afterwards.
func withProfile(keep string, fn func(dir string) error) error {
	if keep != "" {
		return fn(keep) // made by runBrowse
	}
	dir, err := os.MkdirTemp("", "trackaudit-browse-")
	if err != nil {
		return fmt.Errorf("create a temporary browser profile: %w", err)
	}
	defer os.RemoveAll(dir)
	return fn(dir)
}

// runChromium runs Chromium with a window, the URLs in its tabs, until
// the user closes it.
func runChromium(ctx context.Context, exe string, s *session, urls []string, profile string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, exe, chromiumArgs(s.p.Addr().String(), s.ca.SPKIHash(), profile, -1, urls)...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(stderr, "trackaudit: opening %s; close the browser to see the report\n", exe)
	if err := cmd.Run(); ctx.Err() == nil && err != nil {
		return fmt.Errorf("%s exited: %w", exe, err)
	}
	return nil
}

// loadHeadless loads one URL in headless Chromium with profile, and
// returns when the page has loaded and run for wait of its (virtual)
// time, or after timeout. Each URL gets a fresh profile unless --profile
// names one, so that no site's cookies or cache change what the next one
// sends.
func loadHeadless(ctx context.Context, exe string, s *session, url, profile string, wait, timeout time.Duration) error {
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(lctx, exe, chromiumArgs(s.p.Addr().String(), s.ca.SPKIHash(), profile, wait, []string{url})...)
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil // interrupted: the report follows
	case lctx.Err() != nil:
		return fmt.Errorf("not done after %s (--page-timeout); the report keeps what it sent until then", timeout)
	case err != nil:
		return fmt.Errorf("%s exited: %w", exe, err)
	}
	return nil
}

// chromiumArgs starts Chromium with a throwaway profile that trusts the
// proxy's CA by its SPKI hash only, without touching any system store.
// A wait of zero or more runs it headless: it loads the page, lets the
// page's timers run ahead by wait (virtual time, which pauses while
// requests are pending), prints the DOM and exits; a negative wait opens
// a window.
func chromiumArgs(proxyAddr, spki, profile string, wait time.Duration, urls []string) []string {
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
	if wait >= 0 {
		args = append(args, "--headless", "--disable-gpu", "--dump-dom", "--virtual-time-budget="+strconv.FormatInt(wait.Milliseconds(), 10))
	}
	return append(args, urls...)
}

// browseURLs returns the URLs named on the command line followed by those
// listed in file (when not ""), one per line, blank lines and # comments
// skipped. A bare host name such as news.example becomes
// https://news.example; anything else must be an http or https URL with a
// host. A bad entry is a usage error naming it (and its line).
func browseURLs(args []string, file string) ([]string, error) {
	var urls []string
	for _, a := range args {
		u, err := browseURL(a)
		if err != nil {
			return nil, usagef("%v", err)
		}
		urls = append(urls, u)
	}
	if file == "" {
		return urls, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read --urls %s: %w", file, unwrapPath(err))
	}
	listed, err := parseURLList(file, b)
	return append(urls, listed...), err
}

// parseURLList reads the URLs of a --urls file named name (see
// browseURLs). It is an error for the file to list none.
func parseURLList(name string, b []byte) ([]string, error) {
	var urls []string
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		u, err := browseURL(line)
		if err != nil {
			return nil, usagef("--urls %s:%d: %v", name, i+1, err)
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 {
		return nil, usagef("--urls %s: no URLs in the file", name)
	}
	return urls, nil
}

func browseURL(s string) (string, error) {
	raw := s
	if i := strings.Index(s, "://"); i < 0 || strings.ContainsAny(s[:i], "/?#") {
		s = "https://" + s // a bare host, perhaps with a path
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("%q: want an http or https URL, or a host name", raw)
	}
	return u.String(), nil
}
