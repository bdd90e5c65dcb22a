package report

import (
	"encoding/json"
	"io"

	"github.com/egress-audit/egress-audit/rules"
)

// JSON writes r in its documented JSON form (schema
// [rules.ReportSchema]), indented, with a final newline. Credentials in
// the free-text fields are masked (see [Redact]); r is not changed.
func JSON(w io.Writer, r *rules.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(redactReport(r))
}

// redactReport returns a copy of r with [Redact] applied to the texts
// that may quote an input: details, problems, notes and paths.
func redactReport(r *rules.Report) *rules.Report {
	c := *r
	redactEvidence := func(ev []rules.Evidence) []rules.Evidence {
		out := make([]rules.Evidence, len(ev))
		for i, e := range ev {
			e.Detail = Redact(e.Detail)
			out[i] = e
		}
		return out
	}
	c.Calls = make([]rules.CallReport, len(r.Calls))
	for i, cr := range r.Calls {
		cr.Detail = Redact(cr.Detail)
		cr.Evidence = redactEvidence(cr.Evidence)
		c.Calls[i] = cr
	}
	c.Destinations = make([]rules.Destination, len(r.Destinations))
	for i, d := range r.Destinations {
		d.Evidence = redactEvidence(d.Evidence)
		c.Destinations[i] = d
	}
	c.Inputs = make([]rules.InputReport, len(r.Inputs))
	for i, in := range r.Inputs {
		in.Problems = append([]string(nil), in.Problems...)
		for j := range in.Problems {
			in.Problems[j] = Redact(in.Problems[j])
		}
		c.Inputs[i] = in
	}
	c.Notes = append([]string(nil), r.Notes...)
	for i := range c.Notes {
		c.Notes[i] = Redact(c.Notes[i])
	}
	return &c
}

// ReadJSON decodes a report written by [JSON].
func ReadJSON(rd io.Reader) (*rules.Report, error) {
	var r rules.Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, err
	}
	return &r, nil
}
