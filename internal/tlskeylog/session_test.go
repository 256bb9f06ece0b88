package tlskeylog

import (
	"bytes"
	"cmp"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

var (
	clientMsgs = [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: trackaudit.test\r\n\r\n"),
		testData(1, 20000), // more than one record
		[]byte("bye"),
	}
	serverMsgs = [][]byte{
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 40003\r\n\r\n"),
		testData(2, 40000),
		[]byte("end"),
	}
)

// goCase is a crypto/tls client and server configuration to record.
type goCase struct {
	name    string
	version uint16   // both sides' only version
	suites  []uint16 // TLS 1.2 suites of both sides; nil for the defaults
	rsa     bool     // RSA certificate instead of ECDSA
	alpn    bool     // both offer "h2"
	hrr     bool     // the server makes the client retry with another group
	resume  bool     // record a second connection that resumes the first
	ech     bool     // the client hides testHost by Encrypted Client Hello
}

// record runs the case, each side sending its messages, and returns its
// connections (two when resuming) and the key log the client wrote.
func (c goCase) record(t testing.TB, clientMsgs, serverMsgs [][]byte) ([]goConn, string) {
	t.Helper()
	cert := ecdsaCert()
	if c.rsa {
		cert = rsaCert()
	}
	var keyLog bytes.Buffer
	client := &tls.Config{
		RootCAs: cert.pool, ServerName: testHost, KeyLogWriter: &keyLog,
		MinVersion: c.version, MaxVersion: c.version, CipherSuites: c.suites,
	}
	server := &tls.Config{
		Certificates: []tls.Certificate{cert.cert},
		MinVersion:   c.version, MaxVersion: c.version, CipherSuites: c.suites,
	}
	if c.alpn {
		client.NextProtos, server.NextProtos = []string{"h2", "http/1.1"}, []string{"h2"}
	}
	if c.hrr {
		client.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
		server.CurvePreferences = []tls.CurveID{tls.CurveP256}
	}
	if c.ech {
		list, key := echConfig(t)
		client.EncryptedClientHelloConfigList = list
		server.EncryptedClientHelloKeys = []tls.EncryptedClientHelloKey{key}
	}
	n := 1
	if c.resume {
		client.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		n = 2
	}
	var conns []goConn
	for i := range n {
		conn := runGo(t, client, server, clientMsgs, serverMsgs)
		if conn.state.ECHAccepted != c.ech {
			t.Fatalf("connection %d: ECHAccepted = %v", i, conn.state.ECHAccepted)
		}
		if c.resume && conn.state.DidResume != (i == 1) {
			t.Fatalf("connection %d: DidResume = %v", i, conn.state.DidResume)
		}
		conns = append(conns, conn)
	}
	log := keyLog.String()
	if c.resume && c.version <= tls.VersionTLS12 {
		log = addResumedMasterSecret(t, log, conns[1])
	}
	return conns, log
}

// echPublicName is the name an Encrypted Client Hello shows outside.
const echPublicName = "public.test"

// echConfig makes an ECH configuration (draft-ietf-tls-esni-22 §4:
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM) and returns it
// as the client's ECHConfigList and as the server's key.
func echConfig(t testing.TB) ([]byte, tls.EncryptedClientHelloKey) {
	t.Helper()
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddUint16(0xfe0d) // version
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(1)       // config_id
		b.AddUint16(0x0020) // kem_id
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(priv.PublicKey().Bytes()) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(0x0001) // kdf_id HKDF-SHA256
			b.AddUint16(0x0001) // aead_id AES-128-GCM
		})
		b.AddUint8(32) // maximum_name_length
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(echPublicName)) })
		b.AddUint16(0) // no extensions
	})
	config := b.BytesOrPanic()
	var list cryptobyte.Builder
	list.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(config) })
	return list.BytesOrPanic(), tls.EncryptedClientHelloKey{Config: config, PrivateKey: priv.Bytes()}
}

// addResumedMasterSecret adds the key log line of a resumed TLS 1.2
// connection: its client random with the master secret of the session it
// resumed (the only one in log). BoringSSL (Chrome), NSS (Firefox) and
// OpenSSL write this line on resumption; crypto/tls writes none, which the
// test checks so that it notices when that changes.
func addResumedMasterSecret(t testing.TB, log string, resumed goConn) string {
	t.Helper()
	if n := strings.Count(log, "CLIENT_RANDOM "); n != 1 {
		t.Fatalf("crypto/tls wrote %d CLIENT_RANDOM lines for a full and a resumed handshake, want 1", n)
	}
	master := strings.Fields(log[strings.Index(log, "CLIENT_RANDOM "):])[2]
	// The ClientHello random follows the record header (5 bytes), the
	// handshake header (4) and legacy_version (2).
	ch := directionBytes(resumed.chunks, true)
	return log + fmt.Sprintf("CLIENT_RANDOM %x %s\n", ch[11:11+randomLen], master)
}

// TestSessionGo records real crypto/tls connections and decrypts them,
// whole and re-cut, checking each direction's data and the Info.
func TestSessionGo(t *testing.T) {
	tests := []struct {
		goCase
		keyLog   func(string) string // edits the key log; nil keeps it
		wantALPN string
		wantName string // the server name the ClientHello shows; "" for testHost
	}{
		{goCase: goCase{name: "tls13 alpn", version: tls.VersionTLS13, alpn: true}, wantALPN: "h2"},
		{
			goCase:   goCase{name: "tls13 alpn without handshake secrets", version: tls.VersionTLS13, alpn: true},
			keyLog:   func(l string) string { return keyLogWithout(l, "HANDSHAKE") },
			wantALPN: "", // EncryptedExtensions cannot be read
		},
		{goCase: goCase{name: "tls13 rsa hello retry", version: tls.VersionTLS13, rsa: true, hrr: true}},
		{
			goCase: goCase{name: "tls13 hello retry without handshake secrets", version: tls.VersionTLS13, hrr: true},
			keyLog: func(l string) string { return keyLogWithout(l, "HANDSHAKE") },
		},
		{goCase: goCase{name: "tls13 resumed", version: tls.VersionTLS13, alpn: true, resume: true}, wantALPN: "h2"},
		// The key log names the inner ClientHello's random, which the
		// capture never shows: the keys are found by trying the log's.
		{goCase: goCase{name: "tls13 encrypted client hello", version: tls.VersionTLS13, alpn: true, ech: true}, wantALPN: "h2", wantName: echPublicName},
		{
			goCase:   goCase{name: "tls13 encrypted client hello without handshake secrets", version: tls.VersionTLS13, ech: true},
			keyLog:   func(l string) string { return keyLogWithout(l, "HANDSHAKE") },
			wantName: echPublicName,
		},
		{goCase: goCase{name: "tls12 ecdhe ecdsa aes128 gcm alpn", version: tls.VersionTLS12, alpn: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, wantALPN: "h2"},
		{goCase: goCase{name: "tls12 ecdhe ecdsa aes256 gcm", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}},
		{goCase: goCase{name: "tls12 ecdhe ecdsa chacha20", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}},
		{goCase: goCase{name: "tls12 ecdhe rsa aes128 gcm", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}},
		{goCase: goCase{name: "tls12 ecdhe rsa aes256 gcm alpn", version: tls.VersionTLS12, rsa: true, alpn: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}}, wantALPN: "h2"},
		{goCase: goCase{name: "tls12 ecdhe rsa chacha20", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}}},
		{goCase: goCase{name: "tls12 rsa kex aes128 gcm", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}},
		{goCase: goCase{name: "tls12 rsa kex aes256 gcm", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_256_GCM_SHA384}}},
		{goCase: goCase{name: "tls12 resumed", version: tls.VersionTLS12, alpn: true, resume: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, wantALPN: "h2"},
		// The CBC suites crypto/tls implements (RFC 5246 §6.2.3.2), all
		// MAC-then-encrypt: crypto/tls does not negotiate encrypt_then_mac
		// (openssl_test.go does). It lacks TLS_RSA_WITH_AES_256_CBC_SHA256
		// and the _SHA384 suites, which OpenSSL records there.
		{goCase: goCase{name: "tls12 ecdhe rsa aes128 cbc sha", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}},
		{goCase: goCase{name: "tls12 ecdhe rsa aes256 cbc sha alpn", version: tls.VersionTLS12, rsa: true, alpn: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}}, wantALPN: "h2"},
		{goCase: goCase{name: "tls12 ecdhe ecdsa aes128 cbc sha", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}},
		{goCase: goCase{name: "tls12 ecdhe ecdsa aes256 cbc sha", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}},
		{goCase: goCase{name: "tls12 rsa kex aes128 cbc sha", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}},
		{goCase: goCase{name: "tls12 rsa kex aes256 cbc sha", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_256_CBC_SHA}}},
		{goCase: goCase{name: "tls12 rsa kex aes128 cbc sha256", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA256}}},
		{goCase: goCase{name: "tls12 ecdhe ecdsa aes128 cbc sha256", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}},
		{goCase: goCase{name: "tls12 ecdhe rsa aes128 cbc sha256", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}},
		{goCase: goCase{name: "tls12 cbc resumed", version: tls.VersionTLS12, alpn: true, resume: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, wantALPN: "h2"},
		// TLS 1.1 (RFC 4346) has explicit IVs as TLS 1.2 has; TLS 1.0 (RFC
		// 2246) chains each record's IV from the record before. Both use
		// the MD5 and SHA-1 PRF.
		{goCase: goCase{name: "tls11 ecdhe rsa aes128 cbc sha", version: tls.VersionTLS11, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}},
		{goCase: goCase{name: "tls11 rsa kex aes256 cbc sha alpn", version: tls.VersionTLS11, rsa: true, alpn: true, suites: []uint16{tls.TLS_RSA_WITH_AES_256_CBC_SHA}}, wantALPN: "h2"},
		{goCase: goCase{name: "tls10 ecdhe ecdsa aes256 cbc sha", version: tls.VersionTLS10, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}},
		{goCase: goCase{name: "tls10 rsa kex aes128 cbc sha", version: tls.VersionTLS10, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}},
		{goCase: goCase{name: "tls10 resumed", version: tls.VersionTLS10, alpn: true, resume: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, wantALPN: "h2"},
	}
	wantClient, wantServer := bytes.Join(clientMsgs, nil), bytes.Join(serverMsgs, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns, log := tt.record(t, clientMsgs, serverMsgs)
			if tt.keyLog != nil {
				log = tt.keyLog(log)
			}
			k := mustParse(t, log)
			for i, conn := range conns {
				if tt.hrr && !bytes.Contains(directionBytes(conn.chunks, false), helloRetryRandom) {
					t.Fatal("the server sent no HelloRetryRequest")
				}
				want := Info{Version: conn.state.Version, CipherSuite: conn.state.CipherSuite, ServerName: cmp.Or(tt.wantName, testHost), ALPN: tt.wantALPN}
				if tt.alpn && conn.state.NegotiatedProtocol != "h2" {
					t.Fatalf("crypto/tls negotiated %q", conn.state.NegotiatedProtocol)
				}
				for _, sp := range splittings {
					f := feed(k, sp.split(conn.chunks))
					if f.state != Decrypting {
						t.Errorf("conn %d, %s: State() = %v, want %v", i, sp.name, f.state, Decrypting)
					}
					if f.info != want {
						t.Errorf("conn %d, %s: Info() = %+v, want %+v", i, sp.name, f.info, want)
					}
					if !bytes.Equal(f.client, wantClient) {
						t.Errorf("conn %d, %s: client data: got %d bytes, want %d (equal prefix %d)", i, sp.name, len(f.client), len(wantClient), commonPrefix(f.client, wantClient))
					}
					if !bytes.Equal(f.server, wantServer) {
						t.Errorf("conn %d, %s: server data: got %d bytes, want %d (equal prefix %d)", i, sp.name, len(f.server), len(wantServer), commonPrefix(f.server, wantServer))
					}
				}
			}
		})
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestSessionGoStops checks the states that end decryption, on real
// connections: the key log lacks the connection or holds wrong secrets,
// the suite or version is one we do not decrypt.
func TestSessionGoStops(t *testing.T) {
	tls13 := goCase{name: "tls13", version: tls.VersionTLS13, alpn: true}
	tls12 := goCase{name: "tls12", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	other := goCase{name: "other", version: tls.VersionTLS13}
	ech := goCase{name: "ech", version: tls.VersionTLS13, ech: true}
	cbc := goCase{name: "cbc", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}
	tls10 := goCase{name: "tls10", version: tls.VersionTLS10, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}
	tripleDES := goCase{name: "3des", version: tls.VersionTLS12, rsa: true, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA}}
	tls11TripleDES := goCase{name: "tls11 3des", version: tls.VersionTLS11, rsa: true, suites: []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}}
	tests := []struct {
		name        string
		conn        goCase
		keyLog      func(own, other string) string
		want        State
		wantVersion uint16
		wantSuite   uint16
	}{
		{"empty key log", tls13, func(string, string) string { return "" }, NoKeys, tls.VersionTLS13, 0},
		{"another connection's key log", tls13, func(_, o string) string { return o }, NoKeys, tls.VersionTLS13, 0},
		{"tls13 traffic secrets missing", tls13, func(l, _ string) string { return keyLogWithout(l, "TRAFFIC_SECRET_0") }, NoKeys, tls.VersionTLS13, 0},
		// Secrets logged under another random are searched for only
		// behind Encrypted Client Hello, which hides the logged random.
		{"tls13 secrets under another random, no ech", tls13, func(l, _ string) string { return relabel(l) }, NoKeys, tls.VersionTLS13, 0},
		{"tls13 only a tls12 line", tls13, func(l, _ string) string {
			return "CLIENT_RANDOM " + strings.Fields(l)[1] + " " + strings.Repeat("00", 48)
		}, NoKeys, tls.VersionTLS13, 0},
		{"tls12 another connection's key log", tls12, func(_, o string) string { return o }, NoKeys, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"tls13 wrong secrets", tls13, func(l, _ string) string { return corruptSecrets(l) }, Failed, tls.VersionTLS13, 0},
		{"tls13 wrong traffic secrets, no handshake secrets", tls13, func(l, _ string) string { return corruptSecrets(keyLogWithout(l, "HANDSHAKE")) }, Failed, tls.VersionTLS13, 0},
		{"tls12 wrong master secret", tls12, func(l, _ string) string { return corruptSecrets(l) }, Failed, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		// A wrong master secret makes the first CBC record (the client's
		// Finished) fail its padding or MAC check.
		{"tls12 cbc wrong master secret", cbc, func(l, _ string) string { return corruptSecrets(l) }, Failed, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
		{"tls10 cbc wrong master secret", tls10, func(l, _ string) string { return corruptSecrets(l) }, Failed, tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
		{"tls10 cbc another connection's key log", tls10, func(_, o string) string { return o }, NoKeys, tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
		{"tls12 3des suite", tripleDES, func(l, _ string) string { return l }, Unsupported, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA},
		{"tls11 3des suite", tls11TripleDES, func(l, _ string) string { return l }, Unsupported, tls.VersionTLS11, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA},
	}
	recorded := map[string]struct {
		conn goConn
		log  string
	}{}
	get := func(c goCase) (goConn, string) {
		r, ok := recorded[c.name]
		if !ok {
			conns, log := c.record(t, clientMsgs, serverMsgs)
			r.conn, r.log = conns[0], log
			recorded[c.name] = r
		}
		return r.conn, r.log
	}
	// A connection that ends while the key log is searched for its keys
	// (its handshake only, here, and a log with only application secrets,
	// which a handshake record cannot rule out) has none: End says so.
	conn, _ := get(ech)
	_, otherLog := get(other)
	s := mustParse(t, keyLogWithout(otherLog, "HANDSHAKE")).NewSession()
	for _, c := range conn.chunks[:4] {
		s.Feed(c.fromClient, c.data)
	}
	if st, end := s.State(), s.End(); st != Handshake || end != NoKeys || s.State() != NoKeys {
		t.Errorf("a short connection with another's key log: State() %v, then End() %v; want %v, then %v", st, end, Handshake, NoKeys)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, own := get(tt.conn)
			_, otherLog := get(other)
			k := mustParse(t, tt.keyLog(own, otherLog))
			for _, sp := range splittings[:2] {
				f := feed(k, sp.split(conn.chunks))
				if f.state != tt.want {
					t.Errorf("%s: State() = %v, want %v", sp.name, f.state, tt.want)
				}
				if len(f.client)+len(f.server) != 0 {
					t.Errorf("%s: decrypted %d+%d bytes, want none", sp.name, len(f.client), len(f.server))
				}
				if f.info.Version != tt.wantVersion || f.info.ServerName != testHost {
					t.Errorf("%s: Info() = %+v, want version %#x and server name %s", sp.name, f.info, tt.wantVersion, testHost)
				}
				if tt.wantSuite != 0 && f.info.CipherSuite != tt.wantSuite {
					t.Errorf("%s: CipherSuite = %#x, want %#x", sp.name, f.info.CipherSuite, tt.wantSuite)
				}
			}
		})
	}
}

// relabel logs every secret of l under another client random.
func relabel(l string) string {
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(l), "\n") {
		f := strings.Fields(line)
		fmt.Fprintf(&out, "%s %s %s\n", f[0], strings.Repeat("ee", randomLen), f[2])
	}
	return out.String()
}

// firstRecord returns the first TLS record of b.
func firstRecord(b []byte) []byte { return b[:recordHeaderLen+(int(b[3])<<8|int(b[4]))] }

// TestSessionBadInput feeds bytes that are not TLS, or TLS that breaks the
// rules, around a real ClientHello and ServerHello.
func TestSessionBadInput(t *testing.T) {
	conns, log := goCase{name: "tls13", version: tls.VersionTLS13}.record(t, clientMsgs, serverMsgs)
	k := mustParse(t, log)
	clientHello := firstRecord(directionBytes(conns[0].chunks, true))
	serverHello := firstRecord(directionBytes(conns[0].chunks, false))
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	c := func(b []byte) chunk { return chunk{true, b} }
	s := func(b []byte) chunk { return chunk{false, b} }
	bigHello := cat([]byte{22, 3, 1, 0x40, 0, 1, 1, 0, 1}, make([]byte, 1<<14-4)) // announces a 65537-byte ClientHello
	tests := []struct {
		name   string
		chunks []chunk
		want   State
	}{
		{"http request", []chunk{c([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))}, NotTLS},
		{"ssh banner from the server", []chunk{c(clientHello), s([]byte("SSH-2.0-OpenSSH_9.6\r\n"))}, NotTLS},
		{"server speaks first", []chunk{s([]byte("220 smtp.example ESMTP\r\n"))}, NotTLS},
		{"handshake record without a ClientHello", []chunk{c([]byte{22, 3, 1, 0, 4, 2, 0, 0, 0})}, NotTLS},
		{"empty first handshake record", []chunk{c([]byte{22, 3, 1, 0, 0})}, NotTLS},
		{"truncated ClientHello body", []chunk{c([]byte{22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0})}, NotTLS},
		{"sslv2 hello", []chunk{c([]byte{0x80, 0x2e, 1, 3, 1})}, NotTLS},
		{"first record too long", []chunk{c([]byte{22, 3, 1, 0x48, 0x01})}, NotTLS}, // 2^14 + 2049 bytes
		{"record too long after the ClientHello", []chunk{c(clientHello), c([]byte{23, 3, 3, 0xff, 0xff})}, Failed},
		{"record version 4.1", []chunk{c(clientHello), c([]byte{23, 4, 1, 0, 1, 0})}, Failed},
		{"ClientHello over 64 KiB", []chunk{c(bigHello)}, Failed},
		{"application data before the ServerHello", []chunk{c(clientHello), c([]byte{23, 3, 3, 0, 3, 1, 2, 3})}, Failed},
		{"ServerHello before the ClientHello", []chunk{s(serverHello)}, Failed},
		{"two ServerHellos", []chunk{c(clientHello), s(serverHello), s(serverHello)}, Failed},
		{"garbage record under tls 1.3 keys", []chunk{c(clientHello), s(serverHello), s([]byte{23, 3, 3, 0, 20}), s(make([]byte, 20))}, Failed},
		{"server refuses with an alert", []chunk{c(clientHello), s([]byte{21, 3, 3, 0, 2, 2, 40})}, Handshake},
		{"stopped stays stopped", []chunk{c([]byte("GET /")), c(clientHello), s(serverHello)}, NotTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := k.NewSession()
			for i, ch := range tt.chunks {
				if out := sess.Feed(ch.fromClient, ch.data); out != nil {
					t.Errorf("chunk %d: Feed returned %q, want nil", i, out)
				}
			}
			if got := sess.State(); got != tt.want {
				t.Errorf("State() = %v, want %v", got, tt.want)
			}
			for _, h := range []*halfConn{&sess.client, &sess.server} {
				if len(h.buf) > recordHeaderLen+maxRecordBody || len(h.hs.buf) > 4+maxHandshake {
					t.Errorf("buffers hold %d and %d bytes", len(h.buf), len(h.hs.buf))
				}
			}
		})
	}
}

func TestStateString(t *testing.T) {
	seen := map[string]State{}
	for st := Handshake; st <= Failed; st++ {
		s := st.String()
		// Lowercase, as reasons in a report are, except the acronym TLS.
		if s == "" || strings.ReplaceAll(s, "TLS", "tls") != strings.ToLower(s) || s == State(99).String() {
			t.Errorf("State(%d).String() = %q", st, s)
		}
		if prev, ok := seen[s]; ok {
			t.Errorf("states %d and %d both say %q", prev, st, s)
		}
		seen[s] = st
	}
}

// BenchmarkSearchMiss is the worst case of the key search: a TLS 1.3
// connection with Encrypted Client Hello none of a full key log's
// maxSearch entries belongs to (a key log from another browsing session),
// per connection.
func BenchmarkSearchMiss(b *testing.B) {
	conns, _ := goCase{name: "tls13 ech", version: tls.VersionTLS13, alpn: true, ech: true}.record(b, clientMsgs, serverMsgs)
	var log strings.Builder
	for i := range maxSearch {
		fmt.Fprintf(&log, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %064x %064x\n", i, i+1)
		fmt.Fprintf(&log, "SERVER_HANDSHAKE_TRAFFIC_SECRET %064x %064x\n", i, i+2)
		fmt.Fprintf(&log, "CLIENT_TRAFFIC_SECRET_0 %064x %064x\n", i, i+3)
		fmt.Fprintf(&log, "SERVER_TRAFFIC_SECRET_0 %064x %064x\n", i, i+4)
	}
	k, err := Parse(strings.NewReader(log.String()))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if f := feed(k, conns[0].chunks); f.state != NoKeys {
			b.Fatalf("state %v, want %v", f.state, NoKeys)
		}
	}
}
