package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
	"github.com/trackaudit/trackaudit/internal/tlskeylog"
	"github.com/trackaudit/trackaudit/traffic"
)

// tlsCapture is a capture of real TLS connections (Go's client and
// server, through a recording relay) and the key log the clients wrote.
type tlsCapture struct {
	pcap, keyLog []byte
}

// recordTLS records three connections to one HTTPS server that answers
// for tracker.test and news.test: HTTP/2 over TLS 1.3 (a pixel GET with
// cookies and a gzip-answered POST), HTTP/1.1 over TLS 1.2 with an AES-CBC suite (an article),
// and HTTP/2 over TLS 1.3 from a client that logs no keys.
func recordTLS(t testing.TB) tlsCapture {
	t.Helper()
	return recordTLSRequests(t, 1)
}

// bigBody is the size of testSite's large response: it spans a few
// hundred packets.
const bigBody = 200 << 10

// testSite answers for tracker.test and news.test in the decryption
// tests: /collect answers the request body with gzip, /big with bigBody
// bytes, anything else with a line naming host and path, and a cookie.
func testSite(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/collect":
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		fmt.Fprintf(gz, "stored %s", body)
		gz.Close()
	case "/big":
		w.Write(bytes.Repeat([]byte("0123456789abcdef"), bigBody/16))
	default:
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Set-Cookie", "sid=fresh; Secure")
		fmt.Fprintf(w, "hello from %s%s", r.Host, r.URL.Path)
	}
}

// recordTLSRequests is recordTLS with every request but the hidden one
// sent n times.
func recordTLSRequests(t testing.TB, n int) tlsCapture {
	t.Helper()
	addr, roots, _ := fixtures.TLSServer(t, http.HandlerFunc(testSite), "tracker.test", "news.test")

	var pcap, keys bytes.Buffer
	rec, err := pcaprelay.NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rec.Relay(addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443"))
	if err != nil {
		t.Fatal(err)
	}
	client := func(h2 bool, maxVersion uint16, keyLog io.Writer, suites ...uint16) *http.Client {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: maxVersion, KeyLogWriter: keyLog, CipherSuites: suites},
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", relay.Addr().String())
			},
			ForceAttemptHTTP2: h2,
		}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		return &http.Client{Transport: tr}
	}
	h2 := client(true, 0, &keys)
	// The generated capture's TLS 1.2 connection uses a CBC suite (the
	// committed fixture's, AES-GCM).
	h1 := client(false, tls.VersionTLS12, &keys, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA)
	for range n {
		do(t, h2, "GET", "https://tracker.test/tr?id=123&ev=PageView", "",
			"Cookie", "_fbp=fb.1.1700000000000.42; sid=abc", "Referer", "https://news.test/article")
		do(t, h2, "POST", "https://tracker.test/collect", "email=reader%40mail.test", "Content-Type", "application/x-www-form-urlencoded")
	}
	for range n {
		do(t, h1, "GET", "https://news.test/article", "")
	}
	hidden := client(true, 0, io.Discard)
	do(t, hidden, "GET", "https://tracker.test/hidden", "")
	for _, c := range []*http.Client{h2, h1, hidden} {
		c.CloseIdleConnections()
	}
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}
	return tlsCapture{pcap: pcap.Bytes(), keyLog: keys.Bytes()}
}

// do sends one request with c, headers given as name, value pairs, and
// reads the whole response.
func do(t testing.TB, c *http.Client, method, url, body string, header ...string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// lookTshark returns tshark's path, the independent oracle of the
// decryption tests; without it they skip, except under CI=true.
func lookTshark(t *testing.T) string {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but tshark is not installed")
		}
		t.Skip("tshark not installed")
	}
	return tshark
}

// writeTLSCapture writes c's capture and key log to files for tshark.
func writeTLSCapture(t *testing.T, c tlsCapture) (pcapPath, keysPath string) {
	t.Helper()
	dir := t.TempDir()
	pcapPath, keysPath = filepath.Join(dir, "capture.pcap"), filepath.Join(dir, "keys.log")
	for path, b := range map[string][]byte{pcapPath: c.pcap, keysPath: c.keyLog} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return pcapPath, keysPath
}

// readTLSCapture reads c with (withKeys) or without its key log.
func readTLSCapture(t testing.TB, c tlsCapture, withKeys bool) ([]*traffic.Exchange, PCAPStats) {
	t.Helper()
	var opt PCAPOptions
	if withKeys {
		kl, err := tlskeylog.Parse(bytes.NewReader(c.keyLog))
		if err != nil {
			t.Fatal(err)
		}
		opt.KeyLog = kl
	}
	var got []*traffic.Exchange
	st, err := ReadPCAPWith(bytes.NewReader(c.pcap), "tls.pcap", opt, func(ex *traffic.Exchange) error {
		got = append(got, ex)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

// recordLines is one line per record, in order, for comparisons.
func recordLines(exs []*traffic.Exchange) []string {
	var out []string
	for _, ex := range exs {
		if ex.HostOnly {
			out = append(out, ex.Via+" "+ex.Request.URL.Host)
			continue
		}
		line := fmt.Sprintf("%s %s %s", ex.Request.Proto, ex.Request.Method, ex.Request.URL)
		if r := ex.Response; r != nil {
			line += fmt.Sprintf(" -> %d %q", r.Status, r.Body)
		}
		if ex.Error != "" {
			line += " error: " + ex.Error
		}
		out = append(out, line)
	}
	return out
}

// tlsCaptureRecords are the records of a recordTLS capture read with its
// key log, as recordLines gives them.
var tlsCaptureRecords = []string{
	`HTTP/2.0 GET https://tracker.test/tr?id=123&ev=PageView -> 200 "hello from tracker.test/tr"`,
	`HTTP/2.0 POST https://tracker.test/collect -> 200 "stored email=reader%40mail.test"`,
	`HTTP/1.1 GET https://news.test/article -> 200 "hello from news.test/article"`,
	`tls-sni tracker.test`,
}

func TestReadPCAPDecryptsTLS(t *testing.T) {
	c := recordTLS(t)

	got, st := readTLSCapture(t, c, true)
	want := tlsCaptureRecords
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("records with the key log:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if st.Decrypted != 2 || st.Exchanges != 3 || st.Contacts != 1 {
		t.Errorf("stats: %d decrypted, %d exchanges, %d contacts; want 2, 3, 1", st.Decrypted, st.Exchanges, st.Contacts)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "1 TLS connection not decrypted") {
		t.Errorf("warnings %q; want one about the connection without keys", st.Warnings)
	}
	if len(got) == 4 {
		pixel := got[0]
		if h := pixel.Request.Header; h.Get("Cookie") != "_fbp=fb.1.1700000000000.42; sid=abc" || h.Get("Referer") != "https://news.test/article" {
			t.Errorf("pixel request headers %v; want the cookies and Referer sent", h)
		}
		if pixel.Client != "192.0.2.7" || pixel.Start.IsZero() {
			t.Errorf("pixel client %q, start %v; want 192.0.2.7 and a capture time", pixel.Client, pixel.Start)
		}
		if b := string(got[1].Request.Body); b != "email=reader%40mail.test" {
			t.Errorf("POST body %q; want the form sent", b)
		}
	}

	// Without the key log the same capture shows three contacts.
	got, st = readTLSCapture(t, c, false)
	want = []string{"tls-sni tracker.test", "tls-sni news.test", "tls-sni tracker.test"}
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") || st.Decrypted != 0 {
		t.Errorf("records without the key log (%d decrypted):\n%s\nwant:\n%s", st.Decrypted, strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// TestReadPCAPEmbeddedSecrets reads the key log from a pcapng Decryption
// Secrets Block (pcapng spec §4.7; what `editcap --inject-secrets` writes)
// when no key log is given: the records are those of a separate key log.
// A malformed embedded key log is a warning, and the capture is still read.
func TestReadPCAPEmbeddedSecrets(t *testing.T) {
	c := recordTLS(t)
	want, _ := readTLSCapture(t, c, true)
	for _, tt := range []struct {
		name     string
		secrets  []byte
		want     []string
		decrypts int
		warning  string
	}{
		{"key log", c.keyLog, recordLines(want), 2, "1 TLS connection not decrypted"},
		{"broken key log", []byte("CLIENT_RANDOM nothex\n"), []string{"tls-sni tracker.test", "tls-sni news.test", "tls-sni tracker.test"}, 0, "embedded TLS key log ignored: line 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []*traffic.Exchange
			st, err := ReadPCAP(bytes.NewReader(pcapngWithSecrets(t, c.pcap, tt.secrets)), "tls.pcapng", func(ex *traffic.Exchange) error {
				got = append(got, ex)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if g := recordLines(got); strings.Join(g, "\n") != strings.Join(tt.want, "\n") || st.Decrypted != tt.decrypts {
				t.Errorf("records (%d decrypted):\n%s\nwant (%d decrypted):\n%s", st.Decrypted, strings.Join(g, "\n"), tt.decrypts, strings.Join(tt.want, "\n"))
			}
			if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], tt.warning) {
				t.Errorf("warnings %q; want one saying %q", st.Warnings, tt.warning)
			}
		})
	}
}

// pcapPacket is one packet record of a classic pcap.
type pcapPacket struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// pcapPackets returns the packet records of a classic pcap.
func pcapPackets(t testing.TB, pcap []byte) []pcapPacket {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var pkts []pcapPacket
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return pkts
		}
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, pcapPacket{ci, data})
	}
}

// pcapngWithSecrets rewrites a classic pcap of Ethernet packets as pcapng
// with a Decryption Secrets Block holding keyLog before the packets.
func pcapngWithSecrets(t *testing.T, pcap, keyLog []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	padded := append(slices.Clone(keyLog), make([]byte, (4-len(keyLog)%4)%4)...)
	block := binary.LittleEndian.AppendUint32(nil, 10) // Decryption Secrets Block
	block = binary.LittleEndian.AppendUint32(block, uint32(20+len(padded)))
	block = binary.LittleEndian.AppendUint32(block, secretsTLSKeyLog)
	block = binary.LittleEndian.AppendUint32(block, uint32(len(keyLog)))
	block = append(block, padded...)
	block = binary.LittleEndian.AppendUint32(block, uint32(20+len(padded)))
	out.Write(block)
	for _, p := range pcapPackets(t, pcap) {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDecryptAgreesWithTshark compares the requests decrypted from a real
// TLS capture with those Wireshark's dissectors find in it with the same
// key log, an independent implementation (tshark, Debian package tshark;
// skipped with a notice when missing, except under CI=true). It also
// reads the pcapng that editcap writes with the key log embedded.
func TestDecryptAgreesWithTshark(t *testing.T) {
	tshark := lookTshark(t)
	c := recordTLS(t)
	pcapPath, keysPath := writeTLSCapture(t, c)
	out, err := exec.Command(tshark, "-n", "-r", pcapPath, "-o", "tls.keylog_file:"+keysPath,
		"-Y", "http.request || http2.headers.method", "-T", "fields", "-E", "aggregator=,",
		"-e", "http.request.method", "-e", "http.host", "-e", "http.request.uri",
		"-e", "http2.headers.method", "-e", "http2.headers.authority", "-e", "http2.headers.path").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var theirs []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("tshark line %q: want 6 fields", line)
		}
		if f[0] == "" {
			f = f[3:]
		}
		theirs = append(theirs, f[0]+" https://"+f[1]+f[2])
	}
	exs, _ := readTLSCapture(t, c, true)
	var ours []string
	for _, ex := range exs {
		if !ex.HostOnly {
			ours = append(ours, ex.Request.Method+" "+ex.Request.URL.String())
		}
	}
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") || len(ours) != 3 {
		t.Errorf("decrypted requests:\n%s\ntshark's:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
	}

	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Fatal("tshark without editcap: both come with Wireshark's command-line tools")
	}
	ngPath := filepath.Join(filepath.Dir(pcapPath), "tls.pcapng")
	if out, err := exec.Command(editcap, "--inject-secrets", "tls,"+keysPath, pcapPath, ngPath).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, out)
	}
	ng, err := os.ReadFile(ngPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []*traffic.Exchange
	st, err := ReadPCAP(bytes.NewReader(ng), "tls.pcapng", func(ex *traffic.Exchange) error {
		got = append(got, ex)
		return nil
	})
	if err != nil || st.Decrypted != 2 || strings.Join(recordLines(got), "\n") != strings.Join(recordLines(exs), "\n") {
		t.Errorf("editcap's pcapng: %d decrypted, %v, records:\n%s\nwant those of the separate key log", st.Decrypted, err, strings.Join(recordLines(got), "\n"))
	}
}

// decryptFixture is a recordTLS capture kept in testdata with its key log
// (go test -run TestDecryptFixture -update rewrites it): a fixed input for
// FuzzReadPCAPDecrypt and a check that a capture decrypts the same way
// from one run to the next.
const decryptFixture = "testdata/tls/decrypt"

func TestDecryptFixture(t *testing.T) {
	if pcapUpdate() {
		c := recordTLS(t)
		os.MkdirAll(filepath.Dir(decryptFixture), 0o755)
		if err := os.WriteFile(decryptFixture+".pcap", c.pcap, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(decryptFixture+".keys", c.keyLog, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := loadDecryptFixture(t)
	got, st := readTLSCapture(t, c, true)
	want := tlsCaptureRecords
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") || st.Decrypted != 2 {
		t.Errorf("%s (%d decrypted):\n%s\nwant:\n%s", decryptFixture, st.Decrypted, strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func loadDecryptFixture(t testing.TB) tlsCapture {
	t.Helper()
	pcap, err := os.ReadFile(decryptFixture + ".pcap")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile(decryptFixture + ".keys")
	if err != nil {
		t.Fatal(err)
	}
	return tlsCapture{pcap: pcap, keyLog: keys}
}

// FuzzReadPCAPDecrypt reads arbitrary captures with the fixture's key
// log, so that mutated TLS records reach the decryption and the HTTP/2
// parser, and mutated QUIC packets (the HTTP/3 example, whose key log is
// embedded) quicread and the HTTP/3 parser; nothing may panic or hang,
// and every record has a URL.
func FuzzReadPCAPDecrypt(f *testing.F) {
	c := loadDecryptFixture(f)
	kl, err := tlskeylog.Parse(bytes.NewReader(c.keyLog))
	if err != nil {
		f.Fatal(err)
	}
	h3, err := os.ReadFile(filepath.Join("..", "examples", "http3-visit.pcapng"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.pcap)
	f.Add(h3)
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			ReadPCAPWith(bytes.NewReader(data), "fuzz.pcap", PCAPOptions{KeyLog: kl}, func(ex *traffic.Exchange) error {
				if ex.Request.URL == nil {
					t.Errorf("record %d without URL", ex.ID)
				}
				return nil
			})
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("ReadPCAPWith took more than 2s on a %d-byte input", len(data))
		}
	})
}

// BenchmarkReadPCAPDecrypt reads a capture of 3,000 HTTPS requests (2,000
// over HTTP/2 and TLS 1.3, 1,000 over HTTP/1.1 and TLS 1.2, each
// connection kept alive) with its key log, in MB/s of capture and
// decrypted requests/s.
func BenchmarkReadPCAPDecrypt(b *testing.B) {
	c := recordTLSRequests(b, 1000)
	kl, err := tlskeylog.Parse(bytes.NewReader(c.keyLog))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(c.pcap)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		st, err := ReadPCAPWith(bytes.NewReader(c.pcap), "bench.pcap", PCAPOptions{KeyLog: kl}, func(*traffic.Exchange) error { return nil })
		if err != nil || st.Exchanges != 3000 {
			b.Fatalf("exchanges = %d, err = %v; want 3000", st.Exchanges, err)
		}
		n += st.Exchanges
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "requests/s")
}

// TestReadPCAPDecryptGap drops one segment the server sent in the middle
// of the HTTP/2 connection: what came before it is still decrypted and
// reported, the rest of that connection cannot be (TLS records are
// numbered), and a warning says so.
func TestReadPCAPDecryptGap(t *testing.T) {
	c := loadDecryptFixture(t)
	pkts := pcapPackets(t, c.pcap)
	var serverData []int // packets of the first connection with server payload
	for i, pk := range pkts {
		p := gopacket.NewPacket(pk.data, layers.LayerTypeEthernet, gopacket.Default)
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && tcp.SrcPort == 443 && len(tcp.Payload) > 0 && tcp.DstPort == 40001 {
			serverData = append(serverData, i)
		}
	}
	if len(serverData) < 4 {
		t.Fatalf("the first connection has %d server data packets; want several", len(serverData))
	}
	drop := serverData[len(serverData)-2] // the POST's response, or what follows the GET's
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	for i, p := range pkts {
		if i != drop {
			w.WritePacket(p.ci, p.data)
		}
	}
	c.pcap = out.Bytes()
	got, st := readTLSCapture(t, c, true)
	lines := recordLines(got)
	if len(lines) == 0 || lines[0] != tlsCaptureRecords[0] || !slices.Contains(lines, "HTTP/2.0 POST https://tracker.test/collect") {
		t.Errorf("records:\n%s\nwant the pixel GET first, decrypted before the gap, and the POST without its response", strings.Join(lines, "\n"))
	}
	found := false
	for _, w := range st.Warnings {
		found = found || strings.Contains(w, "decryption stopped early in 1 TLS connection: bytes missing from the capture")
	}
	if !found {
		t.Errorf("warnings %q; want one about the missing bytes", st.Warnings)
	}
}

// TestReadPCAPKeyLogQUIC: with a key log, a QUIC connection whose keys it
// lacks gets a warning.
func TestReadPCAPKeyLogQUIC(t *testing.T) {
	c := loadDecryptFixture(t)
	pcap, err := os.ReadFile(examplePCAP)
	if err != nil {
		t.Fatal(err)
	}
	for _, withKeys := range []bool{false, true} {
		_, st := readTLSCapture(t, tlsCapture{pcap: pcap, keyLog: c.keyLog}, withKeys)
		warned := slices.ContainsFunc(st.Warnings, func(w string) bool {
			return strings.HasSuffix(w, "1 QUIC (HTTP/3) connection not decrypted (shown as contacts): no keys")
		})
		if warned != withKeys {
			t.Errorf("with key log %v: warnings %q; want the QUIC warning only with a key log", withKeys, st.Warnings)
		}
	}
}

// TestReadPCAPDecryptReordered shuffles the fixture as networks do:
// neighbouring segments of one direction swapped, some segments sent
// twice. TCP reassembly must hand the decryption the same byte streams,
// so the records are those of the capture in order.
func TestReadPCAPDecryptReordered(t *testing.T) {
	c := loadDecryptFixture(t)
	pkts := pcapPackets(t, c.pcap)
	data := func(p pcapPacket) *layers.TCP {
		tcp, _ := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || len(tcp.Payload) == 0 {
			return nil
		}
		return tcp
	}
	var out []pcapPacket
	swaps := 0
	for i := 0; i < len(pkts); i++ {
		p := pkts[i]
		if i+1 < len(pkts) {
			a, b := data(p), data(pkts[i+1])
			if a != nil && b != nil && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort {
				out = append(out, pkts[i+1], p) // the later segment first
				i++
				swaps++
				continue
			}
		}
		out = append(out, p)
		if i%7 == 2 { // a retransmission
			out = append(out, p)
		}
	}
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	for _, p := range out {
		w.WritePacket(p.ci, p.data)
	}
	c.pcap = b.Bytes()
	if swaps < 3 {
		t.Fatalf("only %d swaps: the fixture has too few neighbouring segments of one direction", swaps)
	}
	got, st := readTLSCapture(t, c, true)
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(tlsCaptureRecords, "\n") || st.Decrypted != 2 {
		t.Errorf("reordered capture (%d decrypted):\n%s\nwant:\n%s", st.Decrypted, strings.Join(g, "\n"), strings.Join(tlsCaptureRecords, "\n"))
	}
}
