package h3parse

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rfcStep is one line of testdata/rfc9204_appendix_b.txt.
type rfcStep struct {
	line int
	verb string
	args []string
}

func readRFCExamples(t *testing.T) []rfcStep {
	t.Helper()
	f, err := os.Open("testdata/rfc9204_appendix_b.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []rfcStep
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		steps = append(steps, rfcStep{n, fs[0], fs[1:]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}

// unhex decodes hex groups separated by spaces.
func unhex(t testing.TB, groups ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(groups, ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func atoi(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRFC9204AppendixB replays the examples of RFC 9204 Appendix B against
// the decoder: encoder instructions, field sections, and the table state
// the RFC prints after each step.
func TestRFC9204AppendixB(t *testing.T) {
	var d decoder
	var want, got []field
	var sectionLine int
	checkFields := func() {
		if sectionLine == 0 {
			return
		}
		if len(got) != len(want) {
			t.Errorf("line %d: decoded %q, want %q", sectionLine, got, want)
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("line %d: field %d is %q, want %q", sectionLine, i, got[i], want[i])
			}
		}
		sectionLine, want = 0, nil
	}
	sections := 0
	for _, st := range readRFCExamples(t) {
		if st.verb != "field" {
			checkFields()
		}
		switch st.verb {
		case "max-table-capacity":
			d.setMaxCapacity(atoi(t, st.args[0]))
		case "example":
			t.Logf("%s", strings.Join(st.args, " "))
		case "encoder":
			p := unhex(t, st.args...)
			for len(p) > 0 {
				n, _, err := d.instruction(p)
				if err != nil {
					t.Fatalf("line %d: %v", st.line, err)
				}
				p = p[n:]
			}
		case "decoder": // acknowledgments change nothing the decoder holds
		case "section":
			sec := section{data: unhex(t, st.args[1:]...)}
			var err error
			got, _, err = d.decode(&sec)
			if err != nil {
				t.Fatalf("line %d: %v", st.line, err)
			}
			sectionLine = st.line
			sections++
		case "field":
			want = append(want, field{st.args[0], strings.Join(st.args[1:], " ")})
		case "state":
			if n, size := d.table.insertCount(), d.table.size; n != atoi(t, st.args[0]) || uint64(size) != atoi(t, st.args[1]) {
				t.Errorf("line %d: insert count %d, size %d; want %s, %s", st.line, n, size, st.args[0], st.args[1])
			}
		case "entry":
			f, err := d.table.get(atoi(t, st.args[0]))
			if w := (field{st.args[1], st.args[2]}); err != nil || f != w {
				t.Errorf("line %d: entry %s is %q (%v), want %q", st.line, st.args[0], f, err, w)
			}
		case "evicted":
			if f, err := d.table.get(atoi(t, st.args[0])); err == nil {
				t.Errorf("line %d: entry %s still holds %q", st.line, st.args[0], f)
			}
		default:
			t.Fatalf("line %d: unknown verb %q", st.line, st.verb)
		}
	}
	checkFields()
	if sections != 3 {
		t.Errorf("replayed %d sections, want the RFC's 3", sections)
	}
}

// TestRequiredInsertCount checks the decoding of §4.5.1.1 against values
// worked out by hand from the RFC's formula, including wrap-around.
func TestRequiredInsertCount(t *testing.T) {
	tests := []struct {
		enc, maxEntries, inserts uint64
		want                     uint64
		err                      bool
	}{
		{enc: 0, maxEntries: 6, inserts: 0, want: 0},
		{enc: 3, maxEntries: 6, inserts: 2, want: 2},    // RFC 9204 B.2
		{enc: 5, maxEntries: 6, inserts: 4, want: 4},    // RFC 9204 B.4
		{enc: 13, maxEntries: 6, inserts: 4, err: true}, // above FullRange 12
		{enc: 1, maxEntries: 6, inserts: 0, err: true},  // decodes to 0
		{enc: 2, maxEntries: 6, inserts: 12, want: 13},  // 13 % 12 + 1 = 2: wrapped
		{enc: 12, maxEntries: 6, inserts: 12, want: 11}, // 11 % 12 + 1 = 12
		{enc: 1, maxEntries: 6, inserts: 12, want: 12},  // 12 % 12 + 1 = 1
		{enc: 7, maxEntries: 6, inserts: 12, want: 18},  // blocked, up to inserts+MaxEntries
		{enc: 8, maxEntries: 6, inserts: 12, want: 7},   // 19 would be too far: 7
		{enc: 1, maxEntries: 0, inserts: 0, err: true},  // no dynamic table
		{enc: 100, maxEntries: 128, inserts: 1000, want: 1123},
	}
	for _, tt := range tests {
		got, err := requiredInsertCount(tt.enc, tt.maxEntries, tt.inserts)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("requiredInsertCount(%d, %d, %d) = %d, %v; want %d, error %v", tt.enc, tt.maxEntries, tt.inserts, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrProtocol) {
			t.Errorf("error %v is not ErrProtocol", err)
		}
	}
}
