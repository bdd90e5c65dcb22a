package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/rules"
)

// CSVHeader names the columns of [CSV]. Columns are only ever added at the
// end, never renamed or reordered.
var CSVHeader = []string{
	"record", "id", "host", "port", "side", "required", "class", "status",
	"reason", "detail", "flows", "blocked_flows", "ips", "host_source",
	"first_seen", "last_seen", "evidence",
}

// CSV writes r as comma-separated values with a header row: one row per
// call (record "call") and one per destination (record "destination").
// Every record is one line: control characters in values are quoted as on
// a terminal. A cell that a spreadsheet would read as a formula (starting
// with '=', '+', '-', '@', a tab or a carriage return) is prefixed with a
// single quote, so that it is shown as text and never run.
func CSV(w io.Writer, r *rules.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, c := range r.Calls {
		row := []string{
			"call", c.ID, c.Host, strconv.Itoa(c.Port), c.Side, strconv.FormatBool(c.Required),
			"", c.Status, c.Reason, c.Detail, "", "", "", "", "", "",
			evidenceList(c.Evidence),
		}
		if err := cw.Write(cellsCSV(row)); err != nil {
			return err
		}
	}
	for _, d := range r.Destinations {
		row := []string{
			"destination", "", d.Host, portText(d.Port), "", "", d.Class, d.Status,
			d.Reason, d.Uncertain, strconv.FormatInt(d.Flows, 10), strconv.FormatInt(d.Blocked, 10),
			strings.Join(d.IPs, " "), d.HostSource, timeText(d.FirstSeen), timeText(d.LastSeen),
			evidenceList(d.Evidence),
		}
		if err := cw.Write(cellsCSV(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cellsCSV makes every cell of row safe for a spreadsheet, in place.
func cellsCSV(row []string) []string {
	for i, s := range row {
		row[i] = cellCSV(s)
	}
	return row
}

// cellCSV cleans s and neutralises a leading formula character with a
// single quote, as OWASP recommends for CSV injection.
func cellCSV(s string) string {
	s = Clean(s)
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '|', '%':
		return "'" + s
	}
	return s
}

// evidenceList joins the evidence as "input locator: detail" items
// separated by " | ".
func evidenceList(ev []rules.Evidence) string {
	parts := make([]string, 0, len(ev))
	for _, e := range ev {
		s := strings.TrimSpace(e.Input + " " + e.Locator)
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func portText(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
