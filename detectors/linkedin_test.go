package detectors

import "testing"

func TestLinkedIn(t *testing.T) {
	runDecoderCases(t, NewLinkedIn(), []decoderCase{
		{
			name:       "page view",
			r:          req("GET", "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=123456&time=1768578018907&url=https%3A%2F%2Fjobs.example%2Fapply%3Fid%3D9&li_fat_id=abc-123", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "123456", "page URL": "https://jobs.example/apply?id=9", "click id": "abc-123"},
		},
		{
			name:       "conversion",
			r:          req("GET", "https://px.ads.linkedin.com/collect/?pid=123456&conversionId=7654321&fmt=gif&email_sha256="+shaTestEmail, "", ""),
			wantEvents: []string{"conversion"},
			wantHashed: []string{"email (sha256)"},
		},
		{name: "insight loader", r: req("GET", "https://snap.licdn.com/li.lms-analytics/insight.min.js", "", "")},
	})
}
