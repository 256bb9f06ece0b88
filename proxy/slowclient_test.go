package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowClientsClosed checks that every stage where the proxy waits for
// a client has a deadline (research reliability-security.md T10): a
// client that stays silent, dribbles its request head or stalls its TLS
// handshake is disconnected once the client timeouts pass, and an
// oversized request head gets 431.
func TestSlowClientsClosed(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tp := startProxy(t, Config{clientTimeouts: clientTimeouts{head: timeout, handshake: timeout}})
	roots := x509.NewCertPool()
	roots.AddCert(tp.ca.Cert)

	// connect opens a connection to the proxy; with tunnel set it sends a
	// CONNECT for slow.test:443 and reads the 200 first.
	connect := func(t *testing.T, tunnel bool) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", tp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		br := bufio.NewReader(c)
		if tunnel {
			io.WriteString(c, "CONNECT slow.test:443 HTTP/1.1\r\nHost: slow.test:443\r\n\r\n")
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: %v %v", resp, err)
			}
		}
		return c, br
	}
	// connectTLS tunnels to slow.test:443 and completes TLS through it.
	connectTLS := func(t *testing.T) (net.Conn, *tls.Conn) {
		t.Helper()
		c, _ := connect(t, true)
		tc := tls.Client(c, &tls.Config{ServerName: "slow.test", RootCAs: roots})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		return c, tc
	}
	// closedWithin reads until the proxy ends the connection, which must
	// happen well before the test's own limit, and returns what was read.
	closedWithin := func(t *testing.T, c net.Conn, r io.Reader) string {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		b, err := io.ReadAll(r)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v; the proxy never timed the client out", time.Since(start))
		}
		return string(b)
	}
	dribble := func(c net.Conn, s string) {
		go func() {
			for i := range len(s) {
				if _, err := c.Write([]byte{s[i]}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	hugeHead := "GET /x HTTP/1.1\r\nHost: slow.test\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"

	t.Run("silent before CONNECT", func(t *testing.T) {
		c, br := connect(t, false)
		closedWithin(t, c, br)
	})
	t.Run("CONNECT line dribbled", func(t *testing.T) {
		c, br := connect(t, false)
		dribble(c, "CONNECT slow.test:443 HTTP/1.1\r\nHost: slow.test:443\r\nX-Slow: "+strings.Repeat("z", 100)+"\r\n\r\n")
		if got := closedWithin(t, c, br); strings.Contains(got, " 200 ") {
			t.Errorf("a dribbled CONNECT was answered: %q", got)
		}
	})
	t.Run("silent after CONNECT", func(t *testing.T) {
		c, br := connect(t, true)
		closedWithin(t, c, br)
	})
	t.Run("TLS handshake stalled", func(t *testing.T) {
		c, br := connect(t, true)
		// A TLS record header announcing a ClientHello that never comes.
		c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01})
		closedWithin(t, c, br)
	})
	t.Run("silent after TLS", func(t *testing.T) {
		c, tc := connectTLS(t)
		closedWithin(t, c, tc)
	})
	t.Run("request head dribbled after TLS", func(t *testing.T) {
		c, tc := connectTLS(t)
		dribble(tc, "GET /x HTTP/1.1\r\nHost: slow.test\r\nX-Slow: "+strings.Repeat("z", 100)+"\r\n\r\n")
		if got := closedWithin(t, c, tc); got != "" && !strings.HasPrefix(got, "HTTP/1.1 400 ") {
			t.Errorf("a dribbled request got %q, want a 400 or nothing", got)
		}
	})
	t.Run("oversized head", func(t *testing.T) {
		c, br := connect(t, false)
		go io.WriteString(c, strings.Replace(hugeHead, "/x", "http://slow.test/x", 1))
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 2 MiB request head got %v %v, want 431", resp, err)
		}
	})
	t.Run("oversized head after TLS", func(t *testing.T) {
		_, tc := connectTLS(t)
		go io.WriteString(tc, hugeHead)
		resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 2 MiB request head got %v %v, want 431", resp, err)
		}
	})
}
