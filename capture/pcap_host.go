package capture

import (
	"encoding/binary"

	"github.com/google/gopacket"
)

// A machine often sends from several addresses: an IPv4 and one or more
// IPv6 addresses on a dual-stack network, the browser picking per
// connection (Happy Eyeballs). Page attribution keeps one current page
// per client, so a capture's client is the machine, told by the
// link-layer address its packets carry, not the IP address: a page loaded
// over IPv4 is the page of the tracker requests that leave over IPv6.
//
// The link-layer addresses are taken from clients' opening packets (TCP
// SYN, UDP to the DNS and HTTPS ports); a connection whose opening the
// capture lacks keeps its IP address as client. A link-layer address
// stands for one machine only while at most one IPv4 address has been
// seen from it: a router forwarding other machines' packets (or a capture
// that gives every packet the same address) shows many, and its clients
// stay their IP addresses. The capturing machine is one machine whatever
// its addresses: what it sent on any interface, as Linux cooked headers
// (tcpdump -i any) mark it, and its loopback traffic (a local DNS
// resolver, as systemd-resolved's, takes the browser's lookups there).

// linkAddr is a packet's link-layer source address; n is its length, 0
// when the link type has none (raw IP), capturingHost when the capturing
// machine sent the packet or it crossed a loopback interface.
type linkAddr struct {
	n uint8
	b [8]byte
}

const capturingHost = 0xff

// In Linux cooked headers: the ARPHRD_ type of loopback interfaces
// (if_arp.h) and the packet type of what the machine sent (if_packet.h
// PACKET_OUTGOING).
const (
	arphrdLoopback = 772
	packetOutgoing = 4
)

// linkSource returns the link-layer source address of a packet of link
// type lt whose link header decoded.
func linkSource(data []byte, lt linkType) linkAddr {
	var a linkAddr
	switch lt {
	case linkTypeEthernet:
		a.n = 6
		copy(a.b[:], data[6:12])
	case linkTypeLinuxSLL: // packet type 2, ARPHRD 2, addr len 2, addr 8
		if binary.BigEndian.Uint16(data[0:]) == packetOutgoing || binary.BigEndian.Uint16(data[2:]) == arphrdLoopback {
			a.n = capturingHost
			break
		}
		a.n = uint8(min(binary.BigEndian.Uint16(data[4:]), 8))
		copy(a.b[:], data[6:6+int(a.n)])
	case linkTypeLinuxSLL2: // ARPHRD at 8, packet type at 10, addr len at 11, addr at 12
		if data[10] == packetOutgoing || binary.BigEndian.Uint16(data[8:]) == arphrdLoopback {
			a.n = capturingHost
			break
		}
		a.n = min(data[11], 8)
		copy(a.b[:], data[12:12+int(a.n)])
	case linkTypeNull, linkTypeLoop:
		a.n = capturingHost
	}
	return a
}

// maxHostAddrs bounds the addresses hostTracker remembers; when full it
// starts over.
const maxHostAddrs = 1 << 16

// hostTracker ties IP addresses to machines by their link-layer address.
type hostTracker struct {
	link   map[gopacket.Endpoint]linkAddr // an IP address's link-layer address, as last seen
	ipv4   map[linkAddr]gopacket.Endpoint // the first IPv4 address seen from a link-layer address
	shared map[linkAddr]bool              // link-layer addresses seen with several IPv4 addresses
	names  map[linkAddr]string            // a machine's client name: its first client address
}

// saw records that a packet from src carried link-layer address a. The
// first address seen for src stays: a router capturing on every
// interface sees a client's packet arrive with the client's address, then
// leave as sent by the router.
func (h *hostTracker) saw(src gopacket.Endpoint, a linkAddr) {
	if a.n == 0 {
		return
	}
	if h.link == nil || len(h.link) >= maxHostAddrs || len(h.ipv4) >= maxHostAddrs || len(h.names) >= maxHostAddrs {
		*h = hostTracker{link: map[gopacket.Endpoint]linkAddr{}, ipv4: map[linkAddr]gopacket.Endpoint{},
			shared: map[linkAddr]bool{}, names: map[linkAddr]string{}}
	}
	if _, ok := h.link[src]; ok {
		return
	}
	h.link[src] = a
	if a.n == capturingHost || len(src.Raw()) != 4 {
		return
	}
	if v4, ok := h.ipv4[a]; !ok {
		h.ipv4[a] = src
	} else if v4 != src {
		h.shared[a] = true
	}
}

// client returns the name of the client whose address is ip: the first
// client address seen of its machine, or ip itself.
func (h *hostTracker) client(ip gopacket.Endpoint) string {
	a, ok := h.link[ip]
	if !ok || a.n != capturingHost && h.shared[a] {
		return ip.String()
	}
	if name, ok := h.names[a]; ok {
		return name
	}
	name := ip.String()
	h.names[a] = name
	return name
}
