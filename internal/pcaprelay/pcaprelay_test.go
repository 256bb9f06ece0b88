package pcaprelay

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestRelayRecordsBothDirections sends data both ways through a relay to
// an upper-casing echo server and checks the capture: a handshake, the
// payload of each direction in sequence with no gap, FINs both ways, and
// the addresses asked for.
func TestRelayRecordsBothDirections(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		c, err := srv.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b))
	}()

	var pcap bytes.Buffer
	rec, err := NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	client, server := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddrPort("203.0.113.5:443")
	ln, err := rec.Relay(srv.Addr().String(), client, server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sent := strings.Repeat("hello relay ", 500) // several segments
	if _, err := io.WriteString(c, sent); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != strings.ToUpper(sent) {
		t.Fatalf("echo through relay = %d bytes, %v; want %d bytes", len(got), err, len(sent))
	}
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}

	r, err := pcapgo.NewReader(bytes.NewReader(pcap.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var payload [2]bytes.Buffer // from client, from server
	var next [2]uint32
	var syns, fins [2]int
	for i := 0; ; i++ {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Fatalf("packet %d: not IPv4/TCP: %v", i, p)
		}
		d := 0
		if ip.SrcIP.Equal(server.Addr().AsSlice()) {
			d = 1
			if uint16(tcp.SrcPort) != server.Port() || !ip.DstIP.Equal(client.AsSlice()) {
				t.Fatalf("packet %d: server packet %v:%d -> %v:%d", i, ip.SrcIP, tcp.SrcPort, ip.DstIP, tcp.DstPort)
			}
		} else if !ip.SrcIP.Equal(client.AsSlice()) || uint16(tcp.DstPort) != server.Port() {
			t.Fatalf("packet %d: unexpected endpoints %v:%d -> %v:%d", i, ip.SrcIP, tcp.SrcPort, ip.DstIP, tcp.DstPort)
		}
		if tcp.SYN {
			syns[d]++
			next[d] = tcp.Seq + 1
			continue
		}
		if tcp.Seq != next[d] {
			t.Fatalf("packet %d (direction %d): seq %d, want %d", i, d, tcp.Seq, next[d])
		}
		if len(tcp.Payload) > mss {
			t.Fatalf("packet %d: %d bytes of payload, more than %d", i, len(tcp.Payload), mss)
		}
		payload[d].Write(tcp.Payload)
		next[d] += uint32(len(tcp.Payload))
		if tcp.FIN {
			fins[d]++
			next[d]++
		}
	}
	if syns != [2]int{1, 1} || fins != [2]int{1, 1} {
		t.Errorf("SYNs %v, FINs %v; want one each way", syns, fins)
	}
	if payload[0].String() != sent || payload[1].String() != strings.ToUpper(sent) {
		t.Errorf("recorded %d bytes from the client and %d from the server; want %d each, as sent", payload[0].Len(), payload[1].Len(), len(sent))
	}
}
