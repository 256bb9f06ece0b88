// Package quicread follows one QUIC version 1 or 2 connection (RFC 9000,
// RFC 9001, RFC 9369) from the UDP payloads a passive observer captured,
// in both directions and in capture order, and, given the TLS 1.3 application
// traffic secrets of an NSS key log, hands the in-order bytes of its
// streams to a Handler.
//
// The client's Initial packets are decrypted with keys anyone can derive
// (RFC 9001 §5.2) to reassemble its ClientHello, whose random names the
// connection in the key log. 1-RTT (short header) packets are then
// decrypted with keys derived from the traffic secrets, and, with
// DecryptEarly, the 0-RTT packets of a resuming client with its early
// traffic secret. Handshake packets are stepped over: they hold no stream
// data.
//
// Nothing on the wire is trusted: every input is parsed defensively, no
// input makes the reader panic, and the memory a Conn holds is bounded
// (the ClientHello to 16 KiB, packets waiting for keys to 256 KiB,
// buffered stream data to 1 MiB per stream direction and 8 MiB per
// connection, 1000 open stream directions, 64 connection IDs).
//
// Owns tells which connection IDs the connection's packets may carry, to
// follow it to a new address (RFC 9000 §9); a CIDHandler learns them as
// they come.
package quicread

import (
	"bytes"
	"slices"
	"time"
)

// Secrets looks up the TLS 1.3 application traffic secrets (key log labels
// CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0) for a ClientHello
// random. ok is false when the key log has none.
type Secrets func(clientRandom []byte) (client, server []byte, ok bool)

// EarlySecret looks up the TLS 1.3 client early traffic secret (key log
// label CLIENT_EARLY_TRAFFIC_SECRET) for a ClientHello random: the secret
// of the 0-RTT data a client sends when it resumes (RFC 9001 §4.6.1).
type EarlySecret func(clientRandom []byte) ([]byte, bool)

// Candidates lists traffic secret pairs (client, server) to try, newest
// first, when Secrets has none for the ClientHello's random: with
// Encrypted Client Hello the key log names the inner ClientHello's
// random, which the capture never shows. It is given the ClientHello, to
// judge whether a search is worth its cost.
type Candidates func(clientHello []byte) [][2][]byte

// Handler receives stream data. Data is only valid during the call (copy
// to keep). Its methods must not call back into the Conn.
type Handler interface {
	// StreamData delivers the next in-order bytes of one direction of
	// stream id (RFC 9000 §2.1: the low two bits give initiator and
	// uni/bidi), fin when they end that direction. t is the capture time
	// of the datagram that completed these bytes. A direction's FIN may
	// come with empty data.
	StreamData(id uint64, fromClient bool, data []byte, fin bool, t time.Time)
	// StreamReset reports RESET_STREAM from the sender of that direction.
	StreamReset(id uint64, fromClient bool, t time.Time)
}

// GapHandler may be implemented by a Handler to learn which stream
// directions lost bytes: StreamGap is called once for a direction given up
// because a bound was hit, and, from Close, for each direction left with
// missing bytes. Nothing more is delivered for that direction afterwards.
type GapHandler interface {
	StreamGap(id uint64, fromClient bool, t time.Time)
}

// Bounds on what a Conn keeps besides streams.
const (
	// maxPending and maxPendingBytes bound the 1-RTT packets kept while
	// the ClientHello is incomplete (captures can reorder datagrams).
	maxPending      = 64
	maxPendingBytes = 256 << 10
	// maxTrialFailures is how many 1-RTT packets of a direction may fail
	// every key, suite and connection ID length tried before the
	// direction stops trying: with the wrong secrets each would cost
	// dozens of AEAD openings.
	maxTrialFailures = 64
	// maxInitialKeys bounds the Initial keys cached by Destination
	// Connection ID (one per client Initial DCID: two after a Retry).
	maxInitialKeys = 4
)

// keyState tracks the lookup of the 1-RTT secrets.
type keyState int

const (
	keysUnknown   keyState = iota // ClientHello not complete yet
	keysMissing                   // no secrets for its random
	keysUnusable                  // secrets of no suite's length
	keysSearching                 // none for its random: trying Candidates
	keysReady                     // 1-RTT keys derived
)

// Conn follows one QUIC connection. It is not safe for concurrent use.
type Conn struct {
	secrets Secrets
	early   EarlySecret
	search  Candidates
	// searchPairs are the candidates to try on the first 1-RTT packet
	// whose connection ID length is known: any packet tells the pair.
	searchPairs [][2][]byte
	// earlyKeys are the 0-RTT keys, one per suite the early secret may
	// be for (the resumed session's, which the capture does not show).
	earlyKeys []*keys
	h         Handler
	streams   *streams
	stats     Stats

	hello    helloBuffer
	keyState keyState
	// initial caches the Initial keys that opened packets, by client
	// DCID, the latest used last.
	initial []initialKeys

	client, server direction
	// prot is the packet protection of the connection's version (1 or
	// 2), set by its first long header packet.
	prot          *protection
	unsupported   bool // another version, or Version Negotiation
	decrypted1RTT int
	failed1RTT    int
	suiteUsed     suite // the suite 1-RTT packets authenticated with

	pending        []pendingPacket // 1-RTT packets waiting for the ClientHello
	pendingEarly   []pendingPacket // 0-RTT packets waiting for the ClientHello
	pendingInitial []pendingPacket // Initials waiting for Initial keys
	pendingBytes   int             // of both
	helloReady     bool            // the ClientHello completed in the packet being read

	// cids are the connection IDs packets may carry as DCID, oldest
	// first, at most maxCIDs (cids.go).
	cids []cidEntry

	hdr, plain []byte // scratch: unprotected header, plaintext
	last       time.Time
	closed     bool
}

// initialKeys are the Initial keys derived from one client DCID.
type initialKeys struct {
	dcid           []byte
	client, server *keys
}

// pendingPacket is a 1-RTT packet waiting for the ClientHello.
type pendingPacket struct {
	fromClient bool
	pkt        []byte
	t          time.Time
}

// NewConn starts following a connection. With secrets or h nil, Initials
// are still read (ClientHello) but nothing is decrypted beyond that.
func NewConn(secrets Secrets, h Handler) *Conn {
	c := &Conn{
		secrets: secrets,
		h:       h,
		client:  newDirection(),
		server:  newDirection(),
		hdr:     make([]byte, 0, 64),
		plain:   make([]byte, 0, 1500),
	}
	c.streams = newStreams(h, &c.stats)
	return c
}

// DecryptEarly makes c decrypt the client's 0-RTT packets too, with the
// secret early gives for the ClientHello's random; without it they are
// skipped. Call it before the first Datagram.
func (c *Conn) DecryptEarly(early EarlySecret) { c.early = early }

// SearchKeys makes c try the secrets cands lists when the key log has
// none for the ClientHello's random, on the first few 1-RTT packets whose
// connection ID length is known. Call it before the first Datagram.
func (c *Conn) SearchKeys(cands Candidates) { c.search = cands }

// Datagram reads one UDP payload sent by the client (fromClient) or the
// server, captured at t. A datagram may hold several long header packets
// and end with one short header packet (RFC 9000 §12.2).
func (c *Conn) Datagram(fromClient bool, payload []byte, t time.Time) {
	if c.closed {
		return
	}
	c.stats.Datagrams++
	c.last = t
	for b := payload; len(b) > 0; {
		if !isLong(b[0]) {
			c.shortPacket(fromClient, b, t)
			return
		}
		h, ok := parseLong(b)
		if !ok {
			c.stats.Malformed++
			return
		}
		c.longPacket(fromClient, h, b[:h.size], t)
		b = b[h.size:]
	}
}

// ClientHello returns the complete ClientHello handshake message (type 1,
// with its 4-byte header) reassembled from the client's Initial CRYPTO
// frames, or nil until it is complete. The caller must not modify it.
func (c *Conn) ClientHello() []byte { return c.hello.done }

// State says how far decryption got.
func (c *Conn) State() State {
	switch {
	case c.decrypted1RTT > 0:
		return Decrypting
	case c.unsupported:
		return Unsupported
	case c.keyState == keysMissing:
		return NoKeys
	case c.keyState == keysUnusable, c.keyState == keysReady && c.failed1RTT > 0:
		return AuthFailed
	}
	return Handshake
}

// Stats returns the counts so far.
func (c *Conn) Stats() Stats { return c.stats }

// Close ends the capture: stream directions with missing bytes are
// counted as gaps (and reported to a GapHandler), packets still waiting
// for keys as undecryptable, connection IDs forgotten (and reported to a
// CIDHandler), and all state is freed. Later calls to Datagram are
// ignored.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.keyState == keysSearching {
		c.keyState, c.searchPairs = keysMissing, nil
	}
	c.stats.Undecryptable += len(c.pending) + len(c.pendingInitial) + len(c.pendingEarly)
	c.pending, c.pendingInitial, c.pendingEarly, c.pendingBytes = nil, nil, nil, 0
	c.streams.close(c.last)
	c.forgetCIDs()
	c.initial = nil
	c.client, c.server = direction{}, direction{}
	c.hdr, c.plain = nil, nil
}

// longPacket handles one long header packet (RFC 9000 §17.2).
func (c *Conn) longPacket(fromClient bool, h longHeader, pkt []byte, t time.Time) {
	p := protectionFor(h.version)
	if p != nil && c.prot == nil {
		c.prot = p // the version of the first packet (RFC 9369 §4)
	}
	if p == nil || p != c.prot {
		// Version Negotiation (version 0, §17.2.1), a version this
		// reader cannot parse, or a switch of version within the
		// connection (RFC 9368's compatible negotiation), not followed.
		c.unsupported = true
		c.stats.Skipped++
		return
	}
	// The connection IDs of a long header are not protected (§17.2): the
	// sender's packets carry the DCID, the peer's the SCID (§7.2), on
	// any path (§9.5).
	c.learnCID(h.dcid, fromClient)
	c.learnCID(h.scid, !fromClient)
	// A long header's SCID is the connection ID the peer puts in the
	// short headers it receives (§7.2): a hint for their DCID length.
	if fromClient {
		c.server.hintCID(len(h.scid))
	} else {
		c.client.hintCID(len(h.scid))
	}
	if h.typ == typeZeroRTT && fromClient && c.early != nil && c.h != nil {
		c.zeroRTTPacket(h, pkt, t)
		return
	}
	if h.typ != typeInitial {
		// Handshake: keys the key log's traffic secrets do not give;
		// Retry: nothing protected to read; 0-RTT without DecryptEarly.
		c.stats.Skipped++
		return
	}
	c.initialPacket(fromClient, h, pkt, t)
	if len(c.pendingInitial) > 0 && len(c.initial) > 0 {
		c.release(&c.pendingInitial, func(p pendingPacket) {
			if h, ok := parseLong(p.pkt); ok {
				c.longPacket(p.fromClient, h, p.pkt, p.t)
			}
		})
	}
	if c.helloReady {
		c.helloReady = false
		c.lookupKeys()
		c.release(&c.pendingEarly, func(p pendingPacket) {
			if h, ok := parseLong(p.pkt); ok {
				c.zeroRTTPacket(h, p.pkt, p.t)
			}
		})
		c.release(&c.pending, func(p pendingPacket) { c.shortPacket(p.fromClient, p.pkt, p.t) })
	}
}

// initialPacket decrypts an Initial packet (RFC 9001 §5.2) and reads its
// frames. Initial keys come from the DCID of the client's first Initial,
// or, after a Retry, of its first Initial after the Retry (RFC 9000
// §17.2.5); the client's later Initials carry the server's chosen CID
// instead but keep those keys (RFC 9001 §5.2). So a client Initial is
// tried with keys from its own DCID and then with the keys that opened
// earlier client Initials, newest first; a server Initial with the latter.
func (c *Conn) initialPacket(fromClient bool, h longHeader, pkt []byte, t time.Time) {
	candidates := make([]initialKeys, 0, maxInitialKeys+1)
	if fromClient && c.initialIndex(h.dcid) < 0 {
		candidates = append(candidates, deriveInitial(c.prot, h.dcid))
	}
	for i := len(c.initial) - 1; i >= 0; i-- {
		candidates = append(candidates, c.initial[i])
	}
	if len(candidates) == 0 {
		c.hold(&c.pendingInitial, fromClient, pkt, t) // a server Initial first
		return
	}
	d := c.dir(fromClient)
	for _, ik := range candidates {
		k := ik.server
		if fromClient {
			k = ik.client
		}
		u, ok := unmask(k.hp, pkt, h.pnOffset, true, c.hdr)
		if !ok {
			c.stats.Malformed++
			return
		}
		var pns [3]uint64
		for _, pn := range pnCandidates(&pns, d.initialLargest, u, d.initialLargest >= 0) {
			plain, ok := openPayload(k, pkt, u, pn, c.plain)
			if !ok {
				continue
			}
			c.keepPlain(plain)
			c.keepInitial(ik)
			d.initialLargest = max(d.initialLargest, int64(pn))
			c.countDecrypted(fromClient)
			c.frames(fromClient, false, plain, t)
			return
		}
	}
	if len(c.initial) == 0 {
		// No Initial has opened yet: this may be a later client Initial,
		// carrying the server's CID, reordered before the first.
		c.hold(&c.pendingInitial, fromClient, pkt, t)
		return
	}
	c.stats.Failed++
}

// hold keeps a packet in *list (Initials waiting for Initial keys, or
// 1-RTT packets waiting for the ClientHello) within the bounds both
// lists share.
func (c *Conn) hold(list *[]pendingPacket, fromClient bool, pkt []byte, t time.Time) {
	if len(*list) == maxPending || c.pendingBytes+len(pkt) > maxPendingBytes {
		c.stats.Undecryptable++
		return
	}
	*list = append(*list, pendingPacket{fromClient, slices.Clone(pkt), t})
	c.pendingBytes += len(pkt)
}

// release empties *list once its keys are known, reading each packet
// again; those that still fail count as such.
func (c *Conn) release(list *[]pendingPacket, read func(pendingPacket)) {
	pending := *list
	*list = nil
	for _, p := range pending {
		c.pendingBytes -= len(p.pkt)
		read(p)
	}
}

// deriveInitial derives the Initial keys of a client DCID under p.
func deriveInitial(p *protection, dcid []byte) initialKeys {
	cs, ss := p.initialSecrets(dcid)
	// newKeys fails only for a secret of the wrong length, and these are
	// SHA-256 outputs for an AES-128 suite.
	ck, _ := p.newKeys(aes128GCM, cs)
	sk, _ := p.newKeys(aes128GCM, ss)
	return initialKeys{dcid: slices.Clone(dcid), client: ck, server: sk}
}

// initialIndex finds the cached keys of a DCID, -1 when none.
func (c *Conn) initialIndex(dcid []byte) int {
	return slices.IndexFunc(c.initial, func(ik initialKeys) bool { return bytes.Equal(ik.dcid, dcid) })
}

// keepInitial moves keys that opened a packet to the newest place of the
// cache, dropping the oldest beyond maxInitialKeys.
func (c *Conn) keepInitial(ik initialKeys) {
	if i := c.initialIndex(ik.dcid); i >= 0 {
		c.initial = slices.Delete(c.initial, i, i+1)
	}
	if len(c.initial) == maxInitialKeys {
		c.initial = slices.Delete(c.initial, 0, 1)
	}
	c.initial = append(c.initial, ik)
}

// zeroRTTPacket decrypts a client's 0-RTT packet (RFC 9001 §4.6.1, §5.3)
// with the early keys, once the ClientHello has named them, and reads its
// frames: requests a resuming client sends before the handshake ends.
// 0-RTT and 1-RTT packets share one packet number space (RFC 9000 §12.3).
func (c *Conn) zeroRTTPacket(h longHeader, pkt []byte, t time.Time) {
	if c.keyState == keysUnknown {
		c.hold(&c.pendingEarly, true, pkt, t)
		return
	}
	d := &c.client
	var pns [3]uint64
	for _, k := range c.earlyKeys {
		u, ok := unmask(k.hp, pkt, h.pnOffset, true, c.hdr)
		if !ok || u.first&0x0c != 0 { // reserved bits (RFC 9000 §17.2)
			continue
		}
		for _, pn := range pnCandidates(&pns, d.appLargest, u, true) {
			plain, ok := openPayload(k, pkt, u, pn, c.plain)
			if !ok {
				continue
			}
			c.keepPlain(plain)
			d.appLargest = max(d.appLargest, int64(pn))
			c.stats.EarlyPackets++
			c.countDecrypted(true)
			c.frames(true, true, plain, t)
			return
		}
	}
	c.stats.Failed++
}

// shortPacket handles a 1-RTT packet (RFC 9000 §17.3), the last in its
// datagram.
func (c *Conn) shortPacket(fromClient bool, pkt []byte, t time.Time) {
	switch c.keyState {
	case keysUnknown:
		c.queue(fromClient, pkt, t)
	case keysReady:
		c.open1RTT(fromClient, pkt, t)
	case keysSearching:
		c.searchPacket(fromClient, pkt, t)
	default:
		c.stats.Undecryptable++
	}
}

// searchPacket tries the Candidates on a 1-RTT packet: the pair whose
// secret for this direction opens it (AEAD authentication tells) becomes
// the connection's keys; when none does, the connection has no keys. Only
// a direction whose connection ID length is known is searched, to keep
// the cost at one try per candidate and suite.
func (c *Conn) searchPacket(fromClient bool, pkt []byte, t time.Time) {
	d := c.dir(fromClient)
	cidLen := d.cidHint
	if d.cidKnown {
		cidLen = d.cidLen
	}
	if cidLen < 0 {
		c.stats.Undecryptable++
		return
	}
	for _, pair := range c.searchPairs {
		secret := pair[1]
		if fromClient {
			secret = pair[0]
		}
		for _, s := range suitesFor(secret) {
			if c.opens(s, secret, pkt, 1+cidLen, d.appLargest) {
				c.searchPairs = nil
				c.install(slices.Clone(pair[0]), slices.Clone(pair[1]))
				c.open1RTT(fromClient, pkt, t)
				return
			}
		}
	}
	c.stats.Failed++
	c.keyState, c.searchPairs = keysMissing, nil
}

// opens reports whether the keys of secret under suite s open the short
// header packet pkt, whose packet number starts at pnOffset, leaving no
// trace. The header protection key comes first: a wrong one leaves the
// reserved bits set three times in four (RFC 9000 §17.3.1), which spares
// deriving the packet key.
func (c *Conn) opens(s suite, secret, pkt []byte, pnOffset int, largest int64) bool {
	if len(secret) != s.hash()().Size() {
		return false
	}
	hp, err := c.prot.headerMasker(s, secret)
	if err != nil {
		return false
	}
	u, ok := unmask(hp, pkt, pnOffset, false, c.hdr)
	if !ok || u.first&0x18 != 0 {
		return false
	}
	k, err := c.prot.newGeneration(s, secret, hp)
	if err != nil {
		return false
	}
	var pns [3]uint64
	for _, pn := range pnCandidates(&pns, largest, u, true) {
		if plain, ok := openPayload(k, pkt, u, pn, c.plain); ok {
			c.keepPlain(plain)
			return true
		}
	}
	return false
}

// queue keeps a 1-RTT packet until the ClientHello completes, when
// there are secrets to look up then.
func (c *Conn) queue(fromClient bool, pkt []byte, t time.Time) {
	if c.secrets == nil || c.h == nil {
		c.stats.Undecryptable++
		return
	}
	c.hold(&c.pending, fromClient, pkt, t)
}

// lookupKeys asks for the traffic secrets of the ClientHello's random and
// derives 1-RTT keys for each cipher suite the secrets may belong to.
func (c *Conn) lookupKeys() {
	random, ok := c.hello.random()
	if !ok || c.secrets == nil || c.h == nil {
		c.keyState = keysMissing
		return
	}
	if c.early != nil {
		if es, ok := c.early(random); ok {
			for _, s := range suitesFor(es) {
				if k, err := c.prot.newKeys(s, slices.Clone(es)); err == nil {
					c.earlyKeys = append(c.earlyKeys, k)
				}
			}
		}
	}
	cs, ss, ok := c.secrets(random)
	if !ok {
		c.keyState = keysMissing
		if c.search != nil {
			if c.searchPairs = c.search(c.hello.done); len(c.searchPairs) > 0 {
				c.keyState = keysSearching
			}
		}
		return
	}
	c.install(cs, ss)
}

// install derives 1-RTT keys from a pair of traffic secrets for each
// cipher suite they may belong to.
func (c *Conn) install(cs, ss []byte) {
	suites := suitesFor(cs)
	if len(cs) != len(ss) || len(suites) == 0 {
		c.keyState = keysUnusable
		return
	}
	for _, s := range suites {
		ck, err1 := c.prot.newKeys(s, slices.Clone(cs))
		sk, err2 := c.prot.newKeys(s, slices.Clone(ss))
		if err1 != nil || err2 != nil {
			continue
		}
		c.client.app = append(c.client.app, &appKeys{cur: ck})
		c.server.app = append(c.server.app, &appKeys{cur: sk})
	}
	c.keyState = keysReady
}

// open1RTT decrypts a short header packet (try1RTT) and reads its frames;
// one that does not authenticate may be several merged (gsoSegments).
func (c *Conn) open1RTT(fromClient bool, pkt []byte, t time.Time) {
	d := c.dir(fromClient)
	if d.gaveUp {
		c.fail1RTT(d)
		return
	}
	if o, ok := c.try1RTT(d, pkt); ok {
		c.accept(d, o.ak, o.k, o.cidLen, o.pn)
		c.countDecrypted(fromClient)
		c.frames(fromClient, true, o.plain, t)
		return
	}
	if segs := c.gsoSegments(fromClient, pkt); segs != nil {
		for _, seg := range segs {
			c.open1RTT(fromClient, seg, t)
		}
		return
	}
	c.fail1RTT(d)
}

// opened is how a 1-RTT packet authenticated.
type opened struct {
	ak     *appKeys
	k      *keys
	cidLen int
	pn     uint64
	plain  []byte
}

// try1RTT tries what the capture does not tell until pkt, a short header
// packet of direction d, authenticates: the DCID length, the cipher suite,
// the key generation around a key update, and the packet number when the
// capture reordered packets. It records nothing but the plaintext buffer.
func (c *Conn) try1RTT(d *direction, pkt []byte) (opened, bool) {
	var lens [maxCIDLen + 2]int
	var pns [3]uint64
	for _, cidLen := range d.cidCandidates(&lens) {
		for _, ak := range d.app {
			u, ok := unmask(ak.cur.hp, pkt, 1+cidLen, false, c.hdr)
			// The reserved bits are zero in a valid packet (§17.3.1):
			// a cheap filter for a wrong length or suite.
			if !ok || u.first&0x18 != 0 {
				continue
			}
			for _, k := range ak.candidates(u.keyPhase()) {
				for _, pn := range pnCandidates(&pns, d.appLargest, u, d.succeeded) {
					if plain, ok := openPayload(k, pkt, u, pn, c.plain); ok {
						c.keepPlain(plain)
						return opened{ak, k, cidLen, pn, plain}, true
					}
				}
			}
		}
	}
	return opened{}, false
}

// fail1RTT counts a 1-RTT packet that authenticated with nothing tried.
func (c *Conn) fail1RTT(d *direction) {
	c.stats.Failed++
	c.failed1RTT++
	if !d.succeeded {
		if d.failures++; d.failures >= maxTrialFailures {
			d.gaveUp = true
		}
	}
}

// accept records what the first authenticating 1-RTT packets taught: the
// DCID length, the suite (the same both ways, so the other direction stops
// trying the rest), the key generation and the largest packet number.
func (c *Conn) accept(d *direction, ak *appKeys, k *keys, cidLen int, pn uint64) {
	c.decrypted1RTT++
	d.cidLen, d.cidKnown = cidLen, true
	d.appLargest = max(d.appLargest, int64(pn))
	if k == ak.next {
		// A key update (RFC 9001 §6.2): keep the old generation for
		// packets reordered across it.
		ak.prev, ak.cur, ak.next = ak.cur, ak.next, nil
		ak.phase = !ak.phase
	}
	if !d.succeeded {
		d.succeeded = true
		c.suiteUsed = k.suite
		c.client.keepSuite(k.suite)
		c.server.keepSuite(k.suite)
	}
}

// frames reads the frames of a decrypted packet; app is true for 0-RTT
// and 1-RTT packets. Only CRYPTO frames of client Initials, and STREAM,
// RESET_STREAM and NEW_CONNECTION_ID frames of 0-RTT and 1-RTT packets
// (where RFC 9000 §12.4 allows them) matter, besides CONNECTION_CLOSE,
// counted; the others are stepped over (§19).
func (c *Conn) frames(fromClient, app bool, plain []byte, t time.Time) {
	r := reader{b: plain}
	for !r.empty() {
		f, err := nextFrame(&r)
		switch err {
		case nil:
		case errFrameUnknown:
			c.stats.UnknownFrames++
			return
		default:
			c.stats.Malformed++
			return
		}
		switch {
		case f.typ == frameCrypto && !app && fromClient:
			c.hello.add(f.offset, f.data)
			if c.hello.done != nil && c.keyState == keysUnknown {
				c.helloReady = true
			}
		case f.typ == frameConnectionClose || f.typ == frameConnectionCloseApp:
			c.stats.Closes++
		case f.typ == frameNewConnectionID && app:
			// The sender issues an ID its peer may send to, on a new
			// path in particular (RFC 9000 §5.1.1, §9.5).
			c.learnCID(f.data, !fromClient)
		case app && (f.typ&^0x07 == frameStream || f.typ == frameResetStream):
			k := streamKey{id: f.stream, fromClient: fromClient}
			if !k.validSender() {
				c.stats.Malformed++
				continue
			}
			if f.typ == frameResetStream {
				c.streams.reset(k, f.offset, t)
			} else {
				c.streams.data(k, f.offset, f.data, f.fin, t)
			}
		}
	}
}

// keepPlain keeps a plaintext buffer that Open had to grow, for reuse.
func (c *Conn) keepPlain(plain []byte) {
	if cap(plain) > cap(c.plain) {
		c.plain = plain[:0]
	}
}

func (c *Conn) countDecrypted(fromClient bool) {
	if fromClient {
		c.stats.ClientPackets++
	} else {
		c.stats.ServerPackets++
	}
}

func (c *Conn) dir(fromClient bool) *direction {
	if fromClient {
		return &c.client
	}
	return &c.server
}
