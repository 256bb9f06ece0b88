package quicread

import (
	"bytes"
	"testing"
)

// TestSearchKeys: when the key log has no secrets for the ClientHello's
// random (Encrypted Client Hello hides the one it names), the Candidates
// are tried on the 1-RTT packets and the pair that opens them is used;
// without it among them, the connection has no keys.
func TestSearchKeys(t *testing.T) {
	for _, su := range []suite{aes128GCM, aes256GCM, chacha20Poly1305} {
		s := newSynth(t, su)
		cli, srv := s.conversation(t)
		decoy := func(b byte) [2][]byte {
			return [2][]byte{bytes.Repeat([]byte{b}, s.secretsLen), bytes.Repeat([]byte{b + 1}, s.secretsLen)}
		}
		right := [2][]byte{s.cli.secret, s.srv.secret}
		// The server's packets first: the client's carry the server's
		// CID, whose length nothing tells, and are not searched.
		feedAll := func(c *Conn) {
			feedPackets(c, true, s.initials())
			feedPackets(c, false, srv)
			feedPackets(c, true, cli)
			c.Close()
		}
		direct := newRecorder(t)
		feedAll(NewConn(s.secrets, direct))
		wantStreams := direct.summary()
		for _, tt := range []struct {
			name  string
			pairs [][2][]byte
			want  State
		}{
			{"found among decoys", [][2][]byte{decoy(1), decoy(3), right, decoy(5)}, Decrypting},
			{"only decoys", [][2][]byte{decoy(1), decoy(3)}, NoKeys},
			{"no candidates", nil, NoKeys},
		} {
			t.Run(su.String()+"/"+tt.name, func(t *testing.T) {
				rec := newRecorder(t)
				none := func([]byte) ([]byte, []byte, bool) { return nil, nil, false }
				c := NewConn(none, rec)
				var asked []byte
				c.SearchKeys(func(hello []byte) [][2][]byte {
					asked = hello
					return tt.pairs
				})
				feedAll(c)
				if !bytes.Equal(asked, s.hello) {
					t.Errorf("Candidates got %d bytes, want the ClientHello", len(asked))
				}
				if c.State() != tt.want {
					t.Errorf("state %v, want %v; stats %+v", c.State(), tt.want, c.Stats())
				}
				want := ""
				if tt.want == Decrypting {
					want = wantStreams
				}
				if got := rec.summary(); got != want || wantStreams == "" {
					t.Errorf("streams:\n%swant:\n%s", got, want)
				}
			})
		}
	}
}

// BenchmarkSearchMiss is the worst case of the key search: a connection
// none of 1,024 candidates belongs to, tried on its first 1-RTT packet.
func BenchmarkSearchMiss(b *testing.B) {
	s := newSynth(b, aes128GCM)
	cli, srv := s.conversation(b)
	pairs := make([][2][]byte, 1024)
	for i := range pairs {
		c, sv := make([]byte, 32), make([]byte, 32)
		c[0], c[1], sv[0], sv[1] = byte(i), byte(i>>8), byte(i), 0xff
		pairs[i] = [2][]byte{c, sv}
	}
	initials := s.initials()
	none := func([]byte) ([]byte, []byte, bool) { return nil, nil, false }
	for b.Loop() {
		c := NewConn(none, discard{})
		c.SearchKeys(func([]byte) [][2][]byte { return pairs })
		feedPackets(c, true, initials)
		feedPackets(c, false, srv)
		feedPackets(c, true, cli)
		c.Close()
		if c.State() != NoKeys {
			b.Fatalf("state %v", c.State())
		}
	}
}
