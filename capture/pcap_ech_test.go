package capture

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/trackaudit/trackaudit/internal/fixtures"
)

// httpsAnswer is a DNS answer (RFC 1035 §4.1) to an HTTPS query for name
// holding one HTTPS record (RFC 9460 §2.2) with the "ech" parameter: the
// ECHConfigList list. gopacket cannot write this record type.
func httpsAnswer(id uint16, name string, list []byte) []byte {
	var qname []byte
	for _, l := range strings.Split(name, ".") {
		qname = append(append(qname, byte(len(l))), l...)
	}
	qname = append(qname, 0)
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0) // response, RD RA; 1 question, 1 answer
	msg = append(append(msg, qname...), 0, 65, 0, 1)      // HTTPS, IN
	rdata := []byte{0, 1, 0}                              // priority 1, target "."
	rdata = binary.BigEndian.AppendUint16(rdata, 1)       // key alpn
	rdata = append(rdata, 0, 3, 2, 'h', '2')
	rdata = binary.BigEndian.AppendUint16(rdata, 5) // key ech
	rdata = binary.BigEndian.AppendUint16(rdata, uint16(len(list)))
	rdata = append(rdata, list...)
	msg = append(msg, 0xc0, 12, 0, 65, 0, 1, 0, 0, 0, 60) // name (pointer to the question), HTTPS, IN, TTL
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(rdata)))
	return append(msg, rdata...)
}

// TestReadPCAPECHFronts checks that a TLS or QUIC contact whose server name
// is an Encrypted Client Hello public name says so (Via "tls-ech",
// "quic-ech"): Cloudflare's, or one an HTTPS record in the capture's DNS
// announced. Before that announcement, and for other names, it is a plain
// SNI contact; Chrome's GREASE ECH extension changes nothing.
func TestReadPCAPECHFronts(t *testing.T) {
	list, _, err := fixtures.ECHConfig()
	if err != nil {
		t.Fatal(err)
	}
	b := newCapBuilder(t, linkTypeEthernet)
	hello := func(port uint16, name string) {
		c := b.conn("10.0.0.2", "198.51.100.7", port, 443)
		c.send(true, string(realClientHello(t, name)), 1400)
		c.close()
	}
	hello(50001, fixtures.ECHPublicName) // not known yet
	b.add(b.frame(net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.2"),
		&layers.UDP{SrcPort: 53, DstPort: 53001}, httpsAnswer(7, "news.test", list)))
	hello(50002, fixtures.ECHPublicName)
	hello(50003, "cloudflare-ech.com")
	hello(50004, "connect.facebook.net")
	b.quicUDP("10.0.0.2", "198.51.100.8", 50005, 443,
		sealQUICInitial(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0, quicCrypto(0, realClientHello(t, fixtures.ECHPublicName)[5:])))
	exs, _, err := pcapReadAll(t, b.pcap(), "ech.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ex := range exs {
		if ex.HostOnly && ex.Via != "dns" {
			got = append(got, ex.Via+" "+ex.Request.URL.Host)
		}
	}
	want := []string{"tls-sni public.test", "tls-ech public.test", "tls-ech cloudflare-ech.com", "tls-sni connect.facebook.net", "quic-ech public.test"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("contacts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzHTTPSRecord: any record data is read without a panic, and a name
// it yields is a valid host name.
func FuzzHTTPSRecord(f *testing.F) {
	list, _, err := fixtures.ECHConfig()
	if err != nil {
		f.Fatal(err)
	}
	full := httpsAnswer(1, "news.test", list)
	f.Add(full[len(full)-(14+len(list)):]) // the record's data
	f.Add([]byte{0, 1, 0})
	f.Fuzz(func(t *testing.T, rdata []byte) {
		var e echNames
		e.learnHTTPSRecord(rdata)
		for name := range e.learnt {
			if _, ok := validHostName([]byte(name)); !ok {
				t.Errorf("learnt %q, no host name", name)
			}
		}
	})
}
