package tlskeylog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	log, err := os.ReadFile(filepath.Join("testdata", fixtureKeyLog))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(log))
	f.Add(strings.ReplaceAll(string(log), "\n", "\r\n"))
	f.Add("# comment\n\nCLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n")
	f.Add("SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 31))
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Count(in, "\n") + 1
		k, err := Parse(strings.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > lines || !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %v (%T) names no line of %d", err, err, lines)
			}
			return
		}
		if k.Len() > lines {
			t.Fatalf("Len() = %d from %d lines", k.Len(), lines)
		}
		for cr, s := range k.byRandom {
			if s.master == nil && s.clientHandshake == nil && s.serverHandshake == nil && s.clientTraffic == nil && s.serverTraffic == nil {
				t.Fatalf("client random %x without secrets", cr)
			}
		}
	})
}

// encodeCuts makes FuzzSession's cuts of a recording: for each chunk two
// bytes, the high bit saying the client sent it, the rest its length.
func encodeCuts(cs []chunk) []byte {
	var b []byte
	for _, c := range cs {
		for d := c.data; len(d) > 0; {
			n := min(len(d), 0x7fff)
			v := uint16(n)
			if c.fromClient {
				v |= 0x8000
			}
			b = binary.BigEndian.AppendUint16(b, v)
			d = d[n:]
		}
	}
	return b
}

// FuzzSession feeds arbitrary bytes for both directions, cut and
// interleaved as cuts says (see encodeCuts; what cuts leave over goes in
// whole, client first), with the key log of the recorded fixtures, which
// seed it. Whatever the input, a session must not panic, must return less
// than it was fed, must keep its buffers bounded, must stay stopped once stopped, and must return only
// authentic data: the key log holds secrets for the fixtures alone, so what
// it decrypts is a prefix of what their client and server sent.
func FuzzSession(f *testing.F) {
	k := readFixtureKeyLog(f)
	for _, fx := range fixtures {
		cs := readFixture(f, fx.file)
		client, server := directionBytes(cs, true), directionBytes(cs, false)
		f.Add(client, server, encodeCuts(cs))
		f.Add(client, server, encodeCuts(splittings[2].split(cs)))
		f.Add(client, server, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, client, server, cuts []byte) {
		s := k.NewSession()
		var gotClient, gotServer []byte
		var fedClient, fedServer int
		feedOne := func(fromClient bool, data []byte) {
			before := s.State()
			out := s.Feed(fromClient, data)
			if fromClient {
				fedClient += len(data)
			} else {
				fedServer += len(data)
			}
			// A record may arrive over several calls, so only the totals compare.
			if len(gotClient)+len(gotServer)+len(out) > fedClient+fedServer {
				t.Fatalf("%d bytes decrypted from %d", len(gotClient)+len(gotServer)+len(out), fedClient+fedServer)
			}
			if before != Handshake && before != Decrypting && (out != nil || s.State() != before) {
				t.Fatalf("stopped session (%v) returned %d bytes, now %v", before, len(out), s.State())
			}
			if fromClient {
				gotClient = append(gotClient, out...)
			} else {
				gotServer = append(gotServer, out...)
			}
			for _, h := range []*halfConn{&s.client, &s.server} {
				if len(h.buf) > recordHeaderLen+maxRecordBody || len(h.hs.buf) > 4+maxHandshake {
					t.Fatalf("buffers hold %d and %d bytes", len(h.buf), len(h.hs.buf))
				}
			}
		}
		for len(cuts) >= 2 {
			v := binary.BigEndian.Uint16(cuts)
			cuts = cuts[2:]
			fromClient, n := v&0x8000 != 0, int(v&0x7fff)
			src := &server
			if fromClient {
				src = &client
			}
			n = min(n, len(*src))
			feedOne(fromClient, (*src)[:n])
			*src = (*src)[n:]
		}
		feedOne(true, client)
		feedOne(false, server)
		if !bytes.HasPrefix(fixtureClient, gotClient) || !bytes.HasPrefix(fixtureServer, gotServer) {
			t.Fatalf("decrypted %q and %q, not prefixes of what was sent", gotClient, gotServer)
		}
	})
}
