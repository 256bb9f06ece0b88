package capture

import (
	"slices"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// A record is finished when its response is: a long page is read after
// the trackers it loaded while it was still arriving, and those would be
// attributed before their page is known (to the page their Referer names,
// the site's origin). So finished records wait, up to holdWindow of
// capture time after their start, at most maxHeld of them holding at
// most maxHeldBytes of bodies, and are handed on in the order their
// requests started.
const (
	holdWindow   = 10 * time.Second
	maxHeld      = 1024
	maxHeldBytes = 32 << 20
)

// heldRecord is a finished record waiting in startOrder.
type heldRecord struct {
	ex  *traffic.Exchange
	key time.Time // its start
}

// startOrder holds finished records sorted by start; records that started
// together keep the order they came in.
type startOrder struct {
	held  []heldRecord
	bytes int // of the held records' bodies
}

func bodyBytes(ex *traffic.Exchange) int {
	n := len(ex.Request.Body)
	if ex.Response != nil {
		n += len(ex.Response.Body)
	}
	return n
}

// hold queues ex; its start is now when the source did not say.
func (pr *pcapReader) hold(ex *traffic.Exchange) {
	o := &pr.order
	r := heldRecord{ex: ex, key: ex.Start}
	if r.key.IsZero() {
		r.key = pr.now
	}
	// Records come nearly in order: search from the end.
	i := len(o.held)
	for i > 0 && o.held[i-1].key.After(r.key) {
		i--
	}
	o.held = slices.Insert(o.held, i, r)
	o.bytes += bodyBytes(ex)
	pr.release(false)
}

// release hands on the held records whose time is up, or all of them.
func (pr *pcapReader) release(all bool) {
	o := &pr.order
	limit := pr.now.Add(-holdWindow)
	k := 0
	for k < len(o.held) && (all || len(o.held)-k > maxHeld || o.bytes > maxHeldBytes || o.held[k].key.Before(limit)) {
		ex := o.held[k].ex
		o.held[k].ex = nil
		o.bytes -= bodyBytes(ex)
		pr.deliver(ex)
		k++
	}
	o.held = o.held[k:] // append reuses or moves the array as it grows
}
