package quicread

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

var update = flag.Bool("update", false, "record the quic-go fixture connection in testdata anew")

// datagram is one captured UDP payload.
type datagram struct {
	fromClient bool
	at         time.Duration // since the first datagram
	b          []byte
}

// recording is a captured connection with its key log and the stream
// bytes the two peers exchanged, as they saw them.
type recording struct {
	dgrams []datagram
	keylog []byte
	want   map[streamKey]*got
}

// captureStart is the capture time of a recording's first datagram.
var captureStart = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// recConn records every datagram its owner, the client, sends and
// receives, as a capture at the client would.
type recConn struct {
	net.PacketConn
	mu     sync.Mutex
	start  time.Time
	dgrams []datagram
}

func (r *recConn) record(fromClient bool, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.start.IsZero() {
		r.start = now
	}
	r.dgrams = append(r.dgrams, datagram{fromClient, now.Sub(r.start), bytes.Clone(b)})
}

func (r *recConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := r.PacketConn.ReadFrom(p)
	if err == nil {
		r.record(false, p[:n])
	}
	return n, addr, err
}

func (r *recConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	r.record(true, p)
	return r.PacketConn.WriteTo(p, addr)
}

func (r *recConn) recorded() []datagram {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]datagram(nil), r.dgrams...)
}

// lockedBuffer is a key log writer safe to read after the handshake.
type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// wantLog collects what each peer sent on each stream direction.
type wantLog struct {
	mu sync.Mutex
	m  map[streamKey]*got
}

func (w *wantLog) set(id quic.StreamID, fromClient bool, data []byte, fin, reset bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m[streamKey{uint64(id), fromClient}] = &got{data: bytes.Clone(data), fin: fin, reset: reset}
}

// testCert makes a self-signed certificate for localhost.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// scenario drives one connection from both ends and logs what was sent.
type scenario func(ctx context.Context, t testing.TB, cli, srv *quic.Conn, want *wantLog)

// recordQUIC runs a quic-go client and server on loopback and records the
// client's datagrams. singleUse dials with quic.Dial, which gives the
// client a zero-length connection ID (as Chromium uses); retry makes the
// server demand address validation with a Retry; versions, when given,
// are the QUIC versions both sides speak.
func recordQUIC(t testing.TB, run scenario, singleUse, retry bool, versions ...quic.Version) recording {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cert, pool := testCert(t)
	qconf := &quic.Config{EnableDatagrams: true, Versions: versions}

	srvUDP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	srvTr := &quic.Transport{Conn: srvUDP, ConnectionIDLength: 12}
	if retry {
		srvTr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	defer srvTr.Close()
	ln, err := srvTr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"trackaudit-test"}}, qconf)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	cliUDP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recConn{PacketConn: cliUDP}
	keylog := &lockedBuffer{}
	cliTLS := &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"trackaudit-test"}, KeyLogWriter: keylog}
	var cli *quic.Conn
	if singleUse {
		cli, err = quic.Dial(ctx, rec, ln.Addr(), cliTLS, qconf)
	} else {
		cliTr := &quic.Transport{Conn: rec, ConnectionIDLength: 8}
		defer cliTr.Close()
		cli, err = cliTr.Dial(ctx, ln.Addr(), cliTLS, qconf)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	srv, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := &wantLog{m: map[streamKey]*got{}}
	run(ctx, t, cli, srv, want)
	cli.CloseWithError(0, "done")
	<-srv.Context().Done()
	return recording{dgrams: rec.recorded(), keylog: keylog.Bytes(), want: want.m}
}

// pattern makes n bytes that differ with seed and position.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

// serveEcho answers every bidirectional stream the client opens with
// "response to " and the request, after the request's FIN.
func serveEcho(ctx context.Context, t testing.TB, srv *quic.Conn, want *wantLog, n int, big []byte) {
	for range n {
		s, err := srv.AcceptStream(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		req, err := io.ReadAll(s)
		if err != nil {
			t.Error(err)
			return
		}
		resp := append([]byte("response to "), req...)
		if len(req) > 1000 {
			resp = big
		}
		if _, err := s.Write(resp); err != nil {
			t.Error(err)
		}
		s.Close()
		want.set(s.StreamID(), false, resp, true, false)
	}
}

// request sends one request on a new bidirectional stream and reads the
// response.
func request(ctx context.Context, t testing.TB, cli *quic.Conn, want *wantLog, req []byte) {
	s, err := cli.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(req); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want.set(s.StreamID(), true, req, true, false)
	if _, err := io.ReadAll(s); err != nil {
		t.Fatal(err)
	}
}

// bigScenario exchanges requests, a 300 KB upload with a 200 KB response,
// a unidirectional stream each way, a reset each way and a DATAGRAM.
func bigScenario(ctx context.Context, t testing.TB, cli, srv *quic.Conn, want *wantLog) {
	bigResp := pattern(200_000, 0x5a)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveEcho(ctx, t, srv, want, 4, bigResp)
	}()
	for i := range 3 {
		request(ctx, t, cli, want, fmt.Appendf(nil, "GET /pixel%d.gif cookie: uid=%d", i, 40+i))
	}
	request(ctx, t, cli, want, pattern(300_000, 0xa5))

	// A unidirectional stream each way.
	wg.Add(1)
	go func() {
		defer wg.Done()
		s, err := srv.AcceptUniStream(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := io.ReadAll(s); err != nil {
			t.Error(err)
		}
	}()
	u, err := cli.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up := pattern(5000, 0x11)
	u.Write(up)
	u.Close()
	want.set(u.StreamID(), true, up, true, false)

	down := pattern(7000, 0x22)
	su, err := srv.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	su.Write(down)
	su.Close()
	want.set(su.StreamID(), false, down, true, false)
	cu, err := cli.AcceptUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(cu); err != nil || !bytes.Equal(got, down) {
		t.Fatalf("server uni stream: %d bytes, %v", len(got), err)
	}

	// The client resets a stream once the server has its first 1000 bytes.
	r, err := cli.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	part := pattern(1000, 0x33)
	r.Write(part)
	sr, err := srv.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(sr, make([]byte, len(part))); err != nil {
		t.Fatal(err)
	}
	r.CancelWrite(7)
	var se *quic.StreamError
	if _, err := io.ReadAll(sr); !errors.As(err, &se) {
		t.Fatalf("server read after reset: %v", err)
	}
	want.set(r.StreamID(), true, part, false, true)

	// The server resets a unidirectional stream once the client has its
	// first 500 bytes.
	se2, err := srv.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	part2 := pattern(500, 0x44)
	se2.Write(part2)
	ce, err := cli.AcceptUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(ce, make([]byte, len(part2))); err != nil {
		t.Fatal(err)
	}
	se2.CancelWrite(9)
	if _, err := io.ReadAll(ce); !errors.As(err, &se) {
		t.Fatalf("client read after reset: %v", err)
	}
	want.set(se2.StreamID(), false, part2, false, true)

	// DATAGRAM frames (RFC 9221) are stepped over.
	if err := cli.SendDatagram([]byte("datagram")); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ReceiveDatagram(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// smallScenario is the fixture connection: one request and response and a
// unidirectional stream each way.
func smallScenario(ctx context.Context, t testing.TB, cli, srv *quic.Conn, want *wantLog) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveEcho(ctx, t, srv, want, 1, nil)
		s, err := srv.AcceptUniStream(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		io.ReadAll(s)
	}()
	request(ctx, t, cli, want, []byte("GET /collect?id=7 HTTP/3 cookie: _ga=GA1.2.3"))
	u, err := cli.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("client control stream"))
	u.Close()
	want.set(u.StreamID(), true, []byte("client control stream"), true, false)
	su, err := srv.OpenUniStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	su.Write([]byte("server control stream"))
	su.Close()
	want.set(su.StreamID(), false, []byte("server control stream"), true, false)
	cu, err := cli.AcceptUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(cu)
	wg.Wait()
}

var (
	bigOnce sync.Once
	bigRec  recording
	bigErr  string
)

// bigRecording records bigScenario once per test binary.
func bigRecording(t testing.TB) recording {
	t.Helper()
	bigOnce.Do(func() {
		ft := &onceTB{TB: t}
		func() {
			defer func() {
				if recover() != nil || ft.failed {
					bigErr = "recording failed: " + ft.msg
				}
			}()
			bigRec = recordQUIC(ft, bigScenario, false, false)
		}()
	})
	if bigErr != "" {
		t.Fatal(bigErr)
	}
	return bigRec
}

// onceTB keeps a failure inside sync.Once from leaking to later tests as a
// half-made recording.
type onceTB struct {
	testing.TB
	failed bool
	msg    string
}

func (o *onceTB) Fatal(args ...any) {
	o.failed, o.msg = true, fmt.Sprint(args...)
	o.TB.Fatal(args...)
}

func (o *onceTB) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, fmt.Sprintf(format, args...)
	o.TB.Fatalf(format, args...)
}

func (o *onceTB) Error(args ...any) {
	o.failed, o.msg = true, fmt.Sprint(args...)
	o.TB.Error(args...)
}

// keyLogSecrets parses an NSS key log for the two 1-RTT traffic secrets
// of each client random, as capture/ will.
func keyLogSecrets(t testing.TB, log []byte) Secrets {
	t.Helper()
	type pair struct{ client, server []byte }
	secrets := map[string]*pair{}
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		secret, err := hex.DecodeString(f[2])
		if err != nil {
			t.Fatalf("key log: %v", err)
		}
		random := strings.ToLower(f[1])
		if secrets[random] == nil {
			secrets[random] = &pair{}
		}
		switch f[0] {
		case "CLIENT_TRAFFIC_SECRET_0":
			secrets[random].client = secret
		case "SERVER_TRAFFIC_SECRET_0":
			secrets[random].server = secret
		}
	}
	return func(random []byte) ([]byte, []byte, bool) {
		p := secrets[hex.EncodeToString(random)]
		if p == nil || p.client == nil || p.server == nil {
			return nil, nil, false
		}
		return p.client, p.server, true
	}
}

// feed reads a recording's datagrams with a new Conn and closes it.
func feed(t testing.TB, dgrams []datagram, secrets Secrets) (*Conn, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	c := NewConn(secrets, rec)
	for _, d := range dgrams {
		c.Datagram(d.fromClient, d.b, captureStart.Add(d.at))
	}
	c.Close()
	return c, rec
}

// checkWant compares what a Conn delivered with what the peers sent.
func checkWant(t testing.TB, rec *recorder, want map[streamKey]*got) {
	t.Helper()
	w := &recorder{streams: want}
	if !rec.equal(w) {
		t.Errorf("streams differ:\n got:\n%s\nwant:\n%s", rec.summary(), w.summary())
	}
}

// TestQuicGoConnection decrypts a real quic-go connection recorded on
// loopback: every stream's bytes, FINs and resets must arrive exactly.
func TestQuicGoConnection(t *testing.T) {
	r := bigRecording(t)
	c, rec := feed(t, r.dgrams, keyLogSecrets(t, r.keylog))
	checkWant(t, rec, r.want)
	st := c.Stats()
	if c.State() != Decrypting || st.Failed != 0 || st.Gaps != 0 || st.Malformed != 0 || st.UnknownFrames != 0 || st.Undecryptable != 0 {
		t.Errorf("state %v, stats %+v", c.State(), st)
	}
	var total uint64
	for _, g := range r.want {
		total += uint64(len(g.data))
	}
	if st.StreamBytes != total || st.Resets != 2 || st.Closes == 0 || st.ClientPackets == 0 || st.ServerPackets == 0 || st.Skipped == 0 || st.Datagrams != len(r.dgrams) {
		t.Errorf("stats %+v, want %d stream bytes", st, total)
	}
	if len(r.want) < 9 {
		t.Errorf("only %d stream directions in the scenario", len(r.want))
	}
	last := captureStart.Add(r.dgrams[len(r.dgrams)-1].at)
	for i, at := range rec.times {
		if at.Before(captureStart) || at.After(last) || i > 0 && at.Before(rec.times[i-1]) {
			t.Fatalf("delivery %d at %v: outside the capture or out of order", i, at)
		}
	}
	t.Logf("%d datagrams, suite %v, stats %+v", len(r.dgrams), c.suiteUsed, st)
}

// shuffleWindows reorders each direction's datagrams among themselves in
// consecutive windows of n, deterministically, keeping which slots belong
// to which direction.
func shuffleWindows(dgrams []datagram, n int, seed uint64) []datagram {
	out := append([]datagram(nil), dgrams...)
	rng := mrand.New(mrand.NewPCG(seed, seed))
	for _, fromClient := range []bool{true, false} {
		var slots []int
		for i, d := range out {
			if d.fromClient == fromClient {
				slots = append(slots, i)
			}
		}
		for start := 0; start < len(slots); start += n {
			w := slots[start:min(start+n, len(slots))]
			payloads := make([]datagram, len(w))
			for i, s := range w {
				payloads[i] = out[s]
			}
			rng.Shuffle(len(payloads), func(i, j int) { payloads[i], payloads[j] = payloads[j], payloads[i] })
			for i, s := range w {
				at := out[s].at
				out[s] = payloads[i]
				out[s].at = at // capture times stay in order
			}
		}
	}
	return out
}

// duplicate repeats every third datagram five places later.
func duplicate(dgrams []datagram) []datagram {
	var out []datagram
	var later []datagram
	for i, d := range dgrams {
		out = append(out, d)
		if i%3 == 0 {
			later = append(later, d)
		}
		if i%5 == 4 && len(later) > 0 {
			out = append(out, later...)
			later = nil
		}
	}
	return append(out, later...)
}

// withoutServerLong drops the server's long header packets, so the length
// of the connection ID in the client's short headers must be found by
// trial.
func withoutServerLong(t testing.TB, dgrams []datagram) []datagram {
	var out []datagram
	for _, d := range dgrams {
		b := d.b
		for !d.fromClient && len(b) > 0 && isLong(b[0]) {
			h, ok := parseLong(b)
			if !ok {
				t.Fatalf("unparsable server datagram %x", d.b)
			}
			b = b[h.size:]
		}
		if len(b) > 0 {
			out = append(out, datagram{d.fromClient, d.at, b})
		}
	}
	return out
}

// reverseHead reverses the first n datagrams: the server's Initial and
// the client's later Initials come before the client's first.
func reverseHead(dgrams []datagram, n int) []datagram {
	out := append([]datagram(nil), dgrams...)
	slices.Reverse(out[:n])
	return out
}

// TestQuicGoDisorder feeds the recorded connection as a capture could see
// it: reordered within each direction, with duplicates, without the
// server's long header packets; the streams must come out the same.
func TestQuicGoDisorder(t *testing.T) {
	r := bigRecording(t)
	secrets := keyLogSecrets(t, r.keylog)
	tests := []struct {
		name   string
		dgrams []datagram
	}{
		{"shuffled by 8", shuffleWindows(r.dgrams, 8, 1)},
		{"shuffled by 24", shuffleWindows(r.dgrams, 24, 2)},
		{"duplicated", duplicate(r.dgrams)},
		{"no server long headers", withoutServerLong(t, r.dgrams)},
		{"all three", shuffleWindows(duplicate(withoutServerLong(t, r.dgrams)), 16, 3)},
		{"handshake reversed", reverseHead(r.dgrams, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := feed(t, tt.dgrams, secrets)
			checkWant(t, rec, r.want)
			if st := c.Stats(); c.State() != Decrypting || st.Gaps != 0 || st.Undecryptable != 0 {
				t.Errorf("state %v, stats %+v", c.State(), st)
			}
		})
	}
}

// TestQuicGoVersion2 decrypts a real quic-go connection of QUIC version
// 2 (RFC 9369: its own Initial salt, "quicv2" labels and long header type
// bits).
func TestQuicGoVersion2(t *testing.T) {
	r := recordQUIC(t, smallScenario, false, false, quic.Version2)
	if v := binary.BigEndian.Uint32(r.dgrams[0].b[1:5]); v != version2 {
		t.Fatalf("first packet of version %#x: quic-go did not speak version 2", v)
	}
	c, rec := feed(t, r.dgrams, keyLogSecrets(t, r.keylog))
	checkWant(t, rec, r.want)
	if st := c.Stats(); c.State() != Decrypting || st.Failed != 0 || st.Malformed != 0 || st.Gaps != 0 {
		t.Errorf("state %v, stats %+v", c.State(), st)
	}
	if len(c.ClientHello()) == 0 {
		t.Error("no ClientHello from version 2 Initials")
	}
}
