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
// The output is what a json.Encoder with SetIndent("", "  ") writes; the
// report is encoded compactly and indented while it is written, because
// encoding/json's indenter (a second pass through its JSON scanner over a
// second copy) took a quarter of `analyze` on large captures.
func WriteJSON(w io.Writer, r *Report) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	writeIndented(bw, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// writeIndented writes src, compact JSON as encoding/json produces it
// (valid, no whitespace between tokens), indented as json.Indent does
// with prefix "" and indent "  ": one element or member per line, ": "
// after names, empty arrays and objects kept as [] and {}.
func writeIndented(w *bufio.Writer, src []byte) {
	depth := 0
	newline := func() {
		w.WriteByte('\n')
		for range depth {
			w.WriteString("  ")
		}
	}
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
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			w.WriteByte(c)
		case ',':
			w.WriteByte(c)
			newline()
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
