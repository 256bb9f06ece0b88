package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
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
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		ind := indenter{w: w}
		ind.write(compact.Bytes())
		w.Flush()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("indenter.write(%s) =\n%s\nwant\n%s", compact.Bytes(), got.Bytes(), want.Bytes())
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
	for name, r := range map[string]*Report{"sites": full, "one site": &one, "no sites": &none} {
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
