package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
)

// h3Recorder records HTTP/3 clients of one server through a UDP
// recording relay, as a packet capture would hold them.
type h3Recorder struct {
	t          testing.TB
	pcap, keys bytes.Buffer
	rec        *pcaprelay.Recorder
	relay      net.PacketConn
	roots      *x509.CertPool
	transports []*http3.Transport
}

func newH3Recorder(t testing.TB, srv *fixtures.HTTPSServer) *h3Recorder {
	t.Helper()
	r := &h3Recorder{t: t, roots: srv.Roots}
	var err error
	if r.rec, err = pcaprelay.NewRecorder(&r.pcap); err != nil {
		t.Fatal(err)
	}
	if r.relay, err = r.rec.RelayUDP(srv.Addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443")); err != nil {
		t.Fatal(err)
	}
	return r
}

// client is a new HTTP/3 client dialing the relay; logKeys says whether
// it writes the key log. tweak, when not nil, changes its transport.
func (r *h3Recorder) client(logKeys bool, tweak func(*http3.Transport)) *http.Client {
	var keyLog io.Writer = io.Discard
	if logKeys {
		keyLog = &r.keys
	}
	tr := &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: r.roots, KeyLogWriter: keyLog},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, r.relay.LocalAddr().String(), tlsCfg, cfg)
		},
	}
	if tweak != nil {
		tweak(tr)
	}
	r.transports = append(r.transports, tr)
	return &http.Client{Transport: tr}
}

// capture closes the clients and the relay and returns what was recorded.
func (r *h3Recorder) capture() tlsCapture {
	r.t.Helper()
	for _, tr := range r.transports {
		tr.Close()
	}
	r.relay.Close()
	if err := r.rec.Wait(); err != nil {
		r.t.Fatal(err)
	}
	return tlsCapture{pcap: r.pcap.Bytes(), keyLog: r.keys.Bytes()}
}

// recordH3 records HTTP/3 (quic-go's client and server) through a UDP
// recording relay: a connection to tracker.test (a pixel GET with cookies
// and Referer, a POST answered with gzip, a large response), one to
// news.test (an article), both logging their keys, and one to
// tracker.test from a client that logs none.
func recordH3(t testing.TB) tlsCapture {
	t.Helper()
	srv, err := fixtures.ServeH3(http.HandlerFunc(testSite), "tracker.test", "news.test")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := newH3Recorder(t, srv)
	logged := r.client(true, nil)
	do(t, logged, "GET", "https://tracker.test/tr?id=123&ev=PageView", "",
		"Cookie", "_fbp=fb.1.1700000000000.42; sid=abc", "Referer", "https://news.test/article")
	do(t, logged, "POST", "https://tracker.test/collect", "email=reader%40mail.test", "Content-Type", "application/x-www-form-urlencoded")
	do(t, logged, "GET", "https://tracker.test/big", "")
	do(t, logged, "GET", "https://news.test/article", "")
	do(t, r.client(false, nil), "GET", "https://tracker.test/hidden", "")
	return r.capture()
}

func TestReadPCAPDecryptsHTTP3(t *testing.T) {
	c := recordH3(t)

	got, st := readTLSCapture(t, c, true)
	want := []string{
		`HTTP/3.0 GET https://tracker.test/tr?id=123&ev=PageView -> 200 "hello from tracker.test/tr"`,
		`HTTP/3.0 POST https://tracker.test/collect -> 200 "stored email=reader%40mail.test"`,
		`HTTP/3.0 GET https://tracker.test/big -> 200 "` + strings.Repeat("0123456789abcdef", bigBody/16) + `"`,
		`HTTP/3.0 GET https://news.test/article -> 200 "hello from news.test/article"`,
		`quic-sni tracker.test`,
	}
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("records with the key log:\n%.2000s\nwant:\n%.2000s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if st.Decrypted != 2 || st.Exchanges != 4 || st.Contacts != 1 {
		t.Errorf("stats: %d decrypted, %d exchanges, %d contacts; want 2, 4, 1", st.Decrypted, st.Exchanges, st.Contacts)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "1 QUIC (HTTP/3) connection not decrypted") {
		t.Errorf("warnings %q; want one about the connection without keys", st.Warnings)
	}
	if len(got) == len(want) {
		pixel := got[0]
		if h := pixel.Request.Header; h.Get("Cookie") != "_fbp=fb.1.1700000000000.42; sid=abc" || h.Get("Referer") != "https://news.test/article" {
			t.Errorf("pixel request headers %v; want the cookies and Referer sent", h)
		}
		if pixel.Client != "192.0.2.7" || pixel.Start.IsZero() {
			t.Errorf("pixel client %q, start %v; want 192.0.2.7 and a capture time", pixel.Client, pixel.Start)
		}
		if r := pixel.Response; r == nil || r.Header.Get("Set-Cookie") != "sid=fresh; Secure" {
			t.Errorf("pixel response %+v; want the Set-Cookie sent", r)
		}
		if b := string(got[1].Request.Body); b != "email=reader%40mail.test" {
			t.Errorf("POST body %q; want the form sent", b)
		}
	}

	// Without the key log, every connection is a contact.
	got, st = readTLSCapture(t, c, false)
	want = []string{`quic-sni tracker.test`, `quic-sni news.test`, `quic-sni tracker.test`}
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("records without the key log:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if st.Decrypted != 0 || len(st.Warnings) != 0 {
		t.Errorf("without the key log: %d decrypted, warnings %q; want none", st.Decrypted, st.Warnings)
	}
}

// TestDecryptHTTP3AgreesWithTshark checks the HTTP/3 decryption against
// an independent one: tshark, with the same key log, must find as many
// HTTP/3 HEADERS frames from the client as the capture gives decrypted
// requests (tshark 4.0 decrypts QUIC and parses HTTP/3 framing, but does
// not decode QPACK, so it cannot list the requests themselves).
func TestDecryptHTTP3AgreesWithTshark(t *testing.T) {
	tshark := lookTshark(t)
	c := recordH3(t)
	pcapPath, keysPath := writeTLSCapture(t, c)
	out, err := exec.Command(tshark, "-n", "-r", pcapPath, "-o", "tls.keylog_file:"+keysPath,
		"-Y", "http3 && udp.dstport == 443", "-T", "fields", "-E", "aggregator=,", "-e", "http3.frame_type").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	headers := 0
	for _, typ := range strings.FieldsFunc(string(out), func(r rune) bool { return r == ',' || r == '\n' }) {
		if typ == "1" { // HEADERS (RFC 9114 §7.2.2)
			headers++
		}
	}
	exs, _ := readTLSCapture(t, c, true)
	requests := 0
	for _, ex := range exs {
		if !ex.HostOnly {
			requests++
		}
	}
	if headers != requests || requests != 4 {
		t.Errorf("tshark found %d HEADERS frames from the client, the capture gave %d requests; want 4 each", headers, requests)
	}
}

// TestReadPCAPDecryptsHTTP3ECH: with Encrypted Client Hello the key log
// names the inner ClientHello's random, which the capture never shows;
// the connection's secrets are found by trying the key log's recent ones
// (quic-go's client and server, Go's ECH).
func TestReadPCAPDecryptsHTTP3ECH(t *testing.T) {
	list, key, err := fixtures.ECHConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fixtures.ServeH3With(http.HandlerFunc(testSite), fixtures.H3Options{ECH: []tls.EncryptedClientHelloKey{key}}, "tracker.test", fixtures.ECHPublicName)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := newH3Recorder(t, srv)
	var state tls.ConnectionState
	do(t, r.client(true, func(tr *http3.Transport) {
		tr.TLSClientConfig.EncryptedClientHelloConfigList = list
		dial := tr.Dial
		tr.Dial = func(ctx context.Context, addr string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			c, err := dial(ctx, addr, tlsCfg, cfg)
			if err == nil {
				state = c.ConnectionState().TLS
			}
			return c, err
		}
	}), "GET", "https://tracker.test/tr?id=123&ev=PageView", "", "Cookie", "sid=abc")
	c := r.capture()
	if !state.ECHAccepted {
		t.Fatal("the connection did not use Encrypted Client Hello: the test checks nothing")
	}
	got, st := readTLSCapture(t, c, true)
	want := []string{`HTTP/3.0 GET https://tracker.test/tr?id=123&ev=PageView -> 200 "hello from tracker.test/tr"`}
	if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") || st.Decrypted != 1 {
		t.Errorf("records %q, %d decrypted; want %q, 1", g, st.Decrypted, want)
	}
}

// TestReadPCAPDecryptsHTTP3Version2: HTTP/3 over QUIC version 2 (RFC
// 9369), quic-go's client and server, is decrypted like version 1, and is
// a contact without the key log.
func TestReadPCAPDecryptsHTTP3Version2(t *testing.T) {
	v2 := func() *quic.Config { return &quic.Config{Versions: []quic.Version{quic.Version2}} } // one each: quic-go writes to it
	srv, err := fixtures.ServeH3With(http.HandlerFunc(testSite), fixtures.H3Options{QUIC: v2()}, "tracker.test")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := newH3Recorder(t, srv)
	do(t, r.client(true, func(tr *http3.Transport) { tr.QUICConfig = v2() }), "GET", "https://tracker.test/tr?id=123&ev=PageView", "")
	c := r.capture()
	if !bytes.Contains(c.pcap, []byte{0x6b, 0x33, 0x43, 0xcf}) {
		t.Fatal("no QUIC version 2 packet in the capture: the test checks nothing")
	}
	got, st := readTLSCapture(t, c, true)
	want := `HTTP/3.0 GET https://tracker.test/tr?id=123&ev=PageView -> 200 "hello from tracker.test/tr"`
	if g := recordLines(got); len(g) != 1 || g[0] != want || st.Decrypted != 1 {
		t.Errorf("records %q, %d decrypted; want %q, 1", g, st.Decrypted, want)
	}
	if got, _ = readTLSCapture(t, c, false); len(got) != 1 || recordLines(got)[0] != "quic-sni tracker.test" {
		t.Errorf("without the key log: %q; want the contact", recordLines(got))
	}
}
