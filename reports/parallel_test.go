package reports

import (
	"sync/atomic"
	"testing"
)

// TestParallel checks that every index is visited exactly once, for
// counts below, at and above the number of workers.
func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000} {
		calls := make([]atomic.Int32, n)
		parallel(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Errorf("parallel(%d): index %d called %d times, want 1", n, i, c)
			}
		}
	}
}
