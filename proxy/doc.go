// Package proxy is trackaudit's live intercepting proxy: an HTTP/HTTPS
// forward proxy built on github.com/elazarl/goproxy that decrypts the
// browser's TLS with certificates signed by a per-install CA (see CA),
// forwards every request unaltered to the real server (verifying its
// certificate), and emits one *traffic.Exchange per completed request.
//
// The proxy never uses goproxy's built-in CA, whose private key is public:
// every CONNECT is answered by this package's own ConnectAction values.
// Ports 443 and 80 are intercepted; any other CONNECT target is tunnelled
// byte for byte. Bodies stream through; only a capped copy is kept for the
// record.
package proxy
