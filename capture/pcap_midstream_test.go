package capture

import (
	"bytes"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestQUICWithoutHandshake: short-header packets of a flow whose
// connection the capture never saw start began before the capture, and a
// warning counts them; late packets of a connection that was followed and
// ended (here after its CONNECTION_CLOSE) do not count.
func TestQUICWithoutHandshake(t *testing.T) {
	c := recordH3(t)
	buf := bytes.NewBuffer(slices.Clone(c.pcap))
	w := pcapgo.NewWriterNanos(buf)
	last := pcapPackets(t, c.pcap)
	ts := last[len(last)-1].ci.Timestamp
	b := newCapBuilder(t, linkTypeEthernet)
	short := append([]byte{0x41}, bytes.Repeat([]byte{0x5a}, 40)...)
	for _, p := range []struct {
		src, dst string
		sport    uint16
		dport    uint16
	}{
		{"203.0.113.5", "192.0.2.7", 443, 40001}, // the first connection, ended
		{"192.0.2.7", "203.0.113.5", 40999, 443}, // never seen starting
		{"203.0.113.5", "192.0.2.7", 443, 40999},
		{"192.0.2.7", "203.0.113.9", 40998, 8443}, // not to port 443: not counted
	} {
		ts = ts.Add(time.Millisecond)
		frame := b.frame(net.ParseIP(p.src), net.ParseIP(p.dst), &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}, short)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	_, st := readTLSCapture(t, tlsCapture{pcap: buf.Bytes(), keyLog: c.keyLog}, true)
	want := "tls.pcap: 1 QUIC connection began before the capture, or moved to an address the key log could have tied to it (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser"
	if !slices.Contains(st.Warnings, want) || len(st.Warnings) != 2 {
		t.Errorf("warnings %q; want the one about keys and %q", st.Warnings, want)
	}
}

// TestTLSWithoutHandshake: a TCP connection whose first bytes in the
// capture are encrypted TLS records began before the capture; a warning
// counts it, and nothing else comes of it.
func TestTLSWithoutHandshake(t *testing.T) {
	b := newCapBuilder(t, linkTypeEthernet)
	// No SYN: the capture starts in the middle of the connection.
	c := &testConn{b: b, cli: net.ParseIP("10.0.0.2"), srv: net.ParseIP("157.240.0.35"), cport: 50700, sport: 443, cseq: 1000, sseq: 50000}
	record := append([]byte{23, 3, 3, 0, 40}, bytes.Repeat([]byte{0x77}, 40)...) // application_data
	c.send(true, string(record), 1460)
	c.send(false, string(record), 1460)
	var exs []*traffic.Exchange
	st, err := ReadPCAP(bytes.NewReader(b.pcap()), "mid.pcap", func(ex *traffic.Exchange) error {
		exs = append(exs, ex)
		return nil
	})
	want := []string{"mid.pcap: 1 TLS connection began before the capture (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser"}
	if err != nil || len(exs) != 0 || !slices.Equal(st.Warnings, want) {
		t.Errorf("records %d, warnings %q, error %v; want no record and %q", len(exs), st.Warnings, err, want)
	}
}
