package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/trackaudit/trackaudit/internal/fixtures"
)

// writeDNSCapture writes a pcap of DNS queries from 10.0.0.2, one per
// name, at the given offsets from a fixed start.
func writeDNSCapture(t *testing.T, queries []string, at []time.Duration) string {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for i, name := range queries {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 2), DstIP: net.IPv4(10, 0, 0, 53)}
		udp := &layers.UDP{SrcPort: layers.UDPPort(40000 + i), DstPort: 53}
		udp.SetNetworkLayerForChecksum(ip)
		dns := &layers.DNS{ID: uint16(i + 1), RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, dns); err != nil {
			t.Fatal(err)
		}
		b := sb.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(at[i]), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "dns.pcap")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnalyzeAttributesContacts checks that tracker contacts seen only in
// DNS are reported under the site whose visit they followed.
func TestAnalyzeAttributesContacts(t *testing.T) {
	pcap := writeDNSCapture(t,
		[]string{"www.dailyplanet.example", "connect.facebook.net", "www.google-analytics.com", "shop.example", "analytics.tiktok.com"},
		[]time.Duration{0, 200 * time.Millisecond, 900 * time.Millisecond, 30 * time.Second, 30*time.Second + 300*time.Millisecond})
	_, stdout := analyzeJSON(t, pcap)
	var r struct {
		Sites []struct {
			Site     string
			Contacts []struct{ Host, Via, Company string }
			Cloaked  []struct{ Host, CNAME, Company string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range r.Sites {
		for _, c := range s.Contacts {
			got[s.Site] = append(got[s.Site], c.Host+" "+c.Via+" "+c.Company)
		}
	}
	want := map[string][]string{
		"dailyplanet.example": {"connect.facebook.net dns Meta", "www.google-analytics.com dns Google"},
		"shop.example":        {"analytics.tiktok.com dns TikTok"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contacts by site = %v, want %v", got, want)
	}
}

// TestAnalyzeRealDNSCaptureVisit checks the visit inference on a real
// capture of DNS lookups made while loading espn.com
// (../shared/fixtures/pcap/chrissanders-dns.pcap): every lookup belongs to
// the espn.com visit the first one starts, none is left unattributed.
func TestAnalyzeRealDNSCaptureVisit(t *testing.T) {
	pcap := filepath.Join(fixtures.Dir(t, "pcap"), "chrissanders-dns.pcap")
	_, stdout := analyzeJSON(t, pcap)
	var r struct {
		Sites []struct {
			Site     string
			Requests int
			Pages    []struct{ URL, Title string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Sites) != 1 || r.Sites[0].Site != "espn.com" || r.Sites[0].Requests != 15 ||
		len(r.Sites[0].Pages) != 1 || r.Sites[0].Pages[0].URL != "https://www.espn.com/" {
		t.Errorf("sites = %+v, want only espn.com with its 15 lookups on https://www.espn.com/", r.Sites)
	}
}

// TestAnalyzeExamplePCAP runs the shipped example packet capture (a
// `tcpdump -i any` style visit to a news article in plain HTTP, written by
// capture's TestExamplePCAP): the trackers reached over TLS, QUIC and a
// first-party DNS CNAME are named and tied to the article, and the Adobe
// beacon sent in plain text is decoded, the site's cookies it carried
// reported.
func TestAnalyzeExamplePCAP(t *testing.T) {
	const article = "http://www.dailyplanet.example/politics/2026/03/senator-health-scandal"
	_, stdout := analyzeJSON(t, "../../examples/news-visit.pcap")
	var r struct {
		Sites []struct {
			Site  string
			Pages []struct {
				URL, Title string
				Requests   int
			}
			Contacts []struct{ Host, Via, Company string }
			Cloaked  []struct{ Host, CNAME, Company string }
			Trackers []struct{ Company string }
			Leaks    []struct{ Page, Company, What string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Sites) != 1 || r.Sites[0].Site != "dailyplanet.example" {
		t.Fatalf("sites = %+v, want dailyplanet.example only", r.Sites)
	}
	s := r.Sites[0]
	var contacts []string
	for _, c := range s.Contacts {
		contacts = append(contacts, c.Host+" "+c.Via+" "+c.Company)
	}
	for _, want := range []string{"connect.facebook.net tls-sni Meta", "www.google-analytics.com quic-sni Google", "dailyplanet.example.sc.omtrdc.net dns Adobe",
		"metrics.dailyplanet.example dns Adobe"} { // the first-party name, by its CNAME
		if !slices.Contains(contacts, want) {
			t.Errorf("contacts %q lack %q", contacts, want)
		}
	}
	if len(s.Cloaked) != 1 || s.Cloaked[0] != (struct{ Host, CNAME, Company string }{"metrics.dailyplanet.example", "dailyplanet.example.sc.omtrdc.net", "Adobe"}) {
		t.Errorf("cloaked = %+v, want metrics.dailyplanet.example behind its CNAME to Adobe", s.Cloaked)
	}
	// Only the lookup of the site itself comes before the article; every
	// later contact belongs to it.
	if len(s.Pages) == 0 || s.Pages[0].URL != article || s.Pages[0].Requests != 8 {
		t.Errorf("pages = %+v, want the article first with 8 requests", s.Pages)
	} else if want := "Senator hid health scandal – The Daily Planet"; s.Pages[0].Title != want {
		t.Errorf("article title %q, want %q from its HTML", s.Pages[0].Title, want)
	}
	if len(s.Trackers) != 1 || s.Trackers[0].Company != "Adobe" {
		t.Errorf("trackers = %+v, want the Adobe beacon", s.Trackers)
	}
	var mid, session bool
	for _, l := range s.Leaks {
		mid = mid || l.Page == article && l.Company == "Adobe" && strings.Contains(l.What, "mid")
		// The beacon goes to a name of the site's own: the site's session
		// cookie goes with it.
		session = session || l.Page == article && l.Company == "Adobe" && l.What == "cookie dp_session (site session)"
	}
	if !mid || !session {
		t.Errorf("leaks %+v lack Adobe's mid (%v) or the site's session cookie sent to Adobe (%v)", s.Leaks, mid, session)
	}
}

// TestAnalyzeRealCaptureTitles reads page titles from the HTML of real
// captures (../shared/fixtures/pcap): a WordPress page with entities in its
// title, and Google's home page.
func TestAnalyzeRealCaptureTitles(t *testing.T) {
	dir := fixtures.Dir(t, "pcap")
	_, stdout := analyzeJSON(t, filepath.Join(dir, "chrissanders-http_post.pcapng"), filepath.Join(dir, "chrissanders-http_google.pcapng"))
	var r struct {
		Sites []struct{ Pages []struct{ URL, Title string } }
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range r.Sites {
		for _, p := range s.Pages {
			got[p.URL] = p.Title
		}
	}
	want := map[string]string{
		"http://www.chrissanders.org/?p=310&cpage=1":       "SANS SEC 504 Comes to Bowling Green – Mentored by Me! « Chris Sanders",
		"http://www.chrissanders.org/wp-comments-post.php": "",
		"http://www.google.com/":                           "Google",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page titles = %q, want %q", got, want)
	}
}
