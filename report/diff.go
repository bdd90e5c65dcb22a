package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/egress-audit/egress-audit/rules"
)

// DiffSchema names the JSON form of a [Diff]. Fields are only ever added to
// it, never renamed or given another meaning.
const DiffSchema = "egress-audit/diff/v1"

// Call changes: how the verdict on one catalog call moved from the report
// before a rule change to the report after it.
const (
	ChangeFixed        = "fixed"         // blocked or missing, then ok
	ChangeRegressed    = "regressed"     // ok, then blocked or missing
	ChangeStillBlocked = "still-blocked" // blocked or missing on both sides
	ChangeUnchanged    = "unchanged"     // ok on both sides, or not expected on both
	ChangeNotCompared  = "not-compared"  // in one catalog only, or expected on one side only
)

// Destination changes.
const (
	ChangeNew     = "new"     // seen after, not before
	ChangeGone    = "gone"    // seen before, not after
	ChangeChanged = "changed" // seen on both sides with another class or status
	// ChangeUnchanged is used for destinations too.
)

// FindingNewUnexpected marks a destination of class unexpected that traffic
// reached after the change and did not reach before it: a rule change that
// let out more than it should.
const FindingNewUnexpected = "new-unexpected"

// Diff is what changed between two reports: the verdict on every catalog
// call and the status of every destination. Its JSON form is the
// documented contract (schema [DiffSchema]).
type Diff struct {
	Schema       string       `json:"schema"`
	Before       DiffSide     `json:"before"`
	After        DiffSide     `json:"after"`
	Warnings     []string     `json:"warnings,omitempty"`
	Calls        []CallChange `json:"calls"`
	Destinations []DestChange `json:"destinations"`
	Summary      DiffSummary  `json:"summary"`
}

// DiffSide describes one of the two reports compared.
type DiffSide struct {
	// Source says what the report came from, as the caller names it: a
	// saved report's path, or the inputs audited.
	Source     string           `json:"source,omitempty"`
	Catalog    rules.CatalogRef `json:"catalog"`
	Datacenter string           `json:"datacenter"`
	Vantage    string           `json:"vantage"`
	Inputs     []string         `json:"inputs"`
	Calls      map[string]int   `json:"calls"` // calls by status
}

// CallChange is how the verdict on one catalog call changed.
type CallChange struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Host     string     `json:"host"`
	Port     int        `json:"port"`
	Required bool       `json:"required"`
	Change   string     `json:"change"`
	Before   *CallState `json:"before"` // nil when the call is not in the before catalog
	After    *CallState `json:"after"`  // nil when the call is not in the after catalog
	Detail   string     `json:"detail,omitempty"`
}

// CallState is the verdict on a call in one report.
type CallState struct {
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Evidence string `json:"evidence,omitempty"` // where the first evidence is: input and locator
}

// DestChange is how one destination (a host and port) changed.
type DestChange struct {
	Host    string     `json:"host"`
	Port    int        `json:"port"`
	Change  string     `json:"change"`
	Finding string     `json:"finding,omitempty"` // FindingNewUnexpected or empty
	Before  *DestState `json:"before"`            // nil when not seen before
	After   *DestState `json:"after"`             // nil when not seen after
}

// DestState is a destination as one report saw it.
type DestState struct {
	Class   string `json:"class"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Flows   int64  `json:"flows"`
	Blocked int64  `json:"blocked_flows"`
}

// DiffSummary counts the changes. Regressed, StillBlockedRequired and
// NewUnexpected are what a gate usually fails on. Regressed counts every
// regressed call, optional ones too: a call that got through before and
// stops after is a change the rule made, whether or not the integration
// can live without it.
type DiffSummary struct {
	Calls                map[string]int `json:"calls"`        // calls by change
	Destinations         map[string]int `json:"destinations"` // destinations by change
	Regressed            int            `json:"regressed"`
	RegressedRequired    int            `json:"regressed_required"`
	StillBlockedRequired int            `json:"still_blocked_required"`
	NewUnexpected        int            `json:"new_unexpected"`
}

// Compare returns what changed from before to after. Calls are matched by
// id and listed in the after catalog's order (then the calls only the
// before catalog has); destinations are matched by host and port and
// sorted by change, then host. Neither report is modified.
func Compare(before, after *rules.Report) *Diff {
	d := &Diff{
		Schema: DiffSchema,
		Before: side(before),
		After:  side(after),
		Summary: DiffSummary{
			Calls:        map[string]int{},
			Destinations: map[string]int{},
		},
	}
	d.Warnings = warnings(before, after)

	prev := make(map[string]*rules.CallReport, len(before.Calls))
	for i := range before.Calls {
		prev[before.Calls[i].ID] = &before.Calls[i]
	}
	seen := make(map[string]bool, len(after.Calls))
	for i := range after.Calls {
		a := &after.Calls[i]
		seen[a.ID] = true
		d.Calls = append(d.Calls, compareCall(prev[a.ID], a))
	}
	for i := range before.Calls {
		if b := &before.Calls[i]; !seen[b.ID] {
			d.Calls = append(d.Calls, compareCall(b, nil))
		}
	}
	if d.Calls == nil {
		d.Calls = []CallChange{}
	}
	for _, c := range d.Calls {
		d.Summary.Calls[c.Change]++
		if c.Change == ChangeRegressed {
			d.Summary.Regressed++
		}
		if !c.Required {
			continue
		}
		switch c.Change {
		case ChangeRegressed:
			d.Summary.RegressedRequired++
		case ChangeStillBlocked:
			d.Summary.StillBlockedRequired++
		}
	}

	d.Destinations = compareDestinations(before.Destinations, after.Destinations)
	for _, c := range d.Destinations {
		d.Summary.Destinations[c.Change]++
		if c.Finding == FindingNewUnexpected {
			d.Summary.NewUnexpected++
		}
	}
	return d
}

func side(r *rules.Report) DiffSide {
	s := DiffSide{
		Catalog:    r.Catalog,
		Datacenter: r.Datacenter,
		Vantage:    r.Vantage,
		Inputs:     []string{},
		Calls:      map[string]int{},
	}
	for _, in := range r.Inputs {
		s.Inputs = append(s.Inputs, in.Path)
	}
	for _, c := range r.Calls {
		s.Calls[c.Status]++
	}
	return s
}

// warnings says how the two reports were judged differently, since their
// verdicts then differ for reasons other than the traffic.
func warnings(before, after *rules.Report) []string {
	var w []string
	if before.Catalog.Name != after.Catalog.Name {
		w = append(w, fmt.Sprintf("the catalogs differ: before %s %s, after %s %s; calls are matched by id",
			before.Catalog.Name, before.Catalog.Version, after.Catalog.Name, after.Catalog.Version))
	} else if before.Catalog.Version != after.Catalog.Version {
		w = append(w, fmt.Sprintf("the catalog versions differ: before %s, after %s; calls are matched by id",
			before.Catalog.Version, after.Catalog.Version))
	}
	if before.Datacenter != after.Datacenter {
		w = append(w, fmt.Sprintf("the data centers differ: before %s, after %s; calls are compared by id although their hosts differ",
			before.Datacenter, after.Datacenter))
	}
	if before.Vantage != after.Vantage {
		w = append(w, fmt.Sprintf("the vantages differ: before %s, after %s; calls expected on one side only are not compared",
			before.Vantage, after.Vantage))
	}
	for _, r := range []struct {
		name string
		rep  *rules.Report
	}{{"before", before}, {"after", after}} {
		if r.rep.Schema != rules.ReportSchema {
			w = append(w, fmt.Sprintf("the %s report has schema %q, not %q", r.name, r.rep.Schema, rules.ReportSchema))
		}
	}
	// An input of a side that could not be read leaves that side short of
	// its evidence: a call can look fixed or regressed for that alone.
	for _, r := range []struct {
		name string
		rep  *rules.Report
	}{{"before", before}, {"after", after}} {
		for _, in := range r.rep.Inputs {
			if in.Error != "" {
				w = append(w, fmt.Sprintf("the %s side's input %s could not be read (%s); that side is judged without it",
					r.name, in.Path, strings.TrimPrefix(in.Error, in.Path+": ")))
			}
		}
	}
	return w
}

func state(c *rules.CallReport) *CallState {
	if c == nil {
		return nil
	}
	s := &CallState{Status: c.Status, Reason: c.Reason, Detail: c.Detail}
	if len(c.Evidence) > 0 {
		s.Evidence = strings.TrimSpace(c.Evidence[0].Input + " " + c.Evidence[0].Locator)
	}
	return s
}

// failing reports whether a call status means the call did not get through.
func failing(status string) bool {
	return status == rules.StatusBlocked || status == rules.StatusMissing
}

func compareCall(before, after *rules.CallReport) CallChange {
	ref := after
	if ref == nil {
		ref = before
	}
	c := CallChange{
		ID:       ref.ID,
		Title:    ref.Title,
		Host:     ref.Host,
		Port:     ref.Port,
		Required: ref.Required,
		Before:   state(before),
		After:    state(after),
	}
	switch {
	case before == nil:
		c.Change = ChangeNotCompared
		c.Detail = "only in the after catalog"
	case after == nil:
		c.Change = ChangeNotCompared
		c.Detail = "only in the before catalog"
	case before.Status == rules.StatusOK && after.Status == rules.StatusOK:
		c.Change = ChangeUnchanged
	case failing(before.Status) && after.Status == rules.StatusOK:
		c.Change = ChangeFixed
	case before.Status == rules.StatusOK && failing(after.Status):
		c.Change = ChangeRegressed
	case failing(before.Status) && failing(after.Status):
		c.Change = ChangeStillBlocked
		if before.Status != after.Status || before.Reason != after.Reason {
			c.Detail = fmt.Sprintf("was %s, now %s", verdict(before.Status, before.Reason), verdict(after.Status, after.Reason))
		}
	case before.Status == after.Status:
		c.Change = ChangeUnchanged
	default:
		c.Change = ChangeNotCompared
		c.Detail = fmt.Sprintf("%s before, %s after", before.Status, after.Status)
	}
	if before != nil && after != nil && before.Host != after.Host {
		c.Detail = strings.TrimPrefix(c.Detail+fmt.Sprintf("; host was %s", before.Host), "; ")
	}
	return c
}

func verdict(status, reason string) string {
	if reason == "" {
		return status
	}
	return status + " (" + reason + ")"
}

type destKey struct {
	host string
	port int
}

func destState(d *rules.Destination) *DestState {
	return &DestState{Class: d.Class, Status: d.Status, Reason: d.Reason, Flows: d.Flows, Blocked: d.Blocked}
}

// gotOut reports whether some traffic to a destination got through.
func gotOut(s *DestState) bool {
	return s != nil && (s.Status == rules.DestAllowed || s.Status == rules.DestMixed)
}

func compareDestinations(before, after []rules.Destination) []DestChange {
	m := make(map[destKey]*DestChange)
	var keys []destKey
	get := func(d *rules.Destination) *DestChange {
		k := destKey{strings.ToLower(d.Host), d.Port}
		c := m[k]
		if c == nil {
			c = &DestChange{Host: d.Host, Port: d.Port}
			m[k] = c
			keys = append(keys, k)
		}
		return c
	}
	for i := range before {
		get(&before[i]).Before = destState(&before[i])
	}
	for i := range after {
		get(&after[i]).After = destState(&after[i])
	}
	out := make([]DestChange, 0, len(keys))
	for _, k := range keys {
		c := m[k]
		switch {
		case c.Before == nil:
			c.Change = ChangeNew
		case c.After == nil:
			c.Change = ChangeGone
		case c.Before.Class != c.After.Class || c.Before.Status != c.After.Status || c.Before.Reason != c.After.Reason:
			c.Change = ChangeChanged
		default:
			c.Change = ChangeUnchanged
		}
		if c.After != nil && c.After.Class == rules.ClassUnexpected && gotOut(c.After) &&
			!(c.Before != nil && c.Before.Class == rules.ClassUnexpected && gotOut(c.Before)) {
			c.Finding = FindingNewUnexpected
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := destRank(a.Change), destRank(b.Change); ra != rb {
			return ra < rb
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Port < b.Port
	})
	return out
}

func destRank(change string) int {
	switch change {
	case ChangeNew:
		return 0
	case ChangeChanged:
		return 1
	case ChangeGone:
		return 2
	}
	return 3
}

// DiffJSON writes d in its documented JSON form (schema [DiffSchema]),
// indented, with a final newline.
func DiffJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// callText is a call's state in one cell.
func callText(s *CallState) string {
	if s == nil {
		return "-"
	}
	return verdict(s.Status, s.Reason)
}

// destText is a destination's state in one cell.
func destText(s *DestState) string {
	if s == nil {
		return "-"
	}
	t := s.Class + ", " + s.Status
	if s.Reason != "" {
		t += " (" + s.Reason + ")"
	}
	flows := strconv.FormatInt(s.Flows, 10) + " flows"
	if s.Flows == 1 {
		flows = "1 flow"
	}
	if s.Blocked > 0 {
		flows += fmt.Sprintf(", %d blocked", s.Blocked)
	}
	return t + ", " + flows
}

func sideText(s *DiffSide) string {
	src := s.Source
	if src == "" {
		src = strings.Join(s.Inputs, ", ")
	}
	return fmt.Sprintf("%s (catalog %s %s, data center %s, vantage %s)",
		Clean(src), s.Catalog.Name, s.Catalog.Version, s.Datacenter, s.Vantage)
}

// changeCounts writes counts in the order of names, leaving out zeros.
func changeCounts(m map[string]int, names ...string) string {
	var parts []string
	for _, n := range names {
		if m[n] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[n], n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

var (
	callChanges = []string{ChangeFixed, ChangeRegressed, ChangeStillBlocked, ChangeUnchanged, ChangeNotCompared}
	destChanges = []string{ChangeNew, ChangeChanged, ChangeGone, ChangeUnchanged}
)

func callID(c *CallChange) string {
	if c.Required {
		return c.ID
	}
	return c.ID + " (optional)"
}

func callNote(c *CallChange) string {
	if c.Detail != "" {
		return Clean(c.Detail)
	}
	if c.After != nil && c.Change != ChangeUnchanged && c.After.Detail != "" {
		return Clean(c.After.Detail)
	}
	return ""
}

// DiffTable writes d for a person at a terminal: both sides, the warnings,
// every call with its change, the destinations that changed, and a summary.
func DiffTable(w io.Writer, d *Diff) error {
	fmt.Fprintf(w, "Before: %s\n", sideText(&d.Before))
	fmt.Fprintf(w, "After:  %s\n", sideText(&d.After))
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "warning: %s\n", Clean(s))
	}
	fmt.Fprintln(w)

	calls := plainTable(w, "CALL", "HOST", "CHANGE", "BEFORE", "AFTER", "NOTE")
	for i := range d.Calls {
		c := &d.Calls[i]
		calls.Append([]string{
			callID(c),
			hostPort(c.Host, c.Port),
			c.Change,
			callText(c.Before),
			callText(c.After),
			callNote(c),
		})
	}
	if err := calls.Render(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	changed := 0
	for _, c := range d.Destinations {
		if c.Change != ChangeUnchanged {
			changed++
		}
	}
	if changed == 0 {
		fmt.Fprintln(w, "No destination changed.")
	} else {
		dests := plainTable(w, "DESTINATION", "CHANGE", "BEFORE", "AFTER")
		for _, c := range d.Destinations {
			if c.Change == ChangeUnchanged {
				continue
			}
			change := c.Change
			if c.Finding != "" {
				change += " (" + c.Finding + ")"
			}
			dests.Append([]string{hostPort(c.Host, c.Port), change, destText(c.Before), destText(c.After)})
		}
		if err := dests.Render(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "Calls: %s.\n", changeCounts(d.Summary.Calls, callChanges...))
	fmt.Fprintf(w, "Destinations: %s.\n", changeCounts(d.Summary.Destinations, destChanges...))
	fmt.Fprintln(w, verdictLine(d))
	return nil
}

// verdictLine says in one sentence whether the change is safe.
func verdictLine(d *Diff) string {
	s := &d.Summary
	var bad []string
	if s.RegressedRequired > 0 {
		bad = append(bad, plural(s.RegressedRequired, "required call regressed", "required calls regressed"))
	}
	if n := s.Regressed - s.RegressedRequired; n > 0 {
		bad = append(bad, plural(n, "optional call regressed", "optional calls regressed"))
	}
	if s.NewUnexpected > 0 {
		bad = append(bad, plural(s.NewUnexpected, "unexpected destination is newly reached", "unexpected destinations are newly reached"))
	}
	if s.StillBlockedRequired > 0 {
		bad = append(bad, plural(s.StillBlockedRequired, "required call is still blocked or missing", "required calls are still blocked or missing"))
	}
	if len(bad) == 0 {
		return "Verdict: no regression, no newly reached unexpected destination, every required call ok."
	}
	return "Verdict: " + strings.Join(bad, "; ") + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// DiffMarkdown writes d as GitHub-flavoured markdown for a change request:
// a verdict, the calls, the destinations that changed and the warnings.
func DiffMarkdown(w io.Writer, d *Diff) error {
	fmt.Fprintln(w, "## Egress change: before and after")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "**%s**\n\n", strings.TrimPrefix(verdictLine(d), "Verdict: "))
	fmt.Fprintf(w, "- Before: %s\n", mdEscape(sideText(&d.Before)))
	fmt.Fprintf(w, "- After: %s\n", mdEscape(sideText(&d.After)))
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "- Warning: %s\n", mdEscape(Clean(s)))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Calls")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Call | Host | Change | Before | After | Note |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for i := range d.Calls {
		c := &d.Calls[i]
		change := c.Change
		if c.Change == ChangeRegressed || c.Change == ChangeFixed {
			change = "**" + change + "**"
		}
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s |\n",
			mdEscape(callID(c)), hostPortRaw(c.Host, c.Port), change,
			mdEscape(callText(c.Before)), mdEscape(callText(c.After)), mdEscape(callNote(c)))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Destinations")
	fmt.Fprintln(w)
	changed := 0
	for _, c := range d.Destinations {
		if c.Change == ChangeUnchanged {
			continue
		}
		if changed == 0 {
			fmt.Fprintln(w, "| Destination | Change | Before | After |")
			fmt.Fprintln(w, "| --- | --- | --- | --- |")
		}
		changed++
		change := c.Change
		if c.Finding != "" {
			change = "**" + change + " (" + c.Finding + ")**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n",
			mdEscape(hostPort(c.Host, c.Port)), change,
			mdEscape(destText(c.Before)), mdEscape(destText(c.After)))
	}
	if changed == 0 {
		fmt.Fprintln(w, "No destination changed.")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Calls: %s. Destinations: %s.\n",
		changeCounts(d.Summary.Calls, callChanges...),
		changeCounts(d.Summary.Destinations, destChanges...))
	return nil
}

// mdEscape keeps text from an input from breaking a markdown table or
// adding markup.
func mdEscape(s string) string {
	r := strings.NewReplacer(
		`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`",
		"<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "\n", " ",
	)
	return r.Replace(s)
}

// plainTable returns a table with a left-aligned header, for the diff and
// check-rules outputs. It wraps nothing: a cell keeps its whole text.
func plainTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(header)
	return t
}
