package pcaprelay

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

	rec, pcap := newRecorder(t)
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

// TestRelayUDP sends datagrams from two sockets through a UDP relay to an
// upper-casing echo server and checks the capture: every datagram each
// way, as UDP between the addresses asked for, one client port per
// socket.
func TestRelayUDP(t *testing.T) {
	srv, _ := upperUDP(t)
	rec, pcap := newRecorder(t)
	relay, err := rec.RelayUDP(srv.LocalAddr().String(), client, server)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, msg := range []string{"one", "two"} {
		c, err := net.Dial("udp", relay.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			d := strings.Repeat(msg, j+1)
			sent[d] = true
			echo(t, c, d)
		}
		c.Close()
	}
	relay.Close()
	if err := rec.Wait(); err != nil {
		t.Fatal(err)
	}

	ports := map[layers.UDPPort]int{}
	got := map[string]bool{}
	for _, d := range recordedUDP(t, pcap) {
		ip, udp := d.ip, d.udp
		payload := string(udp.Payload)
		if fromClient := ip.SrcIP.Equal(client.AsSlice()); fromClient {
			if !ip.DstIP.Equal(server.Addr().AsSlice()) || udp.DstPort != layers.UDPPort(server.Port()) {
				t.Errorf("client datagram %q to %v:%d, want %v", payload, ip.DstIP, udp.DstPort, server)
			}
			ports[udp.SrcPort]++
			got[payload] = true
		} else {
			if !ip.SrcIP.Equal(server.Addr().AsSlice()) || udp.SrcPort != layers.UDPPort(server.Port()) {
				t.Errorf("server datagram %q from %v:%d, want %v", payload, ip.SrcIP, udp.SrcPort, server)
			}
			got[strings.ToLower(payload)+" (answer)"] = true
		}
	}
	for d := range sent {
		if !got[d] || !got[d+" (answer)"] {
			t.Errorf("datagram %q or its answer missing from the capture", d)
		}
	}
	if len(ports) != 2 {
		t.Errorf("client ports = %v, want one per socket (2)", ports)
	}
}

// TestRelayUDPRebind sends datagrams from one socket through a relay
// that rebinds between rounds, as a NAT losing its mapping: the server
// sees a new source address and the capture a new client port from each
// rebinding on, every datagram and answer is relayed and recorded, and
// without a rebinding the socket keeps one port.
func TestRelayUDPRebind(t *testing.T) {
	tests := []struct {
		name    string
		rebinds int
	}{
		{"no rebinding", 0},
		{"one rebinding", 1},
		{"two rebindings", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sources := upperUDP(t) // sources: the server's peers
			rec, pcap := newRecorder(t)
			relay, err := rec.RelayUDPNAT(srv.LocalAddr().String(), client, server)
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.Dial("udp", relay.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			var sent []string // in order; round i's datagrams start with the digit i
			for round := 0; round <= tt.rebinds; round++ {
				if round > 0 {
					relay.Rebind()
				}
				for j := range 2 {
					d := fmt.Sprintf("%d-datagram-%d", round, j)
					sent = append(sent, d)
					echo(t, c, d)
				}
			}
			c.Close()
			relay.Close()
			if err := rec.Wait(); err != nil {
				t.Fatal(err)
			}
			// Every datagram was answered: the server read them all.
			if got := sources(); len(got) != tt.rebinds+1 {
				t.Errorf("the server saw source addresses %q, want %d", got, tt.rebinds+1)
			}

			portOf := map[byte]map[layers.UDPPort]bool{} // by round, the client ports of its datagrams and answers
			var got []string
			for _, d := range recordedUDP(t, pcap) {
				ip, udp := d.ip, d.udp
				if len(udp.Payload) == 0 {
					t.Fatalf("recorded datagram without a payload: %v", udp)
				}
				port := udp.DstPort
				if ip.SrcIP.Equal(client.AsSlice()) {
					port = udp.SrcPort
					got = append(got, string(udp.Payload))
				}
				round := udp.Payload[0]
				if portOf[round] == nil {
					portOf[round] = map[layers.UDPPort]bool{}
				}
				portOf[round][port] = true
			}
			if strings.Join(got, " ") != strings.Join(sent, " ") {
				t.Errorf("recorded client datagrams %q, want %q", got, sent)
			}
			all := map[layers.UDPPort]bool{}
			for round, ports := range portOf {
				if len(ports) != 1 {
					t.Errorf("round %c recorded with client ports %v, want one", round, ports)
				}
				for p := range ports {
					all[p] = true
				}
			}
			if len(all) != tt.rebinds+1 {
				t.Errorf("client ports %v, want %d: a new one per rebinding", all, tt.rebinds+1)
			}
		})
	}
}

// upperUDP starts a UDP server on loopback that answers every datagram
// with it upper-cased, until the test ends, and returns it and the
// function listing the source addresses it heard from.
func upperUDP(t *testing.T) (net.PacketConn, func() []string) {
	t.Helper()
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFrom(b)
			if err != nil {
				return
			}
			mu.Lock()
			seen[from.String()] = true
			mu.Unlock()
			srv.WriteTo(bytes.ToUpper(b[:n]), from)
		}
	}()
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(maps.Keys(seen))
	}
}

// udpDatagram is one recorded datagram.
type udpDatagram struct {
	ip  *layers.IPv4
	udp *layers.UDP
}

// recordedUDP reads a relay's capture, which must hold IPv4/UDP only.
func recordedUDP(t *testing.T, pcap io.Reader) []udpDatagram {
	t.Helper()
	r, err := pcapgo.NewReader(pcap)
	if err != nil {
		t.Fatal(err)
	}
	var out []udpDatagram
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if ip == nil || udp == nil {
			t.Fatalf("recorded packet is not IPv4/UDP: %v", p)
		}
		out = append(out, udpDatagram{ip, udp})
	}
}

// The addresses the tests record their relayed connections between.
var (
	client = netip.MustParseAddr("192.0.2.7")
	server = netip.MustParseAddrPort("203.0.113.5:443")
)

// newRecorder returns a recorder writing into the returned buffer.
func newRecorder(t *testing.T) (*Recorder, *bytes.Buffer) {
	t.Helper()
	var pcap bytes.Buffer
	rec, err := NewRecorder(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	return rec, &pcap
}

// echo sends d on c and checks that the upper-casing echo server answers
// it.
func echo(t *testing.T, c net.Conn, d string) {
	t.Helper()
	if _, err := c.Write([]byte(d)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(b)
	if err != nil || string(b[:n]) != strings.ToUpper(d) {
		t.Fatalf("echo of %q = %q, %v", d, b[:n], err)
	}
}
