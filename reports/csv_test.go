package reports

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestWriteCSVGolden(t *testing.T) {
	for _, table := range []string{"leaks", "trackers"} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, sampleReport(t, Options{}), table); err != nil {
			t.Fatalf("WriteCSV(%s): %v", table, err)
		}
		golden(t, "report-"+table+".csv.golden", buf.Bytes())
	}
}

// TestWriteCSVTables checks every table of the sample report: the header
// is "site" and the table's columns, there is a row per entry of each
// site's list (per product for trackers), every row is as wide as the
// header, and the rows are the sites' in the report's order.
func TestWriteCSVTables(t *testing.T) {
	r := sampleReport(t, Options{})
	entries := func(s Site, table string) int {
		if table == "trackers" {
			n := 0
			for _, c := range s.Trackers {
				n += len(c.Products)
			}
			return n
		}
		// Every other table is the Site list whose JSON name it has.
		st := reflect.TypeFor[Site]()
		for i := range st.NumField() {
			if strings.Split(st.Field(i).Tag.Get("json"), ",")[0] == table {
				return reflect.ValueOf(s).Field(i).Len()
			}
		}
		t.Fatalf("table %q is not a list of Site", table)
		return 0
	}
	if len(CSVTables()) != 11 {
		t.Errorf("CSVTables() = %v, want Site's 11 lists", CSVTables())
	}
	for _, table := range CSVTables() {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, r, table); err != nil {
			t.Fatalf("WriteCSV(%s): %v", table, err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s: written CSV does not parse: %v", table, err)
		}
		if records[0][0] != "site" || len(records[0]) < 3 {
			t.Errorf("%s: header %q, want site and the table's columns", table, records[0])
		}
		var want []string
		for _, s := range r.Sites {
			for range entries(s, table) {
				want = append(want, s.Site)
			}
		}
		var got []string
		for _, rec := range records[1:] {
			got = append(got, rec[0])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: rows of sites %q, want %q", table, got, want)
		}
	}
	if err := WriteCSV(&bytes.Buffer{}, r, "cookies"); err == nil || !strings.Contains(err.Error(), "leaks") {
		t.Errorf("WriteCSV(cookies) = %v, want an error naming the tables", err)
	}
}

// TestWriteCSVFormulas checks that captured text a spreadsheet would run
// as a formula is written with a leading apostrophe, and other text as is.
func TestWriteCSVFormulas(t *testing.T) {
	b := NewBuilder(Options{ShowSecrets: true})
	page := &traffic.Page{URL: "https://news.example/a", Site: "news.example", Title: "=HYPERLINK(\"https://evil.example\",\"click\")", By: "document"}
	b.Add(ex(1, "https://news.example/a", page))
	for i, v := range []string{"+1", "-2", "@SUM(A1)", "a=b", "\tx"} {
		b.Add(ex(int64(i+2), "https://www.facebook.com/tr?id=1", page,
			meta(traffic.KindCookieLeak, traffic.SeverityHigh, "cookie",
				traffic.Evidence{Where: "cookie:c_user", Label: "person", Value: v, Secret: true})))
	}
	r := b.Report()
	for table, want := range map[string][]string{
		"pages": {"'=HYPERLINK(\"https://evil.example\",\"click\")"},
		"leaks": {"'+1", "'-2", "'@SUM(A1)", "a=b", " x"}, // the builder made the tab a space
	} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, r, table); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{"pages": 2, "leaks": 8}[table]
		var got []string
		for _, rec := range records[1:] {
			got = append(got, rec[col])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: cells %q, want %q", table, got, want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "a": "a", "a=1": "a=1", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x",
		"\tx": "'\tx", "\rx": "'\rx", " =1": " =1", "‹secret-1, 3 chars›": "‹secret-1, 3 chars›",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
