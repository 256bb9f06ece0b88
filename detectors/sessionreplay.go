package detectors

import (
	"bytes"
	"compress/gzip"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// SessionReplay reports session-recording uploads: Hotjar (§10),
// Microsoft Clarity (§11), FullStory (§12), Yandex Metrica Webvisor (§13)
// and ClickTale / Contentsquare (§27, kohls capture) in tracker-facts.md.
// Each upload becomes one KindSessionReplay finding saying what kinds of
// data the recording holds (mouse moves, clicks, keystrokes and form
// input, DOM snapshots, console …): read from the body where its format is
// known (Clarity's event codes) or visible (keyword sniffing), else the
// vendor's documented defaults.
type SessionReplay struct{}

// NewSessionReplay returns the session-replay upload decoder.
func NewSessionReplay() *SessionReplay { return &SessionReplay{} }

// Name implements Detector.
func (*SessionReplay) Name() string { return "session-replay" }

// replayVendor is one recorder: how to spot its uploads and what it
// records by default.
type replayVendor struct {
	vendor
	// upload reports whether the exchange is an upload to this recorder.
	upload func(host, path, method string) bool
	// defaults are the documented kinds of data, used when the body says
	// nothing readable.
	defaults []string
}

var replayVendors = []replayVendor{
	{
		vendor: vendor{"Microsoft", "Clarity", "session-replay"},
		upload: func(h, p, m string) bool { return p == "/collect" && hostIs(h, "clarity.ms") },
		// clarity types/data.d.ts: mutations, clicks, scrolls, mouse moves, input.
		defaults: []string{"DOM snapshots", "mouse moves", "clicks", "scrolls", "keystrokes/form input"},
	},
	{
		vendor: vendor{"Hotjar", "Session recording", "session-replay"},
		upload: func(h, p, m string) bool {
			return m != "GET" && hostIs(h, "hotjar.com", "hotjar.io") && !hostIs(h, "static.hotjar.com", "script.hotjar.com")
		},
		defaults: []string{"DOM snapshots", "mouse moves", "clicks", "scrolls", "keystrokes/form input"},
	},
	{
		vendor: vendor{"FullStory", "Session recording", "session-replay"},
		upload: func(h, p, m string) bool { return strings.HasPrefix(p, "/rec/") && hostIs(h, "fullstory.com") },
		// help.fullstory.com 360032975773: DOM snapshots, mutations, clicks, keystrokes unless excluded.
		defaults: []string{"DOM snapshots", "clicks", "keystrokes/form input"},
	},
	{
		vendor: vendor{"Yandex", "Metrica Webvisor", "session-replay"},
		upload: func(h, p, m string) bool {
			return strings.HasPrefix(p, "/webvisor/") && hostIs(h, "mc.yandex.ru", "mc.yandex.com", "mc.yandex.by", "mc.yandex.kz", "mc.yandex.com.tr", "mc.yandex.ua")
		},
		defaults: []string{"DOM snapshots", "mouse moves", "clicks", "scrolls", "keystrokes/form input"},
	},
	{
		vendor:   vendor{"Contentsquare", "ClickTale session replay", "session-replay"},
		upload:   func(h, p, m string) bool { return m != "GET" && hostIs(h, "clicktale.net", "contentsquare.net") },
		defaults: []string{"DOM snapshots", "mouse moves", "clicks"},
	},
}

// Detect implements Detector.
func (d *SessionReplay) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.Request.URL == nil || !replayHostHint(ex.Request.URL.Host) {
		return nil
	}
	host, path := ex.Host(), requestPath(ex)
	for i := range replayVendors {
		v := &replayVendors[i]
		if !v.upload(host, path, ex.Request.Method) {
			continue
		}
		f := traffic.Finding{Kind: traffic.KindSessionReplay, Severity: traffic.SeverityHigh, Detector: d.Name()}
		identity(ex, v.vendor, &f)
		body := replayBody(ex)
		var kinds []string
		if v.company == "Microsoft" {
			kinds = clarityUpload(body, &f)
		}
		if len(kinds) == 0 {
			kinds = sniffReplay(body)
		}
		how := "seen in the upload"
		if len(kinds) == 0 {
			kinds, how = v.defaults, "what "+f.Company+" records by default"
		}
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "body", Label: "recorded data (" + how + ")", Value: strings.Join(kinds, ", ")})
		f.Summary = "records what you do on the page (" + strings.Join(kinds, ", ") + ")"
		return []traffic.Finding{f}
	}
	return nil
}

// replayHostHint is the cheap first check: whether the raw host names one
// of the recorders at all, before the host is normalised.
func replayHostHint(h string) bool {
	for _, w := range []string{"clarity", "hotjar", "fullstory", "yandex", "clicktale", "contentsquare"} {
		if strings.Contains(h, w) {
			return true
		}
	}
	return false
}

// maxReplayBody bounds how much of an upload is inflated and scanned.
const maxReplayBody = 4 << 20

// replayBody returns the request body, gunzipped when it is gzip data
// (Clarity compresses uploads in the page, so no Content-Encoding says so).
func replayBody(ex *traffic.Exchange) []byte {
	b := ex.Request.Body
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return b
		}
		out, _ := io.ReadAll(io.LimitReader(zr, maxReplayBody))
		if len(out) > 0 {
			return out
		}
	}
	return b
}

// clarityEvents maps Clarity event codes (clarity-js types/data.d.ts enum
// Event) to the kinds of data they carry.
var clarityEvents = map[int]string{
	5: "DOM snapshots", 6: "DOM snapshots", 43: "DOM snapshots",
	9: "clicks", 13: "clicks", 14: "clicks", 16: "clicks",
	10: "scrolls", 12: "mouse moves", 15: "mouse moves",
	17: "touches", 18: "touches", 19: "touches", 20: "touches",
	21: "text selection", 27: "keystrokes/form input", 42: "keystrokes/form input",
	38: "clipboard", 39: "form submits", 31: "script errors", 33: "console",
	23: "page details", 34: "custom variables",
}

// clarityUpload reads a Clarity upload {"e": envelope, "a": […], "p": […]}:
// the envelope's project id, user id, session id and page URL go into
// f's evidence, and the kinds of the recorded events are returned.
func clarityUpload(body []byte, f *traffic.Finding) []string {
	v, ok := decodeJSON(body)
	if !ok {
		return nil
	}
	if env, ok := jget(v, "e").([]any); ok {
		at := func(i int) string {
			if i < len(env) {
				return jstr(env[i])
			}
			return ""
		}
		add := func(i int, label string, secret bool) {
			if s := at(i); s != "" {
				f.Evidence = append(f.Evidence, traffic.Evidence{Where: "body:$.e[" + strconv.Itoa(i) + "]", Label: label, Value: s, Secret: secret})
			}
		}
		// envelope.ts order: version, sequence, start, duration, projectId,
		// userId, sessionId, pageNum, upload, end, platform, url.
		add(4, "account id", false)
		add(5, "browser id", true)
		add(6, "session id", true)
		add(11, "page URL", false)
	}
	set := map[string]bool{}
	for _, key := range []string{"a", "p"} {
		for _, ev := range jlist(jget(v, key)) {
			arr, ok := ev.([]any)
			if !ok || len(arr) < 2 {
				continue
			}
			code, err := strconv.Atoi(jstr(arr[1]))
			if err != nil {
				continue
			}
			if k, ok := clarityEvents[code]; ok {
				set[k] = true
			}
		}
	}
	return sortedKeys(set)
}

// replayKeywords are body substrings (lower case) that show a kind of data
// in a readable upload.
var replayKeywords = []struct{ word, kind string }{
	{"mousemove", "mouse moves"}, {"mouse_move", "mouse moves"},
	{"click", "clicks"}, {"scroll", "scrolls"},
	{"keydown", "keystrokes/form input"}, {"keypress", "keystrokes/form input"},
	{"\"input\"", "keystrokes/form input"}, {"\"value\"", "keystrokes/form input"},
	{"<html", "DOM snapshots"}, {"doctype", "DOM snapshots"}, {"childnodes", "DOM snapshots"},
	{"mutation", "DOM snapshots"}, {"tagname", "DOM snapshots"},
	{"console", "console"},
}

// sniffReplay looks for known words in a readable body.
func sniffReplay(body []byte) []string {
	if len(body) > maxReplayBody {
		body = body[:maxReplayBody]
	}
	low := bytes.ToLower(body)
	set := map[string]bool{}
	for _, k := range replayKeywords {
		if bytes.Contains(low, []byte(k.word)) {
			set[k.kind] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
