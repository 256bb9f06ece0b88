package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
)

// WriteJSON writes r as one indented JSON document following SCHEMA.md
// (schema "trackaudit.report/v1"): fields in struct order, slices sorted
// as Report sorts them, empty lists as [] rather than null.
//
// The output is what a json.Encoder with SetIndent("", "  ") writes.
// Three things keep it cheap on large captures: values are encoded
// compactly and indented while they are written, because encoding/json's
// indenter (a second pass through its JSON scanner over a second copy)
// took a quarter of `analyze`; the sites are encoded one at a time into
// reused buffers, because a buffer holding the whole report (50 MB for
// 100k requests) cost more in growing and page faults than the encoding
// did; and the sites are encoded on all cores (writeOrdered), written in
// order.
func WriteJSON(w io.Writer, r *Report) error {
	// Sites is Report's last field, so the report without its sites ends
	// in `[]}`: the sites go between those brackets.
	head := *r
	head.Sites = []Site{}
	var enc jsonEncoder
	b, err := enc.compact(head)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var ind indenter
	if len(r.Sites) > 0 {
		b = bytes.TrimSuffix(b, []byte("]}"))
	}
	ind.write(b)
	bw.Write(ind.buf)
	depth := ind.depth // a site's JSON is balanced: it ends where it began
	ind.buf = ind.buf[:0]
	ind.write([]byte{','})
	comma := bytes.Clone(ind.buf)
	err = writeOrdered(len(r.Sites), func(e *jsonEncoder, i int, dst []byte) ([]byte, error) {
		b, err := e.compact(&r.Sites[i])
		if err != nil {
			return dst, err
		}
		ind := indenter{buf: dst, depth: depth}
		ind.write(b)
		return ind.buf, nil
	}, func(i int, b []byte) {
		if i > 0 {
			bw.Write(comma)
		}
		bw.Write(b)
	})
	if err != nil {
		return err
	}
	if len(r.Sites) > 0 {
		ind = indenter{depth: depth}
		ind.write([]byte("]}"))
		bw.Write(ind.buf)
	}
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// jsonEncoder encodes values compactly into a reused buffer.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// compact returns v's compact JSON, valid until the next call.
func (e *jsonEncoder) compact(v any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("write json report: %w", err)
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

// writeOrdered calls encode for items 0..n-1 on up to GOMAXPROCS
// goroutines, each with its own encoder, and write with each result on
// the calling goroutine, in order. Worker k encodes items k, k+workers,
// …, so its results arrive in the order write needs them; each worker
// owns two buffers, handed back once written, which bounds what is held
// to two results per worker. The first error stops the encoding and is
// returned once every worker has ended.
func writeOrdered(n int, encode func(e *jsonEncoder, i int, dst []byte) ([]byte, error), write func(i int, b []byte)) error {
	type result struct {
		b   []byte
		err error
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	out := make([]chan result, workers)
	free := make([]chan []byte, workers)
	var failed atomic.Bool
	for k := range workers {
		out[k], free[k] = make(chan result, 2), make(chan []byte, 2)
		free[k] <- nil
		free[k] <- nil
		go func() {
			var e jsonEncoder
			for i := k; i < n; i += workers {
				b := <-free[k]
				var err error
				if !failed.Load() {
					b, err = encode(&e, i, b[:0])
				}
				out[k] <- result{b, err}
			}
		}()
	}
	var first error
	for i := range n {
		res := <-out[i%workers]
		if res.err != nil && first == nil {
			first = res.err
			failed.Store(true)
		}
		if first == nil {
			write(i, res.b)
		}
		free[i%workers] <- res.b
	}
	return first
}

// indenter appends compact JSON as encoding/json produces it (valid, no
// whitespace between tokens) to buf, indented as json.Indent does with
// prefix "" and indent "  ": one element or member per line, ": " after
// names, empty arrays and objects kept as [] and {}. The JSON may come in
// pieces split between tokens, except between an empty array's or
// object's two brackets.
type indenter struct {
	buf   []byte
	depth int
}

func (ind *indenter) newline() {
	ind.buf = append(ind.buf, '\n')
	for range ind.depth {
		ind.buf = append(ind.buf, "  "...)
	}
}

func (ind *indenter) write(src []byte) {
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
			ind.buf = append(ind.buf, src[i:j+1]...)
			i = j
		case '{', '[':
			ind.buf = append(ind.buf, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				ind.buf = append(ind.buf, src[i+1])
				i++
				continue
			}
			ind.depth++
			ind.newline()
		case '}', ']':
			ind.depth--
			ind.newline()
			ind.buf = append(ind.buf, c)
		case ',':
			ind.buf = append(ind.buf, c)
			ind.newline()
		case ':':
			ind.buf = append(ind.buf, ": "...)
		default:
			// A literal: copy the run up to the next structural byte.
			j := i + 1
			for j < len(src) && !isJSONDelim(src[j]) {
				j++
			}
			ind.buf = append(ind.buf, src[i:j]...)
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

// ReadJSON reads a report WriteJSON wrote (schema SchemaVersion), for
// comparing it with another (Diff). Pseudonyms stay pseudonyms: a report
// read back is as redacted as it was written.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("not a trackaudit JSON report: %w", err)
	}
	if rep.Schema != SchemaVersion {
		return nil, fmt.Errorf("report schema %q is not %q, the one this trackaudit reads", rep.Schema, SchemaVersion)
	}
	return &rep, nil
}
