// Command proxybench is the load side of the proxy benchmark (run.sh): an
// HTTPS origin, a closed-loop keep-alive load client, and a summary of
// interleaved rounds with ratios between proxies.
//
//	proxybench origin -listen 127.0.0.1:443 -ca-out origin-ca.pem
//	proxybench load -name trackaudit -proxy http://127.0.0.1:8081 -ca proxy-ca.pem -url https://127.0.0.1/ -c 8 -d 5s
//	proxybench summary < results.txt
package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: proxybench origin|load|summary [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "origin":
		err = origin(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	case "summary":
		err = summary(os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

// origin serves a 128-byte body over HTTPS/1.1 with a certificate for
// 127.0.0.1 from a fresh ECDSA CA written to -ca-out.
func origin(args []string) error {
	fs := flag.NewFlagSet("origin", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:443", "address")
	caOut := fs.String("ca-out", "origin-ca.pem", "write the origin CA here")
	fs.Parse(args)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxybench origin CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*caOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return err
	}
	body := []byte(strings.Repeat("x", 127) + "\n")
	srv := &http.Server{
		Addr:      *listen,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"http/1.1"}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // a pixel endpoint reads the event it is sent
			w.Header().Set("Content-Type", "image/gif")
			w.Write(body)
		}),
	}
	return srv.ListenAndServeTLS("", "")
}

// load runs -c workers, each with one keep-alive connection, in a closed
// loop for -d after a 1 s warm-up, and prints one result line.
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	name := fs.String("name", "direct", "label of this run")
	proxyURL := fs.String("proxy", "", "proxy URL; empty = direct")
	caFiles := fs.String("ca", "", "comma-separated PEM files to trust")
	target := fs.String("url", "https://127.0.0.1/", "origin base URL")
	conc := fs.Int("c", 8, "workers")
	dur := fs.Duration("d", 5*time.Second, "measured duration")
	pid := fs.Int("pid", 0, "proxy process whose CPU time per request to report (Linux /proc); 0 = none")
	mix := fs.Int("mix", 1, "1 in N requests is the third-party tracker request; the others are first-party requests of the page (same host, its Referer, a first-party cookie)")
	post := fs.Int("post", 0, "send the tracker request as a POST with a form body of about this many bytes (an event with the page URL, as pixels send); 0 = GET")
	fs.Parse(args)
	roots := x509.NewCertPool()
	for _, f := range strings.Split(*caFiles, ",") {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		roots.AppendCertsFromPEM(b)
	}
	var px func(*http.Request) (*url.URL, error)
	if *proxyURL != "" {
		u, err := url.Parse(*proxyURL)
		if err != nil {
			return err
		}
		px = http.ProxyURL(u)
	}
	// With -mix, the origin also plays the news site under the name
	// localhost (its certificate names both): the page's own requests go
	// there, and the tracker requests to 127.0.0.1 are third-party to it.
	page, site := "https://news.example/article?id=7", *target
	if *mix > 1 {
		site = strings.Replace(*target, "127.0.0.1", "localhost", 1)
		page = site + "article?id=7"
	}
	var measuring atomic.Bool
	var errs atomic.Int64
	stop := make(chan struct{})
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{Proxy: px, TLSClientConfig: &tls.Config{RootCAs: roots},
				MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				if (*mix <= 1 || i%*mix == 0) && *post > 0 {
					form := "ev=PageView&dl=" + url.QueryEscape(page) + "&pad="
					form += strings.Repeat("x", max(0, *post-len(form)))
					req, _ = http.NewRequest("POST", fmt.Sprintf("%sp/%d/%d/tr?cb=%d", *target, w, i, i), strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Cookie", "_fbp=fb.1.1700000000000.1234567890; sid=0123456789abcdef0123456789abcdef")
					req.Header.Set("Referer", page)
				} else if *mix <= 1 || i%*mix == 0 {
					req, _ = http.NewRequest("GET", fmt.Sprintf("%sp/%d/%d/pixel.gif?utm_source=news&cb=%d", *target, w, i, i), nil)
					req.Header.Set("Cookie", "_fbp=fb.1.1700000000000.1234567890; sid=0123456789abcdef0123456789abcdef")
					req.Header.Set("Referer", page)
				} else {
					req, _ = http.NewRequest("GET", fmt.Sprintf("%sstatic/%d/%d/app.js", site, w, i), nil)
					req.Header.Set("Cookie", "sid=0123456789abcdef0123456789abcdef")
					req.Header.Set("Referer", page)
				}
				t0 := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil || resp.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], d)
			}
		}()
	}
	time.Sleep(time.Second)
	cpu0 := procCPU(*pid)
	measuring.Store(true)
	time.Sleep(*dur)
	measuring.Store(false)
	cpu1 := procCPU(*pid)
	close(stop)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	cpuPerReq := 0.0
	if len(all) > 0 {
		cpuPerReq = float64((cpu1 - cpu0).Microseconds()) / float64(len(all))
	}
	fmt.Printf("%s c=%d rps=%.0f p50=%.2f p99=%.2f errors=%d cpu_us=%.1f\n", *name, *conc, float64(len(all))/dur.Seconds(), pct(0.5), pct(0.99), errs.Load(), cpuPerReq)
	return nil
}

// procCPU returns the user and system CPU time process pid has used so far
// (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s: the
// USER_HZ of Linux on x86 and arm64); 0 when pid is 0 or unreadable.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// summary reads result lines (interleaved rounds) and prints medians per
// variant and concurrency, added latency over direct, and per-round ratios.
func summary(r io.Reader, w io.Writer) error {
	type key struct {
		name string
		c    int
	}
	type res struct{ rps, p50, p99, cpu float64 }
	runs := map[key][]res{}
	var order []key
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var k key
		var x res
		var errs int
		if _, err := fmt.Sscanf(sc.Text(), "%s c=%d rps=%f p50=%f p99=%f errors=%d cpu_us=%f", &k.name, &k.c, &x.rps, &x.p50, &x.p99, &errs, &x.cpu); err != nil {
			continue
		}
		if _, ok := runs[k]; !ok {
			order = append(order, k)
		}
		runs[k] = append(runs[k], x)
	}
	med := func(v []float64) float64 {
		v = slices.Clone(v)
		sort.Float64s(v)
		if len(v) == 0 {
			return 0
		}
		return v[len(v)/2]
	}
	field := func(k key, f func(res) float64) []float64 {
		var out []float64
		for _, x := range runs[k] {
			out = append(out, f(x))
		}
		return out
	}
	fmt.Fprintf(w, "| variant | clients | req/s median (min-max) | p50 ms | p99 ms | added p50 ms | added p99 ms | proxy CPU µs/request |\n|---|---|---|---|---|---|---|---|\n")
	for _, k := range order {
		rps := field(k, func(x res) float64 { return x.rps })
		p50 := med(field(k, func(x res) float64 { return x.p50 }))
		p99 := med(field(k, func(x res) float64 { return x.p99 }))
		d := key{"direct", k.c}
		fmt.Fprintf(w, "| %s | %d | %.0f (%.0f-%.0f) | %.2f | %.2f | %.2f | %.2f | %.1f |\n", k.name, k.c, med(rps), slices.Min(rps), slices.Max(rps), p50, p99,
			p50-med(field(d, func(x res) float64 { return x.p50 })), p99-med(field(d, func(x res) float64 { return x.p99 })),
			med(field(k, func(x res) float64 { return x.cpu })))
	}
	fmt.Fprintf(w, "\n| ratio (per round, median (min-max)) | clients | value |\n|---|---|---|\n")
	pairs := [][2]string{{"trackaudit", "goproxy"}, {"trackaudit", "mitmdump"}, {"goproxy", "mitmdump"},
		{"before", "goproxy"}, {"before", "mitmdump"}, {"trackaudit", "before"}}
	for _, pair := range pairs {
		for _, c := range []int{8, 64} {
			a, b := runs[key{pair[0], c}], runs[key{pair[1], c}]
			var rs []float64
			for i := 0; i < len(a) && i < len(b); i++ {
				if b[i].rps > 0 {
					rs = append(rs, a[i].rps/b[i].rps)
				}
			}
			if len(rs) > 0 {
				fmt.Fprintf(w, "| %s / %s req/s | %d | %.2f (%.2f-%.2f) |\n", pair[0], pair[1], c, med(rs), slices.Min(rs), slices.Max(rs))
			}
		}
	}
	return sc.Err()
}
