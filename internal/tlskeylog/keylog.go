// Package tlskeylog decrypts the TLS connections of a packet capture with the
// secrets of an NSS key log file, the file browsers and crypto/tls write when
// SSLKEYLOGFILE (or tls.Config.KeyLogWriter) is set.
//
// Parse reads the key log; a Session follows one TCP connection, fed the
// reassembled bytes of both directions, and returns the application data.
// Decrypted are TLS 1.3 (all five suites: AES-GCM, ChaCha20-Poly1305 and
// AES-CCM with 16- and 8-byte tags; with KeyUpdate, and with Encrypted
// Client Hello, whose secrets are logged under a client random the capture
// never shows and are found by trial), TLS 1.2 with AEAD suites (AES-GCM,
// ChaCha20-Poly1305, and AES-CCM and AES-CCM_8 of RSA, DHE-RSA and
// ECDHE-ECDSA key exchange) and with the AES-CBC suites of HMAC-SHA1,
// -SHA256 and -SHA384 (ECDHE or RSA key exchange), and TLS 1.0 and 1.1
// with the AES-CBC HMAC-SHA1 suites, all resumed or not, the CBC suites
// MAC-then-encrypt or encrypt-then-MAC (RFC 7366). Not decrypted, and
// reported by the session's State, never as an error: SSL 3.0, other CBC
// suites (3DES, Camellia, ...), RC4, the TLS 1.2 PSK suites,
// renegotiation. TLS 1.3 0-RTT early data is skipped.
package tlskeylog

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Labels of the NSS key log format (RFC 9850, "The SSLKEYLOGFILE Format for
// TLS"): each line is "label client_random secret", the last two in hex.
// Lines with other labels (the exporter secrets, ECH) are not needed for
// decrypting records and are skipped.
const (
	labelClientRandom    = "CLIENT_RANDOM"                   // TLS 1.2 master secret, 48 bytes
	labelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3 client_handshake_traffic_secret
	labelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3 server_handshake_traffic_secret
	labelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"         // TLS 1.3 client_application_traffic_secret_0
	labelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"         // TLS 1.3 server_application_traffic_secret_0
	labelClientEarly     = "CLIENT_EARLY_TRAFFIC_SECRET"     // TLS 1.3 client_early_traffic_secret (0-RTT)
)

const (
	randomLen       = 32    // ClientHello.random (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2)
	masterSecretLen = 48    // RFC 5246 §8.1
	maxLineLen      = 64000 // longer lines are not a key log
)

// KeyLog holds the secrets of a key log, by client random. It does not
// change after Parse, so sessions in several goroutines may share it.
type KeyLog struct {
	byRandom map[[randomLen]byte]*secrets
	// order lists the secrets in the order their client randoms first
	// appeared, for the search of a connection whose client random the
	// capture does not show (see searchKeys).
	order []*secrets
}

// secrets are the key log's secrets for one client random; nil when absent.
type secrets struct {
	random                           [randomLen]byte
	master                           []byte // TLS 1.2 master secret
	clientHandshake, serverHandshake []byte // TLS 1.3 handshake traffic secrets
	clientTraffic, serverTraffic     []byte // TLS 1.3 application traffic secrets, generation 0
	clientEarly                      []byte // TLS 1.3 early traffic secret (QUIC 0-RTT)
}

// ParseError is a malformed line of a known label.
type ParseError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong, lowercase
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads an NSS key log. Blank lines, comments (#) and lines with labels
// it does not use are skipped; a malformed line of a used label is a
// *ParseError naming the line. Lines may end in CRLF. When a client random
// and label appear twice, the later line wins.
func Parse(r io.Reader) (*KeyLog, error) {
	k := &KeyLog{byRandom: map[[randomLen]byte]*secrets{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	line := 0
	for sc.Scan() {
		line++
		if err := k.parseLine(sc.Text()); err != "" {
			return nil, &ParseError{Line: line, Msg: err}
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, &ParseError{Line: line + 1, Msg: fmt.Sprintf("longer than %d bytes", maxLineLen)}
		}
		return nil, fmt.Errorf("read key log: %w", err)
	}
	return k, nil
}

// parseLine adds one line's secret and returns what is wrong with it, or "".
func (k *KeyLog) parseLine(text string) string {
	text = strings.TrimSpace(text) // also drops the CR of CRLF
	if text == "" || text[0] == '#' {
		return ""
	}
	f := strings.Fields(text)
	label := f[0]
	switch label {
	case labelClientRandom, labelClientHandshake, labelServerHandshake, labelClientTraffic, labelServerTraffic, labelClientEarly:
	default:
		return ""
	}
	if len(f) != 3 {
		return label + " wants a client random and a secret"
	}
	cr, err := hex.DecodeString(f[1])
	if err != nil || len(cr) != randomLen {
		return "client random is not 32 bytes of hex"
	}
	secret, err := hex.DecodeString(f[2])
	if err != nil {
		return "secret is not hex"
	}
	if label == labelClientRandom {
		if len(secret) != masterSecretLen {
			return "master secret is not 48 bytes"
		}
	} else if len(secret) != 32 && len(secret) != 48 {
		// TLS 1.3 secrets are as long as the suite's hash: SHA-256 or SHA-384.
		return "secret is not 32 or 48 bytes"
	}
	s := k.entry([randomLen]byte(cr))
	switch label {
	case labelClientRandom:
		s.master = secret
	case labelClientHandshake:
		s.clientHandshake = secret
	case labelServerHandshake:
		s.serverHandshake = secret
	case labelClientTraffic:
		s.clientTraffic = secret
	case labelServerTraffic:
		s.serverTraffic = secret
	case labelClientEarly:
		s.clientEarly = secret
	}
	return ""
}

// entry returns the secrets of a client random, added empty when new.
func (k *KeyLog) entry(cr [randomLen]byte) *secrets {
	s := k.byRandom[cr]
	if s == nil {
		s = &secrets{random: cr}
		k.byRandom[cr] = s
		k.order = append(k.order, s)
	}
	return s
}

// Len is the number of client randoms with at least one usable secret.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.byRandom)
}

// lookup returns the secrets for a client random, or nil. A nil KeyLog has none.
func (k *KeyLog) lookup(clientRandom []byte) *secrets {
	if k == nil || len(clientRandom) != randomLen {
		return nil
	}
	return k.byRandom[[randomLen]byte(clientRandom)]
}

// TrafficSecrets returns the TLS 1.3 application traffic secrets of
// generation 0 (labels CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0)
// for a ClientHello random, as QUIC needs them (RFC 9001 §5.1); ok is
// false unless the key log holds both.
func (k *KeyLog) TrafficSecrets(clientRandom []byte) (client, server []byte, ok bool) {
	s := k.lookup(clientRandom)
	if s == nil || s.clientTraffic == nil || s.serverTraffic == nil {
		return nil, nil, false
	}
	return s.clientTraffic, s.serverTraffic, true
}

// RecentTrafficSecrets returns the (client, server) application traffic
// secret pairs of the n client randoms logged last that have both, newest
// first: the candidates for a QUIC connection whose ClientHello random
// has none, as with Encrypted Client Hello (see searchKeys for TLS).
func (k *KeyLog) RecentTrafficSecrets(n int) [][2][]byte {
	if k == nil {
		return nil
	}
	var out [][2][]byte
	for i := len(k.order) - 1; i >= 0 && len(out) < n; i-- {
		if s := k.order[i]; s.clientTraffic != nil && s.serverTraffic != nil {
			out = append(out, [2][]byte{s.clientTraffic, s.serverTraffic})
		}
	}
	return out
}

// EarlySecret returns the TLS 1.3 client early traffic secret (label
// CLIENT_EARLY_TRAFFIC_SECRET) for a ClientHello random: QUIC's 0-RTT
// keys derive from it (RFC 9001 §5.1).
func (k *KeyLog) EarlySecret(clientRandom []byte) ([]byte, bool) {
	s := k.lookup(clientRandom)
	if s == nil || s.clientEarly == nil {
		return nil, false
	}
	return s.clientEarly, true
}

// Merge returns a key log holding the secrets of a and b; where both have
// a secret for the same client random and label, b's wins. Neither is
// changed, and either may be nil.
func Merge(a, b *KeyLog) *KeyLog {
	k := &KeyLog{byRandom: make(map[[randomLen]byte]*secrets, a.Len()+b.Len())}
	for _, from := range []*KeyLog{a, b} {
		if from == nil {
			continue
		}
		for _, s := range from.order {
			into := k.entry(s.random)
			for _, f := range [][2]*[]byte{
				{&into.master, &s.master},
				{&into.clientHandshake, &s.clientHandshake}, {&into.serverHandshake, &s.serverHandshake},
				{&into.clientTraffic, &s.clientTraffic}, {&into.serverTraffic, &s.serverTraffic},
				{&into.clientEarly, &s.clientEarly},
			} {
				if *f[1] != nil {
					*f[0] = *f[1]
				}
			}
		}
	}
	return k
}
