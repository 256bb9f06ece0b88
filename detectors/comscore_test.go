package detectors

import "testing"

func TestComscore(t *testing.T) {
	runDecoderCases(t, NewComscore(), []decoderCase{
		{
			// kohls 2020 (blacklight) shape, tracker-facts §22.
			name:       "page view",
			r:          req("GET", "https://sb.scorecardresearch.com/b?c1=2&c2=6035179&ns__t=1579100000000&ns_c=UTF-8&c7=https%3A%2F%2Fm.kohls.example%2Fapply%2Fprequal&c8=Pre%20Qual%20Form%20%7C%20Kohls&c9=&cs_fpid=fp-1", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "6035179", "page URL": "https://m.kohls.example/apply/prequal", "page title": "Pre Qual Form | Kohls", "browser id": "fp-1"},
		},
		{name: "beacon script", r: req("GET", "https://sb.scorecardresearch.com/beacon.js", "", "")},
	})
}
