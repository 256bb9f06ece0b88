package detectors

import "testing"

func TestQuantcast(t *testing.T) {
	runDecoderCases(t, NewQuantcast(), []decoderCase{
		{
			name:       "path parameters",
			r:          req("GET", "https://pixel.quantserve.com/pixel;r=1283920432;a=p-AbCdEf123;labels=_fp.event.Default;fpan=0;fpa=P0-123456-1579100000000;ns=0;ce=1;je=0;sr=1280x720x24;enc=n;dst=1;et=1579100000000;tzo=-60;ref=https%3A%2F%2Fwww.google.com%2F;url=https%3A%2F%2Fnews.example%2Fhealth%2Fcancer;ogl=title.Cancer%2Ctype.article;event=load", "", ""),
			wantEvents: []string{"load"},
			wantLabels: map[string]string{"account id": "p-AbCdEf123", "browser id": "P0-123456-1579100000000", "page URL": "https://news.example/health/cancer", "referrer": "https://www.google.com/", "event property: labels": "_fp.event.Default"},
		},
		{
			name:       "noscript gif",
			r:          req("GET", "https://pixel.quantserve.com/pixel/p-AbCdEf123.gif", "", ""),
			wantEvents: []string{""},
			wantLabels: map[string]string{"account id": "p-AbCdEf123"},
		},
		{name: "loader", r: req("GET", "https://secure.quantserve.com/quant.js", "", "")},
	})
}
