package capture

import (
	"encoding/binary"
	"errors"
)

// linuxSLL2 is the 20-byte Linux "cooked" v2 header (LINKTYPE_LINUX_SLL2,
// 276) that tcpdump -i any writes with libpcap 1.10 and later; gopacket
// v1.1.19 cannot decode it. Layout (all big-endian), from the tcpdump.org
// link-type registry:
//
//	0  protocol type (EtherType)   2
//	2  reserved (MBZ)              2
//	4  interface index             4
//	8  ARPHRD_ type                2
//	10 packet type                 1
//	11 link-layer address length   1
//	12 link-layer address          8
//	20 payload
type linuxSLL2 struct {
	Protocol       uint16
	InterfaceIndex uint32
	ARPHRDType     uint16
	PacketType     uint8
	AddrLen        uint8
	Addr           []byte // the first min(AddrLen, 8) address bytes
	Payload        []byte
}

const sll2HeaderLen = 20

// errShortSLL2 is returned for data shorter than the header.
var errShortSLL2 = errors.New("linux sll2 header cut short")

// decode fills h from data; Addr and Payload alias data.
func (h *linuxSLL2) decode(data []byte) error {
	if len(data) < sll2HeaderLen {
		return errShortSLL2
	}
	h.Protocol = binary.BigEndian.Uint16(data[0:])
	h.InterfaceIndex = binary.BigEndian.Uint32(data[4:])
	h.ARPHRDType = binary.BigEndian.Uint16(data[8:])
	h.PacketType = data[10]
	h.AddrLen = data[11]
	n := int(h.AddrLen)
	if n > 8 {
		n = 8
	}
	h.Addr = data[12 : 12+n]
	h.Payload = data[sll2HeaderLen:]
	return nil
}

// encode appends the header for h (without Payload) to b; tests use it
// to build SLL2 captures.
func (h *linuxSLL2) encode(b []byte) []byte {
	var hdr [sll2HeaderLen]byte
	binary.BigEndian.PutUint16(hdr[0:], h.Protocol)
	binary.BigEndian.PutUint32(hdr[4:], h.InterfaceIndex)
	binary.BigEndian.PutUint16(hdr[8:], h.ARPHRDType)
	hdr[10] = h.PacketType
	hdr[11] = h.AddrLen
	copy(hdr[12:20], h.Addr)
	return append(b, hdr[:]...)
}
