// Package reports turns analysed exchanges into per-site tracking reports:
// a Builder aggregates exchanges and their findings (without keeping the
// exchanges), Report is the sorted, redacted result, and WriteTable,
// WriteJSON, WriteCSV (one table) and WriteHTML render it. Diff compares two reports;
// WriteDiffTable, WriteDiffJSON and WriteDiffCSV render the comparison.
// LiveLine renders one exchange for the proxy's live view. Every string
// that came from a capture passes through Sanitize before it is printed.
//
// It imports only traffic from the project: everything a report shows is
// copied into the Findings by the detectors.
package reports
