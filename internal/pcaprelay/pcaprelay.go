// Package pcaprelay records real TCP connections and UDP flows as a pcap
// file, for tests and example captures: a client dials a loopback relay,
// the relay forwards to the real server, and every byte either way is
// written as Ethernet/IPv4/TCP packets with consistent sequence numbers
// (or as one UDP packet per datagram), as tcpdump would have seen it on
// the wire. No libpcap and no privileges are needed.
package pcaprelay

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// mss is the largest TCP payload per recorded packet, as on Ethernet.
const mss = 1460

// Recorder writes the connections of its relays into one pcap stream.
// It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	w        *pcapgo.Writer
	err      error // first write error; sticky
	nextPort uint16
	conns    sync.WaitGroup
}

// NewRecorder writes a pcap file header (Ethernet, nanosecond timestamps)
// to w and returns a recorder writing its packets after it.
func NewRecorder(w io.Writer) (*Recorder, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &Recorder{w: pw, nextPort: 40000}, nil
}

// Wait waits until every connection relayed so far has ended (both
// sides closed) and returns the first error writing packets, if any.
func (r *Recorder) Wait() error {
	r.conns.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Relay listens on a loopback port and forwards every connection to
// target, recording it as a connection from client to server: the
// addresses the capture shows (e.g. 192.0.2.1:51000 to 203.0.113.5:443),
// not the loopback ones. Each recorded connection gets its own client
// port. Close the returned listener to stop accepting; connections
// already open run until either side closes.
func (r *Recorder) Relay(target string, client netip.Addr, server netip.AddrPort) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.conns.Add(1)
			go r.relay(c, target, client, server)
		}
	}()
	return ln, nil
}

// conn is one recorded connection: its endpoints and next sequence
// numbers, guarded by the recorder's mutex.
type conn struct {
	r              *Recorder
	cli, srv       netip.AddrPort
	cliSeq, srvSeq uint32
}

func (r *Recorder) relay(c net.Conn, target string, client netip.Addr, server netip.AddrPort) {
	defer r.conns.Done()
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	r.mu.Lock()
	r.nextPort++
	k := &conn{r: r, cli: netip.AddrPortFrom(client, r.nextPort), srv: server, cliSeq: 1000, srvSeq: 5000}
	k.packet(true, &layers.TCP{SYN: true}, nil)
	k.packet(false, &layers.TCP{SYN: true, ACK: true}, nil)
	k.packet(true, &layers.TCP{ACK: true}, nil)
	r.mu.Unlock()

	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, fromClient bool) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				r.mu.Lock()
				for b := buf[:n]; len(b) > 0; {
					m := min(len(b), mss)
					k.packet(fromClient, &layers.TCP{ACK: true, PSH: m == len(b)}, b[:m])
					b = b[m:]
				}
				r.mu.Unlock()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				r.mu.Lock()
				k.packet(fromClient, &layers.TCP{FIN: true, ACK: true}, nil)
				r.mu.Unlock()
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
		}
	}
	go pipe(up, c, true)
	go pipe(c, up, false)
	<-done
	<-done
}

// packet writes one TCP segment in the given direction and advances that
// direction's sequence number. The caller holds r.mu.
func (k *conn) packet(fromClient bool, tcp *layers.TCP, payload []byte) {
	src, dst := k.cli, k.srv
	seq, ack := &k.cliSeq, k.srvSeq
	if !fromClient {
		src, dst = k.srv, k.cli
		seq, ack = &k.srvSeq, k.cliSeq
	}
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
	tcp.Seq, tcp.Window = *seq, 65535
	if tcp.ACK {
		tcp.Ack = ack
	}
	if !k.r.write(fromClient, src, dst, layers.IPProtocolTCP, tcp, payload) {
		return
	}
	*seq += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		*seq++
	}
}

// transport is the TCP or UDP header of a recorded packet.
type transport interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}

// write records one IPv4 packet from src to dst, reporting whether it
// was written. The caller holds r.mu.
func (r *Recorder) write(fromClient bool, src, dst netip.AddrPort, proto layers.IPProtocol, tr transport, payload []byte) bool {
	if r.err != nil {
		return false
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tr.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: mac(fromClient), DstMAC: mac(!fromClient), EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tr, gopacket.Payload(payload)); err != nil {
		r.err = fmt.Errorf("serialize packet: %w", err)
		return false
	}
	data := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(data), Length: len(data)}
	if err := r.w.WritePacket(ci, data); err != nil {
		r.err = err
		return false
	}
	return true
}

// RelayUDP listens on a loopback UDP port and forwards datagrams to
// target and back, recording each as a UDP packet between client and
// server (the addresses the capture shows). Every loopback sender gets
// its own upstream socket and its own recorded client port, as a QUIC
// connection from its own socket would. Close the returned connection to
// stop relaying; Wait returns only after that.
func (r *Recorder) RelayUDP(target string, client netip.Addr, server netip.AddrPort) (net.PacketConn, error) {
	u, err := r.RelayUDPNAT(target, client, server)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UDPRelay is a relay RelayUDPNAT started: the loopback socket clients
// send to, which can also play a NAT that loses its mappings.
type UDPRelay struct {
	net.PacketConn
	// mappings counts the Rebind calls: a flow set up under an older
	// count is set up anew on its sender's next datagram.
	mappings atomic.Uint64
}

// Rebind makes the relay act as a NAT whose mappings expired (the NAT
// rebinding of RFC 9000 §9.3): the next datagram of every sender leaves
// through a new upstream socket, so the server sees a new address, and
// is recorded with a new client port. Answers the server still sends to
// an old socket reach the sender and are recorded with the old port.
func (u *UDPRelay) Rebind() { u.mappings.Add(1) }

// RelayUDPNAT is RelayUDP returning the relay itself, for Rebind.
func (r *Recorder) RelayUDPNAT(target string, client netip.Addr, server netip.AddrPort) (*UDPRelay, error) {
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &UDPRelay{PacketConn: ln}
	r.conns.Add(1)
	go r.relayUDP(u, raddr, client, server)
	return u, nil
}

func (r *Recorder) relayUDP(u *UDPRelay, target *net.UDPAddr, client netip.Addr, server netip.AddrPort) {
	defer r.conns.Done()
	type flow struct {
		up       *net.UDPConn
		cli      netip.AddrPort // the recorded client address
		mappings uint64         // u.mappings when it was set up
	}
	var answering sync.WaitGroup
	flows := map[string]flow{}
	var ups []*net.UDPConn // every upstream socket, old mappings' too
	defer func() {
		for _, up := range ups {
			up.Close()
		}
		answering.Wait()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := u.ReadFrom(buf)
		if err != nil {
			return
		}
		mappings := u.mappings.Load()
		f, ok := flows[from.String()]
		if !ok || f.mappings != mappings {
			up, err := net.DialUDP("udp", nil, target)
			if err != nil {
				continue
			}
			ups = append(ups, up)
			r.mu.Lock()
			r.nextPort++
			f = flow{up: up, cli: netip.AddrPortFrom(client, r.nextPort), mappings: mappings}
			r.mu.Unlock()
			flows[from.String()] = f
			answering.Add(1)
			go func() { // the server's answers go back to this sender
				defer answering.Done()
				b := make([]byte, 64<<10)
				for {
					m, err := f.up.Read(b)
					if err != nil {
						return
					}
					r.datagram(f.cli, server, false, b[:m])
					u.WriteTo(b[:m], from)
				}
			}()
		}
		r.datagram(f.cli, server, true, buf[:n])
		f.up.Write(buf[:n])
	}
}

// datagram records one UDP datagram between cli and srv.
func (r *Recorder) datagram(cli, srv netip.AddrPort, fromClient bool, payload []byte) {
	src, dst := cli, srv
	if !fromClient {
		src, dst = srv, cli
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.write(fromClient, src, dst, layers.IPProtocolUDP,
		&layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}, payload)
}

func mac(client bool) net.HardwareAddr {
	if client {
		return net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	}
	return net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
}
