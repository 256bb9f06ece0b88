package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/proxy"
	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/traffic"
)

// proxyFlags are the flags shared by proxy and browse.
type proxyFlags struct {
	listen        string
	capture       string
	maps          multiFlag
	upstreamCA    string
	upstreamProxy string
	insecure      bool
	report        reportFlags
}

func (pf *proxyFlags) register(fs *flag.FlagSet, defaultListen string) {
	fs.StringVar(&pf.listen, "listen", defaultListen, "address to listen on (keep it on loopback)")
	fs.StringVar(&pf.capture, "capture", "", "capture file to write (default: a new timestamped .db in the data directory)")
	fs.Var(&pf.maps, "map", "HOST=ADDR: connect to ADDR instead of resolving HOST, like curl --resolve (repeatable; HOST * maps every other host)")
	fs.StringVar(&pf.upstreamCA, "upstream-ca", "", "PEM file of extra CA certificates to trust for servers")
	fs.StringVar(&pf.upstreamProxy, "upstream-proxy", "", "send all traffic through this http:// or https:// proxy")
	fs.BoolVar(&pf.insecure, "insecure", false, "do NOT verify server certificates (anyone on the network can then intercept)")
	pf.report.register(fs)
}

// config turns the flags into a proxy.Config (without CA and callbacks).
func (pf *proxyFlags) config() (proxy.Config, error) {
	cfg := proxy.Config{Listen: pf.listen, Insecure: pf.insecure, Map: map[string]string{}}
	for _, m := range pf.maps {
		host, addr, ok := strings.Cut(m, "=")
		if !ok || host == "" || addr == "" {
			return cfg, usagef("--map %q: want HOST=ADDR, e.g. news.example=127.0.0.1:8443", m)
		}
		cfg.Map[host] = addr
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if pf.upstreamCA != "" {
		pem, err := os.ReadFile(pf.upstreamCA)
		if err != nil {
			return cfg, fmt.Errorf("read --upstream-ca %s: %w", pf.upstreamCA, unwrapPath(err))
		}
		if !roots.AppendCertsFromPEM(pem) {
			return cfg, fmt.Errorf("--upstream-ca %s: no PEM certificate found in the file", pf.upstreamCA)
		}
	}
	cfg.UpstreamRoots = roots
	if pf.upstreamProxy != "" {
		u, err := url.Parse(pf.upstreamProxy)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, usagef("--upstream-proxy %q: want http://HOST:PORT or https://HOST:PORT", pf.upstreamProxy)
		}
		cfg.UpstreamProxy = u
	}
	cfg.LookupCNAME = lookupUnmapped(cfg.Map, net.DefaultResolver.LookupCNAME)
	return cfg, nil
}

// lookupUnmapped is lookup for the hosts --map does not place (by name,
// with any port, or all of them with "*"): those are the user's, often
// made up, and no resolver is asked about them. nil when "*" places all.
func lookupUnmapped(maps map[string]string, lookup func(context.Context, string) (string, error)) func(context.Context, string) (string, error) {
	if _, all := maps["*"]; all {
		return nil
	}
	mapped := map[string]bool{}
	for k := range maps {
		if host, _, err := net.SplitHostPort(k); err == nil {
			k = host
		}
		mapped[strings.TrimSuffix(strings.ToLower(k), ".")] = true
	}
	return func(ctx context.Context, host string) (string, error) {
		if mapped[host] {
			return host, nil
		}
		return lookup(ctx, host)
	}
}

func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("proxy", "proxy [flags]", stderr)
	var pf proxyFlags
	pf.register(fs, proxy.DefaultListen)
	rest, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("proxy: unexpected argument %q", rest[0])
	}
	if err := pf.report.validate(); err != nil {
		return err
	}
	s, err := startSession(pf, stdout, stderr)
	if err != nil {
		return err
	}
	stderr = s.stderr
	fmt.Fprintf(stderr, "  browse:   trackaudit browse   (or start Chromium with --proxy-server=http://%s --ignore-certificate-errors-spki-list=%s --user-data-dir=$(mktemp -d))\n", s.p.Addr(), s.ca.SPKIHash())
	fmt.Fprintln(stderr, "  stop:     Ctrl-C prints the per-site report")
	stopProfile, err := startProfiles(stderr)
	if err != nil {
		s.p.Close()
		s.finish(nil, io.Discard)
		return err
	}
	serveErr := s.p.Serve(ctx)
	stopProfile()
	return s.finish(serveErr, stdout)
}

// startProfiles honours two hidden environment variables for performance
// work (bench/proxy/README.md, bench/pcap/README.md): TRACKAUDIT_CPUPROFILE=FILE
// writes a CPU profile of the proxy's serving time or of analyze's whole
// run, TRACKAUDIT_MEMPROFILE=FILE an allocation profile at its end. The
// returned stop is never nil.
func startProfiles(stderr io.Writer) (stop func(), err error) {
	cpuPath, memPath := os.Getenv("TRACKAUDIT_CPUPROFILE"), os.Getenv("TRACKAUDIT_MEMPROFILE")
	var cpu *os.File
	if cpuPath != "" {
		if cpu, err = os.Create(cpuPath); err != nil {
			return nil, fmt.Errorf("TRACKAUDIT_CPUPROFILE: create %s: %w", cpuPath, unwrapPath(err))
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("TRACKAUDIT_CPUPROFILE %s: %w", cpuPath, err)
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				fmt.Fprintf(stderr, "trackaudit: TRACKAUDIT_CPUPROFILE: write %s: %v\n", cpuPath, err)
			}
		}
		if memPath != "" {
			runtime.GC()
			f, err := os.Create(memPath)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "trackaudit: TRACKAUDIT_MEMPROFILE: write %s: %v\n", memPath, err)
			}
		}
	}, nil
}

// session is one live capture: CA, proxy, capture store and the pipeline
// that every exchange goes through on one goroutine.
type session struct {
	p           *proxy.Proxy
	ca          *proxy.CA
	capturePath string
	store       *capture.Store
	pl          *pipeline
	stderr      io.Writer

	mu     sync.RWMutex // guards closed against sends on exs
	closed bool
	exs    chan sessionItem
	done   chan struct{}
	count  int
	addErr error

	// live buffers the live lines; the pipeline goroutine flushes it
	// after each batch it collects (one write rather than one per
	// leaking request). A failed write to a terminal or pipe is ignored.
	live *bufio.Writer
}

// startSession loads (or creates) the CA, creates the capture, starts the
// pipeline goroutine and the proxy listener, and prints where things are.
func startSession(pf proxyFlags, stdout, stderr io.Writer) (*session, error) {
	// The proxy logs from many goroutines while the pipeline prints live
	// lines: serialise every write of the session.
	stdout, stderr = &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
	cfg, err := pf.config()
	if err != nil {
		return nil, err
	}
	dir, err := proxy.DefaultCADir()
	if err != nil {
		return nil, err
	}
	ca, created, err := proxy.LoadOrCreateCA(dir)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(stderr, "trackaudit: created a new CA for this install in %s ('trackaudit ca' shows how to trust it)\n", dir)
	}
	path := pf.capture
	if path == "" {
		if path, err = defaultCapturePath(time.Now()); err != nil {
			return nil, err
		}
	}
	st, err := capture.CreateStore(path, capture.StoreMeta{Tool: "trackaudit", Started: time.Now(), Note: "live proxy"})
	if err != nil {
		return nil, err
	}
	s := &session{ca: ca, capturePath: path, store: st, stderr: stderr, exs: make(chan sessionItem, 1024), done: make(chan struct{})}
	liveOut := stdout
	if pf.report.format != "table" {
		liveOut = stderr // keep stdout a clean JSON or CSV document
	}
	s.live = bufio.NewWriterSize(liveOut, 32<<10)
	lo := reports.LiveOptions{Color: pf.report.useColor(), ShowSecrets: pf.report.showSecrets}
	s.pl = newPipeline(pipelineOptions{flags: pf.report, store: st, live: func(ex *traffic.Exchange) {
		if line := reports.LiveLine(ex, lo); line != "" {
			s.live.WriteString(line)
			s.live.WriteByte('\n')
		}
	}})
	cfg.CA = ca
	cfg.OnExchange = s.add
	cfg.OnRequest = s.begin
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, "trackaudit: "+format+"\n", args...) }
	s.p, err = proxy.New(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	go s.loop()
	if pf.insecure {
		fmt.Fprintln(stderr, "trackaudit: WARNING: --insecure: server certificates are NOT verified; anyone on this network can read and change the traffic, and every exchange is marked insecure")
	}
	fmt.Fprintf(stderr, "trackaudit proxy listening on http://%s\n", s.p.Addr())
	fmt.Fprintf(stderr, "  capture:  %s\n", path)
	fmt.Fprintf(stderr, "  CA SPKI:  %s (%s)\n", ca.SPKIHash(), ca.CertPath())
	return s, nil
}

// sessionItem is what the proxy hands the pipeline goroutine: a finished
// exchange, or the start of a navigation.
type sessionItem struct {
	ex    *traffic.Exchange
	begin bool
}

// add is the proxy's OnExchange: it queues ex for the pipeline goroutine.
func (s *session) add(ex *traffic.Exchange) { s.queue(sessionItem{ex: ex}) }

// begin is the proxy's OnRequest: the start of a navigation is queued, as
// a copy of its request fields, so that the page is known to attribution
// before the trackers it loads end (traffic.Attributor.Begin); a long
// page's own exchange ends after theirs.
func (s *session) begin(ex *traffic.Exchange) {
	if traffic.NavigationRequest(ex.Request.Header) {
		s.queue(sessionItem{begin: true, ex: &traffic.Exchange{ID: ex.ID, Source: ex.Source, Start: ex.Start, Client: ex.Client, Request: ex.Request}})
	}
}

func (s *session) queue(it sessionItem) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.closed {
		s.exs <- it
	}
}

// sessionTick is how often the pipeline goroutine collects exchanges
// while traffic flows; it delays live output by at most that much.
const sessionTick = 2 * time.Millisecond

// loop runs every exchange through the pipeline, in arrival order. While
// traffic flows it collects what is queued every sessionTick instead of
// being woken by each exchange: a wake-up per exchange (and the scheduler
// work behind it) showed in the benchmark's CPU profile. When nothing
// comes it blocks, so an idle proxy costs nothing.
func (s *session) loop() {
	defer close(s.done)
	defer s.live.Flush()
	for {
		it, ok := <-s.exs
		if !ok {
			return
		}
		s.handle(it)
		s.live.Flush()
		for n := 1; n > 0; {
			time.Sleep(sessionTick)
			n = 0
			for more := true; more; {
				select {
				case it, ok := <-s.exs:
					if !ok {
						return
					}
					s.handle(it)
					n++
				default:
					more = false
				}
			}
			s.live.Flush()
		}
	}
}

func (s *session) handle(it sessionItem) {
	if it.begin {
		s.pl.Begin(it.ex)
		return
	}
	s.count++
	if err := s.pl.Add(it.ex); err != nil && s.addErr == nil {
		s.addErr = err
		s.live.Flush() // the lines before the error come first
		fmt.Fprintf(s.stderr, "trackaudit: %v\n", err)
	}
}

// finish drains the pipeline, closes the capture and prints the report.
func (s *session) finish(serveErr error, stdout io.Writer) error {
	s.p.Close()
	s.mu.Lock()
	s.closed = true
	close(s.exs)
	s.mu.Unlock()
	<-s.done
	closeErr := s.store.Close()
	s.pl.AddInput(reports.Input{Name: s.capturePath, Format: "live proxy", Exchanges: s.count})
	fmt.Fprintf(s.stderr, "trackaudit: %d exchanges saved to %s\n", s.count, s.capturePath)
	if err := s.pl.Finish(stdout); err != nil {
		return err
	}
	for _, err := range []error{serveErr, s.addErr, closeErr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// lockedWriter serialises writes from concurrent goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// dataDir is $XDG_DATA_HOME/trackaudit, else ~/.local/share/trackaudit:
// the data-side sibling of os.UserConfigDir.
func dataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "trackaudit"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the data directory for captures (set --capture): %w", err)
	}
	return filepath.Join(home, ".local", "share", "trackaudit"), nil
}

// defaultCapturePath returns a new timestamped capture name in dataDir,
// creating the directory (0700: captures hold cookies and tokens).
func defaultCapturePath(now time.Time) (string, error) {
	dir, err := dataDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create capture directory %s: %w", dir, unwrapPath(err))
	}
	base := "capture-" + now.Format("20060102-150405")
	for i := 0; ; i++ {
		name := base + ".db"
		if i > 0 {
			name = fmt.Sprintf("%s-%d.db", base, i)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
	}
}
