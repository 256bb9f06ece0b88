// Command gen writes a deterministic plaintext-HTTP capture for the pcap
// benchmark: keep-alive connections from many clients, each request with a
// Cookie and a Referer, a share of them tracker beacons (Meta pixel, GA4,
// TikTok, a Like button), every one answered by a small response.
//
// The default is a stress case: every request names a new random page and
// carries fresh cookie values, so nothing repeats. With -browse the capture
// looks like browsing instead: 200 browsers whose cookies stay the same,
// each connection one page load (a document request, then its
// subresources and beacons) of one of 50 pages per site.
//
//	go run ./bench/pcap/gen -n 100000 -o http100k.pcap
//	go run ./bench/pcap/gen -browse -n 100000 -o browse100k.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func main() {
	n := flag.Int("n", 100000, "number of HTTP requests")
	out := flag.String("o", "http.pcap", "output file")
	perConn := flag.Int("per-conn", 20, "requests per keep-alive connection")
	flag.BoolVar(&browse, "browse", false, "browsing-like traffic: stable cookies, one page load per connection")
	flag.Parse()
	if err := run(*n, *perConn, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// browse selects browsing-like traffic (-browse).
var browse bool

type writer struct {
	w   *pcapgo.Writer
	now time.Time
	buf gopacket.SerializeBuffer
	pkt int
}

func (w *writer) packet(src, dst net.IP, sport, dport uint16, seq, ack uint32, syn, fin bool, payload []byte) error {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ack, SYN: syn, FIN: fin, ACK: !syn || ack != 0, PSH: len(payload) > 0, Window: 65535}
	tcp.SetNetworkLayerForChecksum(ip)
	ls := []gopacket.SerializableLayer{eth, ip, tcp}
	if len(payload) > 0 {
		ls = append(ls, gopacket.Payload(payload))
	}
	if err := gopacket.SerializeLayers(w.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return err
	}
	w.now = w.now.Add(20 * time.Microsecond)
	w.pkt++
	data := w.buf.Bytes()
	return w.w.WritePacket(gopacket.CaptureInfo{Timestamp: w.now, CaptureLength: len(data), Length: len(data)}, data)
}

func run(n, perConn int, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	w := &writer{w: pw, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), buf: gopacket.NewSerializeBuffer()}
	rng := rand.New(rand.NewPCG(1, 2))
	server := net.IPv4(10, 1, 0, 80).To4()
	body := make([]byte, 128)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	resp := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	for done, conn := 0, 0; done < n; conn++ {
		client := net.IPv4(10, 0, byte(conn/250%250), byte(1+conn%250)).To4()
		if browse {
			client = net.IPv4(10, 0, 0, byte(1+conn%200)).To4()
		}
		sport := uint16(20000 + conn%40000)
		cseq, sseq := uint32(rng.Uint32()), uint32(rng.Uint32())
		if err := w.packet(client, server, sport, 80, cseq, 0, true, false, nil); err != nil {
			return err
		}
		if err := w.packet(server, client, 80, sport, sseq, cseq+1, true, false, nil); err != nil {
			return err
		}
		cseq++
		sseq++
		if err := w.packet(client, server, sport, 80, cseq, sseq, false, false, nil); err != nil {
			return err
		}
		site := fmt.Sprintf("shop%d.example", conn%500)
		for k := 0; k < perConn && done < n; k++ {
			req := request(rng, done, k, site, conn)
			if err := w.packet(client, server, sport, 80, cseq, sseq, false, false, req); err != nil {
				return err
			}
			cseq += uint32(len(req))
			if err := w.packet(server, client, 80, sport, sseq, cseq, false, false, resp); err != nil {
				return err
			}
			sseq += uint32(len(resp))
			done++
		}
		for _, p := range []struct {
			cli bool
			fin bool
		}{{true, true}, {false, true}, {true, false}} {
			if p.cli {
				err = w.packet(client, server, sport, 80, cseq, sseq, false, p.fin, nil)
				if p.fin {
					cseq++
				}
			} else {
				err = w.packet(server, client, 80, sport, sseq, cseq, false, p.fin, nil)
				sseq++
			}
			if err != nil {
				return err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s: %d requests, %d packets\n", out, n, w.pkt)
	return nil
}

// request returns the i-th request: one in five is a tracker beacon.
// With browse, k is the request's place in its connection: the first is
// the page's document.
func request(rng *rand.Rand, i, k int, site string, conn int) []byte {
	page := fmt.Sprintf("https://%s/product/%d", site, rng.IntN(5000))
	cookie := fmt.Sprintf("sid=%016x; _fbp=fb.1.1700000000000.%d; _ga=GA1.1.%d.1700000000", rng.Uint64(), rng.IntN(1<<30), rng.IntN(1<<30))
	if browse {
		b := conn % 200 // the browser, as the client address
		page = fmt.Sprintf("http://%s/product/%d", site, conn/500%50)
		cookie = fmt.Sprintf("sid=%016x; _fbp=fb.1.1700000000000.%d; _ga=GA1.1.%d.1700000000", uint64(b)<<32|uint64(conn%500), 1000000+b, 2000000+b)
		if k == 0 {
			path := page[len("http://")+len(site):]
			return []byte("GET " + path + " HTTP/1.1\r\nHost: " + site +
				"\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\nAccept: text/html\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nCookie: " +
				cookie + "\r\n\r\n")
		}
	}
	var host, target string
	switch i % 10 {
	case 0:
		host = "www.facebook.com"
		target = fmt.Sprintf("/tr/?id=%d&ev=PageView&dl=%s&rl=&if=false&ts=%d", 100000000+conn%50, urlEscape(page), 1700000000000+i)
	case 3:
		host = "www.google-analytics.com"
		target = fmt.Sprintf("/g/collect?v=2&tid=G-BENCH%d&cid=%d.%d&en=page_view&dl=%s", conn%30, rng.IntN(1<<30), 1700000000, urlEscape(page))
	case 6:
		host = "analytics.tiktok.com"
		target = fmt.Sprintf("/api/v2/pixel?event=ViewContent&sdkid=C%d&url=%s", conn%20, urlEscape(page))
	case 8:
		host = "www.facebook.com"
		target = "/plugins/like.php?href=" + urlEscape(page) + "&layout=button_count"
	default:
		host = fmt.Sprintf("t%d.tracker%d.example.com", i%7, rng.IntN(500))
		if i%2 == 0 {
			host = site
		}
		target = fmt.Sprintf("/assets/%d.js?v=%d", rng.IntN(1000), i)
	}
	if browse && host != site {
		// A third party gets its own cookies, not the site's.
		cookie = fmt.Sprintf("uid=%d", 5000000+conn%200)
		if host == "www.facebook.com" {
			cookie = fmt.Sprintf("datr=%d; fr=%d", 3000000+conn%200, 4000000+conn%200)
		}
	}
	return []byte("GET " + target + " HTTP/1.1\r\nHost: " + host +
		"\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\nCookie: " + cookie +
		"\r\nReferer: " + page + "\r\n\r\n")
}

func urlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}
