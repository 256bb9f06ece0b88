package capture

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// testPacket is one packet of a capture a test builds.
type testPacket struct {
	ts   time.Time
	data []byte
	lt   linkType
}

// capBuilder builds packets for test captures: TCP connections with real
// sequence numbers, DNS over UDP, over IPv4 or IPv6, framed for a link type.
type capBuilder struct {
	t    testing.TB
	lt   linkType
	now  time.Time
	pkts []testPacket
	// macs, when set, give source IP addresses their own link-layer
	// address (Ethernet and SLL2); the others share 02:00:00:00:00:01.
	macs map[string]net.HardwareAddr
	// sent marks the source IP addresses whose packets the capturing
	// machine sent (SLL2 packet type PACKET_OUTGOING); loopback
	// addresses' packets cross a loopback interface (ARPHRD_LOOPBACK).
	sent map[string]bool
}

// srcMAC returns the link-layer address of packets from src.
func (b *capBuilder) srcMAC(src net.IP) net.HardwareAddr {
	if m, ok := b.macs[src.String()]; ok {
		return m
	}
	return net.HardwareAddr{2, 0, 0, 0, 0, 1}
}

func newCapBuilder(t testing.TB, lt linkType) *capBuilder {
	return &capBuilder{t: t, lt: lt, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// tick advances the clock by 1 ms and returns it.
func (b *capBuilder) tick() time.Time {
	b.now = b.now.Add(time.Millisecond)
	return b.now
}

// frame serializes ip/l4/payload and wraps it in b.lt's link header.
func (b *capBuilder) frame(src, dst net.IP, l4 gopacket.SerializableLayer, payload []byte) []byte {
	b.t.Helper()
	var ipl gopacket.NetworkLayer
	var ipSer gopacket.SerializableLayer
	etherType := layers.EthernetTypeIPv4
	if src.To4() != nil {
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.To4(), DstIP: dst.To4()}
		switch l4.(type) {
		case *layers.TCP:
			ip.Protocol = layers.IPProtocolTCP
		default:
			ip.Protocol = layers.IPProtocolUDP
		}
		ipl, ipSer = ip, ip
	} else {
		etherType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src, DstIP: dst}
		switch l4.(type) {
		case *layers.TCP:
			ip.NextHeader = layers.IPProtocolTCP
		default:
			ip.NextHeader = layers.IPProtocolUDP
		}
		ipl, ipSer = ip, ip
	}
	switch l := l4.(type) {
	case *layers.TCP:
		l.SetNetworkLayerForChecksum(ipl)
	case *layers.UDP:
		l.SetNetworkLayerForChecksum(ipl)
	}
	ls := []gopacket.SerializableLayer{ipSer, l4}
	if payload != nil {
		ls = append(ls, gopacket.Payload(payload))
	}
	var prefix []byte
	switch b.lt {
	case linkTypeEthernet:
		ls = append([]gopacket.SerializableLayer{&layers.Ethernet{
			SrcMAC:       b.srcMAC(src),
			DstMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 2},
			EthernetType: etherType,
		}}, ls...)
	case linkTypeLinuxSLL2:
		h := linuxSLL2{Protocol: uint16(etherType), InterfaceIndex: 3, ARPHRDType: 1, AddrLen: 6, Addr: b.srcMAC(src)}
		if b.sent[src.String()] {
			h.PacketType = packetOutgoing
		}
		if src.IsLoopback() {
			h.InterfaceIndex, h.ARPHRDType = 1, arphrdLoopback
		}
		prefix = h.encode(nil)
	case linkTypeLinuxSLL:
		prefix = make([]byte, 16)
		binary.BigEndian.PutUint16(prefix[14:], uint16(etherType))
	case linkTypeNull:
		prefix = make([]byte, 4)
		fam := uint32(2)
		if etherType == layers.EthernetTypeIPv6 {
			fam = 30
		}
		binary.LittleEndian.PutUint32(prefix, fam)
	case linkTypeLoop:
		prefix = make([]byte, 4)
		fam := uint32(2)
		if etherType == layers.EthernetTypeIPv6 {
			fam = 24
		}
		binary.BigEndian.PutUint32(prefix, fam)
	case linkTypeRaw, linkTypeIPv4, linkTypeIPv6:
	default:
		b.t.Fatalf("capBuilder: link type %v not supported", b.lt)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		b.t.Fatalf("serialize: %v", err)
	}
	return append(prefix, buf.Bytes()...)
}

func (b *capBuilder) add(data []byte) {
	b.pkts = append(b.pkts, testPacket{ts: b.tick(), data: data, lt: b.lt})
}

// testConn is a TCP connection being built.
type testConn struct {
	b            *capBuilder
	cli, srv     net.IP
	cport, sport uint16
	cseq, sseq   uint32
}

// conn starts a connection with a three-way handshake.
func (b *capBuilder) conn(cli, srv string, cport, sport uint16) *testConn {
	c := &testConn{b: b, cli: net.ParseIP(cli), srv: net.ParseIP(srv), cport: cport, sport: sport, cseq: 1000, sseq: 50000}
	b.add(c.seg(true, &layers.TCP{SYN: true}, nil))
	c.cseq++
	b.add(c.seg(false, &layers.TCP{SYN: true, ACK: true}, nil))
	c.sseq++
	b.add(c.seg(true, &layers.TCP{ACK: true}, nil))
	return c
}

// seg builds one segment at the current sequence numbers.
func (c *testConn) seg(fromClient bool, tcp *layers.TCP, payload []byte) []byte {
	src, dst, sp, dp, seq, ack := c.cli, c.srv, c.cport, c.sport, c.cseq, c.sseq
	if !fromClient {
		src, dst, sp, dp, seq, ack = c.srv, c.cli, c.sport, c.cport, c.sseq, c.cseq
	}
	tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Window = layers.TCPPort(sp), layers.TCPPort(dp), seq, 65535
	if !tcp.SYN || tcp.ACK {
		tcp.ACK, tcp.Ack = true, ack
	}
	if payload != nil {
		tcp.PSH = true
	}
	return c.b.frame(src, dst, tcp, payload)
}

// segments cuts data into size-byte segments, advancing the sequence
// number, and returns them without adding them, so tests can reorder.
func (c *testConn) segments(fromClient bool, data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(size, len(data))
		out = append(out, c.seg(fromClient, &layers.TCP{}, data[:n]))
		if fromClient {
			c.cseq += uint32(n)
		} else {
			c.sseq += uint32(n)
		}
		data = data[n:]
	}
	return out
}

// send adds data in order, cut into size-byte segments.
func (c *testConn) send(fromClient bool, data string, size int) {
	for _, p := range c.segments(fromClient, []byte(data), size) {
		c.b.add(p)
	}
}

// close ends the connection with FINs both ways.
func (c *testConn) close() {
	c.b.add(c.seg(true, &layers.TCP{FIN: true}, nil))
	c.cseq++
	c.b.add(c.seg(false, &layers.TCP{FIN: true}, nil))
	c.sseq++
	c.b.add(c.seg(true, &layers.TCP{}, nil))
}

// dns adds a DNS query (response false) or answer for name over UDP.
func (b *capBuilder) dns(cli, srv string, id uint16, name string, response bool, answerIP string, cname string) {
	b.add(b.dnsUDP(cli, srv, id, name, response, answerIP, cname))
}

// fragment cuts an Ethernet-framed IPv4 packet made by frame into IPv4
// fragments whose payloads hold size bytes (a multiple of 8) at most.
func (b *capBuilder) fragment(packet []byte, id uint16, size int) [][]byte {
	b.t.Helper()
	pkt := gopacket.NewPacket(packet, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if eth == nil || ip == nil || size%8 != 0 {
		b.t.Fatalf("fragment: want an Ethernet IPv4 packet and a multiple of 8, got size %d", size)
	}
	data := ip.Payload
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		f := &layers.IPv4{Version: 4, TTL: 64, Id: id, Protocol: ip.Protocol, SrcIP: ip.SrcIP, DstIP: ip.DstIP, FragOffset: uint16(off / 8)}
		if end < len(data) {
			f.Flags = layers.IPv4MoreFragments
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, f, gopacket.Payload(data[off:end])); err != nil {
			b.t.Fatalf("serialize fragment: %v", err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// fragment6 cuts an Ethernet-framed IPv6 packet made by frame into IPv6
// fragments (RFC 8200 §4.5) whose fragmentable parts hold size bytes (a
// multiple of 8) at most.
func (b *capBuilder) fragment6(packet []byte, id uint16, size int) [][]byte {
	b.t.Helper()
	pkt := gopacket.NewPacket(packet, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if ip == nil || ip.HopByHop != nil || size%8 != 0 {
		b.t.Fatalf("fragment6: want an Ethernet IPv6 packet without options and a multiple of 8, got size %d", size)
	}
	data := ip.Payload
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		f := slices.Clone(packet[:14+40])
		binary.BigEndian.PutUint16(f[14+4:], uint16(8+end-off)) // payload length
		f[14+6] = byte(layers.IPProtocolIPv6Fragment)
		field := uint16(off)
		if end < len(data) {
			field |= 1 // more fragments
		}
		f = append(f, byte(ip.NextHeader), 0, byte(field>>8), byte(field), 0, 0, byte(id>>8), byte(id)) // a 32-bit Identification
		out = append(out, append(f, data[off:end]...))
	}
	return out
}

// overlapEarlier moves a non-first fragment made by fragment or fragment6
// 8 bytes back, so that it overlaps the one before.
func overlapEarlier(t testing.TB, frame []byte) {
	t.Helper()
	switch binary.BigEndian.Uint16(frame[12:]) {
	case uint16(layers.EthernetTypeIPv4):
		off := binary.BigEndian.Uint16(frame[14+6:])
		binary.BigEndian.PutUint16(frame[14+6:], off-1) // in units of 8 bytes
		binary.BigEndian.PutUint16(frame[14+10:], 0)    // the header checksum, recomputed below
		var sum uint32
		for i := 14; i < 14+20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(frame[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(frame[14+10:], ^uint16(sum))
	case uint16(layers.EthernetTypeIPv6):
		field := binary.BigEndian.Uint16(frame[14+40+2:])
		binary.BigEndian.PutUint16(frame[14+40+2:], field-8) // the offset is in its upper 13 bits
	default:
		t.Fatal("overlapEarlier: not an IP fragment")
	}
}

// dnsUDP returns a DNS message over UDP as one Ethernet frame.
func (b *capBuilder) dnsUDP(cli, srv string, id uint16, name string, response bool, answerIP string, cname string) []byte {
	msg := b.dnsMsg(id, name, response, answerIP, cname)
	src, dst, sp, dp := net.ParseIP(cli), net.ParseIP(srv), uint16(53000+id), uint16(53)
	if response {
		src, dst, sp, dp = dst, src, dp, sp
	}
	return b.frame(src, dst, &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, msg)
}

// dnsTCP returns a DNS message as DNS over TCP frames it: after its
// length in two bytes.
func (b *capBuilder) dnsTCP(id uint16, name string, response bool, answerIP string, cname string) string {
	msg := b.dnsMsg(id, name, response, answerIP, cname)
	return string([]byte{byte(len(msg) >> 8), byte(len(msg))}) + string(msg)
}

// dnsMsg encodes a DNS query (response false) or answer for name.
func (b *capBuilder) dnsMsg(id uint16, name string, response bool, answerIP string, cname string) []byte {
	d := &layers.DNS{ID: id, QR: response, RD: true, RA: response,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	if response {
		target := name
		if cname != "" {
			d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeCNAME, Class: layers.DNSClassIN, TTL: 60, CNAME: []byte(cname)})
			target = cname
		}
		d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(target), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: net.ParseIP(answerIP).To4()})
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		b.t.Fatalf("serialize dns: %v", err)
	}
	return buf.Bytes()
}

// pcap writes the packets as a classic pcap file with pcapgo's writer.
// gopacket's LinkType is a uint8, so link types above 255 (SLL2) are
// patched into the header afterwards.
func (b *capBuilder) pcap() []byte {
	b.t.Helper()
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65535, layers.LinkType(b.lt&0xff)); err != nil {
		b.t.Fatal(err)
	}
	for _, p := range b.pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			b.t.Fatal(err)
		}
	}
	data := out.Bytes()
	binary.LittleEndian.PutUint32(data[20:], uint32(b.lt))
	return data
}

// pcapng writes the packets as pcapng, one interface per link type used,
// in order of first use.
func (b *capBuilder) pcapng() []byte {
	b.t.Helper()
	var out bytes.Buffer
	ifaces := map[linkType]int{}
	var order []linkType
	var w *pcapgo.NgWriter
	for _, p := range b.pkts {
		id, ok := ifaces[p.lt]
		if !ok {
			var err error
			intf := pcapgo.NgInterface{LinkType: layers.LinkType(p.lt), SnapLength: 65535, Name: "if" + p.lt.String()}
			if w == nil {
				w, err = pcapgo.NewNgWriterInterface(&out, intf, pcapgo.NgWriterOptions{})
			} else {
				id, err = w.AddInterface(intf)
			}
			if err != nil {
				b.t.Fatal(err)
			}
			ifaces[p.lt] = id
			order = append(order, p.lt)
		}
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: id}
		if err := w.WritePacket(ci, p.data); err != nil {
			b.t.Fatal(err)
		}
	}
	if w == nil {
		b.t.Fatal("pcapng: no packets")
	}
	if err := w.Flush(); err != nil {
		b.t.Fatal(err)
	}
	// Patch the full 16-bit link types into the interface blocks.
	data := out.Bytes()
	for off, i := 0, 0; off+12 <= len(data); off += int(binary.LittleEndian.Uint32(data[off+4:])) {
		if binary.LittleEndian.Uint32(data[off:]) == 1 && i < len(order) {
			binary.LittleEndian.PutUint16(data[off+8:], uint16(order[i]))
			i++
		}
	}
	return data
}

// realClientHello returns the first flight of a Go crypto/tls client
// asking for serverName: a real ClientHello record (with post-quantum key
// shares, 1.5 KB or more), read off a net.Pipe by a fake server.
func realClientHello(t testing.TB, serverName string) []byte {
	t.Helper()
	cli, srv := net.Pipe()
	go func() {
		c := tls.Client(cli, &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12})
		_ = c.Handshake() // fails when the fake server hangs up
		cli.Close()
	}()
	defer srv.Close()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(srv, hdr); err != nil {
		t.Fatalf("read record header: %v", err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(srv, body); err != nil {
		t.Fatalf("read record: %v", err)
	}
	return append(hdr, body...)
}
