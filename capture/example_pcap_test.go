package capture

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// examplePCAP is the example packet capture shipped for users to try
// `trackaudit analyze` on; TestExamplePCAP writes it with -update.
var examplePCAP = filepath.Join("..", "examples", "news-visit.pcap")

// TestExamplePCAP checks that examples/news-visit.pcap is what
// buildExampleVisit makes (go test ./capture -run TestExamplePCAP -update
// rewrites it) and that it reads as its golden file says.
func TestExamplePCAP(t *testing.T) {
	want := buildExampleVisit(t).pcap()
	if pcapUpdate() {
		if err := os.WriteFile(examplePCAP, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(examplePCAP)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./capture -run TestExamplePCAP -update", examplePCAP)
	}
	exs, st, err := pcapReadAll(t, got, "news-visit.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pcapCheckGolden(t, filepath.Join("testdata", "pcap", "example-news-visit.golden"), pcapSummary(exs, st, err))
}

// buildExampleVisit is a made-up visit, as `tcpdump -i any` records it
// (Linux SLL2), by a browser at 192.168.1.20 to a news article served over
// plain HTTP: its DNS lookups (one first-party name is a CNAME to Adobe's
// analytics servers), the page, Adobe Analytics' beacon through that
// first-party name in plain HTTP, the Meta pixel's script over TLS, Google
// Analytics over QUIC (HTTP/3).
func buildExampleVisit(t testing.TB) *capBuilder {
	b := newCapBuilder(t, linkTypeLinuxSLL2)
	b.now = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	const cli, resolver = "192.168.1.20", "192.168.1.1"
	const page = "http://www.dailyplanet.example/politics/2026/03/senator-health-scandal"
	lookup := func(id uint16, name, ip, cname string) {
		b.dns(cli, resolver, id, name, false, "", "")
		b.dns(cli, resolver, id, name, true, ip, cname)
	}

	lookup(1, "www.dailyplanet.example", "203.0.113.10", "")
	c := b.conn(cli, "203.0.113.10", 51000, 80)
	c.send(true, "GET /politics/2026/03/senator-health-scandal HTTP/1.1\r\nHost: www.dailyplanet.example\r\n"+
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n"+
		"Accept: text/html,application/xhtml+xml\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"+
		"Cookie: s_ecid=MCMID%7C31415926535897932384626433832795028; dp_session=7f3a9c2e1b\r\n\r\n", 1400)
	html := "<!doctype html><html><head><title>Senator hid health scandal – The Daily Planet</title>" +
		`<script src="https://connect.facebook.net/en_US/fbevents.js"></script>` +
		`<script src="http://metrics.dailyplanet.example/appmeasurement.js"></script>` +
		"</head><body>…</body></html>"
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "+strconv.Itoa(len(html))+"\r\n\r\n"+html, 1400)

	b.now = b.now.Add(120 * time.Millisecond)
	lookup(2, "connect.facebook.net", "157.240.0.35", "")
	lookup(3, "metrics.dailyplanet.example", "66.235.152.10", "dailyplanet.example.sc.omtrdc.net")
	lookup(4, "www.google-analytics.com", "142.250.0.10", "")

	// The Meta pixel's script: a TLS connection, only its server name seen.
	fb := b.conn(cli, "157.240.0.35", 51001, 443)
	hello := fixedClientHello("connect.facebook.net", "h2", "http/1.1")
	fb.send(true, string(hello), 600) // a ClientHello over three segments

	// Adobe Analytics through the first-party CNAME, in plain HTTP.
	a := b.conn(cli, "66.235.152.10", 51002, 80)
	a.send(true, "GET /b/ss/dailyplanetprod/1/JS-2.22.0/s41592653?AQB=1&ndh=1&pageName=politics%3Asenator-health-scandal"+
		"&g=http%3A%2F%2Fwww.dailyplanet.example%2Fpolitics%2F2026%2F03%2Fsenator-health-scandal&mid=31415926535897932384626433832795028&AQE=1 HTTP/1.1\r\n"+
		"Host: metrics.dailyplanet.example\r\nReferer: "+page+"\r\n"+
		"Cookie: s_ecid=MCMID%7C31415926535897932384626433832795028; dp_session=7f3a9c2e1b\r\n\r\n", 1400)
	a.send(false, "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 0\r\n\r\n", 1400)

	// Google Analytics over HTTP/3: the ClientHello in two Initial packets.
	ga := fixedClientHello("www.google-analytics.com", "h3")[5:]
	dcid := []byte{0x5e, 0x11, 0x0c, 0xa7, 0x2d, 0x9b, 0x40, 0x13}
	half := len(ga) / 2
	b.quicUDP(cli, "142.250.0.10", 51003, 443, sealQUICInitial(t, dcid, 0, quicCrypto(0, ga[:half])))
	b.quicUDP(cli, "142.250.0.10", 51003, 443, sealQUICInitial(t, dcid, 1, quicCrypto(half, ga[half:])))

	c.close()
	a.close()
	return b
}

// fixedClientHello returns a TLS 1.3 ClientHello record for serverName
// offering the given ALPN protocols, with fixed random and key share so
// that the example is the same on every run (crypto/tls's are random).
func fixedClientHello(serverName string, alpn ...string) []byte {
	seed := sha256.Sum256([]byte(serverName))
	u16 := func(n int) []byte { return []byte{byte(n >> 8), byte(n)} }
	ext := func(typ int, body []byte) []byte { return append(append(u16(typ), u16(len(body))...), body...) }
	name := append(append([]byte{0}, u16(len(serverName))...), serverName...)
	var protos []byte
	for _, p := range alpn {
		protos = append(append(protos, byte(len(p))), p...)
	}
	share := append([]byte{0x00, 0x1d}, u16(32)...)
	share = append(share, seed[:]...)
	var exts []byte
	exts = append(exts, ext(0, append(u16(len(name)), name...))...)      // server_name
	exts = append(exts, ext(10, []byte{0, 2, 0, 0x1d})...)               // supported_groups: x25519
	exts = append(exts, ext(13, []byte{0, 4, 4, 3, 8, 4})...)            // signature_algorithms
	exts = append(exts, ext(16, append(u16(len(protos)), protos...))...) // ALPN
	exts = append(exts, ext(43, []byte{2, 3, 4})...)                     // supported_versions: TLS 1.3
	exts = append(exts, ext(51, append(u16(len(share)), share...))...)   // key_share
	body := append([]byte{3, 3}, seed[:]...)                             // legacy version, random
	body = append(append(body, 32), seed[:]...)                          // legacy session id
	body = append(body, 0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 1, 0)  // cipher suites, compression
	body = append(append(body, u16(len(exts))...), exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...) // client_hello
	return append(append([]byte{22, 3, 1}, u16(len(hs))...), hs...)
}
