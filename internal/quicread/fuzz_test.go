package quicread

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// encodeDatagrams packs datagrams as fuzz input: per datagram a direction
// byte (bit 0: from the client), a 2-byte big-endian length, the payload.
func encodeDatagrams(dgrams []datagram) []byte {
	var b []byte
	for _, d := range dgrams {
		dir := byte(0)
		if d.fromClient {
			dir = 1
		}
		b = append(b, dir)
		b = binary.BigEndian.AppendUint16(b, uint16(len(d.b)))
		b = append(b, d.b...)
	}
	return b
}

// decodeDatagrams unpacks fuzz input; a short last record takes what is
// left.
func decodeDatagrams(b []byte) []datagram {
	var out []datagram
	for len(b) >= 3 {
		n := min(int(binary.BigEndian.Uint16(b[1:3])), len(b)-3)
		out = append(out, datagram{fromClient: b[0]&1 == 1, at: time.Duration(len(out)) * time.Millisecond, b: b[3 : 3+n]})
		b = b[3+n:]
	}
	return out
}

// FuzzConn feeds arbitrary datagrams in both directions, with the real
// secrets of the fixture connection for every ClientHello so that the
// 1-RTT path is reached. Nothing may panic; the delivery rules (checked by
// the recorder), the buffer bound, the connection ID bookkeeping (checked
// by cidRecorder) and determinism must hold.
func FuzzConn(f *testing.F) {
	dgrams, secrets := fixture(f)
	f.Add(encodeDatagrams(dgrams))
	f.Add(encodeDatagrams(dgrams[:12]))
	f.Add(encodeDatagrams(shuffleWindows(dgrams, 4, 9)))
	f.Add(encodeDatagrams([]datagram{
		{true, 0, hexFile(f, "rfc9001-a2-client-initial.hex")},
		{false, 0, hexFile(f, "rfc9001-a3-server-initial.hex")},
		{false, 0, hexFile(f, "rfc9001-a5-short-header.hex")},
	}))
	s := newSynth(f, chacha20Poly1305)
	cli, srv := s.conversation(f)
	earlyKey := bytes.Repeat([]byte{0xe4}, s.secretsLen)
	early := newSealKeys(f, chacha20Poly1305, earlyKey)
	var syn []datagram
	for _, p := range append(s.initials(), cli...) {
		syn = append(syn, datagram{true, 0, p})
	}
	syn = append(syn, datagram{true, 0, early.long(f, typeZeroRTT, s.dcid, s.clientCID, 0, 2, streamFrame(8, 0, []byte("early"), true))})
	for _, p := range srv {
		syn = append(syn, datagram{false, 0, p})
	}
	f.Add(encodeDatagrams(syn))
	cs, ss, _ := secrets(dgramsRandom(f, dgrams))
	always := func([]byte) ([]byte, []byte, bool) { return cs, ss, true }

	f.Fuzz(func(t *testing.T, in []byte) {
		dgrams := decodeDatagrams(in)
		run := func() (string, Stats, State) {
			rec := &cidRecorder{recorder: newRecorder(t), known: map[string]bool{}}
			c := NewConn(always, rec)
			c.DecryptEarly(func([]byte) ([]byte, bool) { return earlyKey, true })
			for _, d := range dgrams {
				c.Datagram(d.fromClient, d.b, captureStart.Add(d.at))
				if st := c.Stats(); st.MaxBuffered > maxConnBuffer || st.Buffered < 0 {
					t.Fatalf("buffered %+v", st)
				}
				rec.check(c)
			}
			state := c.State()
			c.Close()
			if st := c.Stats(); st.Buffered != 0 {
				t.Fatalf("buffered after Close: %+v", st)
			}
			if len(rec.known) != 0 {
				t.Fatalf("%d connection IDs not forgotten on Close", len(rec.known))
			}
			return rec.summary() + rec.events.String(), c.Stats(), state
		}
		sum1, st1, state1 := run()
		sum2, st2, state2 := run()
		if sum1 != sum2 || st1 != st2 || state1 != state2 {
			t.Fatalf("not deterministic:\n%s%+v\n%s%+v", sum1, st1, sum2, st2)
		}
	})
}

// cidRecorder is a recorder that is also a CIDHandler and checks what it
// is told: an ID learnt only while unknown, forgotten only while known.
type cidRecorder struct {
	*recorder
	known  map[string]bool
	events strings.Builder
}

func (r *cidRecorder) ConnectionID(cid []byte, learnt bool) {
	if r.known[string(cid)] == learnt {
		r.t.Errorf("connection ID %x told learnt=%v twice", cid, learnt)
	}
	if learnt {
		r.known[string(cid)] = true
	} else {
		delete(r.known, string(cid))
	}
	fmt.Fprintf(&r.events, "cid %x %v\n", cid, learnt)
}

// check compares the IDs the Conn was told to have with those it owns,
// and the bound.
func (r *cidRecorder) check(c *Conn) {
	if len(r.known) > maxCIDs || len(r.known) != len(c.cids) {
		r.t.Fatalf("%d connection IDs told, %d kept; bound %d", len(r.known), len(c.cids), maxCIDs)
	}
	for id := range r.known {
		if _, ok := c.Owns([]byte(id)); !ok {
			r.t.Fatalf("connection ID %x told learnt is not owned", id)
		}
	}
}

// dgramsRandom returns the fixture's ClientHello random.
func dgramsRandom(t testing.TB, dgrams []datagram) []byte {
	c := NewConn(nil, nil)
	for _, d := range dgrams {
		c.Datagram(d.fromClient, d.b, time.Time{})
	}
	if len(c.ClientHello()) < 38 {
		t.Fatal("fixture has no ClientHello")
	}
	return c.ClientHello()[6:38]
}

// BenchmarkConn decrypts the recorded quic-go connection (about 500 KB of
// stream data); the throughput counts UDP payload bytes.
func BenchmarkConn(b *testing.B) {
	r := bigRecording(b)
	secrets := keyLogSecrets(b, r.keylog)
	total := 0
	for _, d := range r.dgrams {
		total += len(d.b)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(secrets, discard{})
		for _, d := range r.dgrams {
			c.Datagram(d.fromClient, d.b, captureStart.Add(d.at))
		}
		c.Close()
		if c.State() != Decrypting || c.Stats().Failed != 0 {
			b.Fatalf("state %v, stats %+v", c.State(), c.Stats())
		}
	}
}

// discard is a Handler that keeps nothing.
type discard struct{}

func (discard) StreamData(uint64, bool, []byte, bool, time.Time) {}
func (discard) StreamReset(uint64, bool, time.Time)              {}
