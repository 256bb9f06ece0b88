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

// TestCIDCandidatesLearnt checks that the lengths of the connection IDs
// learnt come right after the known length or the hint, once each.
func TestCIDCandidatesLearnt(t *testing.T) {
	tests := []struct {
		name   string
		hint   int // -1: none
		known  int // -1: not known
		learnt []int
		want   []int // the first candidates
		total  int
	}{
		{"known, nothing learnt", -1, 4, nil, []int{4}, 1},
		{"known, its own length learnt", -1, 4, []int{4}, []int{4}, 1},
		{"known, others learnt", 8, 4, []int{9, 4, 3}, []int{4, 3, 9}, 3},
		{"hint, others learnt", 8, -1, []int{20, 8, 1}, []int{8, 1, 20, 0, 2}, maxCIDLen + 1},
		{"no hint, learnt", -1, -1, []int{5}, []int{5, 0, 1, 2, 3, 4, 6}, maxCIDLen + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst [maxCIDLen + 2]int
			d := newDirection()
			if tt.hint >= 0 {
				d.hintCID(tt.hint)
			}
			if tt.known >= 0 {
				d.cidLen, d.cidKnown = tt.known, true
			}
			for _, n := range tt.learnt {
				d.cidLens |= 1 << n
			}
			got := d.cidCandidates(&dst)
			if len(got) != tt.total || !slices.Equal(got[:len(tt.want)], tt.want) {
				t.Errorf("candidates %v; want %d starting %v", got, tt.total, tt.want)
			}
			seen := map[int]bool{}
			for _, n := range got {
				if seen[n] {
					t.Errorf("length %d twice in %v", n, got)
				}
				seen[n] = true
			}
		})
	}
}
