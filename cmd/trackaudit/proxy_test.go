package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/proxy"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// running subcommand.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeInternet starts HTTPS servers for the given hosts, signed by a test
// CA written to a PEM file (for --upstream-ca); it returns --map flags.
func fakeInternet(t *testing.T, h http.Handler, hosts ...string) (caFile string, maps []string) {
	t.Helper()
	ca, err := proxy.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "origin-ca.pem")
	os.WriteFile(caFile, ca.CertPEM(), 0o644)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return ca.SignLeaf(hello.ServerName)
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, h := range hosts {
		maps = append(maps, "--map", h+"="+srv.Listener.Addr().String())
	}
	return caFile, maps
}

func TestProxyFlagErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"bad map", []string{"proxy", "--map", "nohost"}, 2, `--map "nohost": want HOST=ADDR`},
		{"bad upstream proxy", []string{"proxy", "--upstream-proxy", "socks5://x:1"}, 2, "--upstream-proxy"},
		{"missing upstream ca", []string{"proxy", "--upstream-ca", filepath.Join(t.TempDir(), "gone.pem")}, 1, "gone.pem: no such file"},
		{"upstream ca not pem", []string{"proxy", "--upstream-ca", writeFile(t, "x.pem", "hello")}, 1, "no PEM certificate"},
		{"extra arg", []string{"proxy", "now"}, 2, `unexpected argument "now"`},
		{"bad listen", []string{"proxy", "--listen", "256.1.1.1:1"}, 1, "listen on 256.1.1.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d stderr %q, want %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestProxyCommandLiveAndReport(t *testing.T) {
	cfgHome, dataHome := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv("XDG_DATA_HOME", dataHome)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a"))
	}), "www.facebook.com")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	args := append([]string{"proxy", "--listen", "127.0.0.1:0", "--upstream-ca", caFile, "--color", "never"}, maps...)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()

	var addr string
	re := regexp.MustCompile(`listening on http://(\S+)`)
	for i := 0; i < 100 && addr == ""; i++ {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("proxy did not start; stderr:\n%s", stderr.String())
	}
	for _, want := range []string{"capture:", "CA SPKI:", "trackaudit browse"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("start banner lacks %q:\n%s", want, stderr.String())
		}
	}

	if b := pixelThroughProxy(t, cfgHome, addr, "PageView", "https://news.example/article"); b != "GIF89a" {
		t.Errorf("pixel body %q", b)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("proxy returned %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("proxy did not stop after cancel")
	}
	out := stdout.String()
	if !strings.Contains(out, "Meta") {
		t.Errorf("stdout has no Meta live line or report row:\n%s", out)
	}
	if strings.Contains(out, "100012345") {
		t.Errorf("cookie value printed without --show-secrets:\n%s", out)
	}
	caps, _ := filepath.Glob(filepath.Join(dataHome, "trackaudit", "capture-*.db"))
	if len(caps) != 1 {
		t.Fatalf("captures in data dir: %v", caps)
	}
	if st, _ := os.Stat(filepath.Join(dataHome, "trackaudit")); st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", st.Mode().Perm())
	}
	if !strings.Contains(stderr.String(), "1 exchanges saved to "+caps[0]) {
		t.Errorf("stderr does not report the saved capture:\n%s", stderr.String())
	}
	if _, _, code := runCLI(t, "analyze", caps[0]); code != 0 {
		t.Errorf("analyze of the live capture: exit %d", code)
	}
}

// pixelThroughProxy sends a Meta pixel event with logged-in cookies through
// the proxy listening on addr, trusting the CA under cfgHome; it returns
// the response body.
func pixelThroughProxy(t *testing.T, cfgHome, addr, event, page string) string {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(cfgHome, "trackaudit", proxy.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: addr}),
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
	req, _ := http.NewRequest("GET", "https://www.facebook.com/tr?id=1234567890&ev="+event+"&dl="+url.QueryEscape(page), nil)
	req.Header.Set("Referer", page)
	req.Header.Set("Cookie", "c_user=100012345; fr=0abc")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestLookupUnmapped checks that names --map placed never reach the
// resolver, and that the others do.
func TestLookupUnmapped(t *testing.T) {
	var asked []string
	lookup := func(_ context.Context, host string) (string, error) {
		asked = append(asked, host)
		return "alias.example.net.", nil
	}
	f := lookupUnmapped(map[string]string{"News.Test": "127.0.0.1:1", "tracker.test:443": "127.0.0.1:2"}, lookup)
	for _, tc := range [][2]string{{"news.test", "news.test"}, {"tracker.test", "tracker.test"}, {"metrics.shop.example", "alias.example.net."}} {
		if got, err := f(context.Background(), tc[0]); err != nil || got != tc[1] {
			t.Errorf("lookup(%s) = %q, %v; want %q", tc[0], got, err, tc[1])
		}
	}
	if !slices.Equal(asked, []string{"metrics.shop.example"}) {
		t.Errorf("the resolver was asked about %q, want only the unmapped name", asked)
	}
	if lookupUnmapped(map[string]string{"*": "127.0.0.1:1"}, lookup) != nil {
		t.Error(`--map "*" places every name, yet names would be looked up`)
	}
}
