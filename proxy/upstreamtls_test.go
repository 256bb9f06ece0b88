package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// badLeaf makes a certificate for host signed by ca (or by itself when ca
// is nil), changed by edit before signing.
func badLeaf(t *testing.T, ca *CA, host string, edit func(*x509.Certificate)) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	edit(tmpl)
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestUpstreamTLSErrors checks research T5 for each way a server's
// certificate can fail: the client gets a 502 naming the host and the
// failure, the exchange is recorded with a high upstream-error finding,
// and not a byte of the request reaches the server.
func TestUpstreamTLSErrors(t *testing.T) {
	o := newOrigins(t)
	tests := []struct {
		name, host string
		cert       func(host string) *tls.Certificate
		want       string // in the error, after the host
	}{
		{"expired", "expired.test", func(h string) *tls.Certificate {
			return badLeaf(t, o.ca, h, func(c *x509.Certificate) {
				c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
			})
		}, "expired"},
		{"not yet valid", "future.test", func(h string) *tls.Certificate {
			return badLeaf(t, o.ca, h, func(c *x509.Certificate) { c.NotBefore = time.Now().Add(24 * time.Hour) })
		}, "not yet valid"},
		{"wrong host", "wrong-host.test", func(h string) *tls.Certificate {
			return badLeaf(t, o.ca, h, func(c *x509.Certificate) { c.DNSNames = []string{"other.test"} })
		}, "other.test"},
		{"self-signed", "self-signed.test", func(h string) *tls.Certificate {
			return badLeaf(t, nil, h, func(*x509.Certificate) {})
		}, "unknown authority"},
	}
	var hits atomic.Int32
	for _, tt := range tests {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.WriteString(w, "secret accepted")
		}))
		cert := tt.cert(tt.host)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		o.hosts[tt.host] = srv.Listener.Addr().String()
	}
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "https://"+tt.host+"/login", strings.NewReader("password=hunter2"))
			resp, err := tp.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), tt.host) {
				t.Errorf("status %d body %q, want 502 naming %s", resp.StatusCode, b, tt.host)
			}
			ex := tp.next(t)
			if !strings.Contains(ex.Error, "upstream TLS verification failed for "+tt.host) || !strings.Contains(ex.Error, tt.want) {
				t.Errorf("Error = %q, want the verification failure for %s, mentioning %q", ex.Error, tt.host, tt.want)
			}
			if len(ex.Findings) != 1 || ex.Findings[0].Kind != traffic.KindUpstreamError || ex.Findings[0].Severity != traffic.SeverityHigh {
				t.Errorf("findings %+v, want one high upstream-error", ex.Findings)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("servers with bad certificates received %d requests, want 0", n)
	}
}
