package capture

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"
)

// linkType is a LINKTYPE_ number from a file header or pcapng interface
// block. gopacket v1.1.19's layers.LinkType is a uint8, which turns
// LINUX_SLL2 (276) into 20, so the reader reads link types itself.
type linkType uint16

// Link types the decoder handles (tcpdump.org link-type registry).
const (
	linkTypeNull      linkType = 0   // BSD loopback, address family in host order
	linkTypeEthernet  linkType = 1   // Ethernet II, with 802.1Q tags
	linkTypeRawBSD    linkType = 12  // raw IP as some BSDs number it
	linkTypeRaw       linkType = 101 // raw IPv4 or IPv6
	linkTypeLoop      linkType = 108 // OpenBSD loopback, address family in network order
	linkTypeLinuxSLL  linkType = 113 // Linux cooked v1
	linkTypeIPv4      linkType = 228 // raw IPv4
	linkTypeIPv6      linkType = 229 // raw IPv6
	linkTypeLinuxSLL2 linkType = 276 // Linux cooked v2: tcpdump -i any with libpcap >= 1.10
)

// String names the link type as tcpdump -L does.
func (lt linkType) String() string {
	switch lt {
	case linkTypeNull:
		return "NULL"
	case linkTypeEthernet:
		return "EN10MB"
	case linkTypeRawBSD, linkTypeRaw:
		return "RAW"
	case linkTypeLoop:
		return "LOOP"
	case linkTypeLinuxSLL:
		return "LINUX_SLL"
	case linkTypeIPv4:
		return "IPV4"
	case linkTypeIPv6:
		return "IPV6"
	case linkTypeLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(lt))
}

// EtherTypes the decoder follows.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// decodeResult says what became of one packet.
type decodeResult int

const (
	decodeOK              decodeResult = iota // TCP or UDP, fields set
	decodeOther                               // fine, but not TCP/UDP over IP (ARP, ICMP, …)
	decodeSkip                                // malformed or cut short
	decodeUnsupportedLink                     // a link type we do not decode
	decodeHeld                                // an IP fragment, kept until its datagram is whole
)

// decodedPacket is the part of a packet the analysis needs. Its fields
// point into the packet decoder's reused layers and the packet's data:
// valid until the next decode.
type decodedPacket struct {
	netFlow gopacket.Flow
	tcp     *layers.TCP // nil unless TCP
	udp     *layers.UDP // nil unless UDP
}

// packetDecoder turns a packet's bytes into IP flow and TCP/UDP layer
// without allocating: the layers are reused from packet to packet. It
// peels link headers itself (Ethernet with VLAN tags, Linux SLL and SLL2,
// BSD NULL/LOOP, raw IP) and uses gopacket's IP, TCP and UDP decoders.
// IP fragments are reassembled, IPv4 with gopacket's ip4defrag and IPv6
// with ip6Defrag (DNS answers larger than the path MTU arrive so).
type packetDecoder struct {
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	defrag  *ip4defrag.IPv4Defragmenter // made at the first fragment
	defrag6 ip6Defrag
}

// decode decodes data captured with link type lt at time ts.
func (d *packetDecoder) decode(data []byte, lt linkType, ts time.Time) (decodedPacket, decodeResult) {
	var p decodedPacket
	etherType, payload, res := linkPayload(data, lt)
	if res != decodeOK {
		return p, res
	}
	var proto layers.IPProtocol
	switch etherType {
	case etherIPv4:
		if err := d.ip4.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			return p, decodeSkip
		}
		ip := &d.ip4
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			var res decodeResult
			if ip, res = d.reassemble(ts); res != decodeOK {
				return p, res
			}
		}
		p.netFlow = ip.NetworkFlow()
		proto, payload = ip.Protocol, ip.Payload
	case etherIPv6:
		if err := d.ip6.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			return p, decodeSkip
		}
		proto, payload = d.ip6.NextHeader, d.ip6.Payload
		if d.ip6.HopByHop != nil {
			proto = d.ip6.HopByHop.NextHeader
		}
		if proto == layers.IPProtocolIPv6Fragment {
			var res decodeResult
			if proto, payload, res = d.defrag6.add(&d.ip6, ts); res != decodeOK {
				return p, res
			}
		}
		p.netFlow = d.ip6.NetworkFlow()
	default:
		return p, decodeOther
	}
	switch proto {
	case layers.IPProtocolTCP:
		if err := d.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			return p, decodeSkip
		}
		p.tcp = &d.tcp
	case layers.IPProtocolUDP:
		if err := d.udp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			return p, decodeSkip
		}
		p.udp = &d.udp
	default:
		return p, decodeOther
	}
	return p, decodeOK
}

// reassemble hands the IPv4 fragment in d.ip4 to the defragmenter and
// returns the whole datagram once its last fragment came. The defragmenter
// keeps the layers it is given, so the fragment is copied out of the
// packet's buffer, which the reader reuses.
func (d *packetDecoder) reassemble(ts time.Time) (*layers.IPv4, decodeResult) {
	if d.defrag == nil {
		d.defrag = ip4defrag.NewIPv4Defragmenter()
	}
	frag := d.ip4
	frag.Contents, frag.Options, frag.Padding = nil, nil, nil
	frag.SrcIP, frag.DstIP = slices.Clone(frag.SrcIP), slices.Clone(frag.DstIP)
	frag.Payload = slices.Clone(frag.Payload)
	whole, err := d.defrag.DefragIPv4WithTimestamp(&frag, ts)
	switch {
	case err != nil:
		return nil, decodeSkip
	case whole == nil:
		return nil, decodeHeld
	}
	return whole, decodeOK
}

// discardFragments forgets the fragments of datagrams not completed since
// before t and returns how many datagrams that gave up.
func (d *packetDecoder) discardFragments(t time.Time) int {
	n := d.defrag6.discardOlderThan(t)
	if d.defrag != nil {
		n += d.defrag.DiscardOlderThan(t)
	}
	return n
}

// linkPayload strips the link-layer header and returns the EtherType of
// what follows (IPv4 or IPv6 for the raw link types).
func linkPayload(data []byte, lt linkType) (uint16, []byte, decodeResult) {
	switch lt {
	case linkTypeEthernet:
		if len(data) < 14 {
			return 0, nil, decodeSkip
		}
		et := binary.BigEndian.Uint16(data[12:])
		data = data[14:]
		for et == etherVLAN || et == etherQinQ || et == etherQinQ2 {
			if len(data) < 4 {
				return 0, nil, decodeSkip
			}
			et = binary.BigEndian.Uint16(data[2:])
			data = data[4:]
		}
		return et, data, decodeOK
	case linkTypeRaw, linkTypeRawBSD, linkTypeIPv4, linkTypeIPv6:
		if len(data) < 1 {
			return 0, nil, decodeSkip
		}
		switch data[0] >> 4 {
		case 4:
			return etherIPv4, data, decodeOK
		case 6:
			return etherIPv6, data, decodeOK
		}
		return 0, nil, decodeSkip
	case linkTypeNull, linkTypeLoop:
		// A 4-byte address family: the writer's byte order for NULL,
		// network order for LOOP. Families differ between BSDs for IPv6.
		if len(data) < 4 {
			return 0, nil, decodeSkip
		}
		fam := binary.BigEndian.Uint32(data)
		if lt == linkTypeNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(data)
		}
		switch fam {
		case 2:
			return etherIPv4, data[4:], decodeOK
		case 10, 24, 28, 30:
			return etherIPv6, data[4:], decodeOK
		}
		return 0, nil, decodeOther
	case linkTypeLinuxSLL:
		// packet type 2, ARPHRD 2, addr len 2, addr 8, protocol 2.
		if len(data) < 16 {
			return 0, nil, decodeSkip
		}
		return binary.BigEndian.Uint16(data[14:]), data[16:], decodeOK
	case linkTypeLinuxSLL2:
		var h linuxSLL2
		if err := h.decode(data); err != nil {
			return 0, nil, decodeSkip
		}
		return h.Protocol, h.Payload, decodeOK
	}
	return 0, nil, decodeUnsupportedLink
}
