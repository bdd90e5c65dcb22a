package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"

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
	fmt.Fprintf(ew, "Catalog %s %s, data center %s, vantage %s\n\n",
		Clean(r.Catalog.Name), Clean(r.Catalog.Version), Clean(r.Datacenter), Clean(r.Vantage))

	calls := o.newGrid("CALL", "HOST", "STATUS", "REASON", "EVIDENCE")
	calls.shrink([]int{0, 0, 0, 30, 16}, []int{11, 12, 12, 10, 10})
	for _, c := range r.Calls {
		id := Clean(c.ID)
		if !c.Required {
			id += " (optional)"
		}
		calls.add(
			id,
			hostPort(c.Host, c.Port),
			o.paint(Clean(c.Status)),
			reasonText(c.Reason, c.Detail),
			firstEvidence(c.Evidence),
		)
	}
	calls.render(ew)

	fmt.Fprintln(ew)
	if len(r.Destinations) == 0 {
		fmt.Fprintln(ew, "No destinations seen.")
	} else {
		dests := o.newGrid("DESTINATION", "CLASS", "STATUS", "FLOWS", "HOW NAMED", "EVIDENCE")
		dests.shrink([]int{24, 0, 0, 0, 0, 16}, []int{18, 10, 8, 5, 7, 10})
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
				named += "?"
			}
			flows := strconv.FormatInt(d.Flows, 10)
			if d.Blocked > 0 {
				flows = fmt.Sprintf("%d (%d blocked)", d.Flows, d.Blocked)
			}
			class := Clean(d.Class)
			if d.Class == rules.ClassUnexpected || d.Class == rules.ClassOtherDatacenter {
				class = o.paint(class)
			}
			dests.add(hostPort(d.Host, d.Port), class, status, flows, named, firstEvidence(d.Evidence))
		}
		dests.render(ew)
	}

	fmt.Fprintln(ew)
	for _, in := range r.Inputs {
		fmt.Fprintf(ew, "input %s (%s): %d records, %d skipped, %d failed\n",
			Clean(in.Path), Clean(in.Format), in.Records, in.Skipped, in.Errors)
		for _, p := range in.Problems {
			fmt.Fprintf(ew, "  %s\n", Clean(p))
		}
		if in.Truncated != "" {
			fmt.Fprintf(ew, "  %s\n", Clean(in.Truncated))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", Clean(n))
	}
	if len(r.NextSteps) > 0 {
		fmt.Fprintln(ew, "\nNext steps:")
		for _, s := range r.NextSteps {
			fmt.Fprintf(ew, "- %s\n", Clean(s))
		}
	}
	fmt.Fprintf(ew, "\n%s\n", Clean(Hint(r)))
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

// grid is a table of text cells laid out in aligned columns, two spaces
// apart. Cells may hold the colour escapes of paint and nothing else
// invisible.
type grid struct {
	opts   TableOptions
	header []string
	// When the table is too wide, the columns with a preferred width wrap
	// down to it first; then every column with a least width wraps down to
	// that. 0 means no such width.
	preferred, least []int
	rows             [][]string
}

// shrink sets the preferred and least widths of the columns.
func (g *grid) shrink(preferred, least []int) {
	g.preferred, g.least = preferred, least
}

func (o TableOptions) newGrid(header ...string) *grid {
	n := len(header)
	return &grid{opts: o, header: header, preferred: make([]int, n), least: make([]int, n)}
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

const gutter = 2

// widths returns the width of each column: the widest cell, with columns
// narrowed, the one furthest above its bound first, until the table fits
// opts.Width: down to their preferred widths, then to their least.
func (g *grid) widths() []int {
	w := make([]int, len(g.header))
	for i, h := range g.header {
		w[i] = runewidth.StringWidth(h)
	}
	for _, row := range g.rows {
		for i, c := range row {
			if n := visibleWidth(c); n > w[i] {
				w[i] = n
			}
		}
	}
	if g.opts.Width <= 0 {
		return w
	}
	total := gutter * (len(w) - 1)
	for _, n := range w {
		total += n
	}
	for _, bound := range [][]int{g.preferred, g.least} {
		for total > g.opts.Width {
			widest := -1
			for i := range w {
				if bound[i] > 0 && w[i] > bound[i] && (widest < 0 || w[i]-bound[i] > w[widest]-bound[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			w[widest]--
			total--
		}
	}
	// As narrow as it gets: the terminal wraps the rest.
	return w
}

func (g *grid) render(w io.Writer) {
	widths := g.widths()
	header := make([]string, len(g.header))
	for i, h := range g.header {
		header[i] = h
		if g.opts.Color {
			header[i] = ansiBold + h + ansiReset
		}
	}
	g.line(w, widths, header)
	for _, row := range g.rows {
		g.line(w, widths, row)
	}
}

// line writes one row, wrapping the cells wider than their column onto
// further lines.
func (g *grid) line(w io.Writer, widths []int, row []string) {
	cells := make([][]string, len(row))
	height := 1
	for i, c := range row {
		cells[i] = wrap(c, widths[i])
		if len(cells[i]) > height {
			height = len(cells[i])
		}
	}
	var b strings.Builder
	for l := 0; l < height; l++ {
		b.Reset()
		last := len(row) - 1
		for last > 0 && l >= len(cells[last]) {
			last--
		}
		for i := 0; i <= last; i++ {
			var s string
			if l < len(cells[i]) {
				s = cells[i][l]
			}
			b.WriteString(s)
			if i < last {
				b.WriteString(strings.Repeat(" ", max(0, widths[i]-visibleWidth(s))+gutter))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// wrap breaks s into lines at most width columns wide, at spaces when it
// can, cutting longer words. A word holding the colour escapes of paint is
// never cut.
func wrap(s string, width int) []string {
	if visibleWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		lines = append(lines, strings.TrimRight(cur.String(), " "))
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.SplitAfter(s, " ") {
		ww := visibleWidth(strings.TrimRight(word, " "))
		if curW > 0 && curW+ww > width {
			flush()
		}
		for ww > width && !strings.Contains(word, "\x1b") {
			// A word longer than the column: cut it.
			head := runewidth.Truncate(word, width, "")
			if head == "" {
				head = string([]rune(word)[:1])
			}
			cur.WriteString(head)
			flush()
			word = word[len(head):]
			ww = visibleWidth(strings.TrimRight(word, " "))
		}
		cur.WriteString(word)
		curW += visibleWidth(word)
	}
	if cur.Len() > 0 {
		flush()
	}
	return lines
}

// visibleWidth is the width of s on a terminal, not counting the colour
// escapes paint adds.
func visibleWidth(s string) int {
	if !strings.Contains(s, "\x1b") {
		return runewidth.StringWidth(s)
	}
	n := 0
	for len(s) > 0 {
		if s[0] == '\x1b' {
			end := strings.IndexByte(s, 'm')
			if end < 0 {
				break
			}
			s = s[end+1:]
			continue
		}
		i := strings.IndexByte(s, '\x1b')
		if i < 0 {
			i = len(s)
		}
		n += runewidth.StringWidth(s[:i])
		s = s[i:]
	}
	return n
}

func hostPort(host string, port int) string {
	h := Clean(host)
	if port != 0 {
		h += ":" + strconv.Itoa(port)
	}
	return h
}

func reasonText(reason, detail string) string {
	switch {
	case reason == "":
		return Clean(detail)
	case detail == "":
		return Clean(reason)
	}
	return Clean(reason) + ": " + Clean(detail)
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
