package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the CA directory. The key file is secret (0600); the
// certificate file holds no key and is safe to hand to browsers.
const (
	CAKeyFile  = "ca-key.pem"
	CACertFile = "ca-cert.pem"
)

// Validity of the certificates this package makes. Leaves stay within 199
// days in total (mitmproxy's limit since #8142, see
// research/reliability-security.md §1.3) and are backdated for clock skew.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 199 * 24 * time.Hour
	clockSkew    = time.Hour
)

// CA is the proxy's certificate authority: an ECDSA P-256 key and a
// self-signed certificate with a subject unique to this install. It signs
// the leaf certificates the proxy shows the browser.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// Dir is the directory the CA was loaded from or saved to; "" for a CA
	// that lives only in memory (NewCA).
	Dir string

	key     *ecdsa.PrivateKey
	leafKey *ecdsa.PrivateKey // one key for all leaves of this process, like mitmproxy
}

// DefaultCADir returns os.UserConfigDir()/trackaudit (XDG_CONFIG_HOME is
// honoured on Linux), where the CA lives unless told otherwise.
func DefaultCADir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration directory for the CA: %w", err)
	}
	return filepath.Join(d, "trackaudit"), nil
}

// NewCA generates a CA in memory: a fresh ECDSA P-256 key, a random
// 128-bit serial and the subject "trackaudit local CA <8 random hex>".
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   "trackaudit local CA " + hex.EncodeToString(suffix),
			Organization: []string{"trackaudit (this install only)"},
		},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(-clockSkew).Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return newCA(cert, key)
}

func newCA(cert *x509.Certificate, key *ecdsa.PrivateKey) (*CA, error) {
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate leaf key: %w", err)
	}
	return &CA{Cert: cert, key: key, leafKey: leafKey}, nil
}

// LoadOrCreateCA loads the CA from dir, creating dir (mode 0700) and a new
// CA in it on first use. created reports whether a new CA was made. A key
// file readable by group or others is refused.
func LoadOrCreateCA(dir string) (ca *CA, created bool, err error) {
	ca, err = LoadCA(dir)
	if err == nil {
		return ca, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	ca, err = NewCA()
	if err != nil {
		return nil, false, err
	}
	if err := ca.save(dir); err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

// RotateCA replaces the CA in dir with a new one and returns it. Browsers
// that trusted the old CA must be given the new certificate.
func RotateCA(dir string) (*CA, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	if err := ca.save(dir); err != nil {
		return nil, err
	}
	return ca, nil
}

// LoadCA reads the CA from dir. It wraps fs.ErrNotExist when dir holds no
// CA.
func LoadCA(dir string) (*CA, error) {
	keyPath := filepath.Join(dir, CAKeyFile)
	certPath := filepath.Join(dir, CACertFile)
	st, err := os.Stat(keyPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no CA in %s: %w", dir, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read CA key %s: %w", keyPath, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("CA key %s is readable by others (mode %04o); run chmod 600 on it or 'trackaudit ca --rotate'", keyPath, st.Mode().Perm())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", keyPath, err)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate %s: %w", certPath, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM EC private key; run 'trackaudit ca --rotate' to make a new CA", keyPath)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; run 'trackaudit ca --rotate' to make a new CA", keyPath, err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate; run 'trackaudit ca --rotate' to make a new CA", certPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; run 'trackaudit ca --rotate' to make a new CA", certPath, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("%s does not belong to the key in %s; run 'trackaudit ca --rotate' to make a new CA", certPath, keyPath)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", certPath)
	}
	ca, err := newCA(cert, key)
	if err != nil {
		return nil, err
	}
	ca.Dir = dir
	return ca, nil
}

// save writes the CA into dir: the directory is created with mode 0700,
// the key file with 0600 from the start (O_EXCL on a temporary name, then
// renamed), so the key is never readable by others, not even briefly.
func (ca *CA) save(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create CA directory %s: %w", dir, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := writeNew(filepath.Join(dir, CAKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(dir, CACertFile), ca.CertPEM(), 0o644); err != nil {
		return err
	}
	ca.Dir = dir
	return nil
}

// writeNew writes data to a fresh temporary file created with mode perm
// and renames it over path.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	rnd := make([]byte, 6)
	rand.Read(rnd)
	tmp := path + ".tmp-" + hex.EncodeToString(rnd)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CertPath is the path of the certificate file, "" for an in-memory CA.
func (ca *CA) CertPath() string {
	if ca.Dir == "" {
		return ""
	}
	return filepath.Join(ca.Dir, CACertFile)
}

// CertPEM returns the CA certificate in PEM form (never the key).
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Fingerprint is the SHA-256 of the certificate, as colon-separated
// upper-case hex (the form browsers show).
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.Cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// SPKIHash is base64(sha256(SubjectPublicKeyInfo)), the value Chromium's
// --ignore-certificate-errors-spki-list takes.
func (ca *CA) SPKIHash() string {
	sum := sha256.Sum256(ca.Cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SignLeaf makes a server certificate for host (a DNS name or an IP
// address): SAN = host, EKU serverAuth only, a random 128-bit serial,
// valid from one hour ago for 199 days in total (never beyond the CA).
func (ca *CA) SignLeaf(host string) (*tls.Certificate, error) {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return nil, errors.New("sign certificate: empty host name")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := host
	if len(cn) > 64 {
		cn = cn[:64]
	}
	notBefore := time.Now().Add(-clockSkew)
	notAfter := notBefore.Add(leafValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"trackaudit interception"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, ca.leafKey.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: ca.leafKey, Leaf: leaf}, nil
}

// randomSerial returns a random positive 128-bit serial number from
// crypto/rand (Firefox rejects reused issuer+serial pairs).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	limit.Sub(limit, big.NewInt(1)) // serials in [1, 2^128-1]
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("random serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
