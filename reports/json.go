package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes r as one indented JSON document following SCHEMA.md
// (schema "trackaudit.report/v1"): fields in struct order, slices sorted
// as Report sorts them, empty lists as [] rather than null.
//
// The output is what a json.Encoder with SetIndent("", "  ") writes. Two
// things keep it cheap on large captures: values are encoded compactly and
// indented while they are written, because encoding/json's indenter (a
// second pass through its JSON scanner over a second copy) took a quarter
// of `analyze`; and the sites are encoded one at a time into one reused
// buffer, because a buffer holding the whole report (50 MB for 100k
// requests) cost more in growing and page faults than the encoding did.
func WriteJSON(w io.Writer, r *Report) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	compact := func(v any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("write json report: %w", err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	// Sites is Report's last field, so the report without its sites ends
	// in `[]}`: the sites go between those brackets.
	head := *r
	head.Sites = []Site{}
	b, err := compact(head)
	if err != nil {
		return err
	}
	ind := indenter{w: bufio.NewWriterSize(w, 64<<10)}
	if len(r.Sites) > 0 {
		b = bytes.TrimSuffix(b, []byte("]}"))
	}
	ind.write(b)
	for i := range r.Sites {
		if i > 0 {
			ind.write([]byte{','})
		}
		if b, err = compact(&r.Sites[i]); err != nil {
			return err
		}
		ind.write(b)
	}
	if len(r.Sites) > 0 {
		ind.write([]byte("]}"))
	}
	ind.w.WriteByte('\n')
	if err := ind.w.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// indenter writes compact JSON as encoding/json produces it (valid, no
// whitespace between tokens), indented as json.Indent does with prefix ""
// and indent "  ": one element or member per line, ": " after names,
// empty arrays and objects kept as [] and {}. The JSON may come in pieces
// split between tokens, except between an empty array's or object's two
// brackets.
type indenter struct {
	w     *bufio.Writer
	depth int
}

func (ind *indenter) newline() {
	ind.w.WriteByte('\n')
	for range ind.depth {
		ind.w.WriteString("  ")
	}
}

func (ind *indenter) write(src []byte) {
	w := ind.w
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string through its closing quote; a backslash
			// escapes the next byte.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(src)-1)
			w.Write(src[i : j+1])
			i = j
		case '{', '[':
			w.WriteByte(c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				w.WriteByte(src[i+1])
				i++
				continue
			}
			ind.depth++
			ind.newline()
		case '}', ']':
			ind.depth--
			ind.newline()
			w.WriteByte(c)
		case ',':
			w.WriteByte(c)
			ind.newline()
		case ':':
			w.WriteString(": ")
		default:
			// A literal: copy the run up to the next structural byte.
			j := i + 1
			for j < len(src) && !isJSONDelim(src[j]) {
				j++
			}
			w.Write(src[i:j])
			i = j - 1
		}
	}
}

func isJSONDelim(c byte) bool {
	switch c {
	case '"', '{', '}', '[', ']', ',', ':':
		return true
	}
	return false
}
