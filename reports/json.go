package reports

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes r as one indented JSON document following SCHEMA.md
// (schema "trackaudit.report/v1"): fields in struct order, slices sorted
// as Report sorts them, empty lists as [] rather than null.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
