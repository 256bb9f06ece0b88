//go:build linux

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
)

// dumpcapArticle is the plain-HTTP page of TestAnalyzeDumpcapChromium.
const dumpcapArticle = "http://www.dailyplanet.example/politics/2026/11/senator-health-scandal"

// TestAnalyzeDumpcapChromium is the packet-capture workflow the README
// gives, with the kernel's capture instead of a recording relay:
// Wireshark's dumpcap records the `any` pseudo-interface, as `tcpdump -i
// any` does, twice at once (Linux cooked v1 headers into a pcap file and
// v2 into a pcapng file), while headless Chromium loads a news article
// in plain HTTP (gzip-compressed and chunked). The article sends an Adobe Analytics beacon in plain
// HTTP through the site's own CNAME host, and loads the Meta pixel's
// script and a Like button over TLS (facebook.com is HSTS-preloaded, so
// plain HTTP is never tried there); while the script loads, the machine
// looks up www.googletagmanager.com over DNS. Every server, the DNS one
// too, is local. Both captures must give the same report: the Adobe
// beacon decoded on the article, the two TLS servers and the DNS lookup
// named as contacts of the site, and the favicon's HTML 404 not taken
// for a page; with Chromium's key log, the TLS requests decrypted. The
// visit runs twice: all on IPv4, and with the site on IPv6 and the
// trackers on IPv4, as on a dual-stack network, where the machine's two
// addresses must be one client. Skipped without Chromium or dumpcap,
// except under CI=true.
func TestAnalyzeDumpcapChromium(t *testing.T) {
	exe := fixtures.Chromium(t, chromium.Find)
	dumpcap := findDumpcap(t)
	for _, tc := range []struct{ name, listen string }{
		{"ipv4", "127.0.0.1:0"},
		{"site over ipv6", "[::1]:0"}, // the trackers stay on IPv4: a dual-stack visit
	} {
		t.Run(tc.name, func(t *testing.T) { dumpcapVisit(t, exe, dumpcap, tc.listen) })
	}
}

// dumpcapVisit records and checks the visit of TestAnalyzeDumpcapChromium,
// with the article's plain-HTTP server listening on listen.
func dumpcapVisit(t *testing.T, exe, dumpcap, listen string) {
	var mu sync.Mutex
	var served []string
	dnsAddr := serveDNS(t)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.Host+r.URL.Path)
		mu.Unlock()
		switch {
		case r.Host == "www.dailyplanet.example" && r.URL.Path != "/politics/2026/11/senator-health-scandal":
			// Many sites answer a missing favicon with their HTML 404
			// page: over plain HTTP (no Sec-Fetch headers) that must not
			// make it a page.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<!doctype html><title>Not found – The Daily Planet</title>")
		case r.Host == "www.dailyplanet.example":
			// As news sites send it: gzip-compressed, in chunks.
			esc := url.QueryEscape(dumpcapArticle)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprint(zw, `<!doctype html><title>Senator hid health scandal – The Daily Planet</title><h1>Article</h1>`)
			zw.Flush()
			w.(http.Flusher).Flush()
			fmt.Fprintf(zw, `
<script src="https://connect.facebook.net/en_US/fbevents.js"></script>
<iframe src="https://www.facebook.com/plugins/like.php?href=%[1]s&layout=button_count"></iframe>
<img src="http://metrics.dailyplanet.example/b/ss/dailyplanetprod/1/JS-2.22.0/s41592653?AQB=1&pageName=politics%%3Asenator-health-scandal&g=%[1]s&mid=31415926535897932384626433832795028&AQE=1">`, esc)
			zw.Close()
		case r.URL.Path == "/plugins/like.php":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<button>Like</button>")
		case r.URL.Path == "/en_US/fbevents.js":
			// A lookup while the article's scripts load, as a tag
			// manager's would be: the contact belongs to the article.
			res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "udp", dnsAddr)
			}}
			if addrs, err := res.LookupHost(r.Context(), "www.googletagmanager.com"); err != nil || len(addrs) == 0 {
				t.Errorf("local DNS lookup: %v, %v", addrs, err)
			}
			// As long as the real script (hundreds of KB over TLS: the
			// kernel's capture holds TCP segments of up to 64 KB).
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprintf(w, "/* pixel %s */", strings.Repeat("x", 300<<10))
		case strings.HasPrefix(r.URL.Path, "/b/ss/"):
			w.Header().Set("Content-Type", "image/gif")
			w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		default:
			http.NotFound(w, r)
		}
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Skipf("skipping: cannot listen on %s: %v", listen, err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	tlsAddr, _, spki := fixtures.TLSServer(t, handler, "connect.facebook.net", "www.facebook.com")
	httpAddr := ln.Addr().String()

	dir := t.TempDir()
	dnsHost, dnsPort, _ := net.SplitHostPort(dnsAddr)
	// Only the test's own DNS server: the machine's other lookups (other
	// tests' browsers) go to port 53 too.
	filter := fmt.Sprintf("(tcp and (port %s or port %s)) or (udp and host %s and port %s)", port(t, httpAddr), port(t, tlsAddr), dnsHost, dnsPort)
	captures := map[string]string{ // link type -> file
		"LINUX_SLL":  filepath.Join(dir, "visit-sll.pcap"),
		"LINUX_SLL2": filepath.Join(dir, "visit-sll2.pcapng"),
	}
	var stops []func()
	for _, lt := range []string{"LINUX_SLL", "LINUX_SLL2"} {
		args := []string{"-i", "any", "-y", lt, "-f", filter, "-w", captures[lt]}
		if lt == "LINUX_SLL" {
			args = append(args, "-P") // classic pcap
		}
		stops = append(stops, startDumpcap(t, dumpcap, args))
	}

	keyLog := filepath.Join(dir, "keys.log")
	rules := []string{
		"MAP www.dailyplanet.example " + httpAddr, "MAP metrics.dailyplanet.example " + httpAddr,
		"MAP connect.facebook.net " + tlsAddr, "MAP www.facebook.com " + tlsAddr,
	}
	dom, err := dumpDOM(exe, dumpcapArticle, spki, keyLog, rules, []string{"--disable-quic", "--disable-features=HttpsUpgrades"})
	if err != nil || !strings.Contains(dom, "Article") {
		t.Fatalf("chromium: %v; page: %.300s", err, dom)
	}
	// Chromium may quit before its last subresources load: wait for them.
	want := []string{"www.dailyplanet.example/politics/2026/11/senator-health-scandal", "connect.facebook.net/en_US/fbevents.js",
		"www.facebook.com/plugins/like.php", "metrics.dailyplanet.example/b/ss/dailyplanetprod/1/JS-2.22.0/s41592653"}
	mu.Lock()
	got := slices.Clone(served)
	mu.Unlock()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Fatalf("the servers answered %q; want %q among them (Chromium did not load the page whole)", got, w)
		}
	}
	time.Sleep(300 * time.Millisecond) // the last packets reach the capture
	for _, stop := range stops {
		stop()
	}

	if lt := fileLinkType(t, captures["LINUX_SLL"]); lt != 113 {
		t.Errorf("pcap link type %d, want 113 (LINUX_SLL)", lt)
	}
	if lt := fileLinkType(t, captures["LINUX_SLL2"]); lt != 276 {
		t.Errorf("pcapng link type %d, want 276 (LINUX_SLL2)", lt)
	}
	var reports []json.RawMessage
	for _, lt := range []string{"LINUX_SLL", "LINUX_SLL2"} {
		_, stdout := analyzeJSON(t, captures[lt])
		var r struct {
			Sites json.RawMessage `json:"sites"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		checkDumpcapVisit(t, lt, r.Sites)
		reports = append(reports, r.Sites)
	}
	var a, b any
	json.Unmarshal(reports[0], &a)
	json.Unmarshal(reports[1], &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the SLL and SLL2 captures give different reports:\n%s\n%s", reports[0], reports[1])
	}

	// With Chromium's key log, the TLS contacts open up: the Like button
	// and the pixel's script, on the article, with the page URL the
	// button sent.
	if _, stderr, _ := runCLI(t, "analyze", "--keylog", keyLog, captures["LINUX_SLL2"]); stderr != "" {
		t.Errorf("with the key log, analyze warned: %s", stderr)
	}
	r, _ := analyzeJSON(t, "--keylog", keyLog, captures["LINUX_SLL2"])
	if len(r.Sites) != 1 {
		t.Fatalf("with the key log: sites %+v; want dailyplanet.example only", r.Sites)
	}
	var products []string
	for _, tr := range r.Sites[0].Trackers {
		for _, p := range tr.Products {
			products = append(products, tr.Company+"/"+p.Product)
		}
	}
	for _, want := range []string{"Meta/Like button", "Meta/Pixel", "Adobe/Analytics"} {
		if !slices.Contains(products, want) {
			t.Errorf("with the key log: trackers %q lack %q", products, want)
		}
	}
	leaked := false
	for _, l := range r.Sites[0].Leaks {
		leaked = leaked || l.Page == dumpcapArticle && l.Product == "Like button" && l.What == "page URL in parameter href"
	}
	if !leaked {
		t.Errorf("with the key log: leaks %+v lack the Like button's page URL (href) on the article", r.Sites[0].Leaks)
	}
}

// checkDumpcapVisit checks the report's sites for one capture of the
// visit: one site, the article as its one page with its title, the Adobe beacon
// decoded on it, and the TLS and DNS contacts.
func checkDumpcapVisit(t *testing.T, name string, sites json.RawMessage) {
	t.Helper()
	var r []struct {
		Site  string
		Pages []struct {
			URL, Title string
		}
		Contacts []struct{ Host, Via, Company string }
		Trackers []struct{ Company string }
		Leaks    []struct{ Page, Company, What string }
	}
	if err := json.Unmarshal(sites, &r); err != nil {
		t.Fatal(err)
	}
	if len(r) != 1 || r[0].Site != "dailyplanet.example" {
		t.Fatalf("%s: sites %s; want dailyplanet.example only", name, sites)
	}
	s := r[0]
	if len(s.Pages) != 1 || s.Pages[0].URL != dumpcapArticle || s.Pages[0].Title != "Senator hid health scandal – The Daily Planet" {
		t.Errorf("%s: pages %+v; want the article with its title only (not the favicon's HTML 404)", name, s.Pages)
	}
	var contacts []string
	for _, c := range s.Contacts {
		contacts = append(contacts, c.Host+" "+c.Via+" "+c.Company)
	}
	for _, want := range []string{"connect.facebook.net tls-sni Meta", "www.facebook.com tls-sni Meta", "www.googletagmanager.com dns Google"} {
		if !slices.Contains(contacts, want) {
			t.Errorf("%s: contacts %q lack %q", name, contacts, want)
		}
	}
	if !slices.ContainsFunc(s.Trackers, func(c struct{ Company string }) bool { return c.Company == "Adobe" }) {
		t.Errorf("%s: trackers %+v lack Adobe's beacon", name, s.Trackers)
	}
	var whats []string
	for _, l := range s.Leaks {
		if l.Page == dumpcapArticle && l.Company == "Adobe" {
			whats = append(whats, l.What)
		}
	}
	if !slices.Contains(whats, "event page view") || !slices.Contains(whats, "browser id in parameter mid") {
		t.Errorf("%s: Adobe's items on the article %q; want its page view and visitor id (mid)", name, whats)
	}
}

// findDumpcap returns Wireshark's capture program, or skips the test
// without it, except under CI=true.
func findDumpcap(t *testing.T) string {
	t.Helper()
	dumpcap, err := exec.LookPath("dumpcap")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dumpcap (Debian package tshark) is needed under CI=true: %v", err)
		}
		t.Skipf("skipping: no dumpcap (Debian package tshark): %v", err)
	}
	return dumpcap
}

// startDumpcap starts dumpcap with args, waits until it captures, and
// returns the function that stops it and waits for its file to be
// complete. Without the privilege to capture it skips the test, except
// under CI=true.
func startDumpcap(t *testing.T, dumpcap string, args []string) (stop func()) {
	t.Helper()
	cmd := exec.Command(dumpcap, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Capturing on") {
				ready <- ""
			}
		}
		ready <- log.String()
	}()
	select {
	case out := <-ready:
		if out != "" {
			cmd.Wait()
			if strings.Contains(out, "ermission") && os.Getenv("CI") != "true" {
				t.Skipf("skipping: dumpcap may not capture here: %s", out)
			}
			t.Fatalf("dumpcap %q ended: %s", args, out)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("dumpcap %q did not start capturing within 20 s", args)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("dumpcap %q did not stop within 20 s", args)
		}
	}
	t.Cleanup(stop)
	return stop
}

// fileLinkType returns the link type of a pcap file's header or of a
// pcapng file's first interface.
func fileLinkType(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 24 && binary.LittleEndian.Uint32(b) == 0xa1b2c3d4 {
		return int(binary.LittleEndian.Uint32(b[20:]))
	}
	for len(b) >= 12 { // pcapng blocks, little-endian as dumpcap writes them here
		typ, n := binary.LittleEndian.Uint32(b), int(binary.LittleEndian.Uint32(b[4:]))
		if typ == 1 && len(b) >= 10 { // Interface Description Block
			return int(binary.LittleEndian.Uint16(b[8:]))
		}
		if n < 12 || n > len(b) {
			break
		}
		b = b[n:]
	}
	t.Fatalf("%s: no link type found", path)
	return 0
}

// port returns the port of a host:port address.
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serveDNS answers DNS queries on port 53 of a loopback address (the
// capture knows DNS by its port) until the test ends: 127.0.0.1 for A
// questions, no records for the others. Binding port 53 takes the
// privilege capturing does: without it the test is skipped, except under
// CI=true.
func serveDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.153:53")
	if err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("skipping: cannot serve DNS on a loopback port 53: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q layers.DNS
			if err := q.DecodeFromBytes(buf[:n], gopacket.NilDecodeFeedback); err != nil || len(q.Questions) != 1 {
				continue
			}
			a := layers.DNS{ID: q.ID, QR: true, OpCode: layers.DNSOpCodeQuery, RD: q.RD, RA: true, Questions: q.Questions}
			if qq := q.Questions[0]; qq.Type == layers.DNSTypeA {
				a.Answers = []layers.DNSResourceRecord{{Name: qq.Name, Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: net.IPv4(127, 0, 0, 1)}}
			}
			out := gopacket.NewSerializeBuffer()
			if err := a.SerializeTo(out, gopacket.SerializeOptions{FixLengths: true}); err != nil {
				continue
			}
			pc.WriteTo(out.Bytes(), from)
		}
	}()
	return pc.LocalAddr().String()
}

// TestAnalyzeDumpcapChromiumHTTP3 records, with dumpcap on the any
// interface, headless Chromium loading the HTTPS visit of
// TestAnalyzeKeyLogChromium over HTTP/3 (QUIC) with its key log: the
// kernel's capture holds the datagrams as the sockets sent them, several
// merged into one by segmentation offload (a relay only sees them one by
// one), and the report must be the decrypted visit's, without a warning
// of missed stream bytes.
func TestAnalyzeDumpcapChromiumHTTP3(t *testing.T) {
	exe := fixtures.Chromium(t, chromium.Find)
	dumpcap := findDumpcap(t)
	// The article and the Like button are long (300 KB of comment after
	// them): quic-go's server sends them with UDP segmentation offload,
	// and the capture holds up to 16 of its datagrams as one. The
	// article may still be arriving when its trackers are answered; it
	// must still be their page.
	srv, err := fixtures.ServeH3(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		visitHandler(w, r)
		if r.Host == "www.dailyplanet.example" || r.URL.Path == "/plugins/like.php" {
			fmt.Fprintf(w, "<!-- %s -->", strings.Repeat("x", 300<<10))
		}
	}), visitHosts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	capPath, keyLog := filepath.Join(dir, "visit.pcapng"), filepath.Join(dir, "keys.log")
	stop := startDumpcap(t, dumpcap, []string{"-i", "any", "-y", "LINUX_SLL2", "-f", "udp and port " + port(t, srv.Addr), "-w", capPath})

	var rules, origins []string
	for _, h := range visitHosts {
		rules = append(rules, "MAP "+h+" "+srv.Addr)
		origins = append(origins, h+":443")
	}
	dom, err := dumpDOM(exe, httpsArticle, srv.SPKI, keyLog, rules, []string{"--enable-quic", "--origin-to-force-quic-on=" + strings.Join(origins, ",")})
	if err != nil || !strings.Contains(dom, "Article") {
		t.Fatalf("chromium: %v; page: %.300s", err, dom)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	checkHTTPSVisit(t, "--keylog", keyLog, capPath)
	if _, stderr, _ := runCLI(t, "analyze", "--keylog", keyLog, capPath); stderr != "" {
		t.Errorf("analyze warned: %s", stderr)
	}
	checkContactsOnly(t, capPath) // without the key log: the servers' names
}
