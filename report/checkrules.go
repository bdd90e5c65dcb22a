package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
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
			disagree = append(disagree, fmt.Sprintf("%s: %s", cc.ID, Clean(cc.Disagreement)))
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
	fmt.Fprintf(w, "Calls: %s.\n", changeCounts(c.Summary, rules.VerdictAllowed, rules.VerdictDenied, rules.StatusNotExpected))
	fmt.Fprintf(w, "Verdict: %s.\n", checkVerdict(c))
	return nil
}

// checkVerdict sums c up in one sentence without a final period: the
// required calls the rules deny, or that they let every one through.
func checkVerdict(c *rules.Check) string {
	var denied []string
	for _, cc := range c.Calls {
		if cc.Required && cc.Verdict == rules.VerdictDenied {
			denied = append(denied, Clean(cc.ID))
		}
	}
	if len(denied) == 0 {
		return "the rules let every required call through"
	}
	return fmt.Sprintf("the rules deny %s: %s",
		plural(len(denied), "required call", "required calls"), strings.Join(denied, ", "))
}

// checkObserved is a call's observed status with its reason, or "".
func checkObserved(cc *rules.CallCheck) string {
	if cc.ObservedReason != "" {
		return cc.Observed + " (" + cc.ObservedReason + ")"
	}
	return cc.Observed
}

// CheckCSVHeader names the columns of [CheckCSV]. Columns are only ever
// added at the end, never renamed or reordered.
var CheckCSVHeader = []string{
	"id", "host", "port", "side", "required", "request", "verdict", "rule",
	"source", "why", "uncertain", "observed", "observed_reason", "disagreement",
}

// CheckCSV writes c as comma-separated values with a header row, one row
// per call. Cells are cleaned and kept from running as formulas as in
// [CSV]: a rule's text comes from the policy file and is as hostile as
// any input.
func CheckCSV(w io.Writer, c *rules.Check) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CheckCSVHeader); err != nil {
		return err
	}
	for _, cc := range c.Calls {
		row := []string{
			cc.ID, cc.Host, strconv.Itoa(cc.Port), cc.Side, strconv.FormatBool(cc.Required),
			cc.Request, cc.Verdict, cc.Rule, cc.Source, cc.Why, cc.Uncertain,
			cc.Observed, cc.ObservedReason, cc.Disagreement,
		}
		if err := cw.Write(cellsCSV(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CheckMarkdown writes c for a change request (CommonMark with a GFM
// table): the verdict, every call with the deciding rule, what the rules
// had to assume and where the traffic disagrees. Text from the policy and
// the report is escaped as in [Markdown].
func CheckMarkdown(w io.Writer, c *rules.Check) error {
	ew := &errWriter{w: w}
	md := escapeMarkdown
	fmt.Fprintf(ew, "# Policy check: %s\n\n", md(c.Policy))
	fmt.Fprintf(ew, "Policy `%s` (%s), catalog %s %s, data center **%s**, vantage **%s**.\n",
		codeSpan(c.Policy), md(c.Format), md(c.Catalog.Name), md(c.Catalog.Version), md(c.Datacenter), md(c.Vantage))
	if c.Report != "" {
		fmt.Fprintf(ew, "Compared with report `%s`.\n", codeSpan(c.Report))
	}
	fmt.Fprintf(ew, "\n**Verdict: %s.**\n\n", md(checkVerdict(c)))

	if c.Report != "" {
		fmt.Fprintln(ew, "| Call | Request | Verdict | Rule | Where | Observed |")
		fmt.Fprintln(ew, "|---|---|---|---|---|---|")
	} else {
		fmt.Fprintln(ew, "| Call | Request | Verdict | Rule | Where |")
		fmt.Fprintln(ew, "|---|---|---|---|---|")
	}
	for i := range c.Calls {
		cc := &c.Calls[i]
		id := md(cc.ID)
		if !cc.Required {
			id += " (optional)"
		}
		verdict := md(cc.Verdict)
		if cc.Verdict == rules.VerdictDenied {
			verdict = "**" + verdict + "**"
		}
		if cc.Uncertain != "" {
			verdict += " (uncertain)"
		}
		rule, where := cc.Rule, cc.Source
		if cc.Verdict == rules.StatusNotExpected {
			rule = ""
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |", id, md(cc.Request), verdict, md(orDash(rule)), md(orDash(where)))
		if c.Report != "" {
			obs := md(orDash(checkObserved(cc)))
			if cc.Disagreement != "" {
				obs += " **disagrees**"
			}
			fmt.Fprintf(ew, " %s |", obs)
		}
		fmt.Fprintln(ew)
	}

	var why, assumed, disagree []string
	for _, cc := range c.Calls {
		if cc.Why != "" && cc.Verdict != rules.StatusNotExpected {
			why = append(why, md(cc.ID)+": "+md(cc.Why))
		}
		if cc.Uncertain != "" {
			assumed = append(assumed, md(cc.ID)+": "+md(cc.Uncertain))
		}
		if cc.Disagreement != "" {
			disagree = append(disagree, md(cc.ID)+": "+md(cc.Disagreement))
		}
	}
	for _, sec := range []struct {
		title string
		lines []string
	}{
		{"Why", dedupeLines(why)},
		{"Assumed", assumed},
		{"The traffic disagrees", disagree},
	} {
		if len(sec.lines) == 0 {
			continue
		}
		fmt.Fprintf(ew, "\n## %s\n\n", sec.title)
		for _, l := range sec.lines {
			fmt.Fprintf(ew, "- %s\n", l)
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "\nNote: %s\n", md(n))
	}
	fmt.Fprintf(ew, "\nCalls: %s.\n", changeCounts(c.Summary, rules.VerdictAllowed, rules.VerdictDenied, rules.StatusNotExpected))
	return ew.err
}

// CheckJUnit writes c as a JUnit XML report for a CI job that gates a rule
// change: one test case per call. A required call the rules deny fails
// (type "denied"), and so does a call the report contradicts (type
// "disagree"); an optional call denied and a call not expected from the
// vantage are skipped. What a verdict assumed is in its case's system-out.
// Values are cleaned and escaped as in [JUnit].
func CheckJUnit(w io.Writer, c *rules.Check) error {
	suite := junitSuite{
		Name: "check-rules " + Clean(c.Policy),
		Properties: []junitProperty{
			{Name: "policy", Value: Clean(c.Policy)},
			{Name: "policy_format", Value: Clean(c.Format)},
			{Name: "catalog", Value: Clean(c.Catalog.Name)},
			{Name: "catalog_version", Value: Clean(c.Catalog.Version)},
			{Name: "datacenter", Value: Clean(c.Datacenter)},
			{Name: "vantage", Value: Clean(c.Vantage)},
		},
	}
	if c.Report != "" {
		suite.Properties = append(suite.Properties, junitProperty{Name: "report", Value: Clean(c.Report)})
	}
	class := Clean(c.Catalog.Name) + "." + Clean(c.Datacenter)
	for i := range c.Calls {
		cc := &c.Calls[i]
		rule := Clean(cc.Rule)
		if cc.Source != "" {
			rule += " (" + Clean(cc.Source) + ")"
		}
		out := Clean(cc.Request) + " " + Clean(cc.Verdict)
		if cc.Verdict != rules.StatusNotExpected {
			out += " by " + rule
		}
		if cc.Why != "" {
			out += "\n" + Clean(cc.Why)
		}
		if cc.Uncertain != "" {
			out += "\nassumed: " + Clean(cc.Uncertain)
		}
		if cc.Observed != "" {
			out += "\nobserved: " + Clean(checkObserved(cc))
		}
		tc := junitCase{Name: Clean(cc.ID), ClassName: class, SystemOut: out}
		switch {
		case cc.Required && cc.Verdict == rules.VerdictDenied:
			tc.Failure = &junitMessage{Message: "denied by " + rule, Type: "denied", Text: Clean(cc.Why)}
		case cc.Disagreement != "":
			tc.Failure = &junitMessage{Message: Clean(cc.Disagreement), Type: "disagree", Text: Clean(checkObserved(cc))}
		case cc.Verdict == rules.VerdictDenied:
			tc.Skipped = &junitSkipped{Message: "optional call denied by " + rule}
		case cc.Verdict == rules.StatusNotExpected:
			tc.Skipped = &junitSkipped{Message: Clean(cc.Verdict) + ": " + Clean(cc.Why)}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	var notes strings.Builder
	notes.WriteString("Verdict: " + checkVerdict(c) + ".\n")
	for _, n := range c.Notes {
		notes.WriteString("note: " + Clean(n) + "\n")
	}
	suite.SystemOut = notes.String()
	return writeJUnit(w, suite)
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

// checkHTMLPage is the page of [CheckHTML]. It reuses the report page's
// style, and so its Content-Security-Policy.
var checkHTMLPage = template.Must(template.New("check").Funcs(template.FuncMap{
	"clean": Clean,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="egress-audit">
<title>Policy check: {{clean .C.Policy}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>Policy check</h1>
<p class="meta">Policy <code>{{clean .C.Policy}}</code> ({{clean .C.Format}}) · catalog <b>{{clean .C.Catalog.Name}}</b> {{clean .C.Catalog.Version}} · data center <b>{{clean .C.Datacenter}}</b> · vantage <b>{{clean .C.Vantage}}</b>{{with .C.Report}} · compared with report <code>{{clean .}}</code>{{end}}</p>
</header>
<section id="summary">
<p class="verdict {{.Tone}}">Verdict: {{.Verdict}}.</p>
{{- with .C.Notes}}
<ul class="notes">
{{- range .}}
<li>{{clean .}}</li>
{{- end}}
</ul>
{{- end}}
</section>
<section id="calls">
<h2>Calls</h2>
<table>
<thead><tr><th>call</th><th>request</th><th>verdict</th><th>rule</th><th>where</th>{{if .C.Report}}<th>observed</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr id="call-{{.C.ID}}"><td>{{clean .C.ID}}{{if not .C.Required}} <span class="opt">optional</span>{{end}}</td><td><code>{{clean .C.Request}}</code></td><td><span class="badge {{.Class}}">{{clean .C.Verdict}}</span>{{if .C.Uncertain}} <span class="opt">uncertain</span>{{end}}</td><td>{{if ne .C.Verdict "not-expected"}}<code>{{clean .C.Rule}}</code>{{end}}</td><td class="where">{{clean .C.Source}}</td>{{if $.C.Report}}<td>{{clean .Observed}}{{if .C.Disagreement}} <span class="badge s-missing">disagrees</span>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- range .Rows}}
{{- if or .C.Uncertain .C.Disagreement (and .C.Why (ne .C.Verdict "not-expected"))}}
<h3>{{clean .C.ID}}</h3>
{{- if and .C.Why (ne .C.Verdict "not-expected")}}
<p class="why">{{clean .C.Why}}</p>
{{- end}}
{{- with .C.Uncertain}}
<p class="why"><b>Assumed:</b> {{clean .}}</p>
{{- end}}
{{- with .C.Disagreement}}
<p class="why"><b>The traffic disagrees:</b> {{clean .}}</p>
{{- end}}
{{- end}}
{{- end}}
</section>
<footer>egress-audit check-rules, schema {{.C.Schema}}</footer>
</body>
</html>
`))

type checkHTMLRow struct {
	C        *rules.CallCheck
	Class    string // of the verdict's badge
	Observed string
}

// CheckHTML writes c as one self-contained page that loads nothing and
// runs no script, like [HTML]: every call with its verdict and deciding
// rule, then what each verdict assumed and where the traffic disagrees.
// Values are cleaned and escaped by html/template for where they land.
func CheckHTML(w io.Writer, c *rules.Check) error {
	page := struct {
		C             *rules.Check
		CSP           string
		Style         template.CSS
		Tone, Verdict string
		Rows          []checkHTMLRow
	}{C: c, CSP: htmlCSP, Style: template.CSS(htmlStyle), Tone: "good", Verdict: checkVerdict(c)}
	for i := range c.Calls {
		cc := &c.Calls[i]
		row := checkHTMLRow{C: cc, Class: "s-not-expected", Observed: checkObserved(cc)}
		switch cc.Verdict {
		case rules.VerdictAllowed:
			row.Class = "s-ok"
		case rules.VerdictDenied:
			row.Class = "s-blocked"
			if cc.Required {
				page.Tone = "bad"
			}
		}
		if page.Tone == "good" && (cc.Uncertain != "" || cc.Disagreement != "") {
			page.Tone = "warn"
		}
		page.Rows = append(page.Rows, row)
	}
	return checkHTMLPage.Execute(w, page)
}
