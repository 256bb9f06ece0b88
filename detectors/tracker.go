package detectors

import (
	"net/url"
	"strings"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// Tracker tags requests that go to a known tracker, using the curated
// rules. It runs first: later detectors read its finding through
// ex.Tracker() and copy the company, product, category and rule id.
//
// Which requests it tags:
//   - third-party requests (the request's site differs from its page's),
//     and requests whose page is unknown;
//   - first-party requests only when a host "*" rule matched by path (a
//     tracker collecting on the site's own host through a CNAME or a
//     server-side tag manager, e.g. Adobe /b/ss/ or GA4 /g/collect), or
//     when the host is a DNS alias (ex.CNAME) of a tracker's host: a
//     request to facebook.com from a facebook.com page is the site itself,
//     not a third-party tracker;
//   - host-only contacts (TLS SNI, DNS) become KindContact findings, since
//     nothing but the host is known; contacts that match no rule produce
//     nothing.
type Tracker struct {
	rs *rules.Set
}

// NewTracker returns the tracker detector for rs; a nil rs matches nothing.
func NewTracker(rs *rules.Set) Detector { return &Tracker{rs: rs} }

// Name implements Detector.
func (*Tracker) Name() string { return "tracker" }

// Detect implements Detector. It returns at most one finding.
func (d *Tracker) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex == nil || ex.Request.URL == nil {
		return nil
	}
	m, ok := d.rs.Match(ex.Request.URL)
	// A name that is a DNS alias (CNAME) of a tracker's host on another
	// site is the tracker, whatever site the name belongs to.
	cloaked := false
	if (!ok || m.Host == "*") && ex.CNAME != "" && traffic.Site(ex.CNAME) != ex.Site() {
		// The alias's host rules only: a path rule of any host would
		// match the name's own path again.
		if cm, cok := d.rs.Match(&url.URL{Scheme: ex.Request.URL.Scheme, Host: ex.CNAME, Path: "/"}); cok && cm.Host != "*" {
			m, ok, cloaked = cm, true, true
		}
	}
	if !ok {
		return nil
	}
	firstPartyCollector := m.Host == "*" && m.Path != "" || cloaked
	thirdParty := ex.Page == nil || ex.Page.Site == "" || ex.ThirdParty()
	if !thirdParty && !firstPartyCollector {
		return nil
	}
	r := m.Rule
	f := traffic.Finding{
		Kind:     traffic.KindTracker,
		Severity: CategorySeverity(r.Category),
		Detector: d.Name(),
		Company:  r.Company,
		Product:  r.Product,
		Category: r.Category,
		RuleID:   r.ID,
		Summary:  r.Company + " · " + r.Product + " (" + r.Category + ")",
		Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: m.Why}},
	}
	alias := ""
	if cloaked {
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "dns:cname", Label: "DNS alias of", Value: ex.Host() + " → " + ex.CNAME})
		alias = ", an alias of " + ex.CNAME + ","
		f.Summary += " behind " + ex.Host() + " (a DNS alias of " + ex.CNAME + ")"
	}
	if ex.HostOnly {
		f.Kind = traffic.KindContact
		// Only the host is known: at most low, whatever the product does.
		if f.Severity != traffic.SeverityInfo {
			f.Severity = traffic.SeverityLow
		}
		switch host := ex.Host(); ex.Via {
		case "dns":
			f.Summary = "looked up " + host + alias + " in DNS"
		case "tls-sni":
			f.Summary = "contacted " + host + alias + " over TLS (contents not visible)"
		case "quic-sni":
			f.Summary = "contacted " + host + alias + " over QUIC/HTTP/3 (contents not visible)"
		case "tls-ech", "quic-ech":
			f.Summary = "contacted a server behind " + host + " with Encrypted Client Hello (its name and contents not visible)"
		default:
			f.Summary = "contacted " + host + strings.TrimSuffix(alias, ",") + " (contents not visible)"
		}
	}
	return []traffic.Finding{f}
}

// CategorySeverity ranks a request to a tracker by what the category of
// product does with it: embeds and tag managers load other things (info),
// analytics measures the site (low), pixels, advertising, social plugins
// and session replay follow or record the person (medium). Unknown
// categories are low.
func CategorySeverity(category string) traffic.Severity {
	switch category {
	case rules.CategoryEmbed, rules.CategoryTagManager:
		return traffic.SeverityInfo
	case rules.CategoryPixel, rules.CategoryAdvertising, rules.CategorySocialPlugin, rules.CategorySessionReplay:
		return traffic.SeverityMedium
	}
	return traffic.SeverityLow
}
