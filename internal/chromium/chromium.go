// Package chromium finds the Chromium browser that `trackaudit browse`
// starts and the real-browser tests drive.
package chromium

import (
	"fmt"
	"os/exec"
)

// Names are the executables looked for on PATH, in order.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the browser to start: explicit when given, else the first
// of Names on PATH; the error tells the user what to install.
func Find(explicit string) (string, error) {
	if explicit != "" {
		p, err := exec.LookPath(explicit)
		if err != nil {
			return "", fmt.Errorf("--browser %s: %w", explicit, err)
		}
		return p, nil
	}
	for _, n := range Names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (looked for %v on PATH); install chromium (Debian/Ubuntu: apt install chromium), pass --browser PATH, or run 'trackaudit proxy' and set your browser's proxy yourself", Names)
}
