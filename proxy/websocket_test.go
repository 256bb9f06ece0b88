package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWebsocketHandshakeRecorded opens a websocket through the MITM proxy to
// a tracker host (session-replay tools stream over websockets): the handshake
// with its cookies must be recorded as an exchange at once, and frames must
// then flow both ways through the upgraded connection unaltered.
func TestWebsocketHandshakeRecorded(t *testing.T) {
	o := newOrigins(t)
	gotCookie := make(chan string, 1)
	o.serveTLS(t, "ws.tracker.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want a websocket upgrade", http.StatusBadRequest)
			return
		}
		gotCookie <- r.Header.Get("Cookie")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		brw.Flush()
		// Echo until the client closes; the bytes stand in for frames.
		io.Copy(conn, brw)
	}))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})

	c, br, status := connect(t, tp.Addr().String(), "ws.tracker.test:443")
	defer c.Close()
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT status %q", status)
	}
	roots := x509.NewCertPool()
	roots.AddCert(tp.ca.Cert)
	tc := tls.Client(&bufConn{Conn: c, r: br}, &tls.Config{ServerName: "ws.tracker.test", RootCAs: roots})
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(tc, "GET /replay?site=news.test HTTP/1.1\r\nHost: ws.tracker.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://news.test\r\nCookie: _hjSessionUser=u1\r\n\r\n")
	tr := bufio.NewReader(tc)
	resp, err := http.ReadResponse(tr, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v; proxy log:\n%s", err, tp.logs)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d, want 101", resp.StatusCode)
	}
	if c := <-gotCookie; c != "_hjSessionUser=u1" {
		t.Errorf("server saw Cookie %q, want the browser's", c)
	}

	ex := tp.next(t)
	if ex.Request.URL.String() != "https://ws.tracker.test/replay?site=news.test" {
		t.Errorf("recorded URL %q", ex.Request.URL)
	}
	if ex.Response == nil || ex.Response.Status != http.StatusSwitchingProtocols {
		t.Errorf("recorded response %+v, want status 101", ex.Response)
	}
	if got := ex.Request.Header.Get("Cookie"); got != "_hjSessionUser=u1" {
		t.Errorf("recorded Cookie %q", got)
	}

	frames := "\x81\x05hello\x81\x06replay"
	if _, err := io.WriteString(tc, frames); err != nil {
		t.Fatalf("write after upgrade: %v", err)
	}
	echo := make([]byte, len(frames))
	if _, err := io.ReadFull(tr, echo); err != nil {
		t.Fatalf("read after upgrade: %v; proxy log:\n%s", err, tp.logs)
	}
	if string(echo) != frames {
		t.Errorf("upgraded connection returned %q, want %q", echo, frames)
	}
}

// bufConn reads through the bufio.Reader that already consumed the CONNECT
// response, so no byte the proxy sent after it is lost.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
