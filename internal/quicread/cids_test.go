package quicread

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// newConnIDFrame builds NEW_CONNECTION_ID (RFC 9000 §19.15) with a
// stateless reset token of 0xee bytes.
func newConnIDFrame(seq, retirePriorTo uint64, cid []byte) []byte {
	b := appendVarint(appendVarint([]byte{frameNewConnectionID}, seq), retirePriorTo)
	b = append(append(b, byte(len(cid))), cid...)
	return append(b, bytes.Repeat([]byte{0xee}, 16)...)
}

// cidLog is a Handler and CIDHandler that logs what it is told of
// connection IDs ("+cid" learnt, "-cid" forgotten, in hex) and the
// stream data delivered.
type cidLog struct {
	events  []string
	streams strings.Builder
}

func (l *cidLog) ConnectionID(cid []byte, learnt bool) {
	sign := "-"
	if learnt {
		sign = "+"
	}
	l.events = append(l.events, sign+hex.EncodeToString(cid))
}

func (l *cidLog) StreamData(id uint64, fromClient bool, data []byte, fin bool, _ time.Time) {
	fmt.Fprintf(&l.streams, "%d %v %q %v\n", id, fromClient, data, fin)
}

func (l *cidLog) StreamReset(uint64, bool, time.Time) {}

// count counts the events of one sign.
func (l *cidLog) count(sign string) int {
	n := 0
	for _, e := range l.events {
		if strings.HasPrefix(e, sign) {
			n++
		}
	}
	return n
}

// cidOf makes a distinct n-byte connection ID from i.
func cidOf(i, n int) []byte {
	b := bytes.Repeat([]byte{0x77}, n)
	b[0], b[n-1] = byte(i), byte(i>>8)
	return b
}

// TestConnLearnsCIDs feeds a synthetic connection (the client's
// Initials, a server Handshake packet, 1-RTT packets) and checks which
// connection IDs the Conn owns and for which direction, and what a
// CIDHandler is told: long header IDs, NEW_CONNECTION_ID from either
// side, only from packets that authenticate, once each, within the bound,
// and all forgotten on Close.
func TestConnLearnsCIDs(t *testing.T) {
	s := newSynth(t, aes128GCM)
	srvNew, cliNew := []byte{0x5e, 1, 2, 3, 4, 5, 6, 7}, []byte{0xc1, 9, 8, 7}
	serverHandshake := func(t *testing.T) []byte {
		// A server Handshake packet: DCID the client's ID, SCID the
		// server's (RFC 9000 §7.2); its keys do not matter, it is not
		// decrypted.
		return s.srv.long(t, typeHandshake, s.clientCID, s.serverCID, 0, 2, []byte{0x01})
	}
	type pkt struct {
		fromClient bool
		b          []byte
	}
	type owned struct {
		cid        []byte
		fromClient bool
		ok         bool
	}
	tests := []struct {
		name    string
		packets func(t *testing.T) []pkt
		owns    []owned
		learnt  int // CIDHandler calls with learnt true
		forgot  int // and false, before Close
	}{{
		name:    "long headers",
		packets: func(t *testing.T) []pkt { return []pkt{{false, serverHandshake(t)}} },
		owns: []owned{
			{s.dcid, true, true},       // the client's first DCID
			{s.clientCID, false, true}, // the client's SCID: the server sends to it
			{s.serverCID, true, true},  // the server's SCID: the client sends to it
			{[]byte{1, 2, 3}, false, false},
			{s.dcid[:4], false, false},
		},
		learnt: 3,
	}, {
		name: "new connection id from the server",
		packets: func(t *testing.T) []pkt {
			return []pkt{{false, s.srv.short(t, s.clientCID, 0, 2, newConnIDFrame(1, 0, srvNew))}}
		},
		owns:   []owned{{srvNew, true, true}}, // the client sends to it
		learnt: 4,
	}, {
		name: "new connection id from the client",
		packets: func(t *testing.T) []pkt {
			return []pkt{{true, s.cli.short(t, s.serverCID, 0, 2, append([]byte{0x01}, newConnIDFrame(1, 0, cliNew)...))}}
		},
		owns:   []owned{{cliNew, false, true}}, // the server sends to it
		learnt: 4,
	}, {
		name: "both sides, retransmitted",
		packets: func(t *testing.T) []pkt {
			f := newConnIDFrame(1, 0, srvNew)
			return []pkt{
				{false, s.srv.short(t, s.clientCID, 0, 2, f)},
				{false, s.srv.short(t, s.clientCID, 1, 2, f)},
				{true, s.cli.short(t, s.serverCID, 0, 2, newConnIDFrame(1, 0, cliNew))},
				{true, s.cli.short(t, s.serverCID, 1, 2, newConnIDFrame(1, 0, cliNew))},
			}
		},
		owns:   []owned{{srvNew, true, true}, {cliNew, false, true}},
		learnt: 5,
	}, {
		name: "in a packet that does not authenticate",
		packets: func(t *testing.T) []pkt {
			wrong := newSealKeys(t, aes128GCM, bytes.Repeat([]byte{0x99}, 32))
			return []pkt{{false, wrong.short(t, s.clientCID, 0, 2, newConnIDFrame(1, 0, srvNew))}}
		},
		owns:   []owned{{srvNew, false, false}},
		learnt: 3,
	}, {
		name: "malformed frame",
		packets: func(t *testing.T) []pkt {
			f := newConnIDFrame(1, 0, srvNew)
			return []pkt{{false, s.srv.short(t, s.clientCID, 0, 2, f[:len(f)-3])}} // token cut short
		},
		owns:   []owned{{srvNew, false, false}},
		learnt: 3,
	}, {
		name: "an id known already keeps its direction",
		packets: func(t *testing.T) []pkt {
			return []pkt{{true, s.cli.short(t, s.serverCID, 0, 2, newConnIDFrame(1, 0, s.serverCID))}}
		},
		owns:   []owned{{s.serverCID, true, true}},
		learnt: 3,
	}, {
		name: "bound",
		packets: func(t *testing.T) []pkt {
			var out []pkt
			for i := range maxCIDs + 10 {
				out = append(out, pkt{false, s.srv.short(t, s.clientCID, uint64(i), 2, newConnIDFrame(uint64(i+1), 0, cidOf(i, 8)))})
			}
			return out
		},
		owns: []owned{
			{s.dcid, false, false}, // the oldest went first: the 3 of the handshake, then 10 issued
			{cidOf(9, 8), false, false},
			{cidOf(10, 8), true, true},
			{cidOf(maxCIDs+9, 8), true, true},
		},
		learnt: 3 + maxCIDs + 10,
		forgot: 13,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &cidLog{}
			c := NewConn(s.secrets, log)
			feedPackets(c, true, s.initials())
			feedPackets(c, false, [][]byte{serverHandshake(t)})
			for _, p := range tt.packets(t) {
				c.Datagram(p.fromClient, p.b, time.Time{})
			}
			for _, o := range tt.owns {
				if fromClient, ok := c.Owns(o.cid); ok != o.ok || fromClient != o.fromClient {
					t.Errorf("Owns(%x) = %v, %v; want %v, %v", o.cid, fromClient, ok, o.fromClient, o.ok)
				}
			}
			if len(c.cids) > maxCIDs {
				t.Errorf("%d connection IDs kept, more than %d", len(c.cids), maxCIDs)
			}
			if got := log.count("+"); got != tt.learnt {
				t.Errorf("%d learnt, want %d: %q", got, tt.learnt, log.events)
			}
			if got := log.count("-"); got != tt.forgot {
				t.Errorf("%d forgotten, want %d: %q", got, tt.forgot, log.events)
			}
			kept := len(c.cids)
			c.Close()
			if got := log.count("-"); got != tt.forgot+kept {
				t.Errorf("after Close %d forgotten, want %d", got, tt.forgot+kept)
			}
			for _, o := range tt.owns {
				if _, ok := c.Owns(o.cid); ok {
					t.Errorf("Owns(%x) after Close", o.cid)
				}
			}
		})
	}
}

// TestLearnCIDEdges checks learnCID directly: zero-length and over-long
// IDs are not recorded, a known one is recorded once, and the oldest goes
// at the bound; a Conn without a CIDHandler learns just the same.
func TestLearnCIDEdges(t *testing.T) {
	tests := []struct {
		name  string
		learn [][]byte
		want  int // connection IDs kept
	}{
		{"zero-length", [][]byte{{}}, 0},
		{"too long", [][]byte{bytes.Repeat([]byte{1}, maxCIDLen+1)}, 0},
		{"longest", [][]byte{bytes.Repeat([]byte{1}, maxCIDLen)}, 1},
		{"twice", [][]byte{{1, 2}, {1, 2}}, 1},
		{"prefix is another id", [][]byte{{1, 2}, {1, 2, 3}}, 2},
		{"beyond the bound", func() [][]byte {
			var ids [][]byte
			for i := range 3 * maxCIDs {
				ids = append(ids, cidOf(i, 4))
			}
			return ids
		}(), maxCIDs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(nil, nil)
			for _, id := range tt.learn {
				c.learnCID(id, true)
			}
			if len(c.cids) != tt.want {
				t.Errorf("kept %d, want %d", len(c.cids), tt.want)
			}
			if tt.want > 0 {
				last := tt.learn[len(tt.learn)-1]
				if _, ok := c.Owns(last); !ok {
					t.Errorf("the newest %x is not owned", last)
				}
			}
		})
	}
}

// TestDecryptAfterNewCIDLength: after the server issues a connection ID
// of another length (RFC 9000 §5.1.1 allows it), the client's 1-RTT
// packets sent to it, as on a migrated path, still decrypt, although the
// DCID length of the client's packets was known.
func TestDecryptAfterNewCIDLength(t *testing.T) {
	tests := []struct {
		name   string
		newLen int
		issue  bool // whether the server issues the new ID first
		want   string
	}{
		{"longer, issued", 9, true, "0 true \"ab\" false\n0 true \"cd\" true\n"},
		{"shorter, issued", 3, true, "0 true \"ab\" false\n0 true \"cd\" true\n"},
		{"not issued", 9, false, "0 true \"ab\" false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSynth(t, aes128GCM) // the server's handshake ID is 5 bytes
			newCID := cidOf(7, tt.newLen)
			log := &cidLog{}
			c := NewConn(s.secrets, log)
			feedPackets(c, true, s.initials())
			c.Datagram(true, s.cli.short(t, s.serverCID, 0, 2, streamFrame(0, 0, []byte("ab"), false)), time.Time{})
			if tt.issue {
				c.Datagram(false, s.srv.short(t, s.clientCID, 0, 2, newConnIDFrame(1, 0, newCID)), time.Time{})
			}
			c.Datagram(true, s.cli.short(t, newCID, 1, 2, streamFrame(0, 2, []byte("cd"), true)), time.Time{})
			if got := log.streams.String(); got != tt.want {
				t.Errorf("streams:\n%swant:\n%s", got, tt.want)
			}
		})
	}
}
