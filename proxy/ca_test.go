package proxy

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elazarl/goproxy"
)

func TestLoadOrCreateCAFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg", "trackaudit")
	ca, created, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Errorf("created = false on first use, want true")
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{filepath.Join(dir, CAKeyFile), 0o600},
		{filepath.Join(dir, CACertFile), 0o644},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may narrow modes, never widen them.
		if got := st.Mode(); got&^c.want != 0 || got.Perm()&0o600 != 0o600 {
			t.Errorf("%s: mode %v, want %v", filepath.Base(c.path), got, c.want)
		}
	}
	certFile, _ := os.ReadFile(filepath.Join(dir, CACertFile))
	if bytes.Contains(certFile, []byte("PRIVATE KEY")) {
		t.Errorf("certificate file contains a private key")
	}
	again, created, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.Fingerprint() != ca.Fingerprint() {
		t.Errorf("second load: created=%v fingerprint %s, want false and %s", created, again.Fingerprint(), ca.Fingerprint())
	}
	if got := again.CertPath(); got != filepath.Join(dir, CACertFile) {
		t.Errorf("CertPath = %q", got)
	}
}

func TestCAUniquePerInstall(t *testing.T) {
	a, _, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() == b.Fingerprint() || a.SPKIHash() == b.SPKIHash() {
		t.Errorf("two installs share a CA key or certificate")
	}
	if a.Cert.Subject.CommonName == b.Cert.Subject.CommonName {
		t.Errorf("two installs share the subject %q", a.Cert.Subject.CommonName)
	}
	if a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 {
		t.Errorf("two installs share the serial %v", a.Cert.SerialNumber)
	}
	if !strings.HasPrefix(a.Cert.Subject.CommonName, "trackaudit local CA ") {
		t.Errorf("subject %q", a.Cert.Subject.CommonName)
	}
	if !a.Cert.IsCA || !a.Cert.MaxPathLenZero || a.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA profile: IsCA=%v MaxPathLenZero=%v KeyUsage=%v", a.Cert.IsCA, a.Cert.MaxPathLenZero, a.Cert.KeyUsage)
	}
	if v := a.Cert.NotAfter.Sub(a.Cert.NotBefore); v > 10*366*24*time.Hour {
		t.Errorf("CA validity %v, want at most 10 years", v)
	}
}

func TestCANotGoproxyBuiltin(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := x509.ParseCertificate(goproxy.GoproxyCa.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(builtin.RawSubjectPublicKeyInfo, ca.Cert.RawSubjectPublicKeyInfo) {
		t.Fatal("our CA uses goproxy's public built-in key")
	}
	// No non-test file may name goproxy's built-in CA or the actions tied to it.
	files, _ := filepath.Glob("*.go")
	banned := []string{"GoproxyCa", "CA_CERT", "CA_KEY", "goproxy.MitmConnect", "AlwaysMitm", "goproxy.OkConnect", "HTTPMitmConnect", "goproxy.RejectConnect", "TLSConfigFromCA"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		for _, b := range banned {
			if bytes.Contains(src, []byte(b)) {
				t.Errorf("%s mentions %s", f, b)
			}
		}
	}
}

func TestLoadCARefusesReadableKey(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreateCA(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCA(dir)
	if err == nil || !strings.Contains(err.Error(), "readable by others") || !strings.Contains(err.Error(), CAKeyFile) {
		t.Errorf("LoadCA with a 0644 key: err = %v, want a 'readable by others' error naming the file", err)
	}
}

func TestLoadCABadFiles(t *testing.T) {
	tests := []struct {
		name, key, cert, want string
	}{
		{"garbage key", "nonsense", "", "not a PEM EC private key"},
		{"garbage cert", "", "nonsense", "not a PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := LoadOrCreateCA(dir); err != nil {
				t.Fatal(err)
			}
			if tt.key != "" {
				os.WriteFile(filepath.Join(dir, CAKeyFile), []byte(tt.key), 0o600)
			}
			if tt.cert != "" {
				os.WriteFile(filepath.Join(dir, CACertFile), []byte(tt.cert), 0o644)
			}
			_, err := LoadCA(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRotateCA(t *testing.T) {
	dir := t.TempDir()
	old, _, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := RotateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if nw.Fingerprint() == old.Fingerprint() || loaded.Fingerprint() != nw.Fingerprint() {
		t.Errorf("after rotate: old %s new %s loaded %s", old.Fingerprint(), nw.Fingerprint(), loaded.Fingerprint())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLeafProfile(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tests := []struct {
		host    string
		wantDNS string
		wantIP  string
	}{
		{"news.example", "news.example", ""},
		{"WWW.Facebook.COM.", "www.facebook.com", ""},
		{"127.0.0.1", "", "127.0.0.1"},
		{"[::1]", "", "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			c, err := ca.SignLeaf(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			leaf := c.Leaf
			if tt.wantDNS != "" && (len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != tt.wantDNS) {
				t.Errorf("DNS SAN = %v, want [%s]", leaf.DNSNames, tt.wantDNS)
			}
			if tt.wantIP != "" && (len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != tt.wantIP) {
				t.Errorf("IP SAN = %v, want [%s]", leaf.IPAddresses, tt.wantIP)
			}
			if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("EKU = %v, want serverAuth only", leaf.ExtKeyUsage)
			}
			if leaf.IsCA {
				t.Errorf("leaf is a CA")
			}
			if v := leaf.NotAfter.Sub(leaf.NotBefore); v > 199*24*time.Hour {
				t.Errorf("validity %v, want at most 199 days", v)
			}
			if !leaf.NotBefore.Before(time.Now().Add(-30 * time.Minute)) {
				t.Errorf("NotBefore %v is not backdated", leaf.NotBefore)
			}
			if !bytes.Equal(leaf.RawIssuer, ca.Cert.RawSubject) {
				t.Errorf("issuer %v, want %v", leaf.Issuer, ca.Cert.Subject)
			}
			name := tt.wantDNS
			if name == "" {
				name = tt.wantIP
			}
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
				t.Errorf("leaf does not verify against the CA: %v", err)
			}
		})
	}
}

func TestLeafSerialsRandom(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	long := 0
	const n = 64
	for i := 0; i < n; i++ {
		c, err := ca.SignLeaf("same.example")
		if err != nil {
			t.Fatal(err)
		}
		s := c.Leaf.SerialNumber
		if seen[s.String()] {
			t.Fatalf("serial %v repeated", s)
		}
		seen[s.String()] = true
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Errorf("serial %v out of range", s)
		}
		if s.BitLen() > 120 {
			long++
		}
	}
	// A uniform 128-bit value has more than 120 bits with probability 1-2^-8.
	if long < n*9/10 {
		t.Errorf("%d of %d serials have more than 120 bits; serials are not random 128-bit values", long, n)
	}
}
