package proxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zl(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func rawDeflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func br(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zs(b []byte) []byte {
	w, _ := zstd.NewWriter(nil)
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func TestDecodeBody(t *testing.T) {
	plain := []byte(`{"event":"PageView","dl":"https://news.example/article?id=7"}`)
	big := bytes.Repeat([]byte("a"), 10000)
	tests := []struct {
		name      string
		enc       string
		in        []byte
		limit     int
		want      []byte
		wantTrunc bool
		wantErr   string
	}{
		{"identity", "", plain, 1 << 20, plain, false, ""},
		{"identity named", "identity", plain, 1 << 20, plain, false, ""},
		{"gzip", "gzip", gz(plain), 1 << 20, plain, false, ""},
		{"x-gzip upper case", "X-GZIP", gz(plain), 1 << 20, plain, false, ""},
		{"deflate zlib", "deflate", zl(plain), 1 << 20, plain, false, ""},
		{"deflate raw", "deflate", rawDeflate(plain), 1 << 20, plain, false, ""},
		{"br", "br", br(plain), 1 << 20, plain, false, ""},
		{"zstd", "zstd", zs(plain), 1 << 20, plain, false, ""},
		{"two codings", "gzip, br", br(gz(plain)), 1 << 20, plain, false, ""},
		{"bomb capped", "gzip", gz(big), 100, big[:100], true, ""},
		{"plain over limit", "", big, 100, big[:100], true, ""},
		{"cut short", "gzip", gz(big)[:20], 1 << 20, nil, true, "cut short"},
		{"unknown", "compress", plain, 1 << 20, plain, false, "unknown content-encoding"},
		{"not gzip", "gzip", plain, 1 << 20, nil, false, "gzip body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, trunc, err := DecodeBody(tt.enc, tt.in, tt.limit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.want != nil && !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			if trunc != tt.wantTrunc {
				t.Errorf("truncated = %v, want %v", trunc, tt.wantTrunc)
			}
			if len(got) > tt.limit {
				t.Errorf("output %d bytes exceeds limit %d", len(got), tt.limit)
			}
		})
	}
}

// FuzzDecodeBody feeds hostile bodies to every decoder: no panic, never
// more than the limit.
func FuzzDecodeBody(f *testing.F) {
	plain := []byte("hello tracker")
	for _, s := range []struct {
		enc string
		b   []byte
	}{{"gzip", gz(plain)}, {"deflate", zl(plain)}, {"deflate", rawDeflate(plain)}, {"br", br(plain)}, {"zstd", zs(plain)}, {"gzip, br", br(gz(plain))}, {"", plain}} {
		f.Add(s.enc, s.b)
	}
	f.Fuzz(func(t *testing.T, enc string, body []byte) {
		const limit = 4096
		out, _, _ := DecodeBody(enc, body, limit)
		if len(out) > limit && len(out) > len(body) {
			t.Fatalf("output %d bytes exceeds limit", len(out))
		}
	})
}
