package report

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/egress-audit/egress-audit/rules"
)

// TableOptions shape the table for where it goes.
type TableOptions struct {
	// Color marks statuses with ANSI colours. The status words stay, so
	// colour is never the only signal.
	Color bool
	// Width is the terminal's width in columns; the free-text columns are
	// wrapped to fit it. 0 means no limit (output to a file or a pipe).
	Width int
}

// Table writes r for a person, without colour and without a width limit:
// [TableOptions.Write] with the zero options.
func Table(w io.Writer, r *rules.Report) error {
	return TableOptions{}.Write(w, r)
}

// Write writes r as text tables: the calls in catalog order, the
// destinations, one line per input, the notes, the next steps, and a last
// line saying which rule is missing. Every string that came from the input
// is escaped (see [Clean]).
func (o TableOptions) Write(w io.Writer, r *rules.Report) error {
	ew := &errWriter{w: w}
	o.text(ew, "", fmt.Sprintf("Catalog %s %s, data center %s, vantage %s",
		Clean(r.Catalog.Name), Clean(r.Catalog.Version), Clean(r.Datacenter), Clean(r.Vantage)))
	fmt.Fprintln(ew)

	calls := make([][]string, 0, len(r.Calls))
	for _, c := range r.Calls {
		id := Clean(c.ID)
		if !c.Required {
			id += " (optional)"
		}
		calls = append(calls, []string{
			id,
			hostPort(c.Host, c.Port),
			o.paint(Clean(c.Status)),
			reasonText(c.Reason, c.Detail),
			firstEvidence(c.Evidence),
		})
	}
	if err := o.table(ew, callColumns, calls); err != nil {
		return err
	}

	fmt.Fprintln(ew)
	if len(r.Destinations) == 0 {
		fmt.Fprintln(ew, "No destinations seen.")
	} else {
		dests := make([][]string, 0, len(r.Destinations))
		for _, d := range r.Destinations {
			status := o.paint(Clean(d.Status))
			if d.Reason != "" {
				status += " (" + Clean(d.Reason) + ")"
			}
			named := Clean(d.HostSource)
			if named == "" {
				named = "address only"
			}
			if d.Uncertain != "" {
				named += "? (" + Clean(uncertainShort(d.Uncertain)) + ")"
			}
			flows := strconv.FormatInt(d.Flows, 10)
			if d.Blocked > 0 {
				flows = fmt.Sprintf("%d (%d blocked)", d.Flows, d.Blocked)
			}
			class := Clean(d.Class)
			if d.Class == rules.ClassUnexpected || d.Class == rules.ClassOtherDatacenter {
				class = o.paint(class)
			}
			dests = append(dests, []string{
				hostPort(d.Host, d.Port), class, status, flows, named, firstEvidence(d.Evidence),
			})
		}
		if err := o.table(ew, destColumns, dests); err != nil {
			return err
		}
	}

	fmt.Fprintln(ew)
	for _, in := range r.Inputs {
		if in.Error != "" {
			o.text(ew, "", fmt.Sprintf("input %s: not read: %s", Clean(in.Path), Clean(in.Error)))
			continue
		}
		o.text(ew, "", fmt.Sprintf("input %s (%s): %d records, %s, %d failed",
			Clean(in.Path), Clean(in.Format), in.Records, skippedText(in, Clean), in.Errors))
		for _, p := range in.Problems {
			o.text(ew, "  ", Clean(p))
		}
		if in.Truncated != "" {
			o.text(ew, "  ", Clean(in.Truncated))
		}
	}
	for _, n := range r.Notes {
		o.text(ew, "note: ", Clean(n))
	}
	if len(r.NextSteps) > 0 {
		fmt.Fprintln(ew, "\nNext steps:")
		for _, s := range r.NextSteps {
			o.text(ew, "- ", Clean(s))
		}
	}
	fmt.Fprintln(ew)
	o.text(ew, "", Clean(Hint(r)))
	return ew.err
}

// ANSI colours of statuses and classes.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// paint colours a status or class word when o.Color is set. s is already
// clean; the escapes added here are the only ones in the output.
func (o TableOptions) paint(s string) string {
	if !o.Color {
		return s
	}
	var c string
	switch s {
	case rules.StatusOK, rules.DestAllowed:
		c = ansiGreen
	case rules.StatusBlocked:
		c = ansiRed
	case rules.StatusMissing, rules.DestMixed, rules.ClassUnexpected, rules.ClassOtherDatacenter:
		c = ansiYellow
	case rules.StatusNotExpected, rules.DestUnknown:
		c = ansiDim
	default:
		return s
	}
	return c + s + ansiReset
}

// column is one column of a text table: its header and how far it may be
// narrowed to fit a terminal. When a table is too wide, the columns with a
// preferred width wrap down to it first; then every column with a least
// width wraps down to that. 0 means no such width.
type column struct {
	name             string
	preferred, least int
}

// bound is the column's least width, or its preferred one.
func (c column) bound(least bool) int {
	if least {
		return c.least
	}
	return c.preferred
}

// The status and class columns never narrow below their longest word:
// paint may colour it, and a coloured word is never cut.
var (
	callColumns = []column{
		{"CALL", 0, 11}, {"HOST", 0, 12}, {"STATUS", 0, len(rules.StatusNotExpected)},
		{"REASON", 30, 10}, {"EVIDENCE", 16, 10},
	}
	destColumns = []column{
		{"DESTINATION", 24, 18}, {"CLASS", 0, len(rules.ClassOtherDatacenter)}, {"STATUS", 0, 8},
		{"FLOWS", 0, 5}, {"HOW NAMED", 0, 7}, {"EVIDENCE", 16, 10},
	}
)

// gutter is the space between two columns.
const gutter = "  "

// table writes rows under the header of cols with tablewriter: no
// borders, columns two spaces apart, cells wrapped to fit o.Width. Cells
// may hold the colour escapes of paint and nothing else invisible.
func (o TableOptions) table(w io.Writer, cols []column, rows [][]string) error {
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	widths := o.fit(cols, header, rows)
	limits := tw.NewMapper[int, int]()
	for i, n := range widths {
		if n > 0 {
			limits.Set(i, n)
		}
	}
	cut := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = cutWords(c, widths[i])
		}
		return out
	}
	if o.Color {
		for i, h := range header {
			header[i] = boldWords(h)
		}
	}

	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbolCustom("plain").WithColumn(gutter),
			Settings: tw.Settings{
				Lines:      tw.LinesNone,
				Separators: tw.Separators{BetweenColumns: tw.On, BetweenRows: tw.Off},
			},
		})),
		tablewriter.WithPadding(tw.PaddingNone),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoWrap(tw.WrapNormal),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithColumnWidths(limits),
	)
	t.Header(cut(header))
	for _, row := range rows {
		if err := t.Append(cut(row)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	// The last column is padded to its width: keep lines free of trailing
	// spaces.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// fit returns the width of each column when the table must fit o.Width,
// or 0 for a column that keeps its widest cell. Columns are narrowed one
// step at a time, the one furthest above its bound first: down to their
// preferred widths, then to their least. A table still too wide then is
// as narrow as it gets, and the terminal wraps the rest.
func (o TableOptions) fit(cols []column, header []string, rows [][]string) []int {
	limits := make([]int, len(cols))
	if o.Width <= 0 {
		return limits
	}
	w := make([]int, len(cols))
	for i, h := range header {
		w[i] = twwidth.Width(h)
	}
	for _, row := range rows {
		for i, c := range row {
			w[i] = max(w[i], twwidth.Width(c))
		}
	}
	total := len(gutter) * (len(w) - 1)
	for _, n := range w {
		total += n
	}
	for _, least := range []bool{false, true} {
		for total > o.Width {
			widest := -1
			for i, c := range cols {
				b := c.bound(least)
				if b > 0 && w[i] > b && (widest < 0 || w[i]-b > w[widest]-cols[widest].bound(least)) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			w[widest]--
			limits[widest] = w[widest]
			total--
		}
	}
	return limits
}

// text writes a line of free text after prefix. On a terminal it is
// wrapped at spaces to o.Width, the lines after the first indented as far
// as the text after prefix; piped, it stays one line, for grep.
func (o TableOptions) text(w io.Writer, prefix, s string) {
	if o.Width <= 0 || twwidth.Width(prefix+s) <= o.Width {
		fmt.Fprintf(w, "%s%s\n", prefix, s)
		return
	}
	indent := strings.Repeat(" ", twwidth.Width(prefix))
	line, lineWidth := prefix, twwidth.Width(prefix)
	empty := true // line holds no word yet
	for _, word := range strings.Split(s, " ") {
		ww := twwidth.Width(word)
		if !empty && lineWidth+1+ww > o.Width {
			fmt.Fprintln(w, line)
			line, lineWidth, empty = indent, len(indent), true
		}
		if !empty {
			line += " "
			lineWidth++
		}
		line += word
		lineWidth += ww
		empty = false
	}
	fmt.Fprintln(w, line)
}

// cutWords breaks each word of s wider than width onto lines of its own
// that fit, since tablewriter wraps at spaces only. A word holding the
// colour escapes of paint is never cut. width 0 means no limit.
func cutWords(s string, width int) string {
	if width <= 0 || twwidth.Width(s) <= width {
		return s
	}
	words := strings.Split(s, " ")
	for i, word := range words {
		if strings.Contains(word, "\x1b") {
			continue
		}
		var b strings.Builder
		for twwidth.Width(word) > width {
			head := twwidth.Truncate(word, width)
			if head == "" {
				_, n := utf8.DecodeRuneInString(word)
				head = word[:n]
			}
			b.WriteString(head)
			b.WriteByte('\n')
			word = word[len(head):]
		}
		b.WriteString(word)
		words[i] = b.String()
	}
	return strings.Join(words, " ")
}

// boldWords makes each word of a header bold on its own, so that wrapping
// the header never carries the escape into the next column.
func boldWords(h string) string {
	words := strings.Split(h, " ")
	for i, word := range words {
		words[i] = ansiBold + word + ansiReset
	}
	return strings.Join(words, " ")
}

func hostPort(host string, port int) string { return hostPortRaw(Clean(host), port) }

func reasonText(reason, detail string) string {
	switch {
	case reason == "":
		return Clean(detail)
	case detail == "":
		return Clean(reason)
	}
	return Clean(reason) + ": " + Clean(detail)
}

// uncertainShort says in a few words why a destination's name is
// uncertain, for a table cell; the report's uncertain field says it whole.
func uncertainShort(why string) string {
	switch {
	case strings.HasPrefix(why, "address shared by several names"):
		return "shared address"
	case strings.HasPrefix(why, "DNS answer outside the flow's time window"):
		return "outside time window"
	case strings.HasPrefix(why, "encrypted client hello"):
		return "ECH"
	}
	if i := strings.IndexAny(why, ":;("); i > 0 {
		why = strings.TrimSpace(why[:i])
	}
	return why
}

// skipReasons lists an input's skip reasons with their counts, most
// frequent first ("2 not IP, 1 comment"), or "" when none were recorded.
// The reasons are not escaped.
func skipReasons(in rules.InputReport) string {
	reasons := make([]string, 0, len(in.Reasons))
	for r := range in.Reasons {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := in.Reasons[reasons[i]], in.Reasons[reasons[j]]
		return a > b || a == b && reasons[i] < reasons[j]
	})
	var b strings.Builder
	for i, r := range reasons {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", in.Reasons[r], r)
	}
	return b.String()
}

// skippedText is an input's skipped count followed by its reasons:
// "2 skipped (2 not IP)". esc escapes the reasons for the sink.
func skippedText(in rules.InputReport, esc func(string) string) string {
	if r := skipReasons(in); r != "" {
		return fmt.Sprintf("%d skipped (%s)", in.Skipped, esc(r))
	}
	return fmt.Sprintf("%d skipped", in.Skipped)
}

// firstEvidence names where the first piece of evidence is.
func firstEvidence(ev []rules.Evidence) string {
	if len(ev) == 0 {
		return "-"
	}
	s := Clean(ev[0].Input) + " " + Clean(ev[0].Locator)
	if len(ev) > 1 {
		s += fmt.Sprintf(" (+%d)", len(ev)-1)
	}
	return strings.TrimSpace(s)
}

// errWriter keeps the first write error, so that a long run of prints
// checks it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
