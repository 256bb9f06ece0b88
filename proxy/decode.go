package proxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// DecodeBody removes the Content-Encoding encodings (a comma-separated
// list, applied in order, so removed in reverse) from body and returns at
// most limit bytes. It understands gzip (x-gzip), deflate (zlib or raw),
// br, zstd and identity.
//
// body comes from the network and may be hostile, cut short or a
// decompression bomb: the output never exceeds limit (truncated is then
// set), a body cut short yields what could be decoded plus an error, and
// an unknown encoding yields body unchanged plus an error. It never
// panics.
func DecodeBody(encoding string, body []byte, limit int) (out []byte, truncated bool, err error) {
	var codings []string
	for _, c := range strings.Split(encoding, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	out = body
	for i := len(codings) - 1; i >= 0; i-- {
		var t bool
		out, t, err = decodeOne(codings[i], out, limit)
		truncated = truncated || t
		if err != nil {
			return out, truncated, err
		}
	}
	if len(out) > limit {
		out, truncated = out[:limit], true
	}
	return out, truncated, nil
}

func decodeOne(coding string, in []byte, limit int) ([]byte, bool, error) {
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(in))
		if err != nil {
			return nil, false, fmt.Errorf("gzip body: %w", err)
		}
		r = zr
	case "deflate":
		// RFC 9110 says zlib, but servers also send raw deflate.
		if zr, err := zlib.NewReader(bytes.NewReader(in)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(in))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(in))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(in), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)+(8<<20)))
		if err != nil {
			return nil, false, fmt.Errorf("zstd body: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return in, false, fmt.Errorf("unknown content-encoding %q; body kept as sent", coding)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, int64(limit)+1))
	out := buf.Bytes()
	if n > int64(limit) {
		return out[:limit], true, nil
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return out, true, fmt.Errorf("%s body cut short", coding)
		}
		return out, false, fmt.Errorf("%s body: %w", coding, err)
	}
	return out, false, nil
}
