//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/quic-go/quic-go"

	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
)

// exampleHTTPS is the shipped HTTPS example: a capture of the visit
// TestAnalyzeKeyLogChromium makes, with the key log embedded (go test
// ./cmd/trackaudit -run TestAnalyzeKeyLogChromium -update-cmd rewrites it;
// that needs editcap, from Wireshark's command-line tools).
const exampleHTTPS = "../../examples/https-visit.pcapng"

// exampleHTTP3 is the same visit over HTTP/3 (TestAnalyzeKeyLogChromiumHTTP3).
const exampleHTTP3 = "../../examples/http3-visit.pcapng"

// httpsArticle is the page of that visit.
const httpsArticle = "https://www.dailyplanet.example/politics/2026/11/senator-health-scandal"

// TestAnalyzeKeyLogChromium is the journalist's packet-capture workflow
// with real parts: headless Chromium, with SSLKEYLOGFILE set, loads a
// news article over HTTPS that embeds a Like button, a Meta pixel and a
// Google Analytics 4 hit (their real host names mapped to the same local
// server); every connection goes through a relay that writes what a
// packet capture would hold. `analyze --keylog` must then decrypt
// Chromium's TLS (HTTP/2) and report the trackers on the article, as it
// would for a HAR file. Skipped with a notice when no Chromium is
// installed, except under CI=true.
func TestAnalyzeKeyLogChromium(t *testing.T) {
	pcapPath, keyLog := recordChromiumVisit(t, visitOptions{})
	checkHTTPSVisit(t, "--keylog", keyLog, pcapPath)
	// Without the key log the same capture only names the servers.
	checkContactsOnly(t, pcapPath)
	updateExample(t, pcapPath, keyLog, exampleHTTPS)
}

// TestAnalyzeKeyLogChromiumHTTP3 is TestAnalyzeKeyLogChromium with
// Chromium made to speak HTTP/3 (QUIC) to every host, as it does to
// Google's and Meta's servers when it can.
func TestAnalyzeKeyLogChromiumHTTP3(t *testing.T) {
	pcapPath, keyLog := recordChromiumVisit(t, visitOptions{quic: true})
	checkHTTPSVisit(t, "--keylog", keyLog, pcapPath)
	checkContactsOnly(t, pcapPath)
	updateExample(t, pcapPath, keyLog, exampleHTTP3)
}

// TestAnalyzeKeyLogChromiumQPACK checks the HTTP/3 header decoding
// against Chromium's own QPACK encoder using its dynamic table: the
// server offers one, Chromium inserts its request headers into it and
// refers to them. quic-go's server cannot decode such requests (it knows
// only the static table) and never answers them, which shows the table
// was used. (A request sent before the server's SETTINGS arrive uses the
// static table only and is answered.) Every request the capture gives
// must be decoded whole: the article's with its navigation headers.
func TestAnalyzeKeyLogChromiumQPACK(t *testing.T) {
	pcapPath, keyLog := recordChromiumVisit(t, visitOptions{quic: true, qpackTable: true})
	entries := exportedEntries(t, "--keylog", keyLog, pcapPath)
	documents, unanswered := 0, 0
	for i, e := range entries {
		r := e.Request
		h := map[string]string{}
		for _, f := range r.Headers {
			h[strings.ToLower(f.Name)] = f.Value
		}
		u, err := url.Parse(r.URL)
		if err != nil || r.Method != "GET" || !slices.Contains(visitHosts, u.Host) || r.HTTPVersion != "HTTP/3.0" ||
			!strings.HasPrefix(h["user-agent"], "Mozilla/5.0") || h["accept"] == "" || h["sec-fetch-dest"] == "" {
			t.Errorf("request %d: %s %s %s, headers %v; want a GET of the visit over HTTP/3 with Chromium's headers", i, r.Method, r.URL, r.HTTPVersion, h)
		}
		if e.Response.Status == 0 {
			unanswered++
		}
		if r.URL != httpsArticle {
			continue
		}
		documents++
		for name, want := range map[string]string{"sec-fetch-dest": "document", "sec-fetch-mode": "navigate",
			"accept": "text/html", "upgrade-insecure-requests": "1"} {
			if !strings.HasPrefix(h[name], want) {
				t.Errorf("request %d: %s = %q; want it to start with %q", i, name, h[name], want)
			}
		}
	}
	if documents == 0 || unanswered == 0 {
		t.Errorf("%d requests, %d of the article, %d unanswered; want the article, and requests quic-go could not decode (else the dynamic table was not used and the test checks nothing)", len(entries), documents, unanswered)
	}
}

// TestAnalyzeKeyLogChromium0RTT checks QUIC 0-RTT decryption with real
// Chromium: the server closes idle connections after half a second and
// answers the Like button's first request only later, so Chromium asks
// again on new connections, resumed with 0-RTT (RFC 9001 §4.6.1), whose
// requests are early data under CLIENT_EARLY_TRAFFIC_SECRET. The retried
// Like button and the GA4 hit its answer loads must be in the report.
func TestAnalyzeKeyLogChromium0RTT(t *testing.T) {
	pcapPath, keyLog := recordChromiumVisit(t, visitOptions{quic: true, zeroRTT: true})
	if n := zeroRTTPackets(t, pcapPath); n == 0 {
		t.Fatal("the capture holds no 0-RTT packet: Chromium did not resume with early data, and the test checks nothing")
	}
	entries := exportedEntries(t, "--keylog", keyLog, pcapPath)
	likes, answered, scroll := 0, false, false
	for _, e := range entries {
		switch u := e.Request.URL; {
		case strings.HasPrefix(u, "https://www.facebook.com/plugins/like.php"):
			likes++
			answered = answered || e.Response.Status == 200
		case u == lateGA4:
			scroll = true
		}
	}
	if likes < 2 || !answered || !scroll {
		t.Errorf("%d Like button requests (answered: %v), late GA4 hit: %v; want the retry sent as early data, its answer, and the hit it loaded", likes, answered, scroll)
	}
}

// zeroRTTPackets counts the client's QUIC version 1 0-RTT packets that
// start a datagram in a capture (RFC 9000 §17.2.3: long header type 1).
func zeroRTTPackets(t *testing.T, pcapPath string) int {
	t.Helper()
	f, err := os.Open(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return n
		}
		udp, _ := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default).Layer(layers.LayerTypeUDP).(*layers.UDP)
		if p := udp; p != nil && p.DstPort == 443 && len(p.Payload) > 5 && p.Payload[0]&0xf0 == 0xd0 &&
			p.Payload[1] == 0 && p.Payload[2] == 0 && p.Payload[3] == 0 && p.Payload[4] == 1 {
			n++
		}
	}
}

// harEntry is what the tests read of an exported HAR entry.
type harEntry struct {
	Request struct {
		Method, URL, HTTPVersion string
		Headers                  []struct{ Name, Value string }
	}
	Response struct{ Status int }
}

// exportedEntries exports a capture (with args such as --keylog) as a HAR with
// secrets shown and returns its entries.
func exportedEntries(t *testing.T, args ...string) []harEntry {
	t.Helper()
	har := filepath.Join(t.TempDir(), "visit.har")
	if _, stderr, code := runCLI(t, append([]string{"export", "--show-secrets", "--har", har}, args...)...); code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	b, err := os.ReadFile(har)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Log struct{ Entries []harEntry } }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Log.Entries
}

// updateExample, under -update-cmd, writes the capture with its key log
// embedded to the shipped example dest.
func updateExample(t *testing.T, pcapPath, keyLog, dest string) {
	t.Helper()
	if !*updateGolden {
		return
	}
	out, err := exec.Command("editcap", "--inject-secrets", "tls,"+keyLog, pcapPath, dest).CombinedOutput()
	if err != nil {
		t.Fatalf("editcap (Wireshark's command-line tools): %v\n%s", err, out)
	}
}

// visitHosts are the hosts of the HTTPS visit: the news site and the
// trackers it embeds.
var visitHosts = []string{"www.dailyplanet.example", "www.facebook.com", "www.google-analytics.com"}

// visitHandler serves the HTTPS visit: the article and its trackers.
func visitHandler(w http.ResponseWriter, r *http.Request) {
	esc := url.QueryEscape(httpsArticle)
	switch {
	case r.Host == "www.dailyplanet.example":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Senator hid health scandal – The Daily Planet</title><h1>Article</h1>
<iframe src="https://www.facebook.com/plugins/like.php?href=%[1]s&layout=button_count"></iframe>
<img src="https://www.facebook.com/tr?id=123456789012345&ev=PageView&dl=%[1]s&noscript=1">
<img src="https://www.google-analytics.com/g/collect?v=2&tid=G-DAILY12345&cid=1234567890.1700000000&en=page_view&dl=%[1]s">`, esc)
	case r.URL.Path == "/plugins/like.php":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<button>Like</button>")
	case r.URL.Path == "/tr" || r.URL.Path == "/g/collect":
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	default:
		http.NotFound(w, r)
	}
}

// lateGA4 is the GA4 hit the late Like button makes.
const lateGA4 = "https://www.google-analytics.com/g/collect?v=2&tid=G-DAILY12345&cid=1234567890.1700000000&en=scroll"

// lateLikeButton is visitHandler with a Like button whose first request
// is answered only after its connection has timed out; Chromium asks
// again on a new, resumed connection, and that answer loads one more
// GA4 hit.
func lateLikeButton() http.HandlerFunc {
	var asked atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/plugins/like.php" {
			visitHandler(w, r)
			return
		}
		if asked.Add(1) == 1 {
			time.Sleep(time.Second)
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<button>Like</button><img src="%s">`, lateGA4)
	}
}

// visitOptions say how Chromium reaches the article's server.
type visitOptions struct {
	// quic makes Chromium speak HTTP/3 to every host.
	quic bool
	// qpackTable (with quic) makes the server offer a QPACK dynamic table
	// (SETTINGS_QPACK_MAX_TABLE_CAPACITY, RFC 9204 §5), which Chromium
	// then fills and uses for its requests' headers. quic-go's server
	// cannot decode those, so the page does not load.
	qpackTable bool
	// zeroRTT (with quic) makes the server accept 0-RTT and close
	// connections idle for half a second, and the Like button answer
	// late (lateLikeButton): Chromium resumes its connections with
	// 0-RTT and sends the requests again as early data.
	zeroRTT bool
}

// recordChromiumVisit makes headless Chromium, with SSLKEYLOGFILE set,
// load the HTTPS article through a recording relay, over TLS (HTTP/2) or
// over QUIC (HTTP/3), and returns the capture's and the key log's paths.
func recordChromiumVisit(t *testing.T, o visitOptions) (pcapPath, keyLog string) {
	exe := fixtures.Chromium(t, chromium.Find)
	dir := t.TempDir()
	pcapPath, keyLog = filepath.Join(dir, "visit.pcap"), filepath.Join(dir, "keys.log")
	f, err := os.OpenFile(pcapPath, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := pcaprelay.NewRecorder(f)
	if err != nil {
		t.Fatal(err)
	}
	client, server := netip.MustParseAddr("192.168.1.20"), netip.MustParseAddrPort("198.51.100.10:443")
	var port int
	var spki string
	var relay io.Closer
	flags := []string{"--disable-quic"}
	if o.quic {
		var h3 fixtures.H3Options
		if o.qpackTable {
			h3.Settings = map[uint64]uint64{0x01: 64 << 10, 0x07: 100} // table capacity, blocked streams
		}
		handler := http.HandlerFunc(visitHandler)
		if o.zeroRTT {
			h3.QUIC = &quic.Config{Allow0RTT: true, MaxIdleTimeout: 500 * time.Millisecond}
			handler = lateLikeButton()
		}
		srv, err := fixtures.ServeH3With(handler, h3, visitHosts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		conn, err := rec.RelayUDP(srv.Addr, client, server)
		if err != nil {
			t.Fatal(err)
		}
		relay, port, spki = conn, conn.LocalAddr().(*net.UDPAddr).Port, srv.SPKI
		var origins []string
		for _, h := range visitHosts {
			origins = append(origins, h+":443")
		}
		flags = []string{"--enable-quic", "--origin-to-force-quic-on=" + strings.Join(origins, ",")}
	} else {
		addr, _, key := fixtures.TLSServer(t, http.HandlerFunc(visitHandler), visitHosts...)
		ln, err := rec.Relay(addr, client, server)
		if err != nil {
			t.Fatal(err)
		}
		relay, port, spki = ln, ln.Addr().(*net.TCPAddr).Port, key
	}
	var rules []string
	for _, h := range visitHosts {
		rules = append(rules, fmt.Sprintf("MAP %s 127.0.0.1:%d", h, port))
	}
	dom, err := dumpDOM(exe, httpsArticle, spki, keyLog, rules, flags)
	relay.Close()
	if err != nil || !o.qpackTable && !strings.Contains(dom, "Article") {
		t.Fatalf("chromium: %v; page: %.300s", err, dom)
	}
	waitRelay(t, rec)
	return pcapPath, keyLog
}

// checkContactsOnly checks that a capture of the HTTPS visit read without
// its key log shows contacts, not events.
func checkContactsOnly(t *testing.T, pcapPath string) {
	t.Helper()
	r, _ := analyzeJSON(t, pcapPath)
	contacts := 0
	for _, s := range r.Sites {
		if len(s.Events) > 0 {
			t.Errorf("without --keylog, site %s has events %+v; want contacts only", s.Site, s.Events)
		}
		contacts += len(s.Contacts)
	}
	if contacts == 0 {
		t.Errorf("without --keylog, sites %+v show no contacts", r.Sites)
	}
}

// TestAnalyzeExampleHTTPS analyzes the shipped HTTPS examples, over TLS
// and over QUIC, whose key logs are embedded in the pcapng: no --keylog
// is needed.
func TestAnalyzeExampleHTTPS(t *testing.T) {
	for _, example := range []string{exampleHTTPS, exampleHTTP3} {
		t.Run(filepath.Base(example), func(t *testing.T) { checkHTTPSVisit(t, example) })
	}
}

// checkHTTPSVisit analyzes a capture of the HTTPS visit and checks that
// it was decrypted: the Meta pixel event, the Like button and GA4's
// page_view, all on the article.
func checkHTTPSVisit(t *testing.T, args ...string) {
	t.Helper()
	r, stdout := analyzeJSON(t, args...)
	if !strings.Contains(stdout, `"tls_decrypted"`) {
		t.Errorf("report inputs do not count decrypted TLS connections:\n%.500s", stdout)
	}
	if len(r.Sites) != 1 || r.Sites[0].Site != "dailyplanet.example" {
		t.Fatalf("sites %+v; want dailyplanet.example only (every request attributed to the article)", r.Sites)
	}
	s := r.Sites[0]
	var events []string
	for _, e := range s.Events {
		events = append(events, e.Company+" "+e.Event)
	}
	for _, want := range []string{"Meta PageView", "Google page_view"} {
		if !slices.Contains(events, want) {
			t.Errorf("events %q lack %q, decoded from a decrypted request", events, want)
		}
	}
	var products []string
	for _, tr := range s.Trackers {
		for _, p := range tr.Products {
			products = append(products, tr.Company+"/"+p.Category)
		}
	}
	if !slices.Contains(products, "Meta/social-plugin") {
		t.Errorf("trackers %q; want Meta's Like button (social-plugin)", products)
	}
	pageLeaks := map[string]bool{}
	for _, l := range s.Leaks {
		if l.Page == httpsArticle {
			pageLeaks[l.Company] = true
		}
	}
	if !pageLeaks["Meta"] || !pageLeaks["Google"] {
		t.Errorf("leaks %+v; want Meta's and Google's attributed to %s", s.Leaks, httpsArticle)
	}
}

// dumpDOM runs headless Chromium on url, with a throwaway profile, flags,
// the host rules given (each "MAP host address"; every other name is not
// found, so nothing leaves the machine), the server certificate with
// public key hash spki trusted, and its TLS secrets written to keyLog
// unless that is "". It returns the DOM Chromium printed once the page
// loaded; Chromium and its helper processes are gone when it returns.
func dumpDOM(exe, url, spki, keyLog string, rules, flags []string) (string, error) {
	profile, err := os.MkdirTemp("", "trackaudit-chromium-test-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(profile) // best effort: a helper may still be exiting
	args := append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update"}, flags...)
	args = append(args, "--user-data-dir="+profile, "--ignore-certificate-errors-spki-list="+spki,
		"--host-resolver-rules="+strings.Join(append(rules, "MAP * ~NOTFOUND"), ", "),
		"--dump-dom", url)
	cmd := exec.Command(exe, args...)
	if keyLog != "" {
		cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keyLog)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop its helper processes too
	dom, err := runWithTimeout(cmd, 60*time.Second)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return dom, err
}

// runWithTimeout runs cmd and returns its standard output.
func runWithTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(d):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("no exit after %v", d)
	}
}

// waitRelay waits for the relayed connections to end: Chromium's are
// closed when it exits.
func waitRelay(t *testing.T, rec *pcaprelay.Recorder) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- rec.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("relayed connections still open 30 s after Chromium exited")
	}
}
