package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestReadPCAPHostile feeds broken captures: each must end in a clear
// error naming the file or a partial result that says what was lost.
func TestReadPCAPHostile(t *testing.T) {
	good := pcapScenarios()[0].bytes(t) // http-out-of-order.pcap, 16 packets
	goodNg := pcapScenarios()[1].bytes(t)
	le := binary.LittleEndian
	mod := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	tests := []struct {
		name      string
		data      []byte
		wantErr   string // substring; "" means no error
		truncated bool
		minRecs   int
	}{
		{"empty", nil, "dump.pcap: empty file", false, 0},
		{"garbage", []byte("this is not a capture at all"), "dump.pcap: not a pcap or pcapng capture", false, 0},
		{"short header", good[:10], "dump.pcap: truncated pcap file header", false, 0},
		{"header only", good[:24], "", false, 0},
		{"cut in last record", good[:len(good)-5], "", true, 1},
		{"cut in record header", good[:24+8], "", true, 0},
		{"caplen beyond snaplen", mod(good, func(b []byte) { le.PutUint32(b[24+8:], maxSnaplen+1) }), "dump.pcap: corrupt packet record after 0 packets", false, 0},
		{"caplen 0xffffffff", mod(good, func(b []byte) { le.PutUint32(b[24+8:], 0xffffffff) }), "corrupt packet record", false, 0},
		{"bad version", mod(good, func(b []byte) { le.PutUint16(b[4:], 9) }), "dump.pcap: bad pcap file header", false, 0},
		{"ng cut", goodNg[:len(goodNg)-7], "", true, 1},
		{"ng absurd block length", mod(goodNg, func(b []byte) { le.PutUint32(b[4:], 0xfffffff0) }), "dump.pcap: bad pcapng section header", false, 0},
		{"ng wrong byte order magic", mod(goodNg, func(b []byte) { copy(b[8:], "\x01\x02\x03\x04") }), "bad byte-order magic", false, 0},
		{"ng only section header", goodNg[:28], "", false, 0},
		{"ng unknown block skipped", ngWithUnknownBlock(t, goodNg), "", false, 2},
		{"ng packet claims more than its block", ngBadCaplen(t, goodNg), "claims", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exs, st, err := pcapReadAll(t, tt.data, "dump.pcap")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if st.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v (warnings %q)", st.Truncated, tt.truncated, st.Warnings)
			}
			if tt.truncated && (len(st.Warnings) == 0 || !strings.Contains(st.Warnings[0], "dump.pcap: truncated packet record after")) {
				t.Errorf("warnings = %q, want a truncation warning naming the file", st.Warnings)
			}
			if len(exs) < tt.minRecs {
				t.Errorf("got %d records, want at least %d", len(exs), tt.minRecs)
			}
		})
	}
}

// ngWithUnknownBlock inserts a block of an unknown type after the first
// interface block.
func ngWithUnknownBlock(t *testing.T, ng []byte) []byte {
	shb := int(binary.LittleEndian.Uint32(ng[4:]))
	idb := int(binary.LittleEndian.Uint32(ng[shb+4:]))
	blk := make([]byte, 16)
	binary.LittleEndian.PutUint32(blk, 0x0badf00d)
	binary.LittleEndian.PutUint32(blk[4:], 16)
	binary.LittleEndian.PutUint32(blk[12:], 16)
	out := append([]byte(nil), ng[:shb+idb]...)
	out = append(out, blk...)
	return append(out, ng[shb+idb:]...)
}

// ngBadCaplen makes the first enhanced packet block claim more captured
// bytes than it holds.
func ngBadCaplen(t *testing.T, ng []byte) []byte {
	out := append([]byte(nil), ng...)
	for off := 0; off+12 <= len(out); off += int(binary.LittleEndian.Uint32(out[off+4:])) {
		if binary.LittleEndian.Uint32(out[off:]) == 6 {
			binary.LittleEndian.PutUint32(out[off+20:], 0x7fffffff)
			return out
		}
	}
	t.Fatal("no enhanced packet block")
	return nil
}

func TestReadPCAPStopsOnCallbackError(t *testing.T) {
	data := pcapScenarios()[4].bytes(t) // dns: 3 contacts
	stop := errors.New("stop here")
	calls := 0
	_, err := ReadPCAP(bytes.NewReader(data), "dns.pcap", func(*traffic.Exchange) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestIsPCAP(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{"\xd4\xc3\xb2\xa1", true},     // little-endian, microseconds
		{"\xa1\xb2\xc3\xd4", true},     // big-endian
		{"\x4d\x3c\xb2\xa1", true},     // little-endian, nanoseconds
		{"\xa1\xb2\x3c\x4d", true},     // big-endian, nanoseconds
		{"\x0a\x0d\x0d\x0a", true},     // pcapng
		{"{\"log\"", false},            // HAR
		{"SQLite format 3\x00", false}, // store
		{"\xd4\xc3", false},            // too short
	}
	for _, tt := range tests {
		if got := IsPCAP([]byte(tt.head)); got != tt.want {
			t.Errorf("IsPCAP(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// FuzzReadPCAP checks that no input makes ReadPCAP panic, hang or fail to
// return: each input must finish within 2 s.
func FuzzReadPCAP(f *testing.F) {
	for _, sc := range pcapScenarios() {
		b := sc.build(f)
		f.Add(b.pcap())
		f.Add(b.pcapng())
	}
	f.Add([]byte{})
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			n := 0
			st, _ := ReadPCAP(bytes.NewReader(data), "fuzz.pcap", func(ex *traffic.Exchange) error {
				n++
				if ex.Request.URL == nil {
					t.Errorf("record %d without URL", ex.ID)
				}
				return nil
			})
			if st.Exchanges+st.Contacts != n {
				t.Errorf("stats count %d records, fn saw %d", st.Exchanges+st.Contacts, n)
			}
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("ReadPCAP took more than 2s on a %d-byte input", len(data))
		}
	})
}
