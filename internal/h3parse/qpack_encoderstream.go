package h3parse

// decoder is the QPACK decoder state (RFC 9204 §2.2) for the field
// sections one endpoint encodes: the dynamic table that endpoint's encoder
// stream builds, and the maximum capacity the peer, which decodes, allowed
// with its SETTINGS_QPACK_MAX_TABLE_CAPACITY (§3.2.3, §5).
type decoder struct {
	table dynamicTable
	// maxCapacity is the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, valid
	// once known.
	maxCapacity uint64
	known       bool
	// partial holds the encoder stream bytes of an instruction that has
	// not fully arrived.
	partial []byte
}

// setMaxCapacity records the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY.
func (d *decoder) setMaxCapacity(v uint64) {
	d.maxCapacity, d.known = v, true
}

// maxEntries is MaxEntries of RFC 9204 §3.2.2, used to decode the
// Required Insert Count (§4.5.1.1).
func (d *decoder) maxEntries() uint64 { return d.maxCapacity / entryOverhead }

// instruction decodes the encoder instruction (RFC 9204 §4.3) at the start
// of p and applies it to the table. It returns the bytes used, or errShort
// when p holds only part of the instruction; inserted reports that the
// insert count grew.
func (d *decoder) instruction(p []byte) (used int, inserted bool, err error) {
	if _, err := instructionLen(p); err != nil {
		return 0, false, err
	}
	var f field
	switch b := p[0]; {
	case b&0x80 != 0:
		f, used, err = d.insertNameRef(p)
	case b&0x40 != 0:
		f, used, err = d.insertLiteralName(p)
	case b&0x20 != 0:
		return d.setCapacity(p)
	default:
		f, used, err = d.duplicate(p)
	}
	if err == nil {
		err = d.table.insert(f)
	}
	if err != nil {
		return 0, false, err
	}
	return used, true, nil
}

// setCapacity decodes Set Dynamic Table Capacity (§4.3.1): '001' and a
// 5-bit prefix integer.
func (d *decoder) setCapacity(p []byte) (int, bool, error) {
	c, n, err := readPrefixInt(p, 5)
	switch {
	case err != nil:
		return 0, false, err
	case d.known && c > d.maxCapacity:
		return 0, false, protocolErr("dynamic table capacity %d above the maximum %d", c, d.maxCapacity)
	case c > maxTableCapacity:
		return 0, false, limitErr("dynamic table capacity %d", c)
	}
	d.table.setCapacity(int(c))
	return n, false, nil
}

// insertNameRef decodes Insert with Name Reference (§4.3.2): '1', the T
// bit (static), a 6-bit prefix index (relative for the dynamic table),
// then the value.
func (d *decoder) insertNameRef(p []byte) (field, int, error) {
	idx, n, err := readPrefixInt(p, 6)
	if err != nil {
		return field{}, 0, err
	}
	value, m, err := readString(p[n:], 7, maxTableCapacity)
	if err != nil {
		return field{}, 0, err
	}
	var name field
	if p[0]&0x40 != 0 {
		name, err = staticField(idx)
	} else {
		name, err = d.table.relative(idx)
	}
	return field{name.name, value}, n + m, err
}

// insertLiteralName decodes Insert with Literal Name (§4.3.3): '01', the H
// bit and a 5-bit prefix length of the name, then the value.
func (d *decoder) insertLiteralName(p []byte) (field, int, error) {
	name, n, err := readString(p, 5, maxTableCapacity)
	if err != nil {
		return field{}, 0, err
	}
	value, m, err := readString(p[n:], 7, maxTableCapacity)
	if err != nil {
		return field{}, 0, err
	}
	return field{name, value}, n + m, nil
}

// duplicate decodes Duplicate (§4.3.4): '000' and a 5-bit prefix relative
// index of the entry to insert again.
func (d *decoder) duplicate(p []byte) (field, int, error) {
	idx, n, err := readPrefixInt(p, 5)
	if err != nil {
		return field{}, 0, err
	}
	f, err := d.table.relative(idx)
	return f, n, err
}

// instructionLen returns the length of the encoder instruction at the
// start of p, or errShort, without decoding its strings: an instruction
// arriving in many pieces is decoded once, when complete.
func instructionLen(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errShort
	}
	prefix, strs := uint8(5), []uint8{} // Set Dynamic Table Capacity, Duplicate
	switch b := p[0]; {
	case b&0x80 != 0:
		prefix, strs = 6, []uint8{7}
	case b&0x40 != 0:
		prefix, strs = 0, []uint8{5, 7} // the name length is the prefix
	}
	n := 0
	if prefix > 0 {
		_, m, err := readPrefixInt(p, prefix)
		if err != nil {
			return 0, err
		}
		n = m
	}
	for _, bits := range strs {
		m, err := stringEnd(p[n:], bits, maxTableCapacity)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}
