package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseFields(t *testing.T) {
	data := "# header\n\n[x-one]\ncompany = Acme\nproduct = Beacon\ncategory = pixel\nhosts = a.example b.example\nhosts = c.example\npaths = /p /q/*\nquery = id\nsource = TF §0\n"
	s, err := Parse("t.txt", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []*Rule{{
		ID: "x-one", Company: "Acme", Product: "Beacon", Category: "pixel",
		Hosts: []string{"a.example", "b.example", "c.example"}, Paths: []string{"/p", "/q/*"},
		Query: []string{"id"}, Source: "TF §0", Line: 3,
	}}
	if got := s.Rules(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rules() = %+v, want %+v", got[0], want[0])
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "company = A\nproduct = B\ncategory = pixel\nhosts = a.example\n"
	tests := []struct {
		name, data string
		line       int
		want       string
	}{
		{"empty", "# nothing\n", 1, "no rules"},
		{"key before rule", "company = A\n", 1, "before the first [rule-id]"},
		{"bad header", "[abc\n", 1, "must end with ]"},
		{"bad id", "[Bad_ID]\n", 1, "lower-case letters"},
		{"duplicate id", "[a]\n" + ok + "[a]\n" + ok, 6, `duplicate rule id "a" (first on line 1)`},
		{"no equals", "[a]\ncompany A\n", 2, "expected key = value"},
		{"empty value", "[a]\ncompany =\n", 2, "company has no value"},
		{"unknown key", "[a]\nvendor = A\n", 2, `unknown key "vendor"`},
		{"twice", "[a]\ncompany = A\ncompany = B\n", 3, "company given twice"},
		{"bad category", "[a]\ncategory = pixl\n", 2, `unknown category "pixl"`},
		{"bad host", "[a]\nhosts = https://a.example\n", 2, "lower-case host name"},
		{"upper host", "[a]\nhosts = A.example\n", 2, "lower-case host name"},
		{"empty label", "[a]\nhosts = .a.example\n", 2, "empty label"},
		{"dup host", "[a]\nhosts = a.example a.example\n", 2, "listed twice"},
		{"bad path", "[a]\npaths = tr\n", 2, "must start with /"},
		{"bad query", "[a]\nquery = a=b\n", 2, "must not contain"},
		{"missing company", "[a]\nproduct = B\ncategory = pixel\nhosts = a.example\n", 1, "rule a has no company"},
		{"missing hosts", "# c\n[a]\ncompany = A\nproduct = B\ncategory = pixel\n", 2, "rule a has no hosts"},
		{"star without path", "[a]\ncompany = A\nproduct = B\ncategory = pixel\nhosts = *\n", 1, "host * needs at least one path"},
		{"missing in earlier rule", "[a]\ncompany = A\n[b]\n" + ok, 1, "rule a has no product"},
		{"long line", "[a]\nsource = " + strings.Repeat("x", maxLineLen+1) + "\n", 2, "line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("my.txt", []byte(tt.data))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || pe.Name != "my.txt" || !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("Parse error = %q (line %d), want my.txt line %d containing %q", err, pe.Line, tt.line, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "my.txt:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

// FuzzParse feeds arbitrary bytes to the parser: it must return a set or
// a *ParseError, never panic, and a parsed set must match without panics.
func FuzzParse(f *testing.F) {
	f.Add(trackersTxt)
	f.Add([]byte("[a]\ncompany = A\nproduct = B\ncategory = pixel\nhosts = * a.example\npaths = /x/** /*\nquery = q\n"))
	f.Add([]byte("[a]\n\ufeffhosts=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.txt", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		for _, r := range s.Rules() {
			if r.ID == "" || r.Company == "" || r.Product == "" || !ValidCategory(r.Category) || len(r.Hosts) == 0 {
				t.Fatalf("invalid rule accepted: %+v", r)
			}
		}
		for _, u := range []string{"https://a.example/x/y?q=1", "https://www.facebook.com/tr?id=1", "http://h/"} {
			s.Match(mustURL(t, u))
		}
	})
}
