package quicread

import (
	"slices"
	"testing"
)

// TestCIDCandidates checks the order of DCID lengths tried.
func TestCIDCandidates(t *testing.T) {
	var dst [maxCIDLen + 2]int
	d := newDirection()
	all := d.cidCandidates(&dst)
	if len(all) != maxCIDLen+1 || all[0] != 0 || all[maxCIDLen] != maxCIDLen {
		t.Errorf("no hint: %v", all)
	}
	d.hintCID(8)
	hinted := d.cidCandidates(&dst)
	if len(hinted) != maxCIDLen+1 || hinted[0] != 8 || slices.Index(hinted[1:], 8) >= 0 {
		t.Errorf("hint 8: %v", hinted)
	}
	d.cidLen, d.cidKnown = 4, true
	d.hintCID(12)
	if got := d.cidCandidates(&dst); !slices.Equal(got, []int{4}) || d.cidHint != 8 {
		t.Errorf("known 4: %v, hint %d", got, d.cidHint)
	}
}

// TestKeepSuite checks that the other suites' keys are dropped.
func TestKeepSuite(t *testing.T) {
	var d direction
	for _, s := range []suite{aes128GCM, chacha20Poly1305} {
		k, err := newKeys(s, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		d.app = append(d.app, &appKeys{cur: k})
	}
	d.keepSuite(chacha20Poly1305)
	if len(d.app) != 1 || d.app[0].cur.suite != chacha20Poly1305 {
		t.Errorf("kept %d", len(d.app))
	}
}
