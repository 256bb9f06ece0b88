package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
)

// recordH3 records HTTP/3 (quic-go's client and server) through a UDP
// recording relay: a connection to tracker.test (a pixel GET with cookies
// and Referer, a POST answered with gzip, a large response), one to
// news.test (an article), both logging their keys, and one to
// tracker.test from a client that logs none.
func recordH3(t testing.TB) tlsCapture {
	t.Helper()
	addr, roots, _ := fixtures.H3Server(t, http.HandlerFunc(testSite), "tracker.test", "news.test")

	var pcap, keys bytes.Buffer
	rec, err := pcaprelay.NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rec.RelayUDP(addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443"))
	if err != nil {
		t.Fatal(err)
	}
	client := func(keyLog io.Writer) (*http.Client, *http3.Transport) {
		tr := &http3.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, KeyLogWriter: keyLog},
			Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
				return quic.DialAddr(ctx, relay.LocalAddr().String(), tlsCfg, cfg)
			},
		}
		return &http.Client{Transport: tr}, tr
	}
	logged, tr := client(&keys)
	do(t, logged, "GET", "https://tracker.test/tr?id=123&ev=PageView", "",
		"Cookie", "_fbp=fb.1.1700000000000.42; sid=abc", "Referer", "https://news.test/article")
	do(t, logged, "POST", "https://tracker.test/collect", "email=reader%40mail.test", "Content-Type", "application/x-www-form-urlencoded")
	do(t, logged, "GET", "https://tracker.test/big", "")
	do(t, logged, "GET", "https://news.test/article", "")
	hidden, htr := client(io.Discard)
	do(t, hidden, "GET", "https://tracker.test/hidden", "")
	tr.Close()
	htr.Close()
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}
	return tlsCapture{pcap: pcap.Bytes(), keyLog: keys.Bytes()}
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
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but tshark is not installed")
		}
		t.Skip("tshark not installed")
	}
	c := recordH3(t)
	dir := t.TempDir()
	pcapPath, keysPath := filepath.Join(dir, "h3.pcap"), filepath.Join(dir, "keys.log")
	os.WriteFile(pcapPath, c.pcap, 0o600)
	os.WriteFile(keysPath, c.keyLog, 0o600)
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
	var pcap, keys bytes.Buffer
	rec, err := pcaprelay.NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rec.RelayUDP(srv.Addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443"))
	if err != nil {
		t.Fatal(err)
	}
	var state tls.ConnectionState
	tr := &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.Roots, KeyLogWriter: &keys, EncryptedClientHelloConfigList: list},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			c, err := quic.DialAddr(ctx, relay.LocalAddr().String(), tlsCfg, cfg)
			if err == nil {
				state = c.ConnectionState().TLS
			}
			return c, err
		},
	}
	do(t, &http.Client{Transport: tr}, "GET", "https://tracker.test/tr?id=123&ev=PageView", "", "Cookie", "sid=abc")
	tr.Close()
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}
	if !state.ECHAccepted {
		t.Fatal("the connection did not use Encrypted Client Hello: the test checks nothing")
	}
	got, st := readTLSCapture(t, tlsCapture{pcap: pcap.Bytes(), keyLog: keys.Bytes()}, true)
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
	var pcap, keys bytes.Buffer
	rec, err := pcaprelay.NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rec.RelayUDP(srv.Addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.Roots, KeyLogWriter: &keys},
		QUICConfig:      v2(),
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, relay.LocalAddr().String(), tlsCfg, cfg)
		},
	}
	do(t, &http.Client{Transport: tr}, "GET", "https://tracker.test/tr?id=123&ev=PageView", "")
	tr.Close()
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}
	c := tlsCapture{pcap: pcap.Bytes(), keyLog: keys.Bytes()}
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
