package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/gopacket/pcapgo"
)

// FuzzPCAPFile checks that pcapFile reads classic pcap files exactly as
// pcapgo.Reader (snaplen maxSnaplen) does: same records, capture info
// and errors, whether a record fits the bufio buffer or not.
func FuzzPCAPFile(f *testing.F) {
	good := pcapScenarios()[0].bytes(f)
	f.Add(good, uint16(0))
	f.Add(good[:len(good)-5], uint16(50))
	f.Add(good[:24+16], uint16(0))
	be := append([]byte(nil), good[:24]...)
	binary.BigEndian.PutUint32(be, 0xa1b23c4d)
	binary.BigEndian.PutUint16(be[4:], 2)
	binary.BigEndian.PutUint16(be[6:], 4)
	be = append(be, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 'a', 'b', 'c')
	f.Add(be, uint16(16))
	f.Fuzz(comparePCAPFile)
}

// TestPCAPFileMutations runs FuzzPCAPFile's comparison over seeded
// random mutations of a capture (byte changes, lengths set to edge
// values, cuts), as fuzzing with the engine is slow on this package.
func TestPCAPFileMutations(t *testing.T) {
	good := pcapScenarios()[0].bytes(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		b := append([]byte(nil), good...)
		for k := rng.IntN(4); k >= 0 && len(b) > 32; k-- {
			switch off := 24 + rng.IntN(len(b)-28); rng.IntN(4) {
			case 0:
				b[off] = byte(rng.IntN(256))
			case 1: // a record length field, roughly
				binary.LittleEndian.PutUint32(b[off&^3:], []uint32{0, 1, 16, 1 << 16, maxSnaplen, maxSnaplen + 1, 1<<32 - 1}[rng.IntN(7)])
			case 2:
				b = b[:off]
			case 3:
				b[4+rng.IntN(4)] = byte(rng.IntN(8))
			}
		}
		comparePCAPFile(t, b, uint16(rng.IntN(3000)))
	}
}

func comparePCAPFile(t *testing.T, data []byte, bufSize uint16) {
	{
		if len(data) < 4 || !IsPCAP(data) || binary.LittleEndian.Uint32(data) == 0x0a0d0d0a {
			return
		}
		size := 16 + int(bufSize)%2048
		if bufSize == 0 {
			size = 1 << 16
		}
		mine, err1 := newPCAPFile(bufio.NewReaderSize(bytes.NewReader(data), size))
		theirs, err2 := pcapgo.NewReader(bytes.NewReader(data))
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			if err2 != nil && errors.Is(err2, io.ErrUnexpectedEOF) && errors.Is(err1, io.ErrUnexpectedEOF) {
				return
			}
			t.Fatalf("header: err %v, pcapgo %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		theirs.SetSnaplen(maxSnaplen)
		for i := 0; i < 10000; i++ {
			d1, ci1, err1 := mine.next()
			d2, ci2, err2 := theirs.ZeroCopyReadPacketData()
			if readErrString(err1) != readErrString(err2) {
				t.Fatalf("record %d: err %v, pcapgo %v", i, err1, err2)
			}
			if err1 != nil {
				return
			}
			if !bytes.Equal(d1, d2) || !ci1.Timestamp.Equal(ci2.Timestamp) || ci1.Timestamp.Location() != ci2.Timestamp.Location() ||
				ci1.CaptureLength != ci2.CaptureLength || ci1.Length != ci2.Length {
				t.Fatalf("record %d: %x %+v, pcapgo %x %+v", i, d1, ci1, d2, ci2)
			}
		}
	}
}

// readErrString is how ReadPCAP tells read errors apart (readErr).
func readErrString(err error) string {
	if err == nil {
		return ""
	}
	return readErr(err).Error()
}
