// Command tlsgen writes a packet capture of real HTTPS traffic and the key
// log that decrypts it, for the decryption benchmark (bench/pcap/tls.sh):
// Go's HTTP/2 client over TLS 1.3 talks to a local net/http server (with
// -h3: quic-go's HTTP/3 client and server) through a relay that records
// every connection (internal/pcaprelay). Each client
// sends -per-conn tracker requests (Meta pixel and GA4 in turn, so one
// keep-alive connection to each host) with a Cookie and a Referer,
// answered by 128 bytes, as bench/pcap/gen's plaintext ones are. TLS keys are random, so two runs differ byte for byte.
//
//	go run ./bench/pcap/tlsgen -n 20000 -o tls.pcap -keys tls.keys
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/internal/pcaprelay"
)

func main() {
	n := flag.Int("n", 20000, "number of HTTPS requests")
	perConn := flag.Int("per-conn", 20, "requests per keep-alive connection")
	out := flag.String("o", "tls.pcap", "capture to write")
	keys := flag.String("keys", "tls.keys", "key log to write")
	h3 := flag.Bool("h3", false, "HTTP/3 over QUIC instead of HTTP/2 over TLS")
	flag.Parse()
	if err := run(*n, *perConn, *out, *keys, *h3); err != nil {
		fmt.Fprintln(os.Stderr, "tlsgen:", err)
		os.Exit(1)
	}
}

func run(n, perConn int, out, keysPath string, h3 bool) error {
	body := strings.Repeat("x", 128)
	serve := fixtures.ServeTLS
	if h3 {
		serve = fixtures.ServeH3
	}
	srv, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}), "www.facebook.com", "www.google-analytics.com")
	if err != nil {
		return err
	}
	defer srv.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rec, err := pcaprelay.NewRecorder(w)
	if err != nil {
		return err
	}
	client, server := netip.MustParseAddr("192.168.1.20"), netip.MustParseAddrPort("198.51.100.10:443")
	var relay io.Closer
	var relayAddr string
	if h3 {
		conn, err := rec.RelayUDP(srv.Addr, client, server)
		if err != nil {
			return err
		}
		relay, relayAddr = conn, conn.LocalAddr().String()
	} else {
		ln, err := rec.Relay(srv.Addr, client, server)
		if err != nil {
			return err
		}
		relay, relayAddr = ln, ln.Addr().String()
	}
	kf, err := os.OpenFile(keysPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer kf.Close()

	conns := (n + perConn - 1) / perConn
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				// crypto/tls serialises all KeyLogWriters' writes, a line at a time.
				if err := connection(c, min(perConn, n-c*perConn), transport(h3, srv, relayAddr, kf)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for c := range conns {
		work <- c
	}
	close(work)
	wg.Wait()
	relay.Close()
	if err := rec.Wait(); err != nil {
		return err
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "tlsgen: wrote %s (%d requests from %d clients, each with a connection to each of 2 hosts) and %s\n", out, n, conns, keysPath)
	return nil
}

// transport is a new client transport that dials the relay: HTTP/2 over
// TLS, or HTTP/3 over QUIC.
func transport(h3 bool, srv *fixtures.HTTPSServer, relay string, keyLog io.Writer) roundTripCloser {
	cfg := &tls.Config{RootCAs: srv.Roots, KeyLogWriter: keyLog}
	if h3 {
		return &http3.Transport{TLSClientConfig: cfg,
			Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, qcfg *quic.Config) (*quic.Conn, error) {
				return quic.DialAddr(ctx, relay, tlsCfg, qcfg)
			}}
	}
	return &h2Transport{&http.Transport{
		TLSClientConfig:   cfg,
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", relay)
		},
	}}
}

// roundTripCloser is a client transport that closes its connections.
type roundTripCloser interface {
	http.RoundTripper
	io.Closer
}

type h2Transport struct{ *http.Transport }

func (t *h2Transport) Close() error {
	t.CloseIdleConnections()
	return nil
}

// connection sends k requests over one new connection of tr.
func connection(c, k int, tr roundTripCloser) error {
	defer tr.Close()
	client := &http.Client{Transport: tr}
	for i := range k {
		page := fmt.Sprintf("https://shop%d.example/p/%d", c%500, c*1000+i)
		u := "https://www.facebook.com/tr?id=1234&ev=PageView&dl=" + page
		if i%2 == 1 {
			u = "https://www.google-analytics.com/g/collect?v=2&tid=G-BENCH&en=page_view&dl=" + page
		}
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Cookie", fmt.Sprintf("sid=%016x; _fbp=fb.1.1700000000000.%d", c*7919+i, c))
		req.Header.Set("Referer", page)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}
