package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/trackaudit/trackaudit/detectors"
)

// piiFlags collect the personal values to watch for (--pii, --pii-file).
type piiFlags struct {
	values multiFlag
	files  multiFlag
	parsed []detectors.Watched
}

func (p *piiFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.values, "pii", "watch for a personal value in any encoding: email=ADDR, phone=NUMBER, name=TEXT or text=TEXT (repeatable)")
	fs.Var(&p.files, "pii-file", "read --pii values from FILE, one KIND=VALUE per line, # comments (repeatable)")
}

// load parses the flags' values and files into p.parsed.
func (p *piiFlags) load() error {
	p.parsed = nil
	for _, v := range p.values {
		w, err := parseWatched(v)
		if err != nil {
			return usagef("--pii %v", err)
		}
		p.parsed = append(p.parsed, w)
	}
	for _, name := range p.files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read --pii-file: %w", err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			w, err := parseWatched(line)
			if err != nil {
				f.Close()
				return fmt.Errorf("%s:%d: %v", name, n, err)
			}
			p.parsed = append(p.parsed, w)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}

func parseWatched(s string) (detectors.Watched, error) {
	kind, value, ok := strings.Cut(s, "=")
	kind = strings.ToLower(strings.TrimSpace(kind))
	value = strings.TrimSpace(value)
	if !ok || value == "" {
		return detectors.Watched{}, fmt.Errorf("%q: want KIND=VALUE with KIND email, phone, name or text", s)
	}
	switch kind {
	case "email", "phone", "name", "text":
	default:
		return detectors.Watched{}, fmt.Errorf("%q: unknown kind %q (want email, phone, name or text)", s, kind)
	}
	return detectors.Watched{Kind: kind, Value: value}, nil
}
