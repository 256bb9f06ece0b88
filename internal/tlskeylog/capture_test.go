package tlskeylog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file holds the test plumbing: certificates, a recorder of the bytes
// each side writes, real crypto/tls connections over loopback TCP, and the
// feeding of recorded bytes into a Session.

const testHost = "trackaudit.test"

// chunk is what one side wrote in one call, as the wire carried it.
type chunk struct {
	fromClient bool
	data       []byte
}

// recorder keeps the chunks of both directions in the order they were
// written. A chunk is recorded before it is sent, so an answer is always
// recorded after what it answers, as in a capture.
type recorder struct {
	mu     sync.Mutex
	chunks []chunk
}

func (r *recorder) add(fromClient bool, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, chunk{fromClient, bytes.Clone(p)})
}

func (r *recorder) all() []chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chunk(nil), r.chunks...)
}

// recordingConn records what is written through it.
type recordingConn struct {
	net.Conn
	fromClient bool
	rec        *recorder
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.rec.add(c.fromClient, p)
	return c.Conn.Write(p)
}

// testCert is a self-signed certificate for testHost and the pool that
// trusts it.
type testCert struct {
	cert    tls.Certificate
	pool    *x509.CertPool
	certPEM []byte
	keyPEM  []byte
}

var (
	ecdsaCert = sync.OnceValue(func() testCert {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return newTestCert(k, &k.PublicKey)
	})
	rsaCert = sync.OnceValue(func() testCert {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return newTestCert(k, &k.PublicKey)
	})
)

func newTestCert(key any, pub any) testCert {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: testHost},
		DNSNames:              []string{testHost},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		panic(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return testCert{
		cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c},
		pool:    pool,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// testData returns n deterministic pseudo-random bytes.
func testData(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// goConn is one recorded crypto/tls connection.
type goConn struct {
	chunks []chunk
	state  tls.ConnectionState // the client's view
}

// runGo connects a crypto/tls client and server over loopback TCP; each
// sends its messages (concurrently with reading the other's), then both
// close. The client's config should carry a KeyLogWriter.
func runGo(t testing.TB, clientCfg, serverCfg *tls.Config, clientMsgs, serverMsgs [][]byte) goConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rec := &recorder{}
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		srvErr <- exchange(tls.Server(&recordingConn{c, false, rec}, serverCfg), serverMsgs, clientMsgs)
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cli := tls.Client(&recordingConn{raw, true, rec}, clientCfg)
	if err := exchange(cli, clientMsgs, serverMsgs); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	return goConn{chunks: rec.all(), state: cli.ConnectionState()}
}

// exchange writes send and reads (and checks) want on c, then closes it.
func exchange(c *tls.Conn, send, want [][]byte) error {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	wrote := make(chan error, 1)
	go func() {
		for _, m := range send {
			if _, err := c.Write(m); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	got := make([]byte, len(bytes.Join(want, nil)))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, bytes.Join(want, nil)) {
		return io.ErrUnexpectedEOF
	}
	return <-wrote
}

// fed is what a Session made of a whole recording.
type fed struct {
	client, server []byte // application data decrypted per direction
	state          State
	info           Info
}

func feed(k *KeyLog, chunks []chunk) fed {
	s := k.NewSession()
	var f fed
	for _, c := range chunks {
		out := s.Feed(c.fromClient, c.data)
		if c.fromClient {
			f.client = append(f.client, out...)
		} else {
			f.server = append(f.server, out...)
		}
	}
	f.state, f.info = s.End(), s.Info()
	return f
}

// splitting re-cuts a recording: the same bytes in the same order of
// directions, delivered in other pieces, as TCP reassembly may.
type splitting struct {
	name  string
	split func([]chunk) []chunk
}

var splittings = []splitting{
	{"as written", func(c []chunk) []chunk { return c }},
	{"1-byte", func(cs []chunk) []chunk {
		var out []chunk
		for _, c := range cs {
			for i := range c.data {
				out = append(out, chunk{c.fromClient, c.data[i : i+1]})
			}
		}
		return out
	}},
	{"random", func(cs []chunk) []chunk {
		// Merge runs of one direction, then cut at random points.
		var runs []chunk
		for _, c := range cs {
			if n := len(runs); n > 0 && runs[n-1].fromClient == c.fromClient {
				runs[n-1].data = append(runs[n-1].data, c.data...)
			} else {
				runs = append(runs, chunk{c.fromClient, bytes.Clone(c.data)})
			}
		}
		r := mrand.New(mrand.NewPCG(1, 2))
		var out []chunk
		for _, c := range runs {
			for d := c.data; len(d) > 0; {
				n := min(len(d), 1+r.IntN(5000))
				out = append(out, chunk{c.fromClient, d[:n]})
				d = d[n:]
			}
		}
		return out
	}},
}

// directionBytes concatenates one direction of a recording.
func directionBytes(cs []chunk, fromClient bool) []byte {
	var b []byte
	for _, c := range cs {
		if c.fromClient == fromClient {
			b = append(b, c.data...)
		}
	}
	return b
}

// keyLogWithout drops the key log lines whose label contains any of drop.
func keyLogWithout(log string, drop ...string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && containsAny(f[0], drop) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// corruptSecrets flips a bit in every secret of a key log.
func corruptSecrets(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 {
			last := f[2][len(f[2])-1]
			flipped := "0"
			if last == '0' {
				flipped = "1"
			}
			l = f[0] + " " + f[1] + " " + f[2][:len(f[2])-1] + flipped
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func mustParse(t testing.TB, log string) *KeyLog {
	t.Helper()
	k, err := Parse(strings.NewReader(log))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, log)
	}
	return k
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
