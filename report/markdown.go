package report

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/egress-audit/egress-audit/rules"
)

// Markdown writes r for a change request or a trouble report (CommonMark
// with GFM tables): a summary, the calls table, the findings with their evidence,
// the unexpected destinations, the inputs, and the next steps. Every string
// that came from the input is escaped so that it renders as the text it is:
// no markup, links, HTML or table breaks (see [escapeMarkdown]).
func Markdown(w io.Writer, r *rules.Report) error {
	ew := &errWriter{w: w}
	md := escapeMarkdown
	fmt.Fprintf(ew, "# Egress audit: %s\n\n", md(r.Catalog.Name))
	fmt.Fprintf(ew, "Catalog %s %s, data center **%s**, vantage **%s**.\n\n",
		md(r.Catalog.Name), md(r.Catalog.Version), md(r.Datacenter), md(r.Vantage))
	fmt.Fprintf(ew, "%s.\n\n", md(strings.TrimSuffix(Hint(r), ".")))

	fmt.Fprintln(ew, "## Calls")
	fmt.Fprintln(ew)
	fmt.Fprintln(ew, "| # | Call | Host | Side | Status | Reason | Evidence |")
	fmt.Fprintln(ew, "|---|---|---|---|---|---|---|")
	for i, c := range r.Calls {
		id := md(c.ID)
		if !c.Required {
			id += " (optional)"
		}
		fmt.Fprintf(ew, "| %d | %s | %s | %s | %s | %s | %s |\n",
			i+1, id, md(hostPortRaw(c.Host, c.Port)), md(c.Side), statusMark(c.Status),
			md(reasonRaw(c.Reason, c.Detail)), md(firstEvidenceRaw(c.Evidence)))
	}

	var findings []rules.CallReport
	for _, c := range r.Calls {
		if c.Status == rules.StatusBlocked || (c.Status == rules.StatusMissing && c.Required) {
			findings = append(findings, c)
		}
	}
	if len(findings) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "## Findings")
		for _, c := range findings {
			fmt.Fprintf(ew, "\n### %s: %s\n\n", md(c.ID), md(c.Status))
			fmt.Fprintf(ew, "%s, `%s` (%s side).\n\n", md(c.Title), codeSpan(hostPortRaw(c.Host, c.Port)), md(c.Side))
			if c.Reason != "" || c.Detail != "" {
				fmt.Fprintf(ew, "Reason: %s.\n\n", md(reasonRaw(c.Reason, c.Detail)))
			}
			if len(c.Evidence) == 0 {
				fmt.Fprintln(ew, "No evidence in the inputs.")
				continue
			}
			fmt.Fprintln(ew, "Evidence:")
			fmt.Fprintln(ew)
			for _, e := range c.Evidence {
				fmt.Fprintf(ew, "- %s\n", evidenceMarkdown(e))
			}
		}
	}

	var notable []rules.Destination
	for _, d := range r.Destinations {
		if d.Class != rules.ClassCatalog && d.Class != rules.ClassKnown {
			notable = append(notable, d)
		}
	}
	if len(notable) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "## Other destinations")
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "| Destination | Class | Status | Flows | Named by | Evidence |")
		fmt.Fprintln(ew, "|---|---|---|---|---|---|")
		for _, d := range notable {
			status := d.Status
			if d.Reason != "" {
				status += " (" + d.Reason + ")"
			}
			named := d.HostSource
			if named == "" {
				named = "address only"
			}
			if d.Uncertain != "" {
				named += " (uncertain: " + d.Uncertain + ")"
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %d | %s | %s |\n",
				md(hostPortRaw(d.Host, d.Port)), md(d.Class), md(status), d.Flows, md(named),
				md(firstEvidenceRaw(d.Evidence)))
		}
	}

	fmt.Fprintln(ew)
	fmt.Fprintln(ew, "## Inputs")
	fmt.Fprintln(ew)
	for _, in := range r.Inputs {
		if in.Error != "" {
			fmt.Fprintf(ew, "- %s: not read: %s\n", md(in.Path), md(in.Error))
			continue
		}
		fmt.Fprintf(ew, "- %s (%s): %d records, %s, %d failed; sha256 `%s`\n",
			md(in.Path), md(in.Format), in.Records, skippedText(in, md), in.Errors, codeSpan(in.SHA256))
		for _, p := range in.Problems {
			fmt.Fprintf(ew, "  - %s\n", md(p))
		}
		if in.Truncated != "" {
			fmt.Fprintf(ew, "  - %s\n", md(in.Truncated))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "\nNote: %s\n", md(n))
	}

	if len(r.NextSteps) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(ew, "## Next steps")
		fmt.Fprintln(ew)
		for i, s := range r.NextSteps {
			fmt.Fprintf(ew, "%d. %s\n", i+1, md(s))
		}
	}
	return ew.err
}

// statusMark writes a status in bold when it needs attention.
func statusMark(s string) string {
	switch s {
	case rules.StatusBlocked, rules.StatusMissing:
		return "**" + escapeMarkdown(s) + "**"
	}
	return escapeMarkdown(s)
}

func evidenceMarkdown(e rules.Evidence) string {
	var b strings.Builder
	b.WriteString(escapeMarkdown(strings.TrimSpace(e.Input + " " + e.Locator)))
	if !e.Time.IsZero() {
		b.WriteString(" at " + e.Time.UTC().Format("2006-01-02 15:04:05.000Z"))
	}
	if e.Client != "" || e.Server != "" {
		b.WriteString(", " + escapeMarkdown(orDash(e.Client)+" → "+orDash(e.Server)))
	}
	if e.Detail != "" {
		b.WriteString(": " + escapeMarkdown(e.Detail))
	}
	return b.String()
}

// escapeMarkdown makes s render as the literal text it is in CommonMark and
// GFM, inside a paragraph, a list item or a table cell: control characters
// are quoted as on a terminal, secrets masked, and every character that
// could start markup is backslash-escaped: '<' and '&' (raw HTML and
// entities), '|' (a table cell), '[' and ']' (links), emphasis and code
// marks, and a leading '#', '+', '-', '=' or "1." (headings and lists).
// Host names stay readable: '.', '/' and ':' are left alone, except that
// "://" and "www." are broken so that no autolink forms.
func escapeMarkdown(s string) string {
	s = Clean(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&':
			b.WriteByte('\\')
		case '#', '+', '-', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				b.WriteByte('\\')
			}
		case '.', ')':
			if isDigits(s[:i]) && (i+1 == len(s) || s[i+1] == ' ') {
				b.WriteByte('\\') // "1." would start an ordered list
			}
		}
		b.WriteByte(c)
	}
	return strings.ReplaceAll(b.String(), "www.", "www\\.")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// codeSpan returns s for a code span: backticks, which would end it, and
// pipes, which end a table cell even inside one, are replaced.
func codeSpan(s string) string {
	s = Clean(s)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", "\\|")
}

// hostPortRaw joins a host and a port as a URL would: an IPv6 address in
// brackets, so that the port cannot be read as the address's last group.
// Only an address is bracketed: a name holding a colon is shown as it is.
func hostPortRaw(host string, port int) string {
	if port == 0 {
		return host
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

func reasonRaw(reason, detail string) string {
	switch {
	case reason == "":
		return detail
	case detail == "":
		return reason
	}
	return reason + ": " + detail
}

func firstEvidenceRaw(ev []rules.Evidence) string {
	if len(ev) == 0 {
		return "-"
	}
	s := strings.TrimSpace(ev[0].Input + " " + ev[0].Locator)
	if len(ev) > 1 {
		s += fmt.Sprintf(" (+%d)", len(ev)-1)
	}
	return s
}
