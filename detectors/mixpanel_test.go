package detectors

import (
	"encoding/base64"
	"net/url"
	"testing"
)

func TestMixpanel(t *testing.T) {
	track := `[{"event":"Appointment Booked","properties":{"token":"tok1","distinct_id":"$device:18d-abc","$device_id":"18d-abc","$current_url":"https://clinic.example/book","$referrer":"https://clinic.example/","$browser":"Chrome","mp_lib":"web","doctor":"Anna Schmidt","time":1768578018}}]`
	engage := `{"$token":"tok1","$distinct_id":"user-42","$set":{"$email":"jane@example.org","$name":"Jane Doe","plan":"pro"}}`
	runDecoderCases(t, NewMixpanel(), []decoderCase{
		{
			name:       "track batch, URL-encoded JSON",
			r:          req("POST", "https://api-js.mixpanel.com/track/?ip=1&_=1768578018907", "application/x-www-form-urlencoded", "data="+url.QueryEscape(track)),
			wantEvents: []string{"Appointment Booked"},
			wantLabels: map[string]string{"account id": "tok1", "browser id": "$device:18d-abc", "page URL": "https://clinic.example/book", "referrer": "https://clinic.example/", "event property: doctor": "Anna Schmidt"},
		},
		{
			name:       "engage, base64 through a first-party proxy",
			r:          req("POST", "https://mp.clinic.example/engage/?ip=1", "application/x-www-form-urlencoded", "data="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(engage)))),
			wantEvents: []string{"$set"},
			wantLabels: map[string]string{"account id": "tok1", "user id": "user-42", "user property: name": "Jane Doe", "event property: plan": "pro"},
			wantHashed: []string{"email (plain text)"},
		},
		{name: "first-party /track without data", r: req("POST", "https://shop.example/track", "application/json", `{"event":"x"}`)},
		{name: "loader", r: req("GET", "https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", "", "")},
	})
}
