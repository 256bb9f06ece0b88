package tlskeylog

// State says how far a Session got and, once it stopped, why.
type State int

const (
	// Handshake: the keys are not known or not yet confirmed by a record
	// that passed authentication.
	Handshake State = iota
	// Decrypting: records pass authentication and application data flows.
	Decrypting
	// NoKeys: the key log has no secrets (or not all the needed ones) for
	// this connection's client random.
	NoKeys
	// Unsupported: a protocol version, cipher suite or feature
	// (renegotiation in TLS 1.0 to 1.2) this package does not decrypt.
	Unsupported
	// NotTLS: the bytes are not the start of a TLS connection.
	NotTLS
	// Failed: a record failed authentication (a wrong secret or corrupt
	// capture) or broke the protocol, or the directions were fed out of
	// order (a server's encrypted record before the ClientHello, say).
	Failed
)

// String is a short lowercase reason for a report.
func (s State) String() string {
	switch s {
	case Handshake:
		return "TLS handshake not complete"
	case Decrypting:
		return "decrypted"
	case NoKeys:
		return "no keys for this connection in the key log"
	case Unsupported:
		return "TLS version or cipher suite not supported for decryption"
	case NotTLS:
		return "not TLS"
	case Failed:
		return "decryption failed: wrong key or corrupt record"
	}
	return "unknown state"
}

// Info is what the handshake told about the connection; fields are zero
// until seen.
type Info struct {
	// Version is the negotiated protocol version as on the wire and in
	// crypto/tls: 0x0301 TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2, 0x0304
	// TLS 1.3; read from the ServerHello.
	Version uint16
	// CipherSuite is the IANA id of the negotiated suite, from the
	// ServerHello (crypto/tls.CipherSuiteName names it).
	CipherSuite uint16
	// ServerName is the SNI host name of the ClientHello; empty when absent
	// or not printable ASCII.
	ServerName string
	// ALPN is the application protocol the server selected: from the TLS 1.2
	// ServerHello, or the TLS 1.3 EncryptedExtensions, which is readable
	// only when the key log holds the handshake secrets.
	ALPN string
}

// maxTrials bounds the TLS 1.3 records skipped before one passes
// authentication, when the key log lacks a handshake secret (the encrypted
// handshake is skipped) or the client offered early data (0-RTT records are
// skipped): a server flight of EncryptedExtensions, Certificate (split over
// a few records when large), CertificateVerify and Finished fits.
const maxTrials = 8

// Session decrypts one TCP connection. It is not safe for concurrent use.
type Session struct {
	log   *KeyLog
	state State
	info  Info
	out   []byte

	client, server halfConn

	clientRandom, serverRandom []byte // nil until the hellos
	earlyData                  bool   // the ClientHello offered 0-RTT data
	ech                        bool   // the ClientHello carried an ECH extension
	suite                      suite  // negotiated TLS 1.3 suite, once Info.Version is set
	etm                        bool   // the ServerHello negotiated encrypt_then_mac (RFC 7366)
	searchLeft                 int    // records searchKeys may still try; 0 when not searching
}

// NewSession starts decrypting one TCP connection with the secrets of k
// (which may be nil: no secrets).
func (k *KeyLog) NewSession() *Session {
	return &Session{log: k, client: halfConn{fromClient: true}}
}

// State says how far the session got; see State.
func (s *Session) State() State { return s.state }

// End tells the session that its connection ended and returns the final
// State: a session still searching the key log for its secrets (see
// searchKeys) found none, NoKeys.
func (s *Session) End() State {
	if s.searchLeft > 0 && s.active() {
		s.stop(NoKeys)
	}
	return s.state
}

// Info returns what the handshake told so far.
func (s *Session) Info() Info { return s.info }

// Feed takes the next in-order bytes of one direction of the connection
// (fromClient: client to server), in chunks of any size, the two
// directions interleaved as they were captured (so the ClientHello comes
// before the server's encrypted records and the ServerHello before the
// client's). It returns the application data decrypted from those bytes, in
// order; the slice is valid until the next call. Bad or undecryptable input
// is never an error: the session stops decrypting, returns nil from then on,
// and State says why. Buffering is bounded: one partial record and one
// handshake message of at most 64 KiB per direction.
func (s *Session) Feed(fromClient bool, data []byte) []byte {
	s.out = s.out[:0]
	h := &s.server
	if fromClient {
		h = &s.client
	}
	for len(data) > 0 && s.active() {
		rec, rest, ok := h.next(data)
		if !ok {
			if h.seen {
				s.stop(Failed)
			} else {
				s.stop(NotTLS)
			}
			break
		}
		data = rest
		if rec != nil {
			s.record(h, rec)
		}
	}
	if len(s.out) == 0 {
		return nil
	}
	return s.out
}

func (s *Session) active() bool { return s.state == Handshake || s.state == Decrypting }

// stop ends decryption for good and frees the buffers.
func (s *Session) stop(st State) {
	s.state, s.searchLeft = st, 0
	s.client = halfConn{fromClient: true}
	s.server = halfConn{}
}

// record handles one whole record of direction h.
func (s *Session) record(h *halfConn, rec []byte) {
	typ := rec[0]
	if !h.seen {
		h.seen = true
		want := byte(typeServerHello)
		if h.fromClient {
			want = typeClientHello
		}
		if typ == recordHandshake && (len(rec) == recordHeaderLen || rec[recordHeaderLen] != want) {
			s.stop(NotTLS)
			return
		}
	}
	switch {
	case h.cipher != nil && (s.beforeTLS13() || typ == recordApplicationData):
		s.decrypt(h, rec)
	case typ == recordHandshake:
		s.plainHandshake(h, rec[recordHeaderLen:])
	case typ == recordChangeCipherSpec:
		// TLS 1.0 to 1.2: the following records are protected (RFC 5246
		// §7.1). TLS 1.3, or before the ServerHello: the middlebox
		// compatibility message, to be ignored (RFC 8446 §5, Appendix D.4).
		if s.beforeTLS13() {
			if h.pending == nil {
				s.stop(Failed)
				return
			}
			h.cipher, h.pending = h.pending, nil
		}
	case typ == recordApplicationData && s.searchLeft > 0:
		s.searchKeys(h, rec)
	case typ == recordApplicationData:
		if h.fromClient && s.earlyData && s.info.Version == 0 {
			return // 0-RTT data (RFC 8446 §4.2.10), which we do not decrypt
		}
		s.stop(Failed) // application data before any keys
	}
	// Plaintext alerts (a refused handshake) and heartbeats carry nothing.
}

// plainHandshake reads the unprotected handshake messages: the hellos.
func (s *Session) plainHandshake(h *halfConn, p []byte) {
	err := h.hs.add(p, func(typ byte, body []byte) bool {
		switch {
		case typ == typeClientHello && h.fromClient:
			return s.clientHello(body)
		case typ == typeServerHello && !h.fromClient:
			return s.serverHello(body)
		}
		return true
	})
	if err != nil {
		s.stop(Failed)
	}
}

// clientHello records the client random; a second ClientHello (after a
// HelloRetryRequest) carries the same one (RFC 8446 §4.1.2).
func (s *Session) clientHello(body []byte) bool {
	if s.clientRandom != nil {
		return true
	}
	ch, ok := parseClientHello(body)
	if !ok {
		s.stop(NotTLS)
		return false
	}
	s.clientRandom = bytesClone(ch.random)
	s.info.ServerName = ch.serverName
	s.earlyData, s.ech = ch.earlyData, ch.ech
	return true
}

// serverHello learns version and suite and, when the key log has the
// secrets, sets up the keys of both directions.
func (s *Session) serverHello(body []byte) bool {
	sh, ok := parseServerHello(body)
	switch {
	case !ok:
		s.stop(NotTLS)
		return false
	case isHelloRetry(sh.random):
		return true // the real ServerHello follows the client's second ClientHello
	case s.info.Version != 0 || s.clientRandom == nil:
		s.stop(Failed) // a second ServerHello, or one before the ClientHello
		return false
	}
	s.serverRandom = bytesClone(sh.random)
	s.info.Version, s.info.CipherSuite, s.etm = sh.version, sh.cipherSuite, sh.etm
	if sh.alpn != "" {
		s.info.ALPN = sh.alpn
	}
	switch sh.version {
	case versionTLS13:
		s.start13()
	case versionTLS10, versionTLS11, versionTLS12:
		s.start12()
	default:
		s.stop(Unsupported)
	}
	return s.active()
}

// beforeTLS13 reports whether the negotiated version is TLS 1.0, 1.1 or
// 1.2, whose records show their content type and whose keys change at a
// ChangeCipherSpec (RFC 5246 §6.2, §7.1).
func (s *Session) beforeTLS13() bool {
	return s.info.Version >= versionTLS10 && s.info.Version <= versionTLS12
}

// start12 derives the TLS 1.0 to 1.2 keys, taken over at each
// ChangeCipherSpec. The key log gives the master secret of full and
// resumed handshakes alike, with or without the extended master secret.
func (s *Session) start12() {
	keys := s.keys12()
	if keys == nil {
		s.stop(Unsupported)
		return
	}
	sec := s.log.lookup(s.clientRandom)
	if sec == nil || sec.master == nil {
		s.stop(NoKeys)
		return
	}
	c, sv, err := keys(sec.master, s.clientRandom, s.serverRandom)
	if err != nil {
		s.stop(Failed)
		return
	}
	s.client.pending, s.server.pending = c, sv
}

// keys12 returns the key derivation of the negotiated TLS 1.0 to 1.2
// suite, or nil when we do not decrypt it: the AEAD suites exist in TLS
// 1.2 only, the CBC suites (cbc.go) in the versions that define them.
func (s *Session) keys12() func(master, clientRandom, serverRandom []byte) (client, server opener, err error) {
	v := s.info.Version
	if su, ok := suites12[s.info.CipherSuite]; ok && v == versionTLS12 {
		return su.keys12
	}
	if su, ok := suitesCBC[s.info.CipherSuite]; ok && su.allows(v) {
		return func(master, clientRandom, serverRandom []byte) (opener, opener, error) {
			return su.keys(v, s.etm, master, clientRandom, serverRandom)
		}
	}
	return nil
}

// start13 installs the TLS 1.3 keys of both directions: the handshake keys
// when the key log has them, else the application keys, found by trial.
// Every record after the ServerHello is protected (RFC 8446 §2).
func (s *Session) start13() {
	su, ok := suites13[s.info.CipherSuite]
	if !ok {
		s.stop(Unsupported)
		return
	}
	s.suite = su
	s.client.hs.reset()
	s.server.hs.reset()
	sec := s.log.lookup(s.clientRandom)
	switch {
	case sec == nil && s.ech && s.log.Len() > 0:
		// With Encrypted Client Hello the key log is keyed by the inner
		// ClientHello's random, which the capture never shows. Without
		// the extension (an app other than the browser) the random shown
		// is the one, so no search is worth its cost.
		s.searchLeft = 2 * maxTrials
	case sec == nil || sec.clientTraffic == nil || sec.serverTraffic == nil:
		s.stop(NoKeys)
	default:
		s.use13(sec, true, true)
	}
}

// use13 installs the TLS 1.3 keys of sec for both directions, each with
// its handshake secret, or, where that is not wanted (a direction whose
// encrypted handshake went by unread), with the application secret found
// by trial (install13).
func (s *Session) use13(sec *secrets, clientHandshake, serverHandshake bool) {
	ch, sh := sec.clientHandshake, sec.serverHandshake
	if !clientHandshake {
		ch = nil
	}
	if !serverHandshake {
		sh = nil
	}
	if !s.install13(&s.client, ch, sec.clientTraffic) || !s.install13(&s.server, sh, sec.serverTraffic) {
		s.stop(Failed)
		return
	}
	if s.earlyData {
		s.client.trials = maxTrials
	}
}

// maxSearch bounds the key log entries searchKeys tries: the most recently
// logged ones, where a capture's connections usually are.
const maxSearch = 1024

// searchKeys finds the secrets of a TLS 1.3 connection whose client random
// has none in the key log (Encrypted Client Hello hides the random the
// secrets were logged under) by trying the log's entries on the protected
// records: an entry with handshake secrets on the server's first one (its
// EncryptedExtensions), an entry with application secrets only on each
// record of either direction until one opens. Only the right secret opens
// a record (AEAD authentication). Records that open with no entry are
// skipped (the encrypted handshake, 0-RTT data). When every entry is ruled
// out, or none opened 2*maxTrials records, the session stops with NoKeys.
func (s *Session) searchKeys(h *halfConn, rec []byte) {
	serverFirst := !h.fromClient && h.searched == 0
	h.searched++
	s.searchLeft--
	scratch := make([]byte, 0, len(rec))
	opens := func(secret []byte) bool {
		c, err := s.suite.cipher13(secret)
		if err != nil {
			return false // a secret of another hash
		}
		_, err = c.open(scratch, rec)
		return err == nil
	}
	trafficOnly := false // entries left that only application secrets can rule out
	entries := s.log.order[max(0, len(s.log.order)-maxSearch):]
	for i := len(entries) - 1; i >= 0; i-- {
		sec := entries[i]
		if sec.clientTraffic == nil || sec.serverTraffic == nil {
			continue
		}
		if sec.clientHandshake != nil && sec.serverHandshake != nil {
			if serverFirst && opens(sec.serverHandshake) {
				s.found(h, rec, sec, true)
				return
			}
			continue
		}
		trafficOnly = true
		traffic := sec.serverTraffic
		if h.fromClient {
			traffic = sec.clientTraffic
		}
		if opens(traffic) {
			s.found(h, rec, sec, false)
			return
		}
	}
	if s.searchLeft == 0 || serverFirst && !trafficOnly {
		s.stop(NoKeys)
	}
}

// found installs the secrets searchKeys found, with or without their
// handshake secrets, and decrypts the record that told them.
func (s *Session) found(h *halfConn, rec []byte, sec *secrets, withHandshake bool) {
	s.searchLeft = 0
	if s.use13(sec, withHandshake, withHandshake); s.active() {
		s.decrypt(h, rec)
	}
}

// install13 sets the first TLS 1.3 keys of direction h.
func (s *Session) install13(h *halfConn, handshake, traffic []byte) bool {
	secret := handshake
	if secret == nil {
		secret = traffic
		h.trials = maxTrials // the encrypted handshake does not open with these
	} else {
		h.appSecret = traffic
	}
	c, err := s.suite.cipher13(secret)
	if err != nil {
		return false
	}
	h.cipher, h.secret = c, secret
	return true
}

// decrypt opens a protected record of h and acts on its content.
func (s *Session) decrypt(h *halfConn, rec []byte) {
	n := len(s.out)
	out, err := h.cipher.open(s.out, rec)
	if err != nil {
		if !h.opened && h.trials > 0 {
			h.trials-- // not sealed with this key: encrypted handshake or 0-RTT data
			return
		}
		s.stop(Failed)
		return
	}
	h.opened, h.trials = true, 0
	if s.state == Handshake {
		s.state = Decrypting
	}
	plain, typ := out[n:], rec[0]
	if s.info.Version == versionTLS13 {
		// TLSInnerPlaintext = content || ContentType type || zeros (RFC 8446 §5.2, §5.4).
		i := len(plain) - 1
		for i >= 0 && plain[i] == 0 {
			i--
		}
		if i < 0 {
			s.stop(Failed) // no content type: unexpected_message
			return
		}
		plain, typ = plain[:i], plain[i]
	}
	switch typ {
	case recordApplicationData:
		s.out = out[:n+len(plain)]
		return
	case recordHandshake:
		if s.info.Version == versionTLS13 {
			s.handshake13(h, plain)
		}
		// TLS 1.2: the first one is Finished; later ones start a
		// renegotiation, which fails at its ChangeCipherSpec below.
	case recordChangeCipherSpec:
		if s.beforeTLS13() {
			s.stop(Unsupported) // renegotiation changes the keys
		}
	}
	// Alerts (close_notify) and heartbeats carry no application data.
	s.out = out[:n]
}

// handshake13 reads the protected TLS 1.3 handshake messages of h: ALPN
// from EncryptedExtensions, Finished (after which the application keys
// apply, RFC 8446 §7.1) and KeyUpdate (RFC 8446 §4.6.3). NewSessionTicket
// and the rest are skipped.
func (s *Session) handshake13(h *halfConn, p []byte) {
	err := h.hs.add(p, func(typ byte, body []byte) bool {
		switch typ {
		case typeEncryptedExtensions:
			if !h.fromClient && h.appSecret != nil {
				if alpn := parseEncryptedExtensions(body); alpn != "" {
					s.info.ALPN = alpn
				}
			}
		case typeFinished:
			// A Finished under the application keys answers a
			// post-handshake CertificateRequest and changes nothing.
			h.rekey = h.rekey || h.appSecret != nil
		case typeKeyUpdate:
			h.rekey = h.rekey || h.appSecret == nil
		}
		return true
	})
	if err != nil {
		s.stop(Failed)
		return
	}
	if !h.rekey {
		return
	}
	// Key changes happen at record boundaries (RFC 8446 §5.1).
	h.rekey = false
	next := h.appSecret
	if next == nil {
		if next, err = s.suite.nextSecret(h.secret); err != nil {
			s.stop(Failed)
			return
		}
	}
	c, err := s.suite.cipher13(next)
	if err != nil {
		s.stop(Failed)
		return
	}
	h.cipher, h.secret, h.appSecret = c, next, nil
	h.hs.reset()
}

func bytesClone(b []byte) []byte { return append([]byte(nil), b...) }
