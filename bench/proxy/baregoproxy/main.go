// Command baregoproxy is the benchmark's baseline: goproxy v1.9.3 doing
// MITM for every CONNECT with its own runtime ECDSA CA (never goproxy's
// built-in one), a leaf cache, upstream verification against -upstream-ca,
// and nothing else: no recording, no detectors.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"log"
	"math/big"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
)

type store struct{ m sync.Map }

func (s *store) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	if c, ok := s.m.Load(host); ok {
		return c.(*tls.Certificate), nil
	}
	c, err := gen()
	if err == nil {
		s.m.Store(host, c)
	}
	return c, err
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8082", "address")
	caOut := flag.String("ca-out", "bare-ca.pem", "write the CA certificate here")
	upstreamCA := flag.String("upstream-ca", "", "PEM CA to trust upstream")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGINT (for comparing with trackaudit's)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		go func() {
			<-sig
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "baregoproxy bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		log.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	ca := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	os.WriteFile(*caOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)

	roots, _ := x509.SystemCertPool()
	if *upstreamCA != "" {
		b, err := os.ReadFile(*upstreamCA)
		if err != nil {
			log.Fatal(err)
		}
		roots.AppendCertsFromPEM(b)
	}
	p := goproxy.NewProxyHttpServer()
	p.Logger = log.New(io.Discard, "", 0)
	p.CertStore = &store{}
	p.Tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxIdleConnsPerHost: 256, DisableCompression: true}
	p.KeepAcceptEncoding = true
	mitm := &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: goproxy.TLSConfigFromCA(&ca)}
	p.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) { return mitm, host })
	log.Fatal(http.ListenAndServe(*listen, p))
}
