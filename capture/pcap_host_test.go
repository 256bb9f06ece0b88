package capture

import (
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestHostTrackerClient checks which addresses are taken for one machine:
// those sharing a link-layer address with at most one IPv4 address, and
// every loopback address.
func TestHostTrackerClient(t *testing.T) {
	mac := func(b byte) linkAddr { return linkAddr{n: 6, b: [8]byte{2, 0, 0, 0, 0, b}} }
	loop := linkAddr{n: capturingHost}
	type saw struct {
		ip   string
		link linkAddr
	}
	for _, tc := range []struct {
		name string
		saw  []saw
		ask  []string // clients asked, in order
		want []string
	}{
		{"dual-stack machine", []saw{{"192.168.1.20", mac(10)}, {"2001:db8::20", mac(10)}, {"2001:db8::21", mac(10)}},
			[]string{"2001:db8::20", "192.168.1.20", "2001:db8::21"}, []string{"2001:db8::20", "2001:db8::20", "2001:db8::20"}},
		{"two machines", []saw{{"192.168.1.20", mac(10)}, {"192.168.1.30", mac(11)}, {"2001:db8::30", mac(11)}},
			[]string{"192.168.1.20", "2001:db8::30", "192.168.1.30"}, []string{"192.168.1.20", "2001:db8::30", "2001:db8::30"}},
		{"a router's address, several IPv4 sources", []saw{{"10.0.0.2", mac(1)}, {"10.0.0.3", mac(1)}, {"2001:db8::2", mac(1)}},
			[]string{"10.0.0.2", "10.0.0.3", "2001:db8::2"}, []string{"10.0.0.2", "10.0.0.3", "2001:db8::2"}},
		{"the capturing machine", []saw{{"127.0.0.1", loop}, {"127.0.0.153", loop}, {"::1", loop}, {"192.168.1.20", loop}},
			[]string{"::1", "127.0.0.1", "127.0.0.153", "192.168.1.20"}, []string{"::1", "::1", "::1", "::1"}},
		{"a forwarded packet seen arriving, then leaving", []saw{{"192.168.1.30", mac(11)}, {"192.168.1.30", loop}, {"192.168.1.1", loop}},
			[]string{"192.168.1.30", "192.168.1.1"}, []string{"192.168.1.30", "192.168.1.1"}},
		{"no link-layer address", []saw{{"10.0.0.2", linkAddr{}}, {"2001:db8::2", linkAddr{}}},
			[]string{"10.0.0.2", "2001:db8::2"}, []string{"10.0.0.2", "2001:db8::2"}},
		{"never seen", nil, []string{"10.0.0.9"}, []string{"10.0.0.9"}},
	} {
		var h hostTracker
		for _, s := range tc.saw {
			h.saw(endpoint(s.ip), s.link)
		}
		for i, ip := range tc.ask {
			if got := h.client(endpoint(ip)); got != tc.want[i] {
				t.Errorf("%s: client(%s) = %s, want %s", tc.name, ip, got, tc.want[i])
			}
		}
	}

	// A link-layer address found shared later keeps the name it gave.
	var h hostTracker
	h.saw(endpoint("10.0.0.2"), mac(1))
	h.saw(endpoint("2001:db8::2"), mac(1))
	first := h.client(endpoint("10.0.0.2"))
	h.saw(endpoint("10.0.0.3"), mac(1))
	if got := []string{first, h.client(endpoint("10.0.0.2")), h.client(endpoint("2001:db8::2"))}; got[0] != "10.0.0.2" || got[1] != "10.0.0.2" || got[2] != "2001:db8::2" {
		t.Errorf("after a second IPv4 address: clients %q, want 10.0.0.2, 10.0.0.2, 2001:db8::2", got)
	}
}

func endpoint(ip string) gopacket.Endpoint {
	a := net.ParseIP(ip)
	if v4 := a.To4(); v4 != nil {
		return layers.NewIPEndpoint(v4)
	}
	return layers.NewIPEndpoint(a)
}

// TestReadPCAPMachineClients reads captures in which machines send from
// several addresses: each machine's exchanges must share one client.
func TestReadPCAPMachineClients(t *testing.T) {
	mac := func(b byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, b} }
	dualStack := func(b *capBuilder) {
		b.macs = map[string]net.HardwareAddr{"192.168.1.20": mac(10), "2001:db8::20": mac(10), "192.168.1.30": mac(11)}
		simpleGET(b, "192.168.1.20", "93.184.216.34")
		simpleGET(b, "2001:db8::20", "2001:db8:ff::80")
		simpleGET(b, "192.168.1.30", "93.184.216.34")
	}
	for _, tc := range []struct {
		name  string
		lt    linkType
		build func(b *capBuilder)
		want  []string
	}{
		// One machine over IPv4 and IPv6 (one Ethernet address), another
		// over IPv4 only.
		{"dual-stack, ethernet", linkTypeEthernet, dualStack, []string{"192.168.1.20", "192.168.1.20", "192.168.1.30"}},
		{"dual-stack, linux cooked v2", linkTypeLinuxSLL2, dualStack, []string{"192.168.1.20", "192.168.1.20", "192.168.1.30"}},
		// What tcpdump -i any records on a dual-stack machine whose
		// browser asks a local DNS resolver: the page over IPv4 and the
		// tracker over IPv6, both sent by the machine, and the lookup over
		// loopback are one client's; another machine's request, forwarded,
		// is its own.
		{"the capturing machine", linkTypeLinuxSLL2, func(b *capBuilder) {
			b.sent = map[string]bool{"192.168.1.20": true, "2001:db8::20": true}
			b.macs = map[string]net.HardwareAddr{"192.168.1.30": mac(11)}
			simpleGET(b, "192.168.1.20", "93.184.216.34")
			b.dns("127.0.0.1", "127.0.0.53", 7, "connect.facebook.net", false, "", "")
			simpleGET(b, "2001:db8::20", "2001:db8:ff::80")
			simpleGET(b, "192.168.1.30", "93.184.216.34")
		}, []string{"192.168.1.20", "192.168.1.20", "192.168.1.20", "192.168.1.30"}},
	} {
		b := newCapBuilder(t, tc.lt)
		tc.build(b)
		exs, _, err := pcapReadAll(t, b.pcap(), "machines.pcap")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ex := range exs {
			got = append(got, ex.Client)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: clients %q, want %q", tc.name, got, tc.want)
		}
	}
}
