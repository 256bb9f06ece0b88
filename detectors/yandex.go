package detectors

import (
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Yandex decodes Yandex Metrica hits (mc.yandex.*/watch/<counter>),
// tracker-facts.md §13: page-url, page-ref, the ":"-separated browser-info
// list (t: = page title) and site-info (visit parameters, JSON, which may
// hold user data). A goal hit carries page-url=goal://<site>/<goal>: the
// goal is the event and page-ref the page. Webvisor uploads are left to
// the session-replay decoder.
type Yandex struct{}

// NewYandex returns the Yandex Metrica decoder.
func NewYandex() *Yandex { return &Yandex{} }

// Name implements Detector.
func (*Yandex) Name() string { return "yandex-metrica" }

var yandexVendor = vendor{"Yandex", "Metrica", "analytics"}

// Detect implements Detector.
func (d *Yandex) Detect(ex *traffic.Exchange) []traffic.Finding {
	p := requestPath(ex)
	if !strings.HasPrefix(p, "/watch/") || !strings.HasPrefix(ex.Host(), "mc.yandex.") {
		return nil
	}
	counter, _, _ := strings.Cut(p[len("/watch/"):], "/")
	e := newEvent(ex, d.Name(), yandexVendor)
	e.add("path", "account id", counter, false)
	for _, x := range requestParams(ex) {
		switch x.Name {
		case "page-url":
			if goal, ok := strings.CutPrefix(x.Value, "goal://"); ok {
				_, name, _ := strings.Cut(goal, "/")
				e.setName(x.Where, name)
				continue
			}
			e.add(x.Where, "page URL", x.Value, false)
		case "page-ref":
			label := "referrer"
			if e.name != "" {
				label = "page URL"
			}
			e.add(x.Where, label, x.Value, false)
		case "site-info":
			e.add(x.Where, "event property: visit parameters", x.Value, false)
		case "browser-info":
			// key:value pairs joined by ':'; t is the page title. The
			// title may itself hold ':', and yametrika.js writes t last,
			// so it runs to the end.
			parts := strings.Split(x.Value, ":")
			for i := 0; i+1 < len(parts); i += 2 {
				if parts[i] == "t" {
					e.add(x.Where+":t", "page title", strings.Join(parts[i+1:], ":"), false)
					break
				}
			}
		}
	}
	return e.findings()
}
