package h3parse

import "time"

// maxHeaderBytes bounds the decoded fields of one field section, each
// counted as name + value + 32 (RFC 9204 §3.2.1, like HTTP/2's
// SETTINGS_MAX_HEADER_LIST_SIZE); dynamic table references can make a
// small section decode to much more, so the bound applies before each
// field is kept.
const maxHeaderBytes = 256 << 10

// section is an encoded field section (RFC 9204 §4.5) from a HEADERS
// frame, kept until the dynamic table holds what it needs.
type section struct {
	data    []byte    // the whole HEADERS payload
	start   time.Time // capture time of the HEADERS frame's first byte
	prefix  bool      // the prefix was read: encRIC, sign, delta, lines
	encRIC  uint64    // Encoded Required Insert Count (§4.5.1.1)
	sign    bool      // Base sign bit (§4.5.1.2)
	delta   uint64    // Delta Base
	lines   int       // offset of the first field line in data
	decided bool      // ric and base are known
	ric     uint64    // Required Insert Count
	base    uint64    // Base
}

// decode decodes the section, or returns errBlocked while the table lacks
// entries it needs or the peer's SETTINGS are unknown (RFC 9204 §2.1.2).
// It returns the fields and their size counted as for maxHeaderBytes.
func (d *decoder) decode(s *section) ([]field, int, error) {
	if err := s.readPrefix(); err != nil {
		return nil, 0, err
	}
	if err := d.decide(s); err != nil {
		return nil, 0, err
	}
	if s.ric > d.table.insertCount() {
		return nil, 0, errBlocked
	}
	return d.fieldLines(s.data[s.lines:], s.ric, s.base)
}

// readPrefix reads the field section prefix (§4.5.1): the Encoded
// Required Insert Count, an 8-bit prefix integer, then the sign bit and
// the Delta Base, a 7-bit prefix integer.
func (s *section) readPrefix() error {
	if s.prefix {
		return nil
	}
	enc, n, err := readPrefixInt(s.data, 8)
	if err == nil {
		var m int
		s.delta, m, err = readPrefixInt(s.data[n:], 7)
		s.sign = n < len(s.data) && s.data[n]&0x80 != 0
		n += m
	}
	if err == errShort {
		return protocolErr("field section prefix truncated")
	}
	if err != nil {
		return err
	}
	s.prefix, s.encRIC, s.lines = true, enc, n
	return nil
}

// decide works out the Required Insert Count and the Base once the
// peer's SETTINGS are known; a section that does not use the dynamic table
// needs no SETTINGS. The Required Insert Count is decoded against the
// insertions seen at that moment, as the peer's decoder does on receipt.
func (d *decoder) decide(s *section) error {
	if s.decided {
		return nil
	}
	if s.encRIC != 0 && !d.known {
		return errBlocked
	}
	ric, err := requiredInsertCount(s.encRIC, d.maxEntries(), d.table.insertCount())
	if err != nil {
		return err
	}
	base, err := sectionBase(ric, s.sign, s.delta)
	if err != nil {
		return err
	}
	s.decided, s.ric, s.base = true, ric, base
	return nil
}

// requiredInsertCount decodes the Encoded Required Insert Count with the
// algorithm of RFC 9204 §4.5.1.1.
func requiredInsertCount(enc, maxEntries, totalInserts uint64) (uint64, error) {
	if enc == 0 {
		return 0, nil
	}
	fullRange := 2 * maxEntries
	if enc > fullRange {
		return 0, protocolErr("encoded required insert count %d above %d", enc, fullRange)
	}
	maxValue := totalInserts + maxEntries
	maxWrapped := maxValue / fullRange * fullRange
	ric := maxWrapped + enc - 1
	if ric > maxValue {
		if ric <= fullRange {
			return 0, protocolErr("encoded required insert count %d invalid with %d insertions", enc, totalInserts)
		}
		ric -= fullRange
	}
	if ric == 0 {
		return 0, protocolErr("encoded required insert count %d decodes to 0", enc)
	}
	return ric, nil
}

// sectionBase computes the Base from the Required Insert Count and the
// signed Delta Base (§4.5.1.2). With no dynamic references (ric 0) the
// Base is never used, so it is not checked.
func sectionBase(ric uint64, sign bool, delta uint64) (uint64, error) {
	switch {
	case ric == 0:
		return 0, nil
	case !sign:
		return ric + delta, nil
	case delta >= ric:
		return 0, protocolErr("negative base: required insert count %d, delta base -%d", ric, delta+1)
	}
	return ric - delta - 1, nil
}

// fieldLines decodes the field line representations (§4.5.2-§4.5.6)
// that follow the prefix. Dynamic references must fall below the
// Required Insert Count (§2.2.3) and in the table.
func (d *decoder) fieldLines(p []byte, ric, base uint64) ([]field, int, error) {
	var fields []field
	size := 0
	for len(p) > 0 {
		f, n, err := d.fieldLine(p, ric, base)
		if err == errShort {
			err = protocolErr("field line truncated")
		}
		if err != nil {
			return nil, 0, err
		}
		if size += f.size(); size > maxHeaderBytes {
			return nil, 0, limitErr("decoded fields of more than %d bytes", maxHeaderBytes)
		}
		fields = append(fields, f)
		p = p[n:]
	}
	return fields, size, nil
}

// fieldLine decodes the representation at the start of p, chosen by its
// first bits.
func (d *decoder) fieldLine(p []byte, ric, base uint64) (field, int, error) {
	b := p[0]
	switch {
	case b&0x80 != 0: // 1Txxxxxx Indexed Field Line (§4.5.2)
		idx, n, err := readPrefixInt(p, 6)
		if err != nil {
			return field{}, 0, err
		}
		f, err := d.reference(b&0x40 != 0, idx, ric, base)
		return f, n, err
	case b&0x40 != 0: // 01NTxxxx Literal Field Line with Name Reference (§4.5.4)
		idx, n, err := readPrefixInt(p, 4)
		if err != nil {
			return field{}, 0, err
		}
		name, err := d.reference(b&0x10 != 0, idx, ric, base)
		if err != nil {
			return field{}, 0, err
		}
		return withValue(name.name, p, n)
	case b&0x20 != 0: // 001NHxxx Literal Field Line with Literal Name (§4.5.6)
		name, n, err := readString(p, 3, maxHeaderBytes)
		if err != nil {
			return field{}, 0, err
		}
		return withValue(name, p, n)
	case b&0x10 != 0: // 0001xxxx Indexed Field Line with Post-Base Index (§4.5.3)
		idx, n, err := readPrefixInt(p, 4)
		if err != nil {
			return field{}, 0, err
		}
		f, err := d.postBase(idx, ric, base)
		return f, n, err
	default: // 0000Nxxx Literal Field Line with Post-Base Name Reference (§4.5.5)
		idx, n, err := readPrefixInt(p, 3)
		if err != nil {
			return field{}, 0, err
		}
		name, err := d.postBase(idx, ric, base)
		if err != nil {
			return field{}, 0, err
		}
		return withValue(name.name, p, n)
	}
}

// withValue reads the value string (H bit and 7-bit prefix length) at
// p[n:] of a literal field line.
func withValue(name string, p []byte, n int) (field, int, error) {
	value, m, err := readString(p[n:], 7, maxHeaderBytes)
	if err != nil {
		return field{}, 0, err
	}
	return field{name, value}, n + m, nil
}

// reference resolves a static index, or a dynamic index relative to the
// Base (§3.2.5: Base - 1 - index).
func (d *decoder) reference(static bool, idx, ric, base uint64) (field, error) {
	if static {
		return staticField(idx)
	}
	if idx >= base {
		return field{}, protocolErr("relative index %d with base %d", idx, base)
	}
	return d.dynamic(base-1-idx, ric)
}

// postBase resolves a post-base index (§3.2.6: Base + index).
func (d *decoder) postBase(idx, ric, base uint64) (field, error) {
	if idx >= ric || base >= ric-idx {
		return field{}, protocolErr("post-base index %d with base %d and required insert count %d", idx, base, ric)
	}
	return d.dynamic(base+idx, ric)
}

// dynamic returns the entry of absolute index abs, which must lie below
// the Required Insert Count (§2.2.3).
func (d *decoder) dynamic(abs, ric uint64) (field, error) {
	if abs >= ric {
		return field{}, protocolErr("dynamic index %d at or above the required insert count %d", abs, ric)
	}
	return d.table.get(abs)
}
