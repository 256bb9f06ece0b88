package capture

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/trackaudit/trackaudit/traffic"
)

// appendCapped appends data to body up to traffic.BodyCap bytes and
// reports whether anything was cut.
func appendCapped(body, data []byte) ([]byte, bool) {
	room := traffic.BodyCap - len(body)
	if room <= 0 {
		return body, len(data) > 0
	}
	if len(data) > room {
		return append(body, data[:room]...), true
	}
	return append(body, data...), false
}

// gzipReaders are gzip readers for decodeContent to reset and reuse.
var gzipReaders sync.Pool

// decodeContent removes the Content-Encoding codings (applied in the
// order listed, so removed in reverse) from a captured body. It returns
// the decoded body, at most traffic.BodyCap bytes, and whether it is cut
// short: because the input was (truncated), or the output hit the cap.
// A body cut in transit decodes to the prefix that could be decoded, not
// an error. An unknown or broken coding returns the body unchanged with
// an error for Exchange.Error.
func decodeContent(encoding string, body []byte, truncated bool) ([]byte, bool, error) {
	if encoding == "" || len(body) == 0 {
		return body, truncated, nil
	}
	codings := strings.Split(encoding, ",")
	out := body
	for i := len(codings) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(codings[i]))
		var (
			r   io.Reader
			err error
		)
		in := bytes.NewReader(out)
		switch c {
		case "", "identity":
			continue
		case "gzip", "x-gzip":
			// A gzip reader holds a 32 KiB window: reuse them, as a
			// capture may hold thousands of gzip bodies.
			zr, _ := gzipReaders.Get().(*gzip.Reader)
			if zr == nil {
				zr, err = gzip.NewReader(in)
			} else {
				err = zr.Reset(in)
			}
			if zr != nil {
				defer gzipReaders.Put(zr)
			}
			r = zr
		case "deflate":
			// RFC 9110 says zlib-wrapped; some servers send raw deflate.
			if zr, zerr := zlib.NewReader(in); zerr == nil {
				r = zr
			} else {
				r = flate.NewReader(bytes.NewReader(out))
			}
		case "br":
			r = brotli.NewReader(in)
		case "zstd":
			var zd *zstd.Decoder
			zd, err = zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
			if err == nil {
				defer zd.Close()
				r = zd
			}
		default:
			return body, truncated, fmt.Errorf("body has unknown content-encoding %q; kept as sent", c)
		}
		if err != nil {
			if truncated {
				return nil, true, nil
			}
			return body, truncated, fmt.Errorf("decode %s body: %v; kept as sent", c, err)
		}
		dec, rerr := io.ReadAll(io.LimitReader(r, traffic.BodyCap+1))
		if len(dec) > traffic.BodyCap {
			dec = dec[:traffic.BodyCap]
			truncated = true
		}
		if rerr != nil {
			if truncated { // cut in transit: keep the decodable prefix
				out = dec
				continue
			}
			return body, truncated, fmt.Errorf("decode %s body: %v; kept as sent", c, rerr)
		}
		out = dec
	}
	return out, truncated, nil
}
