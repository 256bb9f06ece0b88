package h3parse

// maxTableCapacity caps the dynamic table capacity an encoder may set,
// whatever the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY allows, so that
// the table of each direction holds at most 1 MiB of fields.
const maxTableCapacity = 1 << 20

// dynamicTable is the QPACK dynamic table (RFC 9204 §3.2) one endpoint's
// encoder builds with its encoder stream, as the peer's decoder holds it.
// Entries are addressed by absolute index: the first entry ever inserted
// is 0 (§3.2.4).
type dynamicTable struct {
	entries  []field // oldest first
	dropped  uint64  // entries evicted so far: the absolute index of entries[0]
	size     int     // sum of the entries' sizes (§3.2.1)
	capacity int     // set by the encoder (§3.2.3); starts at zero
}

// insertCount is the total number of insertions so far (§3.2.4).
func (t *dynamicTable) insertCount() uint64 { return t.dropped + uint64(len(t.entries)) }

// get returns the entry of absolute index abs, if still in the table.
func (t *dynamicTable) get(abs uint64) (field, error) {
	if abs < t.dropped || abs >= t.insertCount() {
		return field{}, protocolErr("dynamic table entry %d not in the table (entries %d to %d)", abs, t.dropped, t.insertCount())
	}
	return t.entries[abs-t.dropped], nil
}

// relative returns the entry an encoder instruction's relative index
// names: 0 is the most recent insertion (§3.2.5).
func (t *dynamicTable) relative(rel uint64) (field, error) {
	n := t.insertCount()
	if rel >= n {
		return field{}, protocolErr("relative index %d with %d insertions", rel, n)
	}
	return t.get(n - 1 - rel)
}

// setCapacity applies Set Dynamic Table Capacity (§4.3.1), evicting the
// entries that no longer fit (§3.2.2).
func (t *dynamicTable) setCapacity(c int) {
	t.capacity = c
	t.evictTo(c)
}

// insert adds f as the newest entry, first evicting the oldest entries
// to make room; an entry larger than the capacity is an error (§3.2.2).
func (t *dynamicTable) insert(f field) error {
	if f.size() > t.capacity {
		return protocolErr("entry of %d bytes in a table of capacity %d", f.size(), t.capacity)
	}
	t.evictTo(t.capacity - f.size())
	t.entries = append(t.entries, f)
	t.size += f.size()
	return nil
}

// evictTo evicts the oldest entries until the table size is at most
// limit (§3.2.2).
func (t *dynamicTable) evictTo(limit int) {
	for t.size > limit && len(t.entries) > 0 {
		t.size -= t.entries[0].size()
		t.entries[0] = field{} // let the strings go
		t.entries = t.entries[1:]
		t.dropped++
	}
}
