package detectors

import (
	"regexp"
	"strings"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// SocialPlugin reports social widgets loaded on a page (KindSocialPlugin):
// Facebook plugins (like, share, page, comments, post, video …), X/Twitter
// buttons, embedded tweets and timelines, LinkedIn, Pinterest and
// Instagram embeds, and the AddThis, ShareThis and AddToAny share buttons
// (tracker-facts §1.6, §5, §6, §24, §25).
//
// One finding per widget load: the iframe document for iframe widgets, the
// loader script for widgets drawn by a script (AddToAny, ShareThis,
// AddThis, Pinterest's pinit.js, LinkedIn's in.js) and the platform SDKs
// (Facebook sdk.js, X widgets.js), which send the page to the platform on
// their own. Subresources loaded from inside a widget are not widget loads.
//
// Each finding says what the widget sent: the page URL (an href/url
// parameter or a full Referer) and the platform's person and browser
// cookies; a person cookie (Facebook c_user, X auth_token/twid, LinkedIn
// li_at …) means the visit was tied to a logged-in account.
type SocialPlugin struct {
	cookies *rules.CookieTable
}

// NewSocialPlugin returns the detector classifying cookies with t (nil:
// no cookie is known to identify anyone).
func NewSocialPlugin(t *rules.CookieTable) *SocialPlugin { return &SocialPlugin{cookies: t} }

// Name implements Detector.
func (d *SocialPlugin) Name() string { return "socialplugin" }

// socialWidget is a recognised widget load.
type socialWidget struct {
	platform string // for summaries: "Facebook"
	company  string // fallback company when no tracker rule matched
	product  string // the widget: "Like button"
}

// facebookPlugins name Facebook's plugins/<name>.php iframes.
var facebookPlugins = map[string]string{
	"like": "Like button", "share_button": "Share button", "page": "Page plugin",
	"likebox": "Like box", "comments": "Comments plugin", "comment_embed": "Embedded comment",
	"post": "Embedded post", "video": "Embedded video", "activity": "Activity feed",
	"follow": "Follow button", "send": "Send button", "group": "Group plugin",
	"quote": "Quote plugin", "save": "Save button", "login_button": "Login button",
	"feedback": "Comments plugin",
}

var facebookPluginPath = regexp.MustCompile(`^(?:/v\d+(?:\.\d+)?)?/plugins/([a-z_]+)\.php$`)

// widgetOf recognises a widget load by host and path.
func widgetOf(host, path string) (socialWidget, bool) {
	fb := func(p string) (socialWidget, bool) { return socialWidget{"Facebook", "Meta", p}, true }
	x := func(p string) (socialWidget, bool) { return socialWidget{"X", "X", p}, true }
	switch site := traffic.Site(host); {
	case site == "facebook.com":
		if m := facebookPluginPath.FindStringSubmatch(path); m != nil {
			if name, ok := facebookPlugins[m[1]]; ok {
				return fb(name)
			}
			return fb("Facebook plugin (" + m[1] + ")")
		}
	case host == "connect.facebook.net":
		if strings.HasSuffix(path, "/sdk.js") || strings.HasSuffix(path, "/all.js") {
			return fb("Facebook SDK (plugin loader)")
		}
	case host == "platform.twitter.com" || host == "platform.x.com":
		switch {
		case path == "/widgets.js":
			return x("X widgets loader")
		case strings.HasPrefix(path, "/widgets/tweet_button"):
			return x("Tweet button")
		case strings.HasPrefix(path, "/widgets/follow_button"):
			return x("Follow button")
		case strings.HasPrefix(path, "/widgets/hashtag_button"), strings.HasPrefix(path, "/widgets/mention_button"):
			return x("Tweet button")
		case strings.HasPrefix(path, "/widgets/widget_iframe"):
			return x("X widget")
		case strings.HasPrefix(path, "/embed/Tweet.html"), strings.HasPrefix(path, "/embed/index.html"):
			return x("Embedded tweet")
		}
	case host == "syndication.twitter.com" || host == "syndication.x.com":
		if strings.HasPrefix(path, "/timeline/") || strings.HasPrefix(path, "/srv/timeline-profile/") {
			return x("Embedded timeline")
		}
	case host == "platform.linkedin.com":
		if path == "/in.js" {
			return socialWidget{"LinkedIn", "LinkedIn", "LinkedIn share button"}, true
		}
	case site == "linkedin.com" && strings.HasPrefix(path, "/embed/feed/update/"):
		return socialWidget{"LinkedIn", "LinkedIn", "Embedded LinkedIn post"}, true
	case host == "assets.pinterest.com":
		if path == "/js/pinit.js" {
			return socialWidget{"Pinterest", "Pinterest", "Pin It button"}, true
		}
		if strings.HasPrefix(path, "/ext/embed.html") {
			return socialWidget{"Pinterest", "Pinterest", "Embedded pin"}, true
		}
	case site == "instagram.com" && strings.HasPrefix(path, "/p/") && strings.Contains(path, "/embed"):
		return socialWidget{"Instagram", "Meta", "Embedded Instagram post"}, true
	case site == "addthis.com" && strings.HasSuffix(path, "/addthis_widget.js"):
		return socialWidget{"AddThis", "AddThis", "AddThis share buttons"}, true
	case (host == "platform-api.sharethis.com" && path == "/js/sharethis.js") || (host == "w.sharethis.com" && strings.HasSuffix(path, "/buttons.js")):
		return socialWidget{"ShareThis", "ShareThis", "ShareThis share buttons"}, true
	case host == "static.addtoany.com" && path == "/menu/page.js":
		return socialWidget{"AddToAny", "AddToAny", "AddToAny share buttons"}, true
	}
	return socialWidget{}, false
}

// pageURLParams name widget parameters that carry the URL being liked or
// shared, usually the embedding page.
var pageURLParams = map[string]bool{"href": true, "url": true, "u": true, "t_u": true}

// Detect implements Detector.
func (d *SocialPlugin) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.HostOnly || ex.Request.URL == nil {
		return nil
	}
	w, ok := widgetOf(ex.Host(), ex.Request.URL.Path)
	if !ok || (ex.Page != nil && !ex.ThirdParty()) {
		// The platform's own pages are not embeds.
		return nil
	}
	f := traffic.Finding{Kind: traffic.KindSocialPlugin, Severity: traffic.SeverityLow, Detector: d.Name(),
		Company: w.company, Product: w.product, Category: rules.CategorySocialPlugin}
	if tr := ex.Tracker(); tr != nil {
		f.Company, f.RuleID = tr.Company, tr.RuleID
	}
	var page pageRef
	if ex.Page != nil {
		page = pageInfo(ex.Page)
	}
	sentPage := false
	for _, p := range ex.Params() {
		if !pageURLParams[p.Name] || !strings.HasPrefix(p.Value, "http") {
			continue
		}
		label := "shared URL"
		if ex.Page == nil || page.isSiteURL(p.Value) {
			label = "page URL"
			sentPage = true
		}
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: p.Where, Label: label, Value: p.Value})
	}
	if ref := ex.Request.Header.Get("Referer"); !sentPage && ref != "" && ex.Page != nil && page.isSiteURL(ref) {
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "header:Referer", Label: "page URL", Value: ref})
		sentPage = true
	}
	var person, browser []string
	for _, c := range ex.Cookies() {
		switch id := d.cookies.Identifies(c.Name); id {
		case rules.IdentifiesPerson, rules.IdentifiesBrowser:
			f.Evidence = append(f.Evidence, traffic.Evidence{Where: "cookie:" + c.Name, Label: id, Value: c.Value, Secret: true})
			if id == rules.IdentifiesPerson {
				person = appendUnique(person, c.Name)
			} else {
				browser = appendUnique(browser, c.Name)
			}
		}
	}
	var sent []string
	if sentPage {
		sent = append(sent, "the page URL")
		f.Severity = traffic.SeverityMedium
	}
	switch {
	case len(person) > 0:
		sent = append(sent, "logged-in "+w.platform+" cookies ("+joinShort(person, 4)+")")
		f.Severity = traffic.SeverityHigh
	case len(browser) > 0:
		sent = append(sent, w.platform+" browser-id cookies ("+joinShort(browser, 4)+")")
		f.Severity = traffic.SeverityMedium
	}
	on := "an unknown page"
	if ex.Page != nil && ex.Page.Site != "" {
		on = ex.Page.Site
	}
	f.Summary = w.product + " on " + on
	if len(sent) > 0 {
		f.Summary += " — sent " + strings.Join(sent, " and ")
	} else {
		f.Summary += " — " + w.platform + " sees your IP address and which site you are on"
	}
	return []traffic.Finding{f}
}
