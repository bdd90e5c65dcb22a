package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/egress-audit/egress-audit/rules"
)

// CheckJSON writes c in its documented JSON form (schema
// [rules.CheckSchema]), indented, with a final newline.
func CheckJSON(w io.Writer, c *rules.Check) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// CheckTable writes c for a person at a terminal: every call with the
// policy's verdict and the deciding rule, what the rules had to assume,
// and, with a report, where the traffic disagrees.
func CheckTable(w io.Writer, c *rules.Check) error {
	fmt.Fprintf(w, "Policy %s (%s), catalog %s %s, data center %s, vantage %s\n",
		Clean(c.Policy), c.Format, c.Catalog.Name, c.Catalog.Version, c.Datacenter, c.Vantage)
	if c.Report != "" {
		fmt.Fprintf(w, "Compared with report %s\n", Clean(c.Report))
	}
	fmt.Fprintln(w)

	header := []string{"CALL", "REQUEST", "VERDICT", "RULE", "WHERE"}
	if c.Report != "" {
		header = append(header, "OBSERVED")
	}
	t := plainTable(w, header...)
	for _, cc := range c.Calls {
		id := cc.ID
		if !cc.Required {
			id += " (optional)"
		}
		rule := Clean(cc.Rule)
		if cc.Verdict == rules.StatusNotExpected {
			rule = "-"
		}
		where := cc.Source
		if where == "" {
			where = "-"
		}
		row := []string{id, cc.Request, cc.Verdict, rule, Clean(where)}
		if c.Report != "" {
			obs := cc.Observed
			if cc.ObservedReason != "" {
				obs += " (" + cc.ObservedReason + ")"
			}
			if cc.Disagreement != "" {
				obs += " DISAGREES"
			}
			if obs == "" {
				obs = "-"
			}
			row = append(row, obs)
		}
		t.Append(row)
	}
	if err := t.Render(); err != nil {
		return err
	}

	var why, assumed, disagree []string
	for _, cc := range c.Calls {
		if cc.Why != "" && cc.Verdict != rules.StatusNotExpected {
			why = append(why, fmt.Sprintf("%s: %s", cc.ID, Clean(cc.Why)))
		}
		if cc.Uncertain != "" {
			assumed = append(assumed, fmt.Sprintf("%s: %s", cc.ID, Clean(cc.Uncertain)))
		}
		if cc.Disagreement != "" {
			disagree = append(disagree, fmt.Sprintf("%s: %s", cc.ID, cc.Disagreement))
		}
	}
	for _, s := range dedupeLines(why) {
		fmt.Fprintf(w, "\n%s", s)
	}
	if len(why) > 0 {
		fmt.Fprintln(w)
	}
	if len(assumed) > 0 {
		fmt.Fprintln(w, "\nAssumed:")
		for _, s := range assumed {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	if len(disagree) > 0 {
		fmt.Fprintln(w, "\nThe traffic disagrees:")
		for _, s := range disagree {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s\n", Clean(n))
	}

	fmt.Fprintln(w)
	var denied []string
	for _, cc := range c.Calls {
		if cc.Required && cc.Verdict == rules.VerdictDenied {
			denied = append(denied, cc.ID)
		}
	}
	fmt.Fprintf(w, "Calls: %s.\n", changeCounts(c.Summary, rules.VerdictAllowed, rules.VerdictDenied, rules.StatusNotExpected))
	if len(denied) == 0 {
		fmt.Fprintln(w, "Verdict: the rules let every required call through.")
	} else {
		fmt.Fprintf(w, "Verdict: the rules deny %s: %s.\n",
			plural(len(denied), "required call", "required calls"), strings.Join(denied, ", "))
	}
	return nil
}

func dedupeLines(s []string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
