package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
)

// FuzzWriteIndented checks the indenter against json.Indent on the
// compact form of any valid JSON document.
func FuzzWriteIndented(f *testing.F) {
	for _, s := range []string{
		`{"a":[],"b":{},"c":[{}],"d":[1,"x",null,true,{"e":"f:g,h"}]}`,
		`"a\"b\\\\c\u00e9\n"`,
		`[[[]],{"":{"":[]}},"{[,:]}",-1.5e+10]`,
		`{"schema":"trackaudit.report/v1","sites":[{"site":"(unattributed)","pages":[]}]}`,
		`7`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		var ind indenter
		ind.write(compact.Bytes())
		if !bytes.Equal(ind.buf, want.Bytes()) {
			t.Fatalf("indenter.write(%s) =\n%s\nwant\n%s", compact.Bytes(), ind.buf, want.Bytes())
		}
	})
}

// TestWriteJSONMatchesEncoder checks that writing the sites one at a time
// gives exactly what encoding/json's own indenting encoder writes for the
// whole report, with many sites, one, and none.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	full := sampleReport(t, Options{})
	if len(full.Sites) < 2 {
		t.Fatalf("the sample report has %d sites; the test needs several", len(full.Sites))
	}
	one, none := *full, *full
	one.Sites = full.Sites[:1]
	none.Sites = []Site{}
	b := NewBuilder(Options{})
	for _, e := range benchExchanges(2000) {
		b.Add(e)
	}
	many := b.Report() // more sites than workers and their buffers
	for name, r := range map[string]*Report{"sites": full, "one site": &one, "no sites": &none, "many sites": many} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteJSON(&got, r); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("WriteJSON differs from json.Encoder:\n%s\nwant\n%s", got.Bytes(), want.Bytes())
			}
		})
	}
}

// TestWriteOrdered checks that results are written in order, whatever
// worker made them, and that an encoding error stops the writing and is
// returned.
func TestWriteOrdered(t *testing.T) {
	for _, tc := range []struct {
		n, failAt int // failAt < 0: no error
		want      int // items written
	}{
		{n: 0, failAt: -1, want: 0},
		{n: 1, failAt: -1, want: 1},
		{n: 100, failAt: -1, want: 100},
		{n: 100, failAt: 37, want: 37},
		{n: 3, failAt: 0, want: 0},
	} {
		var got []int
		errBoom := errors.New("boom")
		err := writeOrdered(tc.n, func(_ *jsonEncoder, i int, dst []byte) ([]byte, error) {
			if i == tc.failAt {
				return dst, errBoom
			}
			return strconv.AppendInt(dst, int64(i), 10), nil
		}, func(i int, b []byte) {
			if string(b) != strconv.Itoa(i) {
				t.Errorf("n=%d: item %d written as %q", tc.n, i, b)
			}
			got = append(got, i)
		})
		if (err != nil) != (tc.failAt >= 0) || err != nil && !errors.Is(err, errBoom) {
			t.Errorf("n=%d failAt=%d: error %v", tc.n, tc.failAt, err)
		}
		if len(got) != tc.want {
			t.Errorf("n=%d failAt=%d: %d items written, want %d", tc.n, tc.failAt, len(got), tc.want)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n=%d: item %d written at position %d", tc.n, v, i)
			}
		}
	}
}
