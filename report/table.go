package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/egress-audit/egress-audit/rules"
)

// Table writes r for a person at a terminal: the calls in catalog order,
// the destinations, one line per input, then what to do next. Every string
// that came from the input is escaped (see [Clean]).
func Table(w io.Writer, r *rules.Report) error {
	fmt.Fprintf(w, "Catalog %s %s, data center %s, vantage %s\n\n",
		r.Catalog.Name, r.Catalog.Version, r.Datacenter, r.Vantage)

	calls := newTable(w, "CALL", "HOST", "STATUS", "REASON", "EVIDENCE")
	for _, c := range r.Calls {
		id := c.ID
		if !c.Required {
			id += " (optional)"
		}
		calls.Append([]string{
			id,
			fmt.Sprintf("%s:%d", c.Host, c.Port),
			c.Status,
			reasonText(c.Reason, c.Detail),
			firstEvidence(c.Evidence),
		})
	}
	if err := calls.Render(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	if len(r.Destinations) == 0 {
		fmt.Fprintln(w, "No destinations seen.")
	} else {
		dests := newTable(w, "DESTINATION", "CLASS", "STATUS", "FLOWS", "HOW NAMED", "EVIDENCE")
		for _, d := range r.Destinations {
			host := Clean(d.Host)
			if d.Port != 0 {
				host += ":" + strconv.Itoa(d.Port)
			}
			status := d.Status
			if d.Reason != "" {
				status += " (" + d.Reason + ")"
			}
			named := d.HostSource
			if named == "" {
				named = "address only"
			}
			if d.Uncertain != "" {
				named += "?"
			}
			flows := strconv.FormatInt(d.Flows, 10)
			if d.Blocked > 0 {
				flows = fmt.Sprintf("%d (%d blocked)", d.Flows, d.Blocked)
			}
			dests.Append([]string{host, d.Class, status, flows, named, firstEvidence(d.Evidence)})
		}
		if err := dests.Render(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "input %s (%s): %d records, %d skipped, %d failed\n",
			Clean(in.Path), in.Format, in.Records, in.Skipped, in.Errors)
		for _, p := range in.Problems {
			fmt.Fprintf(w, "  %s\n", Clean(p))
		}
		if in.Truncated != "" {
			fmt.Fprintf(w, "  %s\n", Clean(in.Truncated))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", Clean(n))
	}
	if len(r.NextSteps) > 0 {
		fmt.Fprintln(w, "\nNext steps:")
		for _, s := range r.NextSteps {
			fmt.Fprintf(w, "- %s\n", Clean(s))
		}
	}
	return nil
}

func newTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(header)
	return t
}

func reasonText(reason, detail string) string {
	switch {
	case reason == "":
		return Clean(detail)
	case detail == "":
		return reason
	}
	return reason + ": " + Clean(detail)
}

// firstEvidence names where the first piece of evidence is.
func firstEvidence(ev []rules.Evidence) string {
	if len(ev) == 0 {
		return "-"
	}
	s := Clean(ev[0].Input) + " " + ev[0].Locator
	if len(ev) > 1 {
		s += fmt.Sprintf(" (+%d)", len(ev)-1)
	}
	return strings.TrimSpace(s)
}

// Clean makes s safe to print on a terminal: control characters, escape
// sequences and invalid UTF-8 are shown escaped, as Go quotes them.
func Clean(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
