package reports

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sync"
)

//go:embed report.html.tmpl
var htmlTemplateText string

// htmlTemplate renders a Report ("report") or a DiffReport ("diff") as
// one self-contained HTML page: inline CSS, no script, no link to
// anything, so that it opens offline and can be attached to a story or a
// complaint as it is. It is parsed on first use, not at every start of
// the program.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"plural": plural,
		"target": target,
		"title": func(title, site string) string {
			if site != "" {
				return title + ": " + site
			}
			return title
		},
	}).Parse(htmlTemplateText))
})

// WriteHTML writes r as an HTML page with the sections of WriteTable.
// Every value, captured or not, goes through html/template's contextual
// escaping: a page title or a cookie value holding markup shows as text.
// Values are r's, so secrets are pseudonyms unless r.SecretsShown.
func WriteHTML(w io.Writer, r *Report) error {
	return writeHTML(w, "report", r)
}

// WriteDiffHTML writes d as an HTML page, as WriteHTML writes a report.
func WriteDiffHTML(w io.Writer, d *DiffReport) error { return writeHTML(w, "diff", d) }

func writeHTML(w io.Writer, name string, data any) error {
	bw := bufio.NewWriterSize(w, 64<<10) // the template writes in small pieces
	if err := htmlTemplate().ExecuteTemplate(bw, name, data); err != nil {
		return fmt.Errorf("write html %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html %s: %w", name, err)
	}
	return nil
}
