package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/trackaudit/trackaudit/proxy"
)

func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ca", "ca [--export FILE] [--rotate]", stderr)
	export := fs.String("export", "", "write the CA certificate (PEM, never the key) to FILE")
	rotate := fs.Bool("rotate", false, "replace the CA with a new one (browsers trusting the old one must be updated)")
	rest, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("ca: unexpected argument %q", rest[0])
	}
	dir, err := proxy.DefaultCADir()
	if err != nil {
		return err
	}
	var ca *proxy.CA
	if *rotate {
		if ca, err = proxy.RotateCA(dir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "New CA created; its SHA-256 fingerprint is\n  %s\n", ca.Fingerprint())
		fmt.Fprintln(stdout, "WARNING: browsers and tools that trusted the old CA must be given the new certificate; remove the old one from them.")
		fmt.Fprintln(stdout)
	} else {
		var created bool
		if ca, created, err = proxy.LoadOrCreateCA(dir); err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "Created a new CA for this install.\n\n")
		}
	}
	if *export != "" {
		if err := writeCertFile(*export, ca.CertPEM()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote the CA certificate (no key) to %s\n", *export)
		return nil
	}
	printCAHelp(stdout, ca)
	return nil
}

func writeCertFile(path string, pem []byte) error {
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

func printCAHelp(w io.Writer, ca *proxy.CA) {
	cert := ca.CertPath()
	fmt.Fprintf(w, `trackaudit CA (unique to this install; its key never leaves %s)
  certificate: %s
  subject:     %s
  SHA-256:     %s
  SPKI hash:   %s
  valid until: %s

Trust it only in a browser you use for auditing:

Chromium / Chrome
  easiest:  trackaudit browse          (throwaway profile, trusts this CA by SPKI only)
  by hand:  chromium --user-data-dir=$(mktemp -d) --proxy-server=http://127.0.0.1:8080 \
              --ignore-certificate-errors-spki-list=%s
  system store (Linux, affects every Chromium profile of this user):
            certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n trackaudit -i %s
            (remove later: certutil -d sql:$HOME/.pki/nssdb -D -n trackaudit)

Firefox
  Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import,
  choose %s and tick "Trust this CA to identify websites"
  (or set security.enterprise_roots.enabled=true to use the system store)

curl
  curl --proxy http://127.0.0.1:8080 --cacert %s https://example.com/

Rotate with 'trackaudit ca --rotate' when you are done auditing.
`, ca.Dir, cert, ca.Cert.Subject.CommonName, ca.Fingerprint(), ca.SPKIHash(), ca.Cert.NotAfter.Format("2006-01-02"), ca.SPKIHash(), cert, cert, cert)
}
