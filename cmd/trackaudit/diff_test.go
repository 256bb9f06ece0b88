package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const rejectedExample = "../../examples/news-site-rejected.har"

// TestDiffConsentExample compares the news example with the same visit
// after "Reject all": Google Analytics is gone, the Meta pixel's
// ViewContent too, but its PageView, the page URL and the logged-in
// Facebook cookies still reach Meta.
func TestDiffConsentExample(t *testing.T) {
	stdout, stderr, code := runCLI(t, "diff", "--format", "json", newsExample, rejectedExample)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var d struct {
		Schema string `json:"schema"`
		Totals struct {
			Added, Removed, Kept int
		} `json:"totals"`
		Sites []struct {
			Site  string `json:"site"`
			In    string `json:"in"`
			Items []struct {
				Change, Company, Product, Kind, What, Where string
				Before, After                               int
			} `json:"items"`
		} `json:"sites"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("diff is not JSON: %v\n%s", err, stdout)
	}
	if d.Schema != "trackaudit.diff/v1" || len(d.Sites) != 1 || d.Sites[0].Site != "dailyplanet.example" || d.Sites[0].In != "both" {
		t.Fatalf("schema %q sites %+v, want dailyplanet.example in both", d.Schema, d.Sites)
	}
	change := map[string]string{}
	counts := map[string]int{}
	google := 0
	for _, it := range d.Sites[0].Items {
		change[it.Product+": "+it.What] = it.Change
		counts[it.Change]++
		if it.Company == "Google" {
			google++
			if it.Change != "removed" || it.After != 0 || it.Before == 0 {
				t.Errorf("Google item %+v, want removed after rejection", it)
			}
		}
	}
	if google < 5 {
		t.Errorf("%d Google items, want GA4's and gtag's (at least 5)", google)
	}
	for item, want := range map[string]string{
		"Pixel: event PageView":                     "kept",
		"Pixel: event ViewContent":                  "removed",
		"Pixel: page URL in parameter dl":           "kept",
		"Like button: cookie c_user (person)":       "kept",
		"Google Analytics 4: event page_view":       "removed",
		"Pixel: email (sha256) in parameter ud[em]": "kept",
	} {
		if change[item] != want {
			t.Errorf("%s: %q, want %q", item, change[item], want)
		}
	}
	if d.Totals.Added != counts["added"] || d.Totals.Removed != counts["removed"] || d.Totals.Kept != counts["kept"] {
		t.Errorf("totals %+v, items %v", d.Totals, counts)
	}

	table, _, code := runCLI(t, "diff", "--color", "never", newsExample, rejectedExample)
	if code != 0 || !strings.Contains(table, "trackaudit diff") || !strings.Contains(table, "│ removed │ HIGH │ Google / Google Analytics 4") {
		t.Errorf("table diff: exit %d\n%s", code, table)
	}
	page, _, code := runCLI(t, "diff", "--format", "html", newsExample, rejectedExample)
	if code != 0 || !strings.HasPrefix(page, "<!doctype html>") || !strings.Contains(page, `<td class="sev removed">removed</td>`) {
		t.Errorf("html diff: exit %d\n%.300s", code, page)
	}
	csv, _, code := runCLI(t, "diff", "--format", "csv", newsExample, rejectedExample)
	if code != 0 || !strings.HasPrefix(csv, "site,change,company,product,kind,severity,what,where,before,after\n") ||
		strings.Count(csv, "\n") != len(d.Sites[0].Items)+1 {
		t.Errorf("csv diff: exit %d, want a header and %d rows:\n%s", code, len(d.Sites[0].Items), csv)
	}
}

// TestDiffSavedReport checks that a saved JSON report stands for its
// capture: the diff of the news example's report and the rejected visit
// is the diff of the two captures.
func TestDiffSavedReport(t *testing.T) {
	rep, _, code := runCLI(t, "analyze", "--format", "json", newsExample)
	if code != 0 {
		t.Fatal("analyze failed")
	}
	saved := writeFile(t, "before.json", rep)
	want, _, _ := runCLI(t, "diff", "--format", "csv", newsExample, rejectedExample)
	got, stderr, code := runCLI(t, "diff", "--format", "csv", saved, rejectedExample)
	if code != 0 || got != want || strings.Count(got, "\n") < 10 {
		t.Errorf("diff from the saved report: exit %d, stderr %q\n%s\nwant\n%s", code, stderr, got, want)
	}
}

func TestDiffErrors(t *testing.T) {
	otherSchema := writeFile(t, "old.json", `{"schema": "trackaudit.report/v0", "sites": []}`)
	garbage := writeFile(t, "noise.har", "\x00\x01garbage bytes, not a capture")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"one capture", []string{"diff", newsExample}, 2, "diff: name two captures, before and after (got 1)"},
		{"three captures", []string{"diff", newsExample, newsExample, newsExample}, 2, "(got 3)"},
		{"table", []string{"diff", "--format", "csv", "--table", "leaks", newsExample, rejectedExample}, 2, "the diff is a single table"},
		{"missing after", []string{"diff", newsExample, filepath.Join(t.TempDir(), "gone.har")}, 1, "gone.har: no such file or directory"},
		{"garbage before", []string{"diff", garbage, newsExample}, 1, "noise.har: unrecognised format"},
		{"report of another schema", []string{"diff", otherSchema, newsExample}, 1, `old.json: report schema "trackaudit.report/v0" is not "trackaudit.report/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d stderr %q, want %d and %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if stdout != "" {
				t.Errorf("a failed diff printed %q", stdout)
			}
		})
	}
}
