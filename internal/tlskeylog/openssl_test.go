package tlskeylog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSessionOpenSSL decrypts connections between `openssl s_client` and
// `openssl s_server`, recorded by a loopback relay: the TLS 1.3 suites Go
// does not let a test choose (ChaCha20-Poly1305, AES-256-GCM) or lacks
// (AES-CCM, AES-CCM_8), the TLS 1.2 AES-CCM and AES-CCM_8 suites, KeyUpdates
// in both directions (the "k"/"K" commands of s_client and s_server), 0-RTT
// early data (skipped, not decrypted), TLS 1.2 resumption, for which
// OpenSSL, unlike crypto/tls, logs the resumed connection's client random,
// a TLS 1.2 renegotiation (s_server's "r"), which stops decryption as
// Unsupported after the data before it, and CBC suites in TLS 1.0 to 1.2,
// with encrypt_then_mac (RFC 7366), which OpenSSL negotiates by default
// and crypto/tls never, and without (-no_etm), including those crypto/tls
// lacks (AES256-SHA256 and the _SHA384 ones). Skipped without openssl,
// except under CI=true.
func TestSessionOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but openssl is not installed: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	tls13 := func(suite string) []string { return []string{"-tls1_3", "-ciphersuites", suite} }
	// OpenSSL 3.2 and later allow the CCM_8 suites, with their 8-byte
	// tags, only at security level 0, which for TLS 1.3 too is set in
	// the TLS 1.2 cipher list.
	ccm8 := func(args []string) []string {
		return append(args[:len(args):len(args)], "-cipher", "DEFAULT:@SECLEVEL=0")
	}
	tls12 := func(suite string, more ...string) []string {
		return append([]string{"-tls1_2", "-cipher", suite}, more...)
	}
	// OpenSSL 3 allows TLS 1.0 and 1.1 only at security level 0.
	legacy := func(version, suite string, more ...string) []string {
		return append([]string{version, "-cipher", suite + ":@SECLEVEL=0"}, more...)
	}
	tests := []struct {
		name    string
		tls     []string // protocol and suite flags for both sides
		version uint16
		suite   uint16
		rsa     bool // the server has an RSA certificate, not ECDSA
		script  script
		resume  bool // a second connection resumes the first
		early   bool // the second connection sends early data
	}{
		{name: "tls13 chacha20 key updates", tls: tls13("TLS_CHACHA20_POLY1305_SHA256"), version: 0x0304, suite: 0x1303, script: keyUpdates},
		{name: "tls13 aes256 key updates", tls: tls13("TLS_AES_256_GCM_SHA384"), version: 0x0304, suite: 0x1302, script: keyUpdates},
		{name: "tls13 resumed with early data", tls: tls13("TLS_AES_128_GCM_SHA256"), version: 0x0304, suite: 0x1301, resume: true, early: true},
		{name: "tls13 aes128 ccm key updates", tls: tls13("TLS_AES_128_CCM_SHA256"), version: 0x0304, suite: 0x1304, script: keyUpdates},
		{name: "tls13 aes128 ccm8 key updates", tls: ccm8(tls13("TLS_AES_128_CCM_8_SHA256")), version: 0x0304, suite: 0x1305, script: keyUpdates},
		{name: "tls13 aes128 ccm8 resumed with early data", tls: ccm8(tls13("TLS_AES_128_CCM_8_SHA256")), version: 0x0304, suite: 0x1305, resume: true, early: true},
		{name: "tls12 resumed", tls: tls12("ECDHE-ECDSA-AES256-GCM-SHA384"), version: 0x0303, suite: 0xC02C, resume: true},
		{name: "tls12 renegotiation", tls: tls12("ECDHE-ECDSA-CHACHA20-POLY1305"), version: 0x0303, suite: 0xCCA9, script: renegotiation},
		{name: "tls12 cbc sha384 encrypt-then-mac", tls: tls12("ECDHE-ECDSA-AES256-SHA384"), version: 0x0303, suite: 0xC024},
		{name: "tls12 cbc sha384 mac-then-encrypt", tls: tls12("ECDHE-ECDSA-AES256-SHA384", "-no_etm"), version: 0x0303, suite: 0xC024},
		{name: "tls12 cbc ecdhe rsa sha384 encrypt-then-mac", tls: tls12("ECDHE-RSA-AES256-SHA384"), version: 0x0303, suite: 0xC028, rsa: true},
		{name: "tls12 cbc rsa kex sha256 mac-then-encrypt", tls: tls12("AES256-SHA256", "-no_etm"), version: 0x0303, suite: 0x003D, rsa: true},
		{name: "tls12 cbc rsa kex sha256 encrypt-then-mac", tls: tls12("AES256-SHA256"), version: 0x0303, suite: 0x003D, rsa: true},
		{name: "tls12 cbc resumed encrypt-then-mac", tls: tls12("ECDHE-ECDSA-AES128-SHA"), version: 0x0303, suite: 0xC009, resume: true},
		{name: "tls12 cbc renegotiation", tls: tls12("ECDHE-ECDSA-AES128-SHA256"), version: 0x0303, suite: 0xC023, script: renegotiation},
		{name: "tls12 dhe rsa aes128 gcm", tls: tls12("DHE-RSA-AES128-GCM-SHA256"), version: 0x0303, suite: 0x009E, rsa: true},
		{name: "tls12 dhe rsa chacha20", tls: tls12("DHE-RSA-CHACHA20-POLY1305"), version: 0x0303, suite: 0xCCAA, rsa: true},
		{name: "tls12 ecdhe ecdsa aes128 ccm", tls: tls12("ECDHE-ECDSA-AES128-CCM"), version: 0x0303, suite: 0xC0AC},
		{name: "tls12 ecdhe ecdsa aes256 ccm8 resumed", tls: tls12("ECDHE-ECDSA-AES256-CCM8:@SECLEVEL=0"), version: 0x0303, suite: 0xC0AF, resume: true},
		{name: "tls12 dhe rsa aes256 ccm", tls: tls12("DHE-RSA-AES256-CCM"), version: 0x0303, suite: 0xC09F, rsa: true},
		{name: "tls12 rsa kex aes128 ccm8", tls: tls12("AES128-CCM8:@SECLEVEL=0"), version: 0x0303, suite: 0xC0A0, rsa: true},
		{name: "tls12 dhe rsa cbc sha256 mac-then-encrypt", tls: tls12("DHE-RSA-AES256-SHA256", "-no_etm"), version: 0x0303, suite: 0x006B, rsa: true},
		{name: "tls11 dhe rsa cbc encrypt-then-mac", tls: legacy("-tls1_1", "DHE-RSA-AES128-SHA"), version: 0x0302, suite: 0x0033, rsa: true},
		{name: "tls11 cbc encrypt-then-mac", tls: legacy("-tls1_1", "ECDHE-ECDSA-AES256-SHA"), version: 0x0302, suite: 0xC00A},
		{name: "tls11 cbc mac-then-encrypt", tls: legacy("-tls1_1", "AES128-SHA", "-no_etm"), version: 0x0302, suite: 0x002F, rsa: true},
		// OpenSSL sends an empty record before each TLS 1.0 CBC record
		// of data, against chosen-plaintext attacks on the chained IV.
		{name: "tls10 cbc resumed encrypt-then-mac", tls: legacy("-tls1", "ECDHE-ECDSA-AES128-SHA"), version: 0x0301, suite: 0xC009, resume: true},
		{name: "tls10 cbc mac-then-encrypt", tls: legacy("-tls1", "ECDHE-RSA-AES256-SHA", "-no_etm"), version: 0x0301, suite: 0xC014, rsa: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isTLS13 := tt.version == 0x0304
			_, isCBC := suitesCBC[tt.suite]
			// OpenSSL offers and accepts encrypt_then_mac unless told
			// not to, and uses it only with a CBC suite (RFC 7366 §3).
			wantETM := isCBC && !slices.Contains(tt.tls, "-no_etm")
			serverArgs := tt.tls
			if tt.early {
				serverArgs = append(serverArgs[:len(serverArgs):len(serverArgs)], "-early_data")
			}
			cert := ecdsaCert()
			if tt.rsa {
				cert = rsaCert()
			}
			o := startOpenSSLServer(t, cert, serverArgs, 1+btoi(tt.resume))
			var conns [][]chunk
			var want []osslExchange
			if tt.resume {
				session := filepath.Join(o.dir, "session.pem")
				second := []string{"-sess_in", session}
				if tt.early {
					early := filepath.Join(o.dir, "early.txt")
					if err := os.WriteFile(early, []byte("000000 early data, not decrypted\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					second = append(second, "-early_data", early)
				}
				c1, w1 := o.connect(t, tt.tls, tt.script, "-sess_out", session)
				c2, w2 := o.connect(t, tt.tls, tt.script, second...)
				if !strings.Contains(w2.clientLog, "Reused,") {
					t.Fatalf("the second connection was not resumed:\n%s", w2.clientLog)
				}
				if tt.early && !strings.Contains(w2.clientLog, "Early data was accepted") {
					t.Fatalf("the server did not accept early data:\n%s", w2.clientLog)
				}
				conns, want = [][]chunk{c1, c2}, []osslExchange{w1, w2}
			} else {
				c, w := o.connect(t, tt.tls, tt.script)
				conns, want = [][]chunk{c}, []osslExchange{w}
			}
			log, err := os.ReadFile(filepath.Join(o.dir, "keylog.txt"))
			if err != nil {
				t.Fatal(err)
			}
			variants := map[string]string{"full key log": string(log)}
			if isTLS13 {
				variants["no handshake secrets"] = keyLogWithout(string(log), "HANDSHAKE")
			}
			wantState := Decrypting
			if tt.script == renegotiation {
				wantState = Unsupported
			}
			for vname, vlog := range variants {
				k := mustParse(t, vlog)
				for i, conn := range conns {
					if etm := serverHelloOf(t, conn).etm; etm != wantETM {
						t.Errorf("conn %d: the ServerHello's encrypt_then_mac is %v, want %v", i, etm, wantETM)
					}
					wantInfo := Info{Version: tt.version, CipherSuite: tt.suite, ServerName: testHost, ALPN: "h2"}
					if isTLS13 && vname == "no handshake secrets" {
						wantInfo.ALPN = ""
					}
					for _, sp := range splittings {
						f := feed(k, sp.split(conn))
						if f.state != wantState || f.info != wantInfo {
							t.Errorf("%s, conn %d, %s: State() = %v, Info() = %+v; want %v, %+v", vname, i, sp.name, f.state, f.info, wantState, wantInfo)
						}
						if !bytes.Equal(f.client, want[i].client) {
							t.Errorf("%s, conn %d, %s: client data: got %d bytes, want %d (equal prefix %d)", vname, i, sp.name, len(f.client), len(want[i].client), commonPrefix(f.client, want[i].client))
						}
						if !bytes.Equal(f.server, want[i].server) {
							t.Errorf("%s, conn %d, %s: server data: got %d bytes, want %d (equal prefix %d)", vname, i, sp.name, len(f.server), len(want[i].server), commonPrefix(f.server, want[i].server))
						}
					}
				}
			}
		})
	}
}

// serverHelloOf parses the ServerHello of a recorded connection, the first
// message of the server's first record.
func serverHelloOf(t *testing.T, conn []chunk) serverHello {
	t.Helper()
	rec := firstRecord(directionBytes(conn, false))
	msg := rec[recordHeaderLen:]
	if len(msg) < 4 || msg[0] != typeServerHello || len(msg) < 4+bodyLen(msg) {
		t.Fatalf("the server's first record holds no whole ServerHello: %x", rec)
	}
	sh, ok := parseServerHello(msg[4 : 4+bodyLen(msg)])
	if !ok {
		t.Fatal("parseServerHello failed")
	}
	return sh
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// osslServer is a running `openssl s_server` and the relay in front of it.
type osslServer struct {
	dir    string
	server *osslProc
	relay  net.Listener
}

// startOpenSSLServer starts s_server for n connections on a temporary
// copy of cert, and a relay that records each connection through it.
func startOpenSSLServer(t *testing.T, cert testCert, tlsArgs []string, n int) *osslServer {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"cert.pem": cert.certPEM, "key.pem": cert.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", fmt.Sprint(n),
		"-cert", filepath.Join(dir, "cert.pem"), "-key", filepath.Join(dir, "key.pem"), "-alpn", "h2", "-msg"}, tlsArgs...)
	srv := startOpenSSL(t, args...)
	srv.waitFor(t, regexp.MustCompile(`ACCEPT 127\.0\.0\.1:(\d+)`), 1)
	relay, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	return &osslServer{dir: dir, server: srv, relay: relay}
}

// script is what happens in a connection besides sending data.
type script int

const (
	plain         script = iota
	keyUpdates           // TLS 1.3 KeyUpdates in both directions
	renegotiation        // TLS 1.2 renegotiation started by the server
)

// osslExchange is what the two sides sent in one connection (for a
// renegotiation, before it), and the client's output.
type osslExchange struct {
	client, server []byte
	clientLog      string
}

// digitLines returns n lines of digits, numbered from first: text that
// neither s_client nor s_server takes for a command wherever a read of
// their standard input starts.
func digitLines(first, n int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "%06d %s\n", i, strings.Repeat("0123456789", 9))
	}
	return b
}

// connect runs one s_client connection through the relay: both sides send
// a few lines and one message over 16 KiB. With keyUpdates the client
// updates its keys ("k"), the server its own ("k"), and the client asks for
// an update of both ("K"); with renegotiation the server renegotiates ("r")
// after the first lines. It returns the recorded chunks.
func (o *osslServer) connect(t *testing.T, tlsArgs []string, sc script, extra ...string) ([]chunk, osslExchange) {
	t.Helper()
	rec := &recorder{}
	relayed := make(chan error, 1)
	go func() { relayed <- relayOnce(o.relay, o.server.addr(), rec) }()
	args := append([]string{"s_client", "-connect", o.relay.Addr().String(), "-servername", testHost,
		"-CAfile", filepath.Join(o.dir, "cert.pem"), "-alpn", "h2", "-keylogfile", filepath.Join(o.dir, "keylog.txt"), "-msg"}, tlsArgs...)
	cli := startOpenSSL(t, append(args, extra...)...)
	cli.waitFor(t, regexp.MustCompile(`SSL handshake has read`), 1)

	var ex osslExchange
	renegotiated := false
	send := func(p *osslProc, data []byte, fromClient bool) {
		if _, err := p.stdin.Write(data); err != nil {
			t.Fatal(err)
		}
		if renegotiated {
			// not expected: decryption stops at the renegotiation
		} else if fromClient {
			ex.client = append(ex.client, data...)
		} else {
			ex.server = append(ex.server, data...)
		}
		// The other side prints what it received; wait for the last line.
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		other := o.server
		if !fromClient {
			other = cli
		}
		other.waitFor(t, regexp.MustCompile(regexp.QuoteMeta(string(lines[len(lines)-1]))), 1)
	}
	// command sends a command line and waits until p's output shows what
	// it did n times, so that the next data does not join the command in
	// one read of p's standard input.
	keyUpdate := regexp.MustCompile(`>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate`)
	command := func(p *osslProc, cmd string, done *regexp.Regexp, n int) {
		if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
			t.Fatal(err)
		}
		p.waitFor(t, done, n)
	}
	send(cli, digitLines(1, 1), true)
	send(o.server, digitLines(2, 1), false)
	if sc == renegotiation {
		// The server's second Finished ends the new handshake.
		command(o.server, "r", regexp.MustCompile(`>>> TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished`), 2)
		renegotiated = true
	}
	if sc == keyUpdates {
		command(cli, "k", keyUpdate, 1)
	}
	send(cli, digitLines(100, 200), true) // 20 KB
	if sc == keyUpdates {
		command(o.server, "k", keyUpdate, 1)
	}
	send(o.server, digitLines(1000, 300), false) // 30 KB
	if sc == keyUpdates {
		command(cli, "K", keyUpdate, 2) // the server answers with a KeyUpdate before its next record
		// Once the server has read it: a record written before would go
		// out first, and no later one would carry the answer.
		o.server.waitFor(t, regexp.MustCompile(`<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate`), 2)
	}
	send(o.server, digitLines(3, 1), false)
	if sc == keyUpdates {
		o.server.waitFor(t, keyUpdate, 2) // its answer to "K", printed maybe after the data went out
	}
	send(cli, digitLines(4, 1), true)

	cli.stdin.Close() // s_client sends close_notify and exits
	if err := cli.wait(); err != nil {
		t.Fatalf("s_client: %v\n%s", err, cli.output())
	}
	if err := <-relayed; err != nil {
		t.Fatalf("relay: %v", err)
	}
	ex.clientLog = cli.output()
	return rec.all(), ex
}

// relayOnce accepts one connection, connects it to addr, and copies both
// ways, recording each chunk before passing it on, until both sides close.
func relayOnce(ln net.Listener, addr string, rec *recorder) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	pipe := func(i int, from, to net.Conn, fromClient bool) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := from.Read(buf)
			if n > 0 {
				rec.add(fromClient, buf[:n])
				if _, werr := to.Write(buf[:n]); werr != nil {
					errs[i] = werr
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					errs[i] = err
				}
				to.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}
	wg.Add(2)
	go pipe(0, c, s, true)
	go pipe(1, s, c, false)
	wg.Wait()
	for _, err := range errs {
		// A side that closed first makes the last writes to it fail;
		// what they carried is recorded already.
		if err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			return err
		}
	}
	return nil
}

// osslProc is a running openssl command with its standard input and its
// combined output.
type osslProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	done  chan error
}

func (p *osslProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *osslProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startOpenSSL(t *testing.T, args ...string) *osslProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	p := &osslProc{cmd: exec.CommandContext(ctx, "openssl", args...), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // kills the process if still running
		<-p.done
	})
	return p
}

func (p *osslProc) wait() error {
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not exit", p.cmd.Args[1])
	}
}

// addr is the address s_server printed it accepts on.
func (p *osslProc) addr() string {
	m := regexp.MustCompile(`ACCEPT (127\.0\.0\.1:\d+)`).FindStringSubmatch(p.output())
	if m == nil {
		return ""
	}
	return m[1]
}

func (p *osslProc) contains(re *regexp.Regexp, n int) bool {
	return len(re.FindAllString(p.output(), -1)) >= n
}

// waitFor waits until the output matches re n times and returns the first
// match's submatches.
func (p *osslProc) waitFor(t *testing.T, re *regexp.Regexp, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !p.contains(re, n) {
		if time.Now().After(deadline) {
			t.Fatalf("openssl %s: no %d× %q in its output:\n%s", p.cmd.Args[1], n, re, tail(p.output(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return re.FindStringSubmatch(p.output())
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
