package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// exactResponse hands h a ResponseWriter that sends the response header
// as h set it. net/http's server adds a Content-Type sniffed from the body
// and a Date to any response without them; passed on by a proxy, that
// changes what the server sent. A script served without a Content-Type
// but with "X-Content-Type-Options: nosniff" would reach the browser as
// "text/plain", and the browser would refuse to run it.
func exactResponse(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&exactWriter{ResponseWriter: w}, r)
	})
}

// exactWriter marks the headers net/http would add as absent (a nil
// value: net/http then leaves them out) before the final status goes out.
// It keeps ReadFrom, Flush and Hijack (goproxy hijacks CONNECT and
// websocket connections) working.
type exactWriter struct {
	http.ResponseWriter
	wrote bool // the final (non-1xx) status was written
}

func (w *exactWriter) WriteHeader(code int) {
	if !w.wrote && code >= http.StatusOK {
		w.wrote = true
		h := w.ResponseWriter.Header()
		for _, k := range [...]string{"Content-Type", "Date"} {
			if _, ok := h[k]; !ok {
				h[k] = nil
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *exactWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps net/http's own copy loop (pooled buffers) for goproxy's
// io.Copy of the body: without it io.Copy allocated 32 KiB per response,
// which cost the proxy benchmark about a sixth of its throughput.
func (w *exactWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

func (w *exactWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *exactWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("proxy: this connection cannot be taken over")
	}
	return hj.Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *exactWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
