package capture

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/traffic"
)

func init() {
	// Another test file of the package may define the same flag.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// pcapUpdate reports whether -update was given.
func pcapUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const pixelRequest = "GET /tr?id=123456789&ev=PageView&dl=https%3A%2F%2Fshop.example%2Fcart HTTP/1.1\r\n" +
	"Host: www.facebook.com\r\n" +
	"User-Agent: Mozilla/5.0\r\n" +
	"Cookie: fr=0abcDEF; datr=xyz123\r\n" +
	"Referer: https://shop.example/cart\r\n\r\n"

const gifResponse = "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 6\r\n\r\nGIF89a"

// readAll runs ReadPCAP over data and returns the records.
func pcapReadAll(t testing.TB, data []byte, name string) ([]*traffic.Exchange, PCAPStats, error) {
	t.Helper()
	var out []*traffic.Exchange
	st, err := ReadPCAP(bytes.NewReader(data), name, func(ex *traffic.Exchange) error {
		out = append(out, ex)
		return nil
	})
	return out, st, err
}

// summary renders records and stats as stable text for golden files.
func pcapSummary(exs []*traffic.Exchange, st PCAPStats, err error) string {
	var b strings.Builder
	for _, ex := range exs {
		fmt.Fprintf(&b, "#%d %s client=%s", ex.ID, ex.Start.Format("15:04:05.000"), ex.Client)
		if ex.CNAME != "" {
			fmt.Fprintf(&b, " cname=%s", ex.CNAME)
		}
		if ex.HostOnly {
			fmt.Fprintf(&b, " host-only via=%s %s\n", ex.Via, ex.Request.URL)
			continue
		}
		fmt.Fprintf(&b, " %s %s %s\n", ex.Request.Method, ex.Request.URL, ex.Request.Proto)
		for _, k := range []string{"Cookie", "Referer", "Content-Type"} {
			if v := ex.Request.Header.Get(k); v != "" {
				fmt.Fprintf(&b, "  > %s: %s\n", k, v)
			}
		}
		if ex.Request.Body != nil || ex.Request.BodyTruncated {
			fmt.Fprintf(&b, "  > body %s truncated=%v\n", pcapShort(ex.Request.Body), ex.Request.BodyTruncated)
		}
		if r := ex.Response; r != nil {
			fmt.Fprintf(&b, "  < %d %s body %s truncated=%v\n", r.Status, r.Proto, pcapShort(r.Body), r.BodyTruncated)
		} else {
			fmt.Fprintf(&b, "  < no response\n")
		}
		if ex.Error != "" {
			fmt.Fprintf(&b, "  ! %s\n", ex.Error)
		}
	}
	fmt.Fprintf(&b, "stats: packets=%d exchanges=%d contacts=%d skipped=%d truncated=%v links=%v\n",
		st.Packets, st.Exchanges, st.Contacts, st.Skipped, st.Truncated, st.LinkTypes)
	for _, w := range st.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

// pcapShort quotes a body, eliding the middle of long ones.
func pcapShort(b []byte) string {
	if len(b) <= 120 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q…%q (%d bytes)", b[:80], b[len(b)-30:], len(b))
}

func pcapGzip(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// pcapScenario builds one capture. format is "pcap" or "pcapng".
type pcapScenario struct {
	name   string
	format string
	build  func(t testing.TB) *capBuilder
	// check asserts facts in code, beyond the golden file.
	check func(t *testing.T, exs []*traffic.Exchange, st PCAPStats)
	// warns is how many warnings the capture must give (skipped packets
	// go with them); check says which.
	warns int
}

func simpleGET(b *capBuilder, cli, srv string) {
	c := b.conn(cli, srv, 40000, 80)
	c.send(true, "GET /p.gif?u=1 HTTP/1.1\r\nHost: px.tracker.example\r\n\r\n", 1400)
	c.send(false, gifResponse, 1400)
	c.close()
}

// fragmentsScenario checks IP fragment reassembly (RFC 791, RFC 8200
// §4.5) on addresses net+"2" (client), net+"1" (DNS server), net+"80":
// a DNS answer with a CNAME in three or more fragments out of order, one
// of them captured twice (as tcpdump -i any records a packet crossing a
// bridge and a device); an HTTP request whose first segment is
// fragmented; a datagram whose last fragment never came (skipped, with a
// warning); and one with overlapping fragments (RFC 5722: never used).
// incomplete and dropped are how many datagrams the reader must give up
// and count in its warning, and drop as malformed.
func fragmentsScenario(name, net string, fragment func(b *capBuilder, packet []byte, id uint16, size int) [][]byte, incomplete, dropped int) pcapScenario {
	return pcapScenario{
		name: name, format: "pcap",
		build: func(t testing.TB) *capBuilder {
			b := newCapBuilder(t, linkTypeEthernet)
			cli, dns := net+"2", net+"1"
			frags := fragment(b, b.dnsUDP(cli, dns, 1, "metrics.shop.example", true, "192.0.2.7", "shop.example.tracker.example"), 7, 24)
			if len(frags) < 3 {
				t.Fatalf("got %d fragments, want 3 or more", len(frags))
			}
			b.add(frags[2])
			b.add(frags[0])
			b.add(frags[0])
			for _, f := range append(frags[1:2], frags[3:]...) {
				b.add(f)
			}
			c := b.conn(cli, net+"80", 50100, 80)
			req := "GET /tr?id=123&ev=PageView HTTP/1.1\r\nHost: www.facebook.com\r\nCookie: fr=abc\r\n\r\n"
			for _, f := range fragment(b, c.segments(true, []byte(req), 1400)[0], 8, 40) {
				b.add(f)
			}
			c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1400)
			c.close()
			lost := fragment(b, b.dnsUDP(cli, dns, 2, "lost.example", false, "", ""), 9, 16)
			b.add(lost[0])
			bad := fragment(b, b.dnsUDP(cli, dns, 3, "overlap.example", false, "", ""), 10, 16)
			overlapEarlier(t, bad[1])
			for _, f := range bad {
				b.add(f)
			}
			return b
		},
		check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
			var got []string
			for _, ex := range exs {
				got = append(got, ex.Request.URL.String())
			}
			want := []string{"https://metrics.shop.example/", "https://shop.example.tracker.example/", "http://www.facebook.com/tr?id=123&ev=PageView"}
			if !slices.Equal(got, want) {
				t.Errorf("records = %q, want %q", got, want)
			}
			if w := fmt.Sprintf("%d IP datagrams skipped", incomplete); len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], w) {
				t.Errorf("warnings = %q, want one saying %q", st.Warnings, w)
			}
			if st.Skipped != dropped {
				t.Errorf("skipped = %d, want %d", st.Skipped, dropped)
			}
		},
		warns: 1,
	}
}

func pcapScenarios() []pcapScenario {
	return []pcapScenario{
		{
			name: "http-out-of-order", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				c := b.conn("10.0.0.2", "157.240.0.35", 50000, 80)
				segs := c.segments(true, []byte(pixelRequest), 40)
				// swap two segments and retransmit the first one late
				segs[1], segs[2] = segs[2], segs[1]
				segs = append(segs[:4], append([][]byte{segs[0]}, segs[4:]...)...)
				for _, s := range segs {
					b.add(s)
				}
				for _, s := range c.segments(false, []byte(gifResponse), 20) {
					b.add(s)
				}
				c.close()
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if len(exs) != 1 {
					t.Fatalf("got %d records, want 1", len(exs))
				}
				ex := exs[0]
				if got, want := ex.Request.URL.String(), "http://www.facebook.com/tr?id=123456789&ev=PageView&dl=https%3A%2F%2Fshop.example%2Fcart"; got != want {
					t.Errorf("URL = %q, want %q", got, want)
				}
				if got := ex.Cookies(); len(got) != 2 || got[0].Name != "fr" || got[1].Value != "xyz123" {
					t.Errorf("cookies = %+v, want fr and datr", got)
				}
				if ex.Client != "10.0.0.2" {
					t.Errorf("client = %q, want 10.0.0.2", ex.Client)
				}
				if ex.Response == nil || string(ex.Response.Body) != "GIF89a" {
					t.Errorf("response = %+v, want GIF89a body", ex.Response)
				}
			},
		},
		{
			name: "pipelined-chunked-gzip", format: "pcapng",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				c := b.conn("10.0.0.2", "10.0.0.80", 50001, 80)
				body := `{"event":"purchase","email":"a@b.c"}`
				c.send(true, "GET /a HTTP/1.1\r\nHost: shop.example\r\nCookie: sid=1\r\n\r\n"+
					"POST /collect HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\nContent-Length: "+
					fmt.Sprint(len(body))+"\r\n\r\n"+body, 60)
				z := pcapGzip("hello tracker world, hello again")
				c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"+
					"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"+
					fmt.Sprintf("%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", 10, z[:10], len(z)-10, z[10:]), 30)
				c.close()
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if len(exs) != 2 {
					t.Fatalf("got %d records, want 2", len(exs))
				}
				if got := string(exs[1].Request.Body); !strings.Contains(got, "purchase") {
					t.Errorf("POST body = %q", got)
				}
				if r := exs[1].Response; r == nil || string(r.Body) != "hello tracker world, hello again" {
					t.Errorf("second response = %+v, want decoded gzip body", r)
				}
			},
		},
		{
			name: "keepalive-head", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				c := b.conn("10.0.0.3", "10.0.0.80", 50002, 8080)
				c.send(true, "HEAD /big HTTP/1.1\r\nHost: cdn.example:8080\r\n\r\n", 1400)
				c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 1400)
				c.send(true, "GET /x HTTP/1.1\r\nHost: cdn.example:8080\r\n\r\n", 1400)
				c.send(false, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", 1400)
				c.send(true, "GET /y HTTP/1.0\r\n\r\n", 1400)
				c.send(false, "HTTP/1.0 200 OK\r\n\r\nuntil close", 1400)
				c.close()
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if len(exs) != 3 {
					t.Fatalf("got %d records, want 3", len(exs))
				}
				if r := exs[1].Response; r == nil || r.Status != 404 {
					t.Errorf("second response = %+v, want 404", r)
				}
				if got, want := exs[2].Request.URL.String(), "http://10.0.0.80:8080/y"; got != want {
					t.Errorf("HTTP/1.0 URL = %q, want %q", got, want)
				}
			},
		},
		{
			name: "tls-sni-two-segments", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				hello := realClientHello(t, "connect.facebook.net")
				if len(hello) < 1000 {
					t.Fatalf("ClientHello is %d bytes, expected it to need two segments", len(hello))
				}
				c := b.conn("10.0.0.2", "157.240.0.20", 50003, 443)
				segs := c.segments(true, hello, 1200)
				b.add(segs[1]) // out of order too
				b.add(segs[0])
				c.send(false, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 1400)
				c.close()
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if len(exs) != 1 || exs[0].Via != "tls-sni" || exs[0].Host() != "connect.facebook.net" || !exs[0].HostOnly {
					t.Fatalf("records = %s, want one tls-sni contact with connect.facebook.net", pcapSummary(exs, st, nil))
				}
			},
		},
		{
			name: "dns", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				b.dns("10.0.0.2", "10.0.0.1", 1, "metrics.shop.example", false, "", "")
				b.dns("10.0.0.2", "10.0.0.1", 1, "metrics.shop.example", true, "192.0.2.7", "shop.example.tracker.example")
				b.dns("10.0.0.2", "10.0.0.1", 2, "metrics.shop.example", false, "", "") // repeat: deduplicated
				b.dns("10.0.0.9", "10.0.0.1", 3, "metrics.shop.example", false, "", "") // other client
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if st.Contacts != 3 {
					t.Errorf("contacts = %d, want 3 (name, cname, other client)", st.Contacts)
				}
			},
		},
		{
			// DNS over TCP (RFC 1035 §4.2.2), as resolvers use for large
			// answers: two queries in one write, cut so that a length
			// prefix is split, an answer with a CNAME arriving out of
			// order; then a connection whose bytes are no DNS, which must
			// yield nothing.
			name: "dns-tcp", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				c := b.conn("10.0.0.2", "10.0.0.1", 53001, 53)
				c.send(true, b.dnsTCP(1, "metrics.shop.example", false, "", "")+b.dnsTCP(2, "www.shop.example", false, "", ""), 7)
				segs := c.segments(false, []byte(b.dnsTCP(1, "metrics.shop.example", true, "192.0.2.7", "shop.example.tracker.example")), 20)
				b.add(segs[1])
				b.add(segs[0])
				for _, s := range segs[2:] {
					b.add(s)
				}
				c.close()
				g := b.conn("10.0.0.2", "10.0.0.1", 53002, 53)
				g.send(true, "\x00\x05GET /", 100)
				g.send(true, b.dnsTCP(3, "after.garbage.example", false, "", ""), 100)
				g.close()
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				var got []string
				for _, ex := range exs {
					if !ex.HostOnly || ex.Via != "dns" || ex.Client != "10.0.0.2" {
						t.Errorf("record %s: want a dns contact of client 10.0.0.2", ex.Request.URL)
					}
					got = append(got, ex.Host())
				}
				want := []string{"metrics.shop.example", "www.shop.example", "shop.example.tracker.example"}
				if !slices.Equal(got, want) {
					t.Errorf("contacts = %q, want %q", got, want)
				}
			},
		},
		{
			// QUIC client Initials (see buildQUIC): the server names of
			// complete ClientHellos, once per connection (a Retry does
			// not make a new one, nor a later Initial to a new ID; a
			// port reused a minute later does, and so does a new
			// ClientHello at once), with the port when it is not 443.
			name: "quic", format: "pcap",
			build: buildQUIC,
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				var got []string
				for _, ex := range exs {
					if !ex.HostOnly || ex.Via != "quic-sni" || ex.Client != "10.0.0.2" {
						t.Errorf("record %s: via %q client %q, want a quic-sni contact of 10.0.0.2", ex.Request.URL, ex.Via, ex.Client)
					}
					got = append(got, ex.Request.URL.Host)
				}
				want := []string{"connect.facebook.net", "connect.facebook.net", "www.google-analytics.com:8443", "static.xx.fbcdn.net", "www.facebook.com"}
				if !slices.Equal(got, want) {
					t.Errorf("contacts = %q, want %q", got, want)
				}
			},
		},
		// gopacket's ip4defrag refuses the overlapping fragment (skipped)
		// and gives its datagram up with the incomplete one; ours drops
		// the datagram when its last fragment comes.
		fragmentsScenario("ipv4-fragments", "10.0.0.", (*capBuilder).fragment, 2, 1),
		fragmentsScenario("ipv6-fragments", "2001:db8::", (*capBuilder).fragment6, 1, 1),
		{
			name: "sll2-ipv6", format: "pcap",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeLinuxSLL2)
				simpleGET(b, "2001:db8::2", "2001:db8::80")
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if len(exs) != 1 || exs[0].Client != "2001:db8::2" {
					t.Fatalf("records = %s", pcapSummary(exs, st, nil))
				}
			},
		},
		{
			name: "pcapng-two-link-types", format: "pcapng",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeEthernet)
				simpleGET(b, "10.0.0.2", "10.0.0.80")
				b.lt = linkTypeRaw
				simpleGET(b, "10.0.1.2", "10.0.1.80")
				b.lt = linkTypeLinuxSLL
				b.dns("10.0.2.2", "10.0.0.1", 7, "connect.facebook.net", false, "", "")
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if st.Exchanges != 2 || st.Contacts != 1 || len(st.LinkTypes) != 3 {
					t.Fatalf("stats = %+v, want 2 exchanges, 1 contact, 3 link types", st)
				}
			},
		},
		{
			name: "raw-null-loop", format: "pcapng",
			build: func(t testing.TB) *capBuilder {
				b := newCapBuilder(t, linkTypeIPv4)
				simpleGET(b, "10.0.0.2", "10.0.0.80")
				b.lt = linkTypeNull
				simpleGET(b, "::1", "::1")
				b.lt = linkTypeLoop
				simpleGET(b, "127.0.0.1", "127.0.0.2")
				return b
			},
			check: func(t *testing.T, exs []*traffic.Exchange, st PCAPStats) {
				if st.Exchanges != 3 {
					t.Fatalf("exchanges = %d, want 3", st.Exchanges)
				}
			},
		},
	}
}

func (sc pcapScenario) bytes(t testing.TB) []byte {
	b := sc.build(t)
	if sc.format == "pcapng" {
		return b.pcapng()
	}
	return b.pcap()
}

func TestReadPCAPScenarios(t *testing.T) {
	for _, sc := range pcapScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			data := sc.bytes(t)
			name := sc.name + "." + sc.format
			exs, st, err := pcapReadAll(t, data, name)
			if err != nil {
				t.Fatalf("ReadPCAP: %v", err)
			}
			if len(st.Warnings) != sc.warns || (sc.warns == 0 && st.Skipped != 0) {
				t.Errorf("skipped=%d warnings=%q, want %d warnings", st.Skipped, st.Warnings, sc.warns)
			}
			for i, ex := range exs {
				if ex.ID != int64(i+1) || ex.Source != name {
					t.Errorf("record %d: ID=%d Source=%q", i, ex.ID, ex.Source)
				}
			}
			sc.check(t, exs, st)
			pcapCheckGolden(t, filepath.Join("testdata", "pcap", sc.name+".golden"), pcapSummary(exs, st, err))
			// The same capture in the other format gives the same records.
			b := sc.build(t)
			other := b.pcapng()
			if sc.format == "pcapng" {
				if sc.name != "pcapng-two-link-types" && sc.name != "raw-null-loop" {
					other = b.pcap()
				} else {
					return
				}
			}
			exs2, st2, err2 := pcapReadAll(t, other, name)
			st2.LinkTypes, st.LinkTypes = nil, nil
			if got, want := pcapSummary(exs2, st2, err2), pcapSummary(exs, st, err); got != want {
				t.Errorf("other format differs:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func pcapCheckGolden(t *testing.T, path, got string) {
	t.Helper()
	if pcapUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -run Pcap -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestReadPCAPFixtures reads the real captures from chrissanders/packets.
func TestReadPCAPFixtures(t *testing.T) {
	want := map[string][]string{
		"chrissanders-http_google.pcapng":  {"GET http://www.google.com/"},
		"chrissanders-http_post.pcapng":    {"POST http://www.chrissanders.org/wp-comments-post.php", "GET http://www.chrissanders.org/?p=310&cpage=1"},
		"chrissanders-http_ip4and6.pcapng": {"GET http://172.16.16.139/", "GET http://[2001:db8:1:2::1000]/"},
		"chrissanders-dns.pcap":            {"dns www.espn.com", "dns espn.go.com", "dns cdn.optimizely.com", "dns a1.espncdn.com", "dns assets.espn.go.com"},
	}
	files := fixtures.Files(t, "pcap", ".pcap")
	files = append(files, fixtures.Files(t, "pcap", ".pcapng")...)
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			exs, st, err := pcapReadAll(t, data, base)
			if err != nil {
				t.Fatalf("ReadPCAP: %v", err)
			}
			var got []string
			for _, ex := range exs {
				if ex.HostOnly {
					got = append(got, ex.Via+" "+ex.Host())
				} else {
					got = append(got, ex.Request.Method+" "+ex.Request.URL.String())
				}
			}
			joined := "\n" + strings.Join(got, "\n") + "\n"
			for _, w := range want[base] {
				if !strings.Contains(joined, "\n"+w+"\n") {
					t.Errorf("missing %q in records:%s", w, joined)
				}
			}
			for _, ex := range exs {
				if !ex.HostOnly && ex.Response == nil {
					t.Errorf("%s %s: no response", ex.Request.Method, ex.Request.URL)
				}
			}
			pcapCheckGolden(t, filepath.Join("testdata", "pcap", "fixture-"+base+".golden"), pcapSummary(exs, st, err))
		})
	}
}
