package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// csvTable is one of a site's lists written as CSV: its columns after
// "site", and the rows of one site.
type csvTable struct {
	name    string
	columns []string
	rows    func(s *Site, row func(cells ...string))
}

// csvTables are the tables WriteCSV can write, in the order of Site's
// lists, named as in the JSON report. Columns keep the JSON field names;
// a row's page comes first after its site, and the trackers table has a
// row per product.
var csvTables = []csvTable{
	{"pages", []string{"url", "title", "requests"}, func(s *Site, row func(...string)) {
		for _, p := range s.Pages {
			row(p.URL, p.Title, strconv.Itoa(p.Requests))
		}
	}},
	{"third_parties", []string{"third_party", "requests", "tracker"}, func(s *Site, row func(...string)) {
		for _, t := range s.ThirdParties {
			row(t.Site, strconv.Itoa(t.Requests), strconv.FormatBool(t.Tracker))
		}
	}},
	{"trackers", []string{"company", "product", "category", "requests", "rule_ids"}, func(s *Site, row func(...string)) {
		for _, c := range s.Trackers {
			for _, p := range c.Products {
				row(c.Company, p.Product, p.Category, strconv.Itoa(p.Requests), strings.Join(p.RuleIDs, " "))
			}
		}
	}},
	{"contacts", []string{"host", "via", "company", "product", "count"}, func(s *Site, row func(...string)) {
		for _, c := range s.Contacts {
			row(c.Host, c.Via, c.Company, c.Product, strconv.Itoa(c.Count))
		}
	}},
	{"cloaked", []string{"host", "cname", "company", "product", "count"}, func(s *Site, row func(...string)) {
		for _, c := range s.Cloaked {
			row(c.Host, c.CNAME, c.Company, c.Product, strconv.Itoa(c.Count))
		}
	}},
	{"leaks", []string{"page", "company", "product", "kind", "severity", "what", "where", "value", "count"}, func(s *Site, row func(...string)) {
		for _, l := range s.Leaks {
			row(l.Page, l.Company, l.Product, string(l.Kind), string(l.Severity), l.What, l.Where, l.Value, strconv.Itoa(l.Count))
		}
	}},
	{"events", []string{"page", "company", "product", "account", "event", "details", "summary", "count"}, func(s *Site, row func(...string)) {
		for _, e := range s.Events {
			row(e.Page, e.Company, e.Product, e.Account, e.Event, e.Details, e.Summary, strconv.Itoa(e.Count))
		}
	}},
	{"personal_data", []string{"page", "what", "encoding", "company", "product", "where", "value", "count"}, func(s *Site, row func(...string)) {
		for _, p := range s.PersonalData {
			row(p.Page, p.What, p.Encoding, p.Company, p.Product, p.Where, p.Value, strconv.Itoa(p.Count))
		}
	}},
	{"click_ids", []string{"page", "company", "label", "where", "value", "count"}, func(s *Site, row func(...string)) {
		for _, c := range s.ClickIDs {
			row(c.Page, c.Company, c.Label, c.Where, c.Value, strconv.Itoa(c.Count))
		}
	}},
	{"session_replay", []string{"page", "company", "product", "summary", "count"}, func(s *Site, row func(...string)) {
		for _, r := range s.Replays {
			row(r.Page, r.Company, r.Product, r.Summary, strconv.Itoa(r.Count))
		}
	}},
	{"upstream_errors", []string{"host", "error", "count"}, func(s *Site, row func(...string)) {
		for _, e := range s.Errors {
			row(e.Host, e.Error, strconv.Itoa(e.Count))
		}
	}},
}

// CSVTables names the tables WriteCSV writes, in their documented order.
func CSVTables() []string {
	names := make([]string, len(csvTables))
	for i, t := range csvTables {
		names[i] = t.name
	}
	return names
}

// WriteCSV writes one table of r as CSV (RFC 4180, "\n" line ends): a
// header row, then a row per entry of every site's list named table
// (CSVTables), the site first, in the report's order. Values are r's, so
// secrets are pseudonyms unless r.SecretsShown. A cell that a spreadsheet
// would take for a formula (it starts with =, +, -, @, a tab or a carriage
// return) gets a leading apostrophe: captured text is the tracker's and
// the site's, not to be run when the file is opened.
func WriteCSV(w io.Writer, r *Report, table string) error {
	var t *csvTable
	for i := range csvTables {
		if csvTables[i].name == table {
			t = &csvTables[i]
		}
	}
	if t == nil {
		return fmt.Errorf("no report table %q: want one of %s", table, strings.Join(CSVTables(), ", "))
	}
	cw := csv.NewWriter(w)
	record := append([]string{"site"}, t.columns...)
	cw.Write(record)
	for i := range r.Sites {
		s := &r.Sites[i]
		record[0] = csvCell(s.Site)
		t.rows(s, func(cells ...string) {
			for j, c := range cells {
				record[j+1] = csvCell(c)
			}
			cw.Write(record)
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

// csvCell neutralizes a cell that spreadsheets would evaluate as a
// formula (OWASP "CSV injection"), e.g. a page title "=HYPERLINK(…)".
func csvCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
