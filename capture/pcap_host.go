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
// stay their IP addresses. Loopback traffic is one machine's whatever
// its addresses.

// linkAddr is a packet's link-layer source address; n is its length, 0
// when the link type has none (raw IP), loopbackLink on a loopback
// interface.
type linkAddr struct {
	n uint8
	b [8]byte
}

const loopbackLink = 0xff

// arphrdLoopback is the ARPHRD_ type of Linux loopback interfaces
// (if_arp.h), in Linux cooked headers.
const arphrdLoopback = 772

// linkSource returns the link-layer source address of a packet of link
// type lt whose link header decoded.
func linkSource(data []byte, lt linkType) linkAddr {
	var a linkAddr
	switch lt {
	case linkTypeEthernet:
		a.n = 6
		copy(a.b[:], data[6:12])
	case linkTypeLinuxSLL: // packet type 2, ARPHRD 2, addr len 2, addr 8
		if binary.BigEndian.Uint16(data[2:]) == arphrdLoopback {
			a.n = loopbackLink
			break
		}
		a.n = uint8(min(binary.BigEndian.Uint16(data[4:]), 8))
		copy(a.b[:], data[6:6+int(a.n)])
	case linkTypeLinuxSLL2: // ARPHRD at 8, addr len at 11, addr at 12
		if binary.BigEndian.Uint16(data[8:]) == arphrdLoopback {
			a.n = loopbackLink
			break
		}
		a.n = min(data[11], 8)
		copy(a.b[:], data[12:12+int(a.n)])
	case linkTypeNull, linkTypeLoop:
		a.n = loopbackLink
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

// saw records that a packet from src carried link-layer address a.
func (h *hostTracker) saw(src gopacket.Endpoint, a linkAddr) {
	if a.n == 0 {
		return
	}
	if h.link == nil || len(h.link) >= maxHostAddrs || len(h.ipv4) >= maxHostAddrs || len(h.names) >= maxHostAddrs {
		*h = hostTracker{link: map[gopacket.Endpoint]linkAddr{}, ipv4: map[linkAddr]gopacket.Endpoint{},
			shared: map[linkAddr]bool{}, names: map[linkAddr]string{}}
	}
	h.link[src] = a
	if a.n == loopbackLink || len(src.Raw()) != 4 {
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
	if !ok || a.n != loopbackLink && h.shared[a] {
		return ip.String()
	}
	if name, ok := h.names[a]; ok {
		return name
	}
	name := ip.String()
	h.names[a] = name
	return name
}
