package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzWriteIndented checks writeIndented against json.Indent on the
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
		writeIndented(w, compact.Bytes())
		w.Flush()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("writeIndented(%s) =\n%s\nwant\n%s", compact.Bytes(), got.Bytes(), want.Bytes())
		}
	})
}
