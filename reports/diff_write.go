package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteDiffTable renders d for a terminal: the two sides' inputs and
// totals, then a section per site with a table of its items, added first.
// An item's where is shown only when its what does not name the place.
func WriteDiffTable(w io.Writer, d *DiffReport, o TableOptions) error {
	tp := newTablePrinter(w, o)
	tp.printf("%s\n", tp.p.heading.Sprint("trackaudit diff"))
	for _, side := range []struct {
		name string
		in   []Input
	}{{"before", d.Before}, {"after", d.After}} {
		for _, in := range side.in {
			tp.printf("%-6s %s (%s): %s\n", side.name, Sanitize(in.Name), Sanitize(in.Format), plural(in.Exchanges, "exchange", "exchanges"))
		}
	}
	t := d.Totals
	tp.printf("%s · %s (%d high) · %d removed · %d unchanged\n", plural(len(d.Sites), "site", "sites"),
		plural(t.Added, "item added", "items added"), t.AddedHigh, t.Removed, t.Kept)
	for _, s := range d.Sites {
		tp.siteTitle(s.Site)
		switch s.In {
		case "before":
			tp.printf("only before: not visited after\n")
		case "after":
			tp.printf("only after: not visited before\n")
		}
		if len(s.Items) == 0 {
			tp.printf("no tracker, before or after\n")
			continue
		}
		rows := make([][]string, 0, len(s.Items))
		for _, it := range s.Items {
			rows = append(rows, []string{string(it.Change), severityTag(it.Severity), target(it.Company, it.Product),
				Sanitize(withPlace(it.What, it.Where)), strconv.Itoa(it.Before) + " → " + strconv.Itoa(it.After)})
		}
		tp.table([]string{"Change", "Sev", "Recipient", "What", "Before → after"}, rows, 4, func(row, col int, c string) string {
			it := s.Items[row]
			switch {
			case col == 0 && it.Change == Added:
				return tp.p.high.Sprint(c)
			case col == 0 && it.Change == Removed:
				return tp.p.low.Sprint(c)
			case col == 0:
				return tp.p.dim.Sprint(c)
			case col == 1:
				return tp.p.severity(it.Severity, c)
			}
			return c
		})
	}
	return tp.flush()
}

// WriteDiffJSON writes d as one indented JSON document (SCHEMA.md,
// "trackaudit.diff/v1").
func WriteDiffJSON(w io.Writer, d *DiffReport) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("write json diff: %w", err)
	}
	return nil
}

// WriteDiffCSV writes d's items as CSV, a row per item with its site, as
// WriteCSV writes a report's tables.
func WriteDiffCSV(w io.Writer, d *DiffReport) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"site", "change", "company", "product", "kind", "severity", "what", "where", "before", "after"})
	for _, s := range d.Sites {
		for _, it := range s.Items {
			cw.Write([]string{csvCell(s.Site), string(it.Change), csvCell(it.Company), csvCell(it.Product), string(it.Kind),
				string(it.Severity), csvCell(it.What), csvCell(it.Where), strconv.Itoa(it.Before), strconv.Itoa(it.After)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv diff: %w", err)
	}
	return nil
}

// withPlace is what, followed by " (where)" unless what already names the
// place: "cookie c_user (person)" names cookie:c_user, "Meta match key"
// does not name query:fbp, nor a contact's host how it was seen.
func withPlace(what, where string) string {
	_, name, _ := strings.Cut(where, ":")
	if where == "" || name != "" && strings.Contains(what, name) {
		return what
	}
	return what + " (" + where + ")"
}
