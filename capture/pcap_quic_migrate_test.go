package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
)

// lockedWriter is a key log both quic-go's goroutines and the test use.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.b.Bytes())
}

// moveFunc changes the address the server and the capture see for a
// client's connection mid-connection; cidLen is the length of the
// client's connection IDs.
type moveFunc func(t *testing.T, conn *quic.Conn, cidLen int, relay *pcaprelay.UDPRelay)

// migrate moves the connection to a new UDP socket of the client (RFC
// 9000 §9: active migration, quic-go's AddPath, Probe and Switch): the
// relay sees a new sender, so the server a new address and the capture a
// new client port; the client sends to a connection ID the server issued
// in NEW_CONNECTION_ID (§9.5). The new socket's transport finds the
// connection's packets by connection ID, so it needs their length: a
// client with zero-length connection IDs cannot migrate.
func migrate(t *testing.T, conn *quic.Conn, cidLen int, _ *pcaprelay.UDPRelay) {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sock := &switchedConn{UDPConn: udp, sent: make(chan struct{})}
	tr := &quic.Transport{Conn: sock, ConnectionIDLength: cidLen}
	t.Cleanup(func() { tr.Close() })
	path, err := conn.AddPath(tr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := path.Probe(ctx); err != nil {
		t.Fatalf("probing the new path: %v", err)
	}
	if err := path.Switch(); err != nil {
		t.Fatalf("switching to the new path: %v", err)
	}
	// quic-go v0.65.0 switches on its connection's next loop, and that
	// write of the connection's socket races with ConnectionState, which
	// the next HTTP/3 response reads (the race detector caught it in CI).
	// So make the connection send, on a unidirectional stream of a
	// reserved type the server ignores (RFC 9114 §6.2.3), and go on once it
	// has sent from the new socket: the switch happened before.
	sock.armed.Store(true)
	s, err := conn.OpenUniStream()
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte{0x21})
	select {
	case <-sock.sent:
	case <-ctx.Done():
		t.Fatal("the connection sent nothing from the new path")
	}
}

// switchedConn is a client socket that closes sent on its first write
// once armed.
type switchedConn struct {
	*net.UDPConn
	armed atomic.Bool
	once  sync.Once
	sent  chan struct{}
}

func (c *switchedConn) wrote() {
	if c.armed.Load() {
		c.once.Do(func() { close(c.sent) })
	}
}

func (c *switchedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	defer c.wrote()
	return c.UDPConn.WriteTo(b, addr)
}

// WriteMsgUDP is how quic-go writes to a socket that has it.
func (c *switchedConn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (int, int, error) {
	defer c.wrote()
	return c.UDPConn.WriteMsgUDP(b, oob, addr)
}

// rebind makes the relay lose its mapping, as a NAT does (RFC 9000 §9.3):
// the client does not know; the server sees its packets come from a new
// address, with the connection ID they always had.
func rebind(_ *testing.T, _ *quic.Conn, _ int, relay *pcaprelay.UDPRelay) { relay.Rebind() }

// recordMigration records through a UDP relay one HTTP/3 connection (quic-go
// client and server) to tracker.test that makes requests, is moved by
// move, and makes more. cidLen is the length of the client's connection
// IDs, 0 for none (as Chromium's); the key log is kept. It also returns
// the number of distinct client ports the capture shows.
func recordMigration(t *testing.T, cidLen int, move moveFunc) (tlsCapture, int) {
	t.Helper()
	srv, err := fixtures.ServeH3(http.HandlerFunc(testSite), "tracker.test")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var pcap bytes.Buffer
	rec, err := pcaprelay.NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rec.RelayUDPNAT(srv.Addr, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443"))
	if err != nil {
		t.Fatal(err)
	}
	keys := &lockedWriter{}
	var conn *quic.Conn
	h3 := &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.Roots, KeyLogWriter: keys},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				return nil, err
			}
			raddr := relay.LocalAddr()
			if cidLen == 0 {
				conn, err = quic.Dial(ctx, udp, raddr, tlsCfg, cfg) // a zero-length connection ID
			} else {
				tr := &quic.Transport{Conn: udp, ConnectionIDLength: cidLen}
				t.Cleanup(func() { tr.Close() })
				conn, err = tr.Dial(ctx, raddr, tlsCfg, cfg)
			}
			return conn, err
		},
	}
	client := &http.Client{Transport: h3}
	do(t, client, "GET", "https://tracker.test/tr?id=123&ev=PageView", "", "Cookie", "sid=abc")
	do(t, client, "POST", "https://tracker.test/collect", "email=reader%40mail.test", "Content-Type", "application/x-www-form-urlencoded")
	if conn == nil {
		t.Fatal("the client dialed no connection")
	}
	move(t, conn, cidLen, relay)
	do(t, client, "GET", "https://tracker.test/after?id=456", "")
	do(t, client, "GET", "https://tracker.test/big", "")
	do(t, client, "GET", "https://tracker.test/last", "")
	h3.Close()
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}
	return tlsCapture{pcap: pcap.Bytes(), keyLog: keys.bytes()}, clientPorts(t, pcap.Bytes())
}

// serverFirst reorders a capture as a capture point may (several
// queues, or nearer the server): the server's first datagram to the
// client's last port comes before the client's first one from there. Its
// connection ID is then one the client issued, which only the server
// sends to.
func serverFirst(t *testing.T, capture []byte) []byte {
	t.Helper()
	pkts := pcapPackets(t, capture)
	udpOf := func(p pcapPacket) *layers.UDP {
		udp, _ := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			t.Fatal("a packet of the capture is not UDP")
		}
		return udp
	}
	var last layers.UDPPort
	for _, p := range pkts {
		if udp := udpOf(p); udp.DstPort == 443 {
			last = udp.SrcPort
		}
	}
	cli, srv := -1, -1
	for i, p := range pkts {
		udp := udpOf(p)
		if cli < 0 && udp.SrcPort == last {
			cli = i
		}
		if srv < 0 && udp.DstPort == last {
			srv = i
		}
	}
	if cli < 0 || srv < cli {
		t.Fatalf("the client's first datagram from port %d is packet %d, the server's first to it %d: nothing to reorder", last, cli, srv)
	}
	moved := pkts[srv]
	moved.ci.Timestamp = pkts[cli].ci.Timestamp
	pkts = append(pkts[:srv], pkts[srv+1:]...)
	pkts = append(pkts[:cli], append([]pcapPacket{moved}, pkts[cli:]...)...)
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// clientPorts counts the UDP ports the client sends from in a capture.
func clientPorts(t *testing.T, capture []byte) int {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[layers.UDPPort]bool{}
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && udp.DstPort == 443 {
			ports[udp.SrcPort] = true
		}
	}
	return len(ports)
}

// TestReadPCAPFollowsQUICMigration: a QUIC connection whose client
// address changes mid-connection, by active migration to a new socket or
// by a NAT rebinding, and whose client uses connection IDs or none, is
// followed across the change: every HTTP/3 request before and after it
// is decrypted and reported as one connection's, from the same client,
// with no warning. Without the key log the connection is its one
// contact; a migrated path then cannot be tied to it, by design (RFC
// 9000 §9.5: its connection IDs were only announced encrypted), and is
// noted as a connection whose handshake the capture lacks.
func TestReadPCAPFollowsQUICMigration(t *testing.T) {
	const unseen = "tls.pcap: 1 QUIC connection began before the capture, or moved to an address the key log could have tied to it (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser"
	tests := []struct {
		name   string
		cidLen int
		move   moveFunc
		// noKeys is the warning without the key log, "" for none.
		noKeys string
		// reorder, when not nil, changes the capture before it is read.
		reorder func(*testing.T, []byte) []byte
	}{
		{"migration, 8-byte client connection IDs", 8, migrate, unseen, nil},
		{"migration, 4-byte client connection IDs", 4, migrate, unseen, nil},
		{"migration, the server's first datagram on the new path first", 8, migrate, unseen, serverFirst},
		{"NAT rebinding, 8-byte client connection IDs", 8, rebind, "", nil},
		{"NAT rebinding, zero-length client connection ID", 0, rebind, "", nil},
		{"NAT rebinding, the server's first datagram on the new path first", 8, rebind, "", serverFirst},
	}
	want := []string{
		`HTTP/3.0 GET https://tracker.test/tr?id=123&ev=PageView -> 200 "hello from tracker.test/tr"`,
		`HTTP/3.0 POST https://tracker.test/collect -> 200 "stored email=reader%40mail.test"`,
		`HTTP/3.0 GET https://tracker.test/after?id=456 -> 200 "hello from tracker.test/after"`,
		`HTTP/3.0 GET https://tracker.test/big -> 200 "` + strings.Repeat("0123456789abcdef", bigBody/16) + `"`,
		`HTTP/3.0 GET https://tracker.test/last -> 200 "hello from tracker.test/last"`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ports := recordMigration(t, tt.cidLen, tt.move)
			if ports < 2 {
				t.Fatalf("the capture shows %d client port: the address never changed, the test checks nothing", ports)
			}
			if tt.reorder != nil {
				c.pcap = tt.reorder(t, c.pcap)
			}
			got, st := readTLSCapture(t, c, true)
			if g := recordLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
				t.Errorf("records:\n%.1500s\nwant:\n%.1500s", strings.Join(g, "\n"), strings.Join(want, "\n"))
			}
			if st.Decrypted != 1 || st.Exchanges != len(want) || st.Contacts != 0 || len(st.Warnings) != 0 {
				t.Errorf("stats: %d decrypted, %d exchanges, %d contacts, warnings %q; want 1, %d, 0, none",
					st.Decrypted, st.Exchanges, st.Contacts, st.Warnings, len(want))
			}
			for i, ex := range got {
				if ex.Client != "192.0.2.7" || ex.Start.IsZero() {
					t.Errorf("record %d: client %q, start %v; want 192.0.2.7 and a capture time", i, ex.Client, ex.Start)
				}
				if i > 0 && ex.Start.Before(got[i-1].Start) {
					t.Errorf("record %d starts before record %d: not in capture order", i, i-1)
				}
			}
			if len(got) > 0 {
				if h := got[0].Request.Header.Get("Cookie"); h != "sid=abc" {
					t.Errorf("first request's Cookie %q, want sid=abc", h)
				}
			}

			got, st = readTLSCapture(t, c, false)
			if g, w := recordLines(got), strings.Join(st.Warnings, "\n"); fmt.Sprint(g) != "[quic-sni tracker.test]" || w != tt.noKeys {
				t.Errorf("without the key log: records %q, warnings %q; want the one contact, %q", g, w, tt.noKeys)
			}
		})
	}
}

// TestQUICIndexCID checks the index of connection IDs: an ID stays with
// the connection that indexed it first, only that connection removes it,
// the lengths in use are counted, and beyond maxQUICCIDIndex IDs none is
// added.
func TestQUICIndexCID(t *testing.T) {
	a, b := &quicConn{idx: 1}, &quicConn{idx: 2}
	id := []byte{1, 2, 3, 4}
	type step struct {
		c      *quicConn
		cid    []byte
		learnt bool
	}
	tests := []struct {
		name  string
		steps []step
		want  *quicConn // owner of id afterwards
		len4  int       // indexed IDs of 4 bytes
	}{
		{"learnt", []step{{a, id, true}}, a, 1},
		{"learnt twice", []step{{a, id, true}, {a, id, true}}, a, 1},
		{"first comes first", []step{{a, id, true}, {b, id, true}}, a, 1},
		{"only its owner removes it", []step{{a, id, true}, {b, id, false}}, a, 1},
		{"removed", []step{{a, id, true}, {a, id, false}}, nil, 0},
		{"removed, taken by the next", []step{{a, id, true}, {a, id, false}, {b, id, true}}, b, 1},
		{"zero-length", []step{{a, nil, true}}, nil, 0},
		{"too long", []step{{a, make([]byte, maxQUICCIDLen+1), true}}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr quicTracker
			for _, s := range tt.steps {
				tr.indexCID(s.c, s.cid, s.learnt)
			}
			if got := tr.byCID[string(id)]; got != tt.want || tr.cidLens[4] != tt.len4 {
				t.Errorf("owner %p, %d of 4 bytes; want %p, %d", got, tr.cidLens[4], tt.want, tt.len4)
			}
			total := 0
			for _, n := range tr.cidLens {
				total += n
			}
			if total != len(tr.byCID) {
				t.Errorf("lengths count %d IDs, the index holds %d", total, len(tr.byCID))
			}
		})
	}

	var tr quicTracker
	for i := range maxQUICCIDIndex + 10 {
		tr.indexCID(a, []byte{byte(i), byte(i >> 8), byte(i >> 16), 0xee}, true)
	}
	if len(tr.byCID) != maxQUICCIDIndex || tr.cidLens[4] != maxQUICCIDIndex {
		t.Errorf("index of %d IDs (%d counted); want the bound, %d", len(tr.byCID), tr.cidLens[4], maxQUICCIDIndex)
	}
}

// TestQUICPathsEnd checks a connection's other addresses: at most
// maxQUICPaths, the oldest forgotten first, and when the connection ends
// they go, with its connection IDs, and count as ended flows.
func TestQUICPathsEnd(t *testing.T) {
	tests := []struct {
		name  string
		paths int
		want  int
	}{
		{"none", 0, 0},
		{"a few", 3, 3},
		{"at the bound", maxQUICPaths, maxQUICPaths},
		{"beyond the bound", maxQUICPaths + 5, maxQUICPaths},
	}
	keyOf := func(port int) quicKey {
		return quicKey{layers.NewIPEndpoint(net.IPv4(192, 0, 2, 7)), layers.NewIPEndpoint(net.IPv4(203, 0, 113, 5)), layers.UDPPort(port), 443}
	}
	ts := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := &pcapReader{}
			tr := &pr.quic
			c := tr.add(pr, keyOf(50000), ts)
			dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			c.datagram(true, sealQUICInitial(t, dcid, 0, []byte{0x01}), ts) // the client's first DCID is learnt
			if tr.byCID[string(dcid)] != c {
				t.Fatalf("the client's first DCID is not indexed: %v", tr.byCID)
			}
			for i := range tt.paths {
				tr.alias(c, keyOf(50001+i))
			}
			if len(tr.paths) != tt.want || len(c.paths) != tt.want {
				t.Errorf("%d paths (%d on the connection), want %d", len(tr.paths), len(c.paths), tt.want)
			}
			if tt.paths > tt.want && tr.paths[keyOf(50001)] != nil {
				t.Error("the oldest path was kept beyond the bound")
			}
			if tt.paths > 0 && tr.paths[keyOf(50000+tt.paths)] != c {
				t.Error("the newest path is not the connection's")
			}
			tr.end([]quicKey{c.key})
			if len(tr.conns) != 0 || len(tr.paths) != 0 || len(tr.byCID) != 0 || tr.cidLens[8] != 0 {
				t.Errorf("after the end: %d connections, %d paths, %d IDs indexed; want none", len(tr.conns), len(tr.paths), len(tr.byCID))
			}
			if !tr.ended[keyOf(50000)] || tt.paths > 0 && !tr.ended[keyOf(50000+tt.paths)] {
				t.Error("the connection's addresses are not noted as ended")
			}
		})
	}
}

// TestReadPCAPQUICForgedPath adds datagrams from new client ports that
// carry the connection ID of a live, decrypting connection but do not
// authenticate, before and after its real new path: none is tied to the
// connection (each counts as a connection whose handshake the capture
// lacks), and the connection's requests are reported as without them.
func TestReadPCAPQUICForgedPath(t *testing.T) {
	c, _ := recordMigration(t, 8, rebind)
	pkts := pcapPackets(t, c.pcap)
	// The last client datagram: a short header to the server's ID.
	var model []byte
	for _, p := range pkts {
		pk := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.Default)
		if udp, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && udp.DstPort == 443 && udp.Payload[0]&0x80 == 0 {
			model = udp.Payload
		}
	}
	if model == nil {
		t.Fatal("no short-header client datagram")
	}
	b := newCapBuilder(t, linkTypeEthernet)
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	forge := func(port uint16, ts time.Time) {
		fake := bytes.Clone(model)
		for i := 1 + 4; i < len(fake); i++ { // quic-go's server IDs are 4 bytes: keep them
			fake[i] ^= 0x5a
		}
		data := b.frame(net.ParseIP("192.0.2.7"), net.ParseIP("203.0.113.5"), &layers.UDP{SrcPort: layers.UDPPort(port), DstPort: 443}, fake)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	half := len(pkts) / 2
	for i, p := range pkts {
		if i == half || i == len(pkts)-1 {
			forge(uint16(60000+i), p.ci.Timestamp)
		}
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	forgedCapture := tlsCapture{pcap: out.Bytes(), keyLog: c.keyLog}
	want, _ := readTLSCapture(t, c, true)
	got, st := readTLSCapture(t, forgedCapture, true)
	if g, w := recordLines(got), recordLines(want); strings.Join(g, "\n") != strings.Join(w, "\n") || len(w) != 5 {
		t.Errorf("records with forged paths:\n%.600s\nwant:\n%.600s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	wantWarn := "tls.pcap: 2 QUIC connections began before the capture, or moved to an address the key log could have tied to it (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser"
	if len(st.Warnings) != 1 || st.Warnings[0] != wantWarn {
		t.Errorf("warnings %q; want %q", st.Warnings, wantWarn)
	}
}

// BenchmarkQUICFollowMiss is the cost a short-header datagram on
// addresses no connection uses pays for the migration lookup, with 128
// connections of eight 8-byte and eight 4-byte connection IDs each
// indexed and a DCID none of them has.
func BenchmarkQUICFollowMiss(b *testing.B) {
	var tr quicTracker
	for i := range 128 {
		c := &quicConn{idx: i}
		for j := range 8 {
			tr.indexCID(c, []byte{byte(i), byte(j), 1, 2, 3, 4, 5, 6}, true)
			tr.indexCID(c, []byte{byte(i), byte(j), 9, 9}, true)
		}
	}
	out := quicKey{layers.NewIPEndpoint(net.IPv4(192, 0, 2, 7)), layers.NewIPEndpoint(net.IPv4(203, 0, 113, 5)), 50000, 443}
	back := quicKey{out.server, out.client, out.serverPort, out.clientPort}
	payload := append([]byte{0x41}, bytes.Repeat([]byte{0xab}, 1200)...)
	ts := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if tr.follow(out, back, payload, ts) {
			b.Fatal("followed a datagram no connection owns")
		}
	}
}
