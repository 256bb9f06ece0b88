// Package pcaprelay records real TCP connections as a pcap file, for tests
// and example captures: a client dials a loopback relay, the relay
// forwards to the real server, and every byte either way is written as
// Ethernet/IPv4/TCP packets with consistent sequence numbers, as tcpdump
// would have seen it on the wire. No libpcap and no privileges are needed.
package pcaprelay

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
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
	r := k.r
	if r.err != nil {
		return
	}
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
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: mac(fromClient), DstMAC: mac(!fromClient), EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		r.err = fmt.Errorf("serialize packet: %w", err)
		return
	}
	data := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(data), Length: len(data)}
	if err := r.w.WritePacket(ci, data); err != nil {
		r.err = err
		return
	}
	*seq += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		*seq++
	}
}

func mac(client bool) net.HardwareAddr {
	if client {
		return net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	}
	return net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
}
