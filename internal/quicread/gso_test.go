package quicread

import (
	"slices"
	"testing"
)

// mergeGSO merges runs of up to n consecutive datagrams of one direction
// into one, as UDP segmentation offload (or GRO) hands them to a capture:
// short header datagrams of one full size of at least minSegment bytes,
// the run's last one possibly shorter. It returns the datagrams and how
// many merged ones it made.
func mergeGSO(dgrams []datagram, n int) ([]datagram, int) {
	var out []datagram
	merged := 0
	for i := 0; i < len(dgrams); {
		d := dgrams[i]
		size := len(d.b)
		i++
		if isLong(d.b[0]) || size < minSegment || size > maxSegment {
			out = append(out, d)
			continue
		}
		b := slices.Clone(d.b)
		for k := 1; k < n && i < len(dgrams); k++ {
			next := dgrams[i]
			if next.fromClient != d.fromClient || isLong(next.b[0]) || len(next.b) > size {
				break
			}
			b = append(b, next.b...)
			i++
			if len(next.b) < size {
				break
			}
		}
		if len(b) > size {
			merged++
		}
		out = append(out, datagram{fromClient: d.fromClient, at: d.at, b: b})
	}
	return out, merged
}

// TestQuicGoSegmentationOffload reads the recorded quic-go connection
// with its runs of full-size datagrams merged as a capture on a Linux
// sender (UDP GSO) or receiver (GRO) holds them: every stream must come
// out as from the datagrams one by one.
func TestQuicGoSegmentationOffload(t *testing.T) {
	r := bigRecording(t)
	secrets := keyLogSecrets(t, r.keylog)
	for _, n := range []int{2, 16} {
		dgrams, merged := mergeGSO(r.dgrams, n)
		if merged == 0 {
			t.Fatalf("by %d: no run of full-size datagrams to merge in %d datagrams", n, len(r.dgrams))
		}
		c, rec := feed(t, dgrams, secrets)
		checkWant(t, rec, r.want)
		if st := c.Stats(); c.State() != Decrypting || st.Gaps != 0 || st.Undecryptable != 0 || st.Failed != 0 {
			t.Errorf("by %d (%d merged): state %v, stats %+v", n, merged, c.State(), st)
		}
	}
}
