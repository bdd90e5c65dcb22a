package report

import (
	"encoding/json"
	"io"

	"github.com/egress-audit/egress-audit/rules"
)

// JSON writes r in its documented JSON form (schema
// [rules.ReportSchema]), indented, with a final newline.
func JSON(w io.Writer, r *rules.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON decodes a report written by [JSON].
func ReadJSON(rd io.Reader) (*rules.Report, error) {
	var r rules.Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, err
	}
	return &r, nil
}
