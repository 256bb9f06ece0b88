package detectors

import "github.com/trackaudit/trackaudit/rules"

// Options configure the default detectors.
type Options struct {
	// Rules is the tracker rule set; nil means none match.
	Rules *rules.Set
	// Watch lists personal values to search every request for (--pii);
	// empty means none.
	Watch []Watched
}

// Default returns the active detectors, in the order they run. The tracker
// detector comes first: the others read its finding.
func Default(o Options) *Set {
	return NewSet(append([]Detector{
		NewTracker(o.Rules),
		NewCookieLeak(rules.DefaultCookies()),
		NewURLLeak(),
		NewMetaPixel(),
		NewSocialPlugin(rules.DefaultCookies()),
		NewClickID(rules.DefaultClickIDs()),
		NewPIIWatch(o.Watch),
	}, payloadDecoders()...)...)
}

// payloadDecoders are the decoders of every pixel besides Meta's, which
// stands with the core detectors above.
func payloadDecoders() []Detector {
	return []Detector{
		NewGA4(),
		NewTikTok(),
		NewSnap(),
		NewPinterest(),
		NewReddit(),
		NewXPixel(),
		NewSessionReplay(),
		NewUniversal(),
		NewGoogleAds(),
		NewLinkedIn(),
		NewUET(),
		NewSegment(),
		NewAmplitude(),
		NewMixpanel(),
		NewCriteo(),
		NewAdobe(),
		NewComscore(),
		NewYandex(),
		NewQuantcast(),
	}
}
