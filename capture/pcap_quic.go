package capture

import (
	"encoding/binary"
	"net/url"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/trackaudit/trackaudit/internal/h3parse"
	"github.com/trackaudit/trackaudit/internal/quicread"
	"github.com/trackaudit/trackaudit/traffic"
)

// QUIC (HTTP/3) hides everything but its first packets, and those only
// thinly: a client's Initial packets are encrypted with keys anyone can
// derive from the connection ID the packet carries (RFC 9001 §5.2), and
// they hold the TLS ClientHello, server name included. Browsers speak
// HTTP/3 to Google's and Meta's hosts whenever they can, and with DNS
// over HTTPS a capture then shows no other trace of those trackers.
//
// So every QUIC connection becomes a contact (Via "quic-sni") once its
// ClientHello is complete. With a key log holding the connection's TLS
// secrets it is decrypted instead (quicread) and its HTTP/3 requests
// (h3parse) become exchanges, as those of TLS over TCP do.
//
// A connection whose client changes address mid-connection (RFC 9000 §9:
// a phone moving to another network migrates, a NAT rebinds) is followed
// to the new address by the connection IDs its packets carry, and its
// later requests are reported as its own. Without the key log only the
// IDs of the handshake are known, enough for a NAT rebinding; a
// migration uses IDs announced encrypted (§9.5), so its new path then
// looks like a connection that began before the capture.

// Bounds of the QUIC state: connections followed at once (a browser keeps
// a few dozen open; with a key log each may buffer several MiB of stream
// data, so fewer are kept), and how long a connection whose ClientHello
// was read must be quiet before a new ClientHello from the same port is a
// new connection.
const (
	maxQUICConns          = 1024
	maxQUICConnsDecrypted = 128
	quicWait              = 10 * time.Second
)

// quicKey identifies one QUIC connection by the client's and the server's
// address. Not by connection ID: short-header packets do not say how long
// theirs is. When a client opens a new connection from the same port, its
// first Initial goes to a connection ID the old one never used. When a
// connection's client moves to another address (RFC 9000 §9: a
// migration, or a NAT rebinding), its connection IDs tie the new
// addresses to it (quicTracker.follow).
type quicKey struct {
	client, server         gopacket.Endpoint // IP addresses
	clientPort, serverPort layers.UDPPort
}

// quicTracker holds the connections being followed.
type quicTracker struct {
	conns map[quicKey]*quicConn
	// midstream are the flows to port 443 seen only in short-header
	// packets: connections that began before the capture (at most
	// maxQUICConns are counted). ended are flows whose connection was
	// followed and ended, whose late packets are no such thing.
	midstream, ended map[quicKey]bool
	// candidates are the key log's most recent traffic secrets, listed
	// once, for the key search (echCandidates).
	candidates [][2][]byte

	// paths are the other addresses of followed connections, keyed as
	// conns are (client first): where their packets went after a
	// migration or a NAT rebinding.
	paths map[quicKey]*quicConn
	// byCID indexes the followed connections by the connection IDs
	// their packets may carry as DCID (quicread's Owns), cidLens counts
	// the indexed IDs of each length: a short header does not tell its
	// DCID's length (RFC 9000 §17.3), so each length in use is tried.
	byCID   map[string]*quicConn
	cidLens [maxQUICCIDLen + 1]int
}

// Bounds of the migration state: connection IDs indexed (quicread keeps
// at most 64 per connection, and with a key log at most
// maxQUICConnsDecrypted connections are followed), other addresses per
// connection, and the longest connection ID (RFC 9000 §17.2).
const (
	maxQUICCIDIndex = 8192
	maxQUICPaths    = 16
	maxQUICCIDLen   = 20
)

// quicConn follows one QUIC connection: quicread reads its packets, and,
// when they decrypt, h3parse its streams.
type quicConn struct {
	pr          *pcapReader
	key         quicKey   // its first address, in quicTracker.conns
	paths       []quicKey // its other addresses, in quicTracker.paths, oldest first
	over        bool      // it ended
	idx, seq    int       // order of its records in a flush, numbered with the TCP streams
	first, last time.Time
	client      string // the client's IP address
	server      string // the server's address, a request's host when it names none
	port        int    // the server's UDP port
	rd          *quicread.Conn
	h3          *h3parse.Conn // nil until stream data comes
	hello       bool          // the ClientHello was read
	name        string        // its server name; "" when it has none
	decided     bool          // contact handed over, or the connection decrypts
	gaps        bool          // stream bytes were lost
	cids        []string      // connection IDs its client Initials may carry
}

// quicPacket hands a UDP datagram to the QUIC connection it belongs to,
// in either direction and on any of its addresses, or starts following a
// new one when it opens with a client Initial packet of QUIC version 1 or
// 2. Other datagrams are ignored.
func (pr *pcapReader) quicPacket(p decodedPacket, ts time.Time) {
	out := quicKey{p.netFlow.Src(), p.netFlow.Dst(), p.udp.SrcPort, p.udp.DstPort}
	back := quicKey{out.server, out.client, out.serverPort, out.clientPort}
	payload := p.udp.Payload
	initial := isClientInitial(payload)
	if c := pr.quic.conns[out]; c != nil {
		if !initial || !c.hello || !c.restarts(payload, ts) {
			pr.quic.datagram(c, true, payload, ts)
			return
		}
		pr.quic.end([]quicKey{out})
	}
	if c := pr.quic.conns[back]; c != nil {
		if scid := longSCID(payload); scid != nil {
			c.learn(scid)
		}
		pr.quic.datagram(c, false, payload, ts)
		return
	}
	if len(pr.quic.paths) > 0 {
		if c := pr.quic.paths[out]; c != nil {
			if !initial || !c.hello || !c.restarts(payload, ts) {
				pr.quic.datagram(c, true, payload, ts)
				return
			}
			pr.quic.unalias(out) // a new connection from the port the old one left
		} else if c := pr.quic.paths[back]; c != nil {
			pr.quic.datagram(c, false, payload, ts)
			return
		}
	}
	if !initial {
		if !pr.quic.follow(out, back, payload, ts) {
			pr.quic.noHandshake(out, back, payload)
		}
		return
	}
	c := pr.quic.add(pr, out, ts)
	c.client, c.port = pr.hosts.client(p.netFlow.Src()), int(p.udp.DstPort)
	c.server = hostPort(p.netFlow.Dst().String(), c.port, 443)
	c.learn(longDCID(payload))
	if pr.quic.datagram(c, true, payload, ts); c.rd.Stats().ClientPackets == 0 {
		c.rd.Close() // not QUIC after all: forget its connection IDs too
		delete(pr.quic.conns, out)
	}
}

// follow ties a short-header datagram on addresses no followed connection
// uses to the connection whose connection ID it is sent to, and reads it
// there: the client moved, by a migration or a NAT rebinding, and the
// first packets either way on the new path still carry a connection ID
// the connection uses (RFC 9000 §9.5: one issued in NEW_CONNECTION_ID
// for a migration, the same one for a rebinding, which the client does
// not notice). The connection ID says which side sent it. When the
// connection decrypts, the datagram must also authenticate, so that
// another flow whose bytes happen to match is not taken for it. Earlier
// datagrams of the path that could not be tied (a connection ID only
// announced encrypted) no longer count as a connection that began before
// the capture. It reports whether the datagram was read.
func (t *quicTracker) follow(out, back quicKey, payload []byte, ts time.Time) bool {
	// The Header Form bit clear and the Fixed Bit set (§17.3.1).
	if len(t.byCID) == 0 || len(payload) == 0 || payload[0]&0xc0 != 0x40 {
		return false
	}
	for n := 1; n < len(t.cidLens) && n < len(payload); n++ {
		if t.cidLens[n] == 0 {
			continue
		}
		dcid := payload[1 : 1+n]
		c := t.byCID[string(dcid)]
		if c == nil {
			continue
		}
		fromClient, ok := c.rd.Owns(dcid)
		if !ok {
			continue
		}
		k := back
		if fromClient {
			k = out
		}
		checked := c.rd.State() == quicread.Decrypting
		before := authenticated(c.rd.Stats())
		t.alias(c, k)
		t.datagram(c, fromClient, payload, ts)
		if !checked || c.over || authenticated(c.rd.Stats()) > before {
			delete(t.midstream, k)
			return true
		}
		t.unalias(k)
	}
	return false
}

// authenticated counts the packets of a connection that authenticated.
func authenticated(st quicread.Stats) int { return st.ClientPackets + st.ServerPackets }

// alias adds address k to connection c. Beyond maxQUICPaths its oldest
// other address is forgotten.
func (t *quicTracker) alias(c *quicConn, k quicKey) {
	if len(c.paths) == maxQUICPaths {
		t.unalias(c.paths[0])
	}
	if t.paths == nil {
		t.paths = map[quicKey]*quicConn{}
	}
	t.paths[k] = c
	c.paths = append(c.paths, k)
}

// unalias removes the other address k of its connection.
func (t *quicTracker) unalias(k quicKey) {
	c := t.paths[k]
	if c == nil {
		return
	}
	delete(t.paths, k)
	if i := slices.Index(c.paths, k); i >= 0 {
		c.paths = slices.Delete(c.paths, i, i+1)
	}
}

// indexCID adds a connection ID of c to the index, or removes it. An ID
// another connection indexed first stays that connection's; beyond
// maxQUICCIDIndex IDs none is added, and connections then move unseen.
func (t *quicTracker) indexCID(c *quicConn, cid []byte, learnt bool) {
	if len(cid) == 0 || len(cid) > maxQUICCIDLen {
		return
	}
	if !learnt {
		if t.byCID[string(cid)] == c {
			delete(t.byCID, string(cid))
			t.cidLens[len(cid)]--
		}
		return
	}
	if _, taken := t.byCID[string(cid)]; taken || len(t.byCID) >= maxQUICCIDIndex {
		return
	}
	if t.byCID == nil {
		t.byCID = map[string]*quicConn{}
	}
	t.byCID[string(cid)] = c
	t.cidLens[len(cid)]++
}

// noHandshake notes a flow to or from port 443 carrying short-header
// packets (RFC 9000 §17.3: the Header Form bit clear, the Fixed Bit set)
// that no followed connection owns.
func (t *quicTracker) noHandshake(out, back quicKey, payload []byte) {
	k := out
	if out.clientPort == 443 {
		k = back
	}
	if k.serverPort != 443 || len(payload) == 0 || payload[0]&0xc0 != 0x40 || len(t.midstream) >= maxQUICConns || t.ended[k] {
		return
	}
	if t.midstream == nil {
		t.midstream = map[quicKey]bool{}
	}
	t.midstream[k] = true
}

// datagram hands a datagram to connection c, and ends it once a
// CONNECTION_CLOSE went by: nothing after one is part of it.
func (t *quicTracker) datagram(c *quicConn, fromClient bool, payload []byte, ts time.Time) {
	c.datagram(fromClient, payload, ts)
	if c.rd.Stats().Closes > 0 {
		t.end([]quicKey{c.key})
	}
}

// isClientInitial reports whether a datagram starts with a long-header
// Initial packet of QUIC version 1 (RFC 9000 §17.2.2) or version 2, whose
// Initial has type bits 01 (RFC 9369 §3.2).
func isClientInitial(b []byte) bool {
	if len(b) < 5 {
		return false
	}
	switch binary.BigEndian.Uint32(b[1:5]) {
	case 0x00000001:
		return b[0]&0xf0 == 0xc0
	case 0x6b3343cf:
		return b[0]&0xf0 == 0xd0
	}
	return false
}

// longDCID and longSCID return the destination and source connection IDs
// of the long-header packet a datagram starts with (RFC 9000 §17.2: they
// are not protected), or nil.
func longDCID(b []byte) []byte {
	dcid, _ := longCIDs(b)
	return dcid
}

func longSCID(b []byte) []byte {
	_, scid := longCIDs(b)
	return scid
}

func longCIDs(b []byte) (dcid, scid []byte) {
	if len(b) < 6 || b[0]&0x80 == 0 {
		return nil, nil
	}
	dl := int(b[5])
	if dl > 20 || len(b) < 7+dl {
		return nil, nil
	}
	sl := int(b[6+dl])
	if sl > 20 || len(b) < 7+dl+sl {
		return nil, nil
	}
	return b[6 : 6+dl], b[7+dl : 7+dl+sl]
}

// restarts reports whether a client Initial, on a connection whose
// ClientHello was read, starts a new connection from the same port: one
// sent after a quiet spell, or one to a connection ID this connection
// never used that decrypts with that ID's own keys. Only a first Initial
// does (RFC 9001 §5.2): later ones keep the first one's keys whatever ID
// they carry, and clients switch to IDs the server hands them, even
// within the handshake (quic-go does).
func (c *quicConn) restarts(payload []byte, ts time.Time) bool {
	if ts.Sub(c.last) >= quicWait {
		return true
	}
	if c.knows(longDCID(payload)) {
		return false
	}
	probe := quicread.NewConn(nil, nil)
	probe.Datagram(true, payload, ts)
	return probe.Stats().ClientPackets > 0
}

// maxQUICCIDs bounds the connection IDs remembered per connection.
const maxQUICCIDs = 8

// learn remembers a connection ID the client's Initials may be sent to
// without starting a new connection: its first one, and the server's
// (RFC 9000 §7.2: from the server's first Initial on, or after a Retry,
// the client uses the ID the server chose).
func (c *quicConn) learn(cid []byte) {
	if c.knows(cid) {
		return
	}
	if len(c.cids) == maxQUICCIDs {
		c.cids = c.cids[1:]
	}
	c.cids = append(c.cids, string(cid))
}

func (c *quicConn) knows(cid []byte) bool { return slices.Contains(c.cids, string(cid)) }

// add starts following a new connection. When the table is full, those
// quiet for quicWait end first, then the one quiet longest.
func (t *quicTracker) add(pr *pcapReader, k quicKey, ts time.Time) *quicConn {
	if t.conns == nil {
		t.conns = map[quicKey]*quicConn{}
	}
	limit := maxQUICConns
	if pr.keyLog != nil {
		limit = maxQUICConnsDecrypted
	}
	if len(t.conns) >= limit {
		var quiet []quicKey
		for k2, c := range t.conns {
			if ts.Sub(c.last) >= quicWait || c.last.Sub(ts) >= quicWait {
				quiet = append(quiet, k2)
			}
		}
		t.end(quiet)
	}
	for len(t.conns) >= limit {
		var oldest quicKey
		var o *quicConn
		for k2, c := range t.conns {
			if o == nil || c.last.Before(o.last) || c.last.Equal(o.last) && c.idx < o.idx {
				oldest, o = k2, c
			}
		}
		t.end([]quicKey{oldest})
	}
	pr.streams++
	c := &quicConn{pr: pr, key: k, idx: pr.streams, first: ts, last: ts}
	var secrets quicread.Secrets
	if pr.keyLog != nil {
		secrets = pr.keyLog.TrafficSecrets
	}
	c.rd = quicread.NewConn(secrets, c)
	if pr.keyLog != nil {
		c.rd.DecryptEarly(pr.keyLog.EarlySecret)
		c.rd.SearchKeys(t.echCandidates(pr))
	}
	t.conns[k] = c
	return c
}

// maxQUICSearch bounds the key log entries tried on a QUIC connection
// whose ClientHello random the key log lacks, as tlskeylog does for TLS.
const maxQUICSearch = 1024

// echCandidates gives a connection whose ClientHello random the key log
// lacks the most recent traffic secrets to try, when the ClientHello
// carries the encrypted_client_hello extension: the key log then names
// the inner ClientHello's random, which the capture never shows. Without
// the extension (an app other than the browser) the random shown is the
// one, and no search is worth its cost.
func (t *quicTracker) echCandidates(pr *pcapReader) quicread.Candidates {
	return func(hello []byte) [][2][]byte {
		if len(hello) < 4 {
			return nil
		}
		if _, ech := helloExtension(hello[4:], 0xfe0d); !ech { // draft-ietf-tls-esni-22 §5
			return nil
		}
		if t.candidates == nil {
			t.candidates = pr.keyLog.RecentTrafficSecrets(maxQUICSearch)
		}
		return t.candidates
	}
}

// end ends the connections of keys (their first addresses), in the order
// they started, and forgets them with their other addresses and
// connection IDs.
func (t *quicTracker) end(keys []quicKey) {
	slices.SortFunc(keys, func(a, b quicKey) int { return t.conns[a].idx - t.conns[b].idx })
	if t.ended == nil || len(t.ended) >= maxQUICConns {
		t.ended = map[quicKey]bool{}
	}
	for _, k := range keys {
		c := t.conns[k]
		c.end() // closing its reader removes its connection IDs (ConnectionID)
		delete(t.conns, k)
		t.ended[k] = true
		for _, p := range c.paths {
			delete(t.paths, p)
			t.ended[p] = true
		}
		c.paths = nil
	}
}

// endOlder ends the connections quiet since before t, or all of them (at
// the end of the capture).
func (t *quicTracker) endOlder(before time.Time, all bool) {
	var keys []quicKey
	for k, c := range t.conns {
		if all || c.last.Before(before) {
			keys = append(keys, k)
		}
	}
	t.end(keys)
}

// datagram reads one datagram of the connection.
func (c *quicConn) datagram(fromClient bool, payload []byte, ts time.Time) {
	c.last = ts
	c.rd.Datagram(fromClient, payload, ts)
	if !c.hello {
		h := c.rd.ClientHello()
		if h == nil {
			return
		}
		c.hello = true
		if len(h) > 4 {
			if name, res := helloServerName(h[4:]); res == sniFound {
				c.name = name
			}
		}
	}
	if !c.decided {
		c.decide(false)
	}
}

// decide hands over the contact record of a connection that will not be
// decrypted, and counts one that is. Until that is known (the key log has
// the secrets, but no 1-RTT packet came yet) it waits, unless the
// connection ends.
func (c *quicConn) decide(ending bool) {
	pr := c.pr
	if pr.keyLog == nil {
		c.contact()
		return
	}
	switch st := c.rd.State(); {
	case st == quicread.Decrypting:
		c.decided = true
		pr.st.Decrypted++
	case st != quicread.Handshake || ending:
		why := st.String()
		if st == quicread.Handshake {
			why = "no 1-RTT packet captured"
		}
		if pr.quicUndecrypted == nil {
			pr.quicUndecrypted = map[string]int{}
		}
		pr.quicUndecrypted[why]++
		c.contact()
	}
}

// contact hands over the connection's contact record, once.
func (c *quicConn) contact() {
	c.decided = true
	if c.name == "" {
		return
	}
	c.pr.emit(&traffic.Exchange{
		Start:    c.first,
		Client:   c.client,
		Request:  traffic.Request{URL: &url.URL{Scheme: "https", Host: hostPort(c.name, c.port, 443), Path: "/"}},
		HostOnly: true,
		Via:      c.pr.ech.via("quic", c.name),
	}, c.idx, c.next())
}

func (c *quicConn) next() int {
	c.seq++
	return c.seq
}

// end finishes the connection: streams still open are handed over as
// they are, and a connection never decided gets its contact.
func (c *quicConn) end() {
	c.over = true
	c.rd.Close()
	if c.h3 != nil {
		c.exchanges(c.h3.Close())
		if c.h3.Err() != nil {
			c.pr.h3Errors++
		}
	}
	if c.gaps {
		c.pr.quicGaps++
	}
	if c.hello && !c.decided {
		c.decide(true)
	}
}

// StreamData passes decrypted stream bytes to the HTTP/3 parser
// (quicread.Handler).
func (c *quicConn) StreamData(id uint64, fromClient bool, data []byte, fin bool, t time.Time) {
	if c.h3 == nil {
		c.h3 = h3parse.NewConn(traffic.BodyCap)
	}
	c.exchanges(c.h3.StreamData(id, fromClient, data, fin, t))
}

// StreamReset passes a RESET_STREAM on (quicread.Handler).
func (c *quicConn) StreamReset(id uint64, fromClient bool, t time.Time) {
	if c.h3 != nil {
		c.exchanges(c.h3.StreamReset(id, fromClient, t))
	}
}

// StreamGap notes stream bytes the capture lacks (quicread.GapHandler):
// that stream's message is handed over incomplete when the connection
// ends.
func (c *quicConn) StreamGap(uint64, bool, time.Time) { c.gaps = true }

// ConnectionID keeps the index of connection IDs in step with what the
// reader learns and forgets (quicread.CIDHandler).
func (c *quicConn) ConnectionID(cid []byte, learnt bool) { c.pr.quic.indexCID(c, cid, learnt) }

// exchanges hands over the exchanges of finished HTTP/3 streams.
func (c *quicConn) exchanges(sts []*h3parse.Stream) {
	for _, st := range sts {
		reset := ""
		if st.Reset {
			reset = "stream reset by RESET_STREAM before it completed"
		}
		ex := streamExchange((*httpMessage)(&st.Request), (*httpMessage)(st.Response), reset, "HTTP/3.0", c.client, c.server)
		c.pr.emit(ex, c.idx, c.next())
	}
}
