package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// TableOptions configure WriteTable.
type TableOptions struct {
	// Color adds ANSI colours (severity, headings). The caller decides
	// (terminal or not, --color); this package never looks at the
	// environment or at color.NoColor.
	Color bool
	// Width is the maximum line width; 0 means 100. Long cells (URLs) are
	// cut with "…" to fit.
	Width int
}

// DefaultWidth is the table width when TableOptions.Width is 0.
const DefaultWidth = 100

// WriteTable renders r as a human-readable terminal report: a summary of
// the inputs, then one section per site with its pages, trackers, the
// leak ledger (grouped by page), events, personal data, click ids, session
// replay, host-only contacts, upstream errors and third-party sites.
// Empty sections are left out. Values are printed as they are in r
// (already redacted by Report) and sanitized again.
func WriteTable(w io.Writer, r *Report, o TableOptions) error {
	tp := newTablePrinter(w, o)
	tp.header(r)
	for i := range r.Sites {
		tp.site(&r.Sites[i])
	}
	return tp.flush()
}

// tablePrinter writes one report and remembers the first error.
type tablePrinter struct {
	w   *bufio.Writer // tablewriter writes a row in many small pieces
	o   TableOptions
	p   *palette
	err error
}

func newTablePrinter(w io.Writer, o TableOptions) *tablePrinter {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	return &tablePrinter{w: bufio.NewWriterSize(w, 64<<10), o: o, p: paletteFor(o.Color)}
}

// flush writes out what is buffered and returns the first error.
func (tp *tablePrinter) flush() error {
	if err := tp.w.Flush(); tp.err == nil && err != nil {
		tp.err = fmt.Errorf("write table: %w", err)
	}
	return tp.err
}

func (tp *tablePrinter) printf(format string, a ...any) {
	if tp.err == nil {
		_, tp.err = fmt.Fprintf(tp.w, format, a...)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (tp *tablePrinter) header(r *Report) {
	t := r.Totals
	tp.printf("%s\n", tp.p.heading.Sprint("trackaudit report"))
	tp.printf("%s · %s · %s · %s left the browser (%d high)\n", plural(t.Sites, "site", "sites"),
		plural(t.Exchanges, "request", "requests"), plural(t.Companies, "tracker company", "tracker companies"),
		plural(t.LeakRows, "item", "items"), t.High)
	if r.SiteFilter != "" {
		tp.printf("Only pages of %s.\n", Sanitize(r.SiteFilter))
	}
	for _, in := range r.Inputs {
		tp.printf("Read %s (%s): %s, %d skipped", Sanitize(in.Name), Sanitize(in.Format),
			plural(in.Exchanges, "exchange", "exchanges"), in.Skipped)
		if in.Decrypted > 0 {
			tp.printf(", %s decrypted with the key log", plural(in.Decrypted, "TLS connection", "TLS connections"))
		}
		tp.printf("\n")
		for _, w := range in.Warnings {
			tp.printf("  %s %s\n", tp.p.warn.Sprint("warning:"), Sanitize(w))
		}
	}
	if r.SecretsShown {
		tp.printf("%s\n", tp.p.warn.Sprint("Secret values (cookies, ids, hashes, tokens) are shown as captured."))
	} else {
		tp.printf("%s\n", tp.p.dim.Sprint("Cookie values, ids, hashes and tokens are replaced by pseudonyms: equal values get equal pseudonyms."))
	}
	if r.Insecure {
		tp.printf("%s\n", tp.p.high.Sprint("insecure: upstream certificates were not verified"))
	}
}

func (tp *tablePrinter) site(s *Site) {
	tp.siteTitle(s.Site)
	sites := len(s.ThirdParties)
	if s.Site == Unattributed {
		tp.printf("%s whose page is unknown\n", plural(s.Requests, "request", "requests"))
	} else {
		tp.printf("%s: %d first-party, %d third-party to %s · %s\n", plural(s.Requests, "request", "requests"),
			s.FirstParty, s.ThirdParty, plural(sites, "site", "sites"), plural(len(s.Trackers), "tracker company", "tracker companies"))
	}
	if s.Insecure {
		tp.printf("%s\n", tp.p.high.Sprint("insecure: upstream certificates were not verified"))
	}

	pageNo := map[string]string{}
	if len(s.Pages) > 0 {
		tp.section("Pages")
		rows := make([][]string, 0, len(s.Pages))
		for i, pg := range s.Pages {
			n := strconv.Itoa(i + 1)
			pageNo[pg.URL] = n
			rows = append(rows, []string{n, Sanitize(pg.URL), Sanitize(pg.Title), strconv.Itoa(pg.Requests)})
		}
		tp.table([]string{"#", "Page", "Title", "Requests"}, rows, 3)
	}
	pageRef := func(u string) string {
		if n, ok := pageNo[u]; ok {
			return n
		}
		if u == "" {
			return "-"
		}
		return Sanitize(u)
	}

	if len(s.Trackers) > 0 {
		tp.section("Trackers")
		var rows [][]string
		for _, c := range s.Trackers {
			for _, p := range c.Products {
				rows = append(rows, []string{Sanitize(c.Company), Sanitize(p.Product), Sanitize(p.Category), strconv.Itoa(p.Requests)})
			}
		}
		tp.table([]string{"Company", "Product", "Category", "Requests"}, rows, 3)
	}

	if len(s.Leaks) > 0 {
		tp.section("What left the browser")
		for i := 0; i < len(s.Leaks); {
			j := i
			for j < len(s.Leaks) && s.Leaks[j].Page == s.Leaks[i].Page {
				j++
			}
			page := s.Leaks[i].Page
			if page == "" {
				tp.printf("from requests without a known page\n")
			} else {
				tp.printf("from page %s: %s\n", pageRef(page), Sanitize(page))
			}
			var rows [][]string
			for _, l := range s.Leaks[i:j] {
				v := l.Value
				if v == page {
					v = "(this page)"
				}
				rows = append(rows, []string{severityTag(l.Severity), target(l.Company, l.Product),
					Sanitize(l.What), clip(Sanitize(v), 24), strconv.Itoa(l.Count)})
			}
			leaks := s.Leaks[i:j]
			tp.table([]string{"Sev", "Sent to", "What", "Value", "×"}, rows, 4, func(row, col int, c string) string {
				if col == 0 {
					return tp.p.severity(leaks[row].Severity, c)
				}
				return c
			})
			i = j
		}
	}

	if len(s.Events) > 0 {
		tp.section("Events sent to trackers")
		var rows [][]string
		for _, e := range s.Events {
			rows = append(rows, []string{pageRef(e.Page), target(e.Company, e.Product), Sanitize(e.Account),
				Sanitize(e.Event), Sanitize(e.Details), strconv.Itoa(e.Count)})
		}
		tp.table([]string{"Page", "Sent to", "Account", "Event", "Details", "×"}, rows, 5)
	}

	if len(s.PersonalData) > 0 {
		tp.section("Personal data")
		var rows [][]string
		for _, d := range s.PersonalData {
			rows = append(rows, []string{Sanitize(d.What), Sanitize(d.Encoding), target(d.Company, d.Product),
				pageRef(d.Page), Sanitize(d.Where), clip(Sanitize(d.Value), 40), strconv.Itoa(d.Count)})
		}
		tp.table([]string{"What", "Encoded as", "Sent to", "Page", "Where", "Value", "×"}, rows, 6, func(_, col int, c string) string {
			if col == 0 {
				return tp.p.high.Sprint(c)
			}
			return c
		})
	}

	if len(s.ClickIDs) > 0 {
		tp.section("Click ids and match keys")
		var rows [][]string
		for _, c := range s.ClickIDs {
			rows = append(rows, []string{Sanitize(c.Company), Sanitize(c.Label), Sanitize(c.Where), pageRef(c.Page),
				clip(Sanitize(c.Value), 40), strconv.Itoa(c.Count)})
		}
		tp.table([]string{"Sent to", "What", "Where", "Page", "Value", "×"}, rows, 5)
	}

	if len(s.Replays) > 0 {
		tp.section("Session replay")
		var rows [][]string
		for _, r := range s.Replays {
			rows = append(rows, []string{target(r.Company, r.Product), pageRef(r.Page), Sanitize(r.Summary), strconv.Itoa(r.Count)})
		}
		tp.table([]string{"Recorder", "Page", "What", "×"}, rows, 3)
	}

	if len(s.Cloaked) > 0 {
		tp.section("Trackers behind other names (DNS aliases): they get what the browser sends the name")
		var rows [][]string
		for _, c := range s.Cloaked {
			rows = append(rows, []string{Sanitize(c.Host), Sanitize(c.CNAME), target(c.Company, c.Product), strconv.Itoa(c.Count)})
		}
		tp.table([]string{"Host", "Alias of", "Tracker", "×"}, rows, 3)
	}

	if len(s.Contacts) > 0 {
		tp.section("Contact only (TLS or QUIC server name, DNS): contents not visible")
		var rows [][]string
		for _, c := range s.Contacts {
			rows = append(rows, []string{Sanitize(c.Host), Sanitize(c.Via), target(c.Company, c.Product), strconv.Itoa(c.Count)})
		}
		tp.table([]string{"Host", "Seen via", "Tracker", "×"}, rows, 3)
	}

	if len(s.Errors) > 0 {
		tp.section("Upstream errors")
		var rows [][]string
		for _, e := range s.Errors {
			rows = append(rows, []string{Sanitize(e.Host), Sanitize(e.Error), strconv.Itoa(e.Count)})
		}
		tp.table([]string{"Host", "Error", "×"}, rows, 2)
	}

	if len(s.ThirdParties) > 0 {
		tp.section("Third-party sites contacted")
		var rows [][]string
		for _, t := range s.ThirdParties {
			tr := ""
			if t.Tracker {
				tr = "tracker"
			}
			rows = append(rows, []string{Sanitize(t.Site), strconv.Itoa(t.Requests), tr})
		}
		tp.table([]string{"Site", "Requests", ""}, rows, 1)
	}
}

// target names a recipient "Company / Product", or just the company.
func target(company, product string) string {
	if product == "" || product == company {
		return Sanitize(company)
	}
	return Sanitize(company) + " / " + Sanitize(product)
}

// siteTitle starts a site's part of the report: "━━ site ━━━…".
func (tp *tablePrinter) siteTitle(site string) {
	title := "━━ " + Sanitize(site) + " "
	if n := tp.o.Width - len([]rune(title)); n > 0 {
		title += strings.Repeat("━", n)
	}
	tp.printf("\n%s\n", tp.p.site.Sprint(title))
}

func (tp *tablePrinter) section(name string) {
	tp.printf("\n%s\n", tp.p.heading.Sprint(name))
}

// table renders one table within the width. Cells are plain text; they
// are cut to fit (see fitColumns) and then painted by paint, when not nil,
// with the row index and column. Column numCol is right-aligned (counts);
// -1 for none.
func (tp *tablePrinter) table(header []string, rows [][]string, numCol int, paint ...func(row, col int, s string) string) {
	if tp.err != nil {
		return
	}
	widths := fitColumns(header, rows, tp.o.Width)
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
	}
	if numCol >= 0 && numCol < len(align) {
		align[numCol] = tw.AlignRight
	}
	t := tablewriter.NewTable(tp.w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	)
	h := make([]string, len(header))
	for i, c := range header {
		h[i] = cut(c, widths[i])
	}
	t.Header(h)
	for ri, r := range rows {
		cells := make([]string, len(r))
		for ci, c := range r {
			cells[ci] = cut(c, widths[ci])
			for _, p := range paint {
				cells[ci] = p(ri, ci, cells[ci])
			}
		}
		if err := t.Append(cells); err != nil {
			tp.err = fmt.Errorf("render table: %w", err)
			return
		}
	}
	if err := t.Render(); err != nil {
		tp.err = fmt.Errorf("render table: %w", err)
	}
}

// fitColumns returns each column's content width so the table, with its
// borders and padding (3 per column plus 1), fits in width: columns that
// fit keep their natural width, the widest ones share what is left
// (water-filling), never below 3.
func fitColumns(header []string, rows [][]string, width int) []int {
	nat := make([]int, len(header))
	for i, h := range header {
		nat[i] = twwidth.Width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(nat) {
				nat[i] = max(nat[i], twwidth.Width(c))
			}
		}
	}
	avail := width - (3*len(header) + 1)
	total := 0
	for _, w := range nat {
		total += w
	}
	if total <= avail {
		return nat
	}
	// Find the largest cap c with sum(min(nat, c)) <= avail.
	c := 3
	for hi := slices.Max(nat); c < hi; c++ {
		sum := 0
		for _, w := range nat {
			sum += min(w, c+1)
		}
		if sum > avail {
			break
		}
	}
	out := make([]int, len(nat))
	for i, w := range nat {
		out[i] = min(w, c)
	}
	return out
}

// cut shortens s to display width w, ending it with "…" when cut.
func cut(s string, w int) string {
	if twwidth.Width(s) <= w {
		return s
	}
	return twwidth.Truncate(s, w-1) + "…"
}
