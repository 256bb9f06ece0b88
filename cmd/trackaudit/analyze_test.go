package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-cmd", false, "rewrite cmd/trackaudit golden files")

const newsExample = "../../examples/news-site.har"

// jsonReport is the part of the JSON report (reports/SCHEMA.md) these
// tests read.
type jsonReport struct {
	Schema string `json:"schema"`
	Inputs []struct {
		Name      string `json:"name"`
		Format    string `json:"format"`
		Exchanges int    `json:"exchanges"`
	} `json:"inputs"`
	Sites []struct {
		Site  string `json:"site"`
		Pages []struct {
			URL      string `json:"url"`
			Title    string `json:"title"`
			Requests int    `json:"requests"`
		} `json:"pages"`
		Trackers []struct {
			Company  string `json:"company"`
			Products []struct {
				Product  string `json:"product"`
				Category string `json:"category"`
			} `json:"products"`
		} `json:"trackers"`
		Leaks []struct {
			Page    string `json:"page"`
			Company string `json:"company"`
			Product string `json:"product"`
			What    string `json:"what"`
			Where   string `json:"where"`
			Value   string `json:"value"`
		} `json:"leaks"`
		Events []struct {
			Company string `json:"company"`
			Event   string `json:"event"`
			Details string `json:"details"`
		} `json:"events"`
		PersonalData []struct {
			What     string `json:"what"`
			Encoding string `json:"encoding"`
			Where    string `json:"where"`
			Value    string `json:"value"`
		} `json:"personal_data"`
		Contacts []struct {
			Host string `json:"host"`
			Via  string `json:"via"`
		} `json:"contacts"`
	} `json:"sites"`
}

func analyzeJSON(t *testing.T, args ...string) (jsonReport, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"analyze", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	return r, stdout
}

// TestAnalyzeNewsExample is the newcomer's first run: the shipped example
// must show the Meta pixel events, the Like button, the full-URL leaks and
// the logged-in Facebook cookie, with secrets redacted.
func TestAnalyzeNewsExample(t *testing.T) {
	r, raw := analyzeJSON(t, newsExample)
	if r.Schema != "trackaudit.report/v1" {
		t.Errorf("schema = %q", r.Schema)
	}
	if len(r.Sites) != 1 || r.Sites[0].Site != "dailyplanet.example" {
		t.Fatalf("sites = %+v, want only dailyplanet.example", r.Sites)
	}
	s := r.Sites[0]
	has := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("report lacks %s", what)
		}
	}
	var likeButton, pixel bool
	for _, c := range s.Trackers {
		for _, p := range c.Products {
			likeButton = likeButton || c.Company == "Meta" && p.Product == "Like button" && p.Category == "social-plugin"
			pixel = pixel || c.Company == "Meta" && p.Category == "pixel"
		}
	}
	has("the Like button tracker", likeButton)
	has("the Meta pixel tracker", pixel)
	events := map[string]string{}
	for _, e := range s.Events {
		events[e.Company+" "+e.Event] = e.Details
	}
	has("Meta PageView", events["Meta PageView"] != "" || hasKey(events, "Meta PageView"))
	has("Meta ViewContent with its value", strings.Contains(events["Meta ViewContent"], "USD"))
	has("GA4 page_view", hasKey(events, "Google page_view"))
	leak := func(product, what, where string) bool {
		for _, l := range s.Leaks {
			if strings.Contains(l.Product, product) && strings.HasPrefix(l.What, what) && (where == "" || l.Where == where) {
				return true
			}
		}
		return false
	}
	has("the page URL in the pixel's dl", leak("Pixel", "page URL", "query:dl"))
	has("the page URL in the Like button's href", leak("Like button", "page URL", "query:href"))
	has("the logged-in c_user cookie on the Like button", leak("Like button", "cookie c_user (person)", "cookie:c_user"))
	has("_fbp copied into fbp=", leak("Pixel", "first-party cookie _fbp", "query:fbp"))
	var hashedEmail bool
	for _, p := range s.PersonalData {
		hashedEmail = hashedEmail || p.What == "email" && p.Encoding == "sha256" && p.Where == "query:ud[em]"
		if p.Where == "query:ud[ph]" {
			t.Errorf("the SHA-256 of an empty phone is reported as personal data: %+v", p)
		}
	}
	has("the hashed e-mail in ud[em]", hashedEmail)
	// Secrets stay out of the default report.
	for _, secret := range []string{"100012345678901", "jane.doe@example.com", "jane.doe%40example.com"} {
		if strings.Contains(raw, secret) {
			t.Errorf("default report contains the secret %q", secret)
		}
	}
	shown, raw2 := analyzeJSON(t, "--show-secrets", newsExample)
	if !strings.Contains(raw2, "100012345678901") || len(shown.Sites) != 1 {
		t.Errorf("--show-secrets does not show the c_user value")
	}
}

// TestAnalyzeCSV checks that --format csv writes the leak ledger of the
// JSON report, row for row (the site first), redacted as it is, and that
// --table picks another of the report's tables.
func TestAnalyzeCSV(t *testing.T) {
	r, _ := analyzeJSON(t, newsExample, shopExample)
	var want [][]string
	for _, s := range r.Sites {
		for _, l := range s.Leaks {
			want = append(want, []string{s.Site, l.Page, l.Company, l.Product, l.What, l.Where, l.Value})
		}
	}
	got := analyzeCSV(t, "site", "page", "company", "product", "what", "where", "value")
	if len(want) < 10 || !reflect.DeepEqual(got, want) {
		t.Errorf("CSV leak rows differ from the JSON report's:\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(fmt.Sprint(got), "c_user=") || !strings.Contains(fmt.Sprint(got), "‹secret-") {
		t.Errorf("CSV rows are not redacted as the JSON report is: %q", got)
	}
	trackers := analyzeCSV(t, "site", "company", "product", "category", "--table", "trackers")
	var products []string
	for _, row := range trackers {
		products = append(products, strings.Join(row, " / "))
	}
	for _, p := range []string{"dailyplanet.example / Meta / Like button / social-plugin", "dailyplanet.example / Google / Google Analytics 4 / analytics"} {
		if !slices.Contains(products, p) {
			t.Errorf("trackers table %q lacks %q", products, p)
		}
	}
}

// TestAnalyzeHTML checks that --format html writes a whole page with the
// example's site, its trackers and its leaks, redacted.
func TestAnalyzeHTML(t *testing.T) {
	stdout, stderr, code := runCLI(t, "analyze", "--format", "html", newsExample)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"<!doctype html>", "<h2>dailyplanet.example</h2>", "<td>Like button</td>", "cookie c_user (person)", "‹secret-", "</html>\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if strings.Contains(stdout, "100012345678901") {
		t.Error("HTML report shows the c_user value")
	}
}

// analyzeCSV runs analyze --format csv over the news and shop examples
// with extra args and returns the named columns of its rows.
func analyzeCSV(t *testing.T, columnsAndArgs ...string) [][]string {
	t.Helper()
	i := slices.IndexFunc(columnsAndArgs, func(s string) bool { return strings.HasPrefix(s, "--") })
	if i < 0 {
		i = len(columnsAndArgs)
	}
	columns, args := columnsAndArgs[:i], columnsAndArgs[i:]
	stdout, stderr, code := runCLI(t, append(append([]string{"analyze", "--format", "csv"}, args...), newsExample, shopExample)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("output is not CSV: %v\n%s", err, stdout)
	}
	var rows [][]string
	for _, rec := range records[1:] {
		var row []string
		for _, c := range columns {
			j := slices.Index(records[0], c)
			if j < 0 {
				t.Fatalf("header %q lacks %q", records[0], c)
			}
			row = append(row, rec[j])
		}
		rows = append(rows, row)
	}
	return rows
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestAnalyzeNewsExampleTable compares the plain table with a golden
// file; go test ./cmd/trackaudit -update-cmd rewrites it.
func TestAnalyzeNewsExampleTable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "analyze", "--color", "never", "--width", "120", newsExample)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	golden := filepath.Join("testdata", "news-site.table.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("table differs from %s (run go test ./cmd/trackaudit -update-cmd after checking):\n%s", golden, stdout)
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("--color never printed escape codes")
	}
	colored, _, _ := runCLI(t, "analyze", "--color", "always", newsExample)
	if !strings.Contains(colored, "\x1b[") {
		t.Error("--color always printed no escape codes")
	}
}

// TestAnalyzeTruncatedKeepsWhatWasRead: a HAR cut off mid-entry still
// yields a report of the entries before the cut, an error naming the file,
// and exit code 1.
func TestAnalyzeTruncatedKeepsWhatWasRead(t *testing.T) {
	data, err := os.ReadFile(newsExample)
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "cut.har", string(data[:len(data)*2/3]))
	stdout, stderr, code := runCLI(t, "analyze", "--format", "json", cut)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stderr, "cut.har: truncated JSON after ") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("stderr = %q, want one line naming cut.har and the truncation", stderr)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("no report for the part read: %v", err)
	}
	if len(r.Inputs) != 1 || r.Inputs[0].Exchanges == 0 {
		t.Errorf("inputs = %+v, want the entries before the cut", r.Inputs)
	}
}

func TestAnalyzeSiteFilterAndSanitizedWarning(t *testing.T) {
	r, _ := analyzeJSON(t, "--site", "other.example", newsExample)
	if len(r.Sites) != 0 {
		t.Errorf("--site other.example kept %d sites", len(r.Sites))
	}
	// A HAR without Cookie headers gets the sanitized-export warning.
	har := `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[
	 {"startedDateTime":"2026-11-28T10:00:00Z","request":{"method":"GET","url":"https://www.facebook.com/tr?id=1&ev=PageView","headers":[]},"response":{"status":200,"headers":[],"content":{}}}]}}`
	_, stderr, code := runCLI(t, "analyze", writeFile(t, "sanitized.har", har))
	if code != 0 || !strings.Contains(stderr, "sanitized.har has no Cookie headers") || !strings.Contains(stderr, "Cookie") {
		t.Errorf("exit %d, stderr %q: want a sanitized-HAR warning", code, stderr)
	}
}

// TestAnalyzeInterrupted checks that an interrupt still prints the report
// of what was analysed, says so on stderr, and fails with exit code 1.
func TestAnalyzeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"analyze", "--format", "json", newsExample, shopExample}, &stdout, &stderr)
	code := exitCode(err, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "news-site.har: interrupted; the report covers what was analysed before") {
		t.Errorf("exit %d, stderr %q; want 1 and the interrupt named", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "shop-checkout.har") {
		t.Errorf("kept reading after the interrupt: %q", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"schema"`) {
		t.Errorf("no report printed after the interrupt:\n%s", stdout.String())
	}
}
