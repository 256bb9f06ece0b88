package quicread

import (
	"bytes"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// synth builds a connection packet by packet with the test's own sealing
// keys, for what quic-go cannot be made to send.
type synth struct {
	t          testing.TB
	dcid       []byte // the client's first Initial DCID
	clientCID  []byte // the client's SCID: server→client short headers
	serverCID  []byte // the server's CID: client→server short headers
	hello      []byte
	random     []byte
	cli, srv   sealKeys // 1-RTT generation 0
	secretsLen int
}

// testHello makes a ClientHello of n bytes with a recognisable random.
func testHello(n int) []byte {
	h := make([]byte, n)
	h[0] = 1
	h[1], h[2], h[3] = byte((n-4)>>16), byte((n-4)>>8), byte(n-4)
	h[4], h[5] = 3, 3
	for i := 6; i < n; i++ {
		h[i] = byte(i * 13)
	}
	return h
}

func newSynth(t testing.TB, s suite) *synth {
	n := 32
	if s == aes256GCM {
		n = 48
	}
	cs, ss := bytes.Repeat([]byte{0xc1}, n), bytes.Repeat([]byte{0x5e}, n)
	hello := testHello(1500)
	return &synth{
		t: t, dcid: []byte{1, 2, 3, 4, 5, 6, 7, 8}, clientCID: []byte{0xcc, 0xcc, 0xcc},
		serverCID: []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee}, hello: hello, random: hello[6:38],
		cli: newSealKeys(t, s, cs), srv: newSealKeys(t, s, ss), secretsLen: n,
	}
}

// secrets answers for the synth's random only.
func (s *synth) secrets(random []byte) ([]byte, []byte, bool) {
	if !bytes.Equal(random, s.random) {
		return nil, nil, false
	}
	return s.cli.secret, s.srv.secret, true
}

// initials splits the ClientHello into ten CRYPTO frames, shuffled, one
// repeated and one overlapping, over two Initial packets, as Chromium
// sends it.
func (s *synth) initials() [][]byte {
	var frames [][]byte
	step := len(s.hello) / 10
	for off := 0; off < len(s.hello); off += step {
		frames = append(frames, cryptoFrame(uint64(off), s.hello[off:min(off+step, len(s.hello))]))
	}
	frames = append(frames, frames[3], cryptoFrame(100, s.hello[100:400]))
	mrand.New(mrand.NewPCG(7, 7)).Shuffle(len(frames), func(i, j int) { frames[i], frames[j] = frames[j], frames[i] })
	ck, _ := initialSealKeys(s.t, s.dcid)
	var out [][]byte
	for p, half := range [][][]byte{frames[:len(frames)/2], frames[len(frames)/2:]} {
		payload := append([]byte{0x01}, bytes.Join(half, nil)...) // PING first
		payload = append(payload, make([]byte, 1200-len(payload))...)
		out = append(out, ck.long(s.t, typeInitial, s.dcid, s.clientCID, uint64(p), 2, payload))
	}
	return out
}

// feedPackets hands c one direction's datagrams, all at the zero time.
func feedPackets(c *Conn, fromClient bool, pkts [][]byte) {
	for _, p := range pkts {
		c.Datagram(fromClient, p, time.Time{})
	}
}

// TestClientHelloSplit reassembles a ClientHello sent in shuffled,
// repeated and overlapping CRYPTO frames over two Initials.
func TestClientHelloSplit(t *testing.T) {
	s := newSynth(t, aes128GCM)
	in := s.initials()
	c := NewConn(nil, nil)
	c.Datagram(true, in[0], time.Time{})
	if c.ClientHello() != nil {
		t.Fatal("complete after one of two packets")
	}
	c.Datagram(true, in[1], time.Time{})
	if !bytes.Equal(c.ClientHello(), s.hello) {
		t.Fatalf("client hello %x", c.ClientHello())
	}
	if st := c.Stats(); st.ClientPackets != 2 || c.State() != NoKeys {
		t.Errorf("state %v, stats %+v", c.State(), st)
	}
}

// TestRetryInitialKeys follows Initial keys across a Retry (RFC 9000
// §17.2.5): the client's Initials after it use keys from their new DCID,
// its later ones carry the server's CID but keep those keys, and server
// Initials use them too.
func TestRetryInitialKeys(t *testing.T) {
	s := newSynth(t, aes128GCM)
	first := s.initials()[0]
	retryDCID := []byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	retry := append([]byte{0xf0, 0, 0, 0, 1, byte(len(s.clientCID))}, s.clientCID...)
	retry = append(append(append(retry, byte(len(retryDCID))), retryDCID...), bytes.Repeat([]byte{0x77}, 24)...)
	ck, sk := initialSealKeys(t, retryDCID)
	payload := append(cryptoFrame(0, s.hello), make([]byte, 100)...)
	second := ck.long(t, typeInitial, retryDCID, s.clientCID, 1, 1, payload)
	server := sk.long(t, typeInitial, s.clientCID, s.serverCID, 0, 1, []byte{0x02, 0, 0, 0, 0})
	third := ck.long(t, typeInitial, s.serverCID, s.clientCID, 2, 1, []byte{0x01})

	c := NewConn(s.secrets, newRecorder(t))
	for _, d := range []struct {
		fromClient bool
		b          []byte
	}{{true, first}, {false, retry}, {true, second}, {false, server}, {true, third}} {
		c.Datagram(d.fromClient, d.b, time.Time{})
	}
	st := c.Stats()
	if st.ClientPackets != 3 || st.ServerPackets != 1 || st.Skipped != 1 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if !bytes.Equal(c.ClientHello(), s.hello) {
		t.Error("client hello not reassembled")
	}
}

// conversation seals a synthetic connection's 1-RTT packets: the client
// sends "abcdef" on stream 0 over six packets whose keys update twice,
// with two packets reordered across the updates (RFC 9001 §6), and the
// server answers on stream 0 and resets stream 3.
func (s *synth) conversation(t testing.TB) (client, server [][]byte) {
	gens := []sealKeys{s.cli, s.cli.updated(t)}
	gens = append(gens, gens[1].updated(t))
	msg := []byte("abcdef")
	// pn: generation, in the order sent on the wire.
	order := []struct{ pn, gen int }{{0, 0}, {1, 0}, {3, 1}, {2, 0}, {5, 2}, {4, 1}}
	for _, o := range order {
		f := streamFrame(0, uint64(o.pn), msg[o.pn:o.pn+1], o.pn == 5)
		client = append(client, gens[o.gen].short(t, s.serverCID, uint64(o.pn), 2, f))
	}
	server = append(server,
		s.srv.short(t, s.clientCID, 0, 1, streamFrame(0, 0, []byte("reply"), true)),
		s.srv.short(t, s.clientCID, 1, 4, append(streamFrame(3, 0, []byte("xy"), false), resetFrame(3, 1, 2)...)),
	)
	return client, server
}

// TestKeyUpdateAndSuites decrypts synthetic 1-RTT packets under each
// cipher suite, through two key updates and reordering across them, with
// the connection ID lengths learned by trial (no long headers but the
// client's Initials).
func TestKeyUpdateAndSuites(t *testing.T) {
	for _, su := range []suite{aes128GCM, aes256GCM, chacha20Poly1305} {
		t.Run(su.String(), func(t *testing.T) {
			s := newSynth(t, su)
			s.clientCID = nil // a zero-length client CID, as Chromium's
			cli, srv := s.conversation(t)
			rec := newRecorder(t)
			c := NewConn(s.secrets, rec)
			feedPackets(c, true, s.initials())
			feedPackets(c, true, cli)
			feedPackets(c, false, srv)
			c.Close()
			want := "stream 0 client: 6 bytes fin=true reset=false gap=false \"abcdef\"\n" +
				"stream 0 server: 5 bytes fin=true reset=false gap=false \"reply\"\n" +
				"stream 3 server: 2 bytes fin=false reset=true gap=false \"xy\"\n"
			if got := rec.summary(); got != want {
				t.Errorf("streams:\n%s", got)
			}
			st := c.Stats()
			if c.State() != Decrypting || st.ClientPackets != 2+6 || st.ServerPackets != 2 || st.Failed != 0 || c.suiteUsed != su {
				t.Errorf("state %v, suite %v, stats %+v", c.State(), c.suiteUsed, st)
			}
		})
	}
}

// TestStates checks the reasons a connection yields nothing, with
// nothing delivered, and the counts.
func TestStates(t *testing.T) {
	dgrams, secrets := fixture(t)
	wrong := func(n int) Secrets {
		return func([]byte) ([]byte, []byte, bool) {
			return bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, n), true
		}
	}
	none := func([]byte) ([]byte, []byte, bool) { return nil, nil, false }
	vn := []byte{0x80, 0, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0, 1}
	other := append([]byte{0xc0, 0xff, 0x00, 0x00, 0x1d, 4, 1, 2, 3, 4, 0}, make([]byte, 1200)...) // draft-29
	v1then2 := append([]byte{0xd0, 0x6b, 0x33, 0x43, 0xcf, 4, 1, 2, 3, 4, 0}, make([]byte, 1200)...)
	tests := []struct {
		name    string
		secrets Secrets
		dgrams  []datagram
		want    State
		check   func(Stats) bool
	}{
		{"real secrets", secrets, dgrams, Decrypting, func(s Stats) bool { return s.StreamBytes > 0 && s.Failed == 0 }},
		{"no secrets in the key log", none, dgrams, NoKeys, func(s Stats) bool { return s.Undecryptable > 0 && s.Failed == 0 }},
		{"nil secrets", nil, dgrams, NoKeys, func(s Stats) bool { return s.Undecryptable > 0 && s.ClientPackets > 0 }},
		{"wrong secrets", wrong(32), dgrams, AuthFailed, func(s Stats) bool { return s.Failed > 0 && s.ClientPackets > 0 }},
		{"wrong sha-384 secrets", wrong(48), dgrams, AuthFailed, func(s Stats) bool { return s.Failed > 0 }},
		{"secrets of no suite's length", wrong(20), dgrams, AuthFailed, func(s Stats) bool { return s.Undecryptable > 0 }},
		{"nothing yet", secrets, nil, Handshake, func(s Stats) bool { return s == Stats{} }},
		{"only the server", secrets, onlyServer(dgrams), Handshake, func(s Stats) bool { return s.ClientPackets == 0 }},
		{"version negotiation", secrets, []datagram{{true, 0, dgrams[0].b}, {false, 0, vn}}, Unsupported, func(s Stats) bool { return s.Skipped == 1 }},
		{"another version", secrets, []datagram{{true, 0, other}}, Unsupported, func(s Stats) bool { return s.Skipped == 1 && s.ClientPackets == 0 }},
		{"version 2 after version 1", secrets, []datagram{{true, 0, dgrams[0].b}, {false, 0, v1then2}}, Unsupported, func(s Stats) bool { return s.Skipped == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := feed(t, tt.dgrams, tt.secrets)
			if c.State() != tt.want {
				t.Errorf("state %v, want %v", c.State(), tt.want)
			}
			if tt.want != Decrypting && len(rec.streams) != 0 {
				t.Errorf("delivered:\n%s", rec.summary())
			}
			if st := c.Stats(); !tt.check(st) || st.Datagrams != len(tt.dgrams) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func onlyServer(dgrams []datagram) []datagram {
	var out []datagram
	for _, d := range dgrams {
		if !d.fromClient {
			out = append(out, d)
		}
	}
	return out
}

// TestGarbage feeds datagrams that are not (whole) QUIC packets, after a
// real handshake so the 1-RTT path is reached; none may panic or deliver,
// and each is counted.
func TestGarbage(t *testing.T) {
	dgrams, secrets := fixture(t)
	initial := dgrams[0].b
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0x40}},
		{"long header cut in the version", []byte{0xc0, 0, 0}},
		{"long header cut in the DCID", []byte{0xc0, 0, 0, 0, 1, 8, 1, 2}},
		{"DCID longer than 20", append([]byte{0xc0, 0, 0, 0, 1, 21}, make([]byte, 40)...)},
		{"length beyond the datagram", []byte{0xc0, 0, 0, 0, 1, 0, 0, 0, 0x44, 0x00, 1, 2, 3}},
		{"bad length varint", []byte{0xe0, 0, 0, 0, 1, 0, 0, 0xc0}},
		{"initial too short for the sample", []byte{0xc0, 0, 0, 0, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5}},
		{"initial cut short", initial[:600]},
		{"short header too short", []byte{0x40, 1, 2, 3, 4, 5}},
		{"short header of noise", bytes.Repeat([]byte{0x5a}, 300)},
		{"dns query", []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			c := NewConn(secrets, rec)
			for _, d := range dgrams[:8] { // through the handshake
				c.Datagram(d.fromClient, d.b, time.Time{})
			}
			before := c.Stats()
			c.Datagram(true, tt.b, time.Time{})
			c.Datagram(false, tt.b, time.Time{})
			after := c.Stats()
			counted := after.Malformed + after.Failed + after.Undecryptable + after.Skipped -
				before.Malformed - before.Failed - before.Undecryptable - before.Skipped
			if len(tt.b) > 0 && counted == 0 {
				t.Errorf("not counted: before %+v after %+v", before, after)
			}
			if after.StreamBytes != before.StreamBytes {
				t.Error("garbage delivered stream data")
			}
		})
	}
}

// TestCloseReportsGaps checks that Close reports stream directions with
// missing bytes, and that Datagram does nothing after Close.
func TestCloseReportsGaps(t *testing.T) {
	s := newSynth(t, aes128GCM)
	rec := newRecorder(t)
	c := NewConn(s.secrets, rec)
	for _, p := range s.initials() {
		c.Datagram(true, p, time.Time{})
	}
	c.Datagram(true, s.cli.short(t, s.serverCID, 0, 2, streamFrame(4, 10, []byte("later"), true)), time.Time{})
	c.Datagram(true, s.cli.short(t, s.serverCID, 1, 2, streamFrame(8, 0, []byte("open"), false)), time.Time{})
	if st := c.Stats(); st.Buffered == 0 || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
	c.Close()
	st := c.Stats()
	if st.Gaps != 1 || st.Buffered != 0 || !rec.streams[streamKey{4, true}].gap || rec.streams[streamKey{8, true}].gap {
		t.Errorf("stats %+v\n%s", st, rec.summary())
	}
	c.Datagram(true, s.initials()[0], time.Time{})
	if c.Stats().Datagrams != st.Datagrams {
		t.Error("datagram read after Close")
	}
}
