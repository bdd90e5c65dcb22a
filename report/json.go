package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/egress-audit/egress-audit/rules"
)

// JSON writes r in its documented JSON form (schema
// [rules.ReportSchema]), indented, with a final newline. Credentials in
// the free-text fields are masked (see [Redact]); r is not changed.
func JSON(w io.Writer, r *rules.Report) error {
	c := redactReport(r)
	// A day of logs can name tens of thousands of destinations: write them
	// one at a time into the frame of the rest, rather than indenting the
	// whole report in one buffer.
	dests := c.Destinations
	c.Destinations = []rules.Destination{}
	frame, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(frame, []byte("\n  \"destinations\": []"))
	if !ok {
		return errors.New("report: no destinations in the JSON frame")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	bw.WriteString("\n  \"destinations\": [")
	for i := range dests {
		b, err := json.MarshalIndent(&dests[i], "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	if len(dests) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteByte(']')
	bw.Write(tail)
	bw.WriteByte('\n')
	return bw.Flush()
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
		in.Error = Redact(in.Error)
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
