package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// render writes the hostile scenario's report in one form.
func renderHostile(t *testing.T, write func(io.Writer, *rules.Report) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, scenarioReport("hostile")); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// ownEscapes are the only escape sequences the coloured table writes.
var ownEscapes = regexp.MustCompile(`\x1b\[(0|1|2|31|32|33)m`)

func TestHostileInputRendersHarmlessly(t *testing.T) {
	for _, w := range writers {
		t.Run(w.ext, func(t *testing.T) {
			out := renderHostile(t, w.write)

			// Secrets never reach a report.
			if strings.Contains(out, hostileToken) {
				t.Errorf("the bearer token is printed")
			}
			for _, secret := range regexp.MustCompile(`(?i)(bearer|access_token=) ?([^\s"&<\\]+)`).FindAllStringSubmatch(out, -1) {
				if secret[2] != Redacted {
					t.Errorf("credential-like value %q printed", secret[0])
				}
			}

			// No byte from the input acts on a terminal.
			rest := ownEscapes.ReplaceAllString(out, "")
			if w.ext != "tty.txt" {
				rest = out
			}
			for _, c := range []string{"\x1b", "\x07", "\x9b"} {
				if strings.Contains(rest, c) {
					t.Errorf("control character %q from the input is printed raw", c)
				}
			}
		})
	}
}

func TestHostileHTML(t *testing.T) {
	out := renderHostile(t, HTML)
	for _, bad := range []string{"<script", "<img", "<b>denied", "onerror=alert(2)>"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML holds markup from the input: %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;.example",
		"&lt;img src=x onerror=alert(2)&gt;.log",
		`\x1b[31mred\x1b[0m.example`,
		"Content-Security-Policy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestHostileMarkdown(t *testing.T) {
	out := renderHostile(t, Markdown)
	// A markup character counts only when no backslash escapes it.
	for _, bad := range []string{`<`, `\]\(`, `&`, `http://`} {
		if m := regexp.MustCompile(`(^|[^\\])` + bad).FindString(out); m != "" {
			t.Errorf("markdown holds live markup from the input: %q", m)
		}
	}
	for _, want := range []string{`\<script\>alert(1)\</script\>.example`, `403 \<b\>denied\</b\> \| @SUM(1)`} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks the escaped %q", want)
		}
	}
	// Every table row keeps its column count: no '|' from the input
	// splits a cell.
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1))
		if cells != 8 && cells != 7 {
			t.Errorf("table row with %d separators: %s", cells, line)
		}
	}
}

func TestHostileCSV(t *testing.T) {
	out := renderHostile(t, CSV)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if n := strings.Count(out, "\n"); n != len(records) {
		t.Errorf("%d lines for %d records: a value spans lines", n, len(records))
	}
	formula := false
	for i, rec := range records {
		if len(rec) != len(CSVHeader) {
			t.Errorf("record %d has %d fields, want %d", i, len(rec), len(CSVHeader))
		}
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("record %d: cell %q starts a formula", i, cell)
			}
			if strings.HasPrefix(cell, "'=hyperlink(") {
				formula = true
			}
		}
	}
	if !formula {
		t.Errorf("the formula host is not kept as quoted text")
	}
}

func TestHostileJUnit(t *testing.T) {
	out := renderHostile(t, JUnit)
	var doc junitSuites
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v", err)
	}
	if doc.Failures != 4 || doc.Tests != 6 {
		t.Errorf("JUnit counts %d failures of %d tests, want 4 of 6", doc.Failures, doc.Tests)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "auth.gtmhub.com", "auth.gtmhub.com"},
		{"ansi", "\x1b[31mred", `\x1b[31mred`},
		{"osc_title", "\x1b]0;owned\x07", `\x1b]0;owned\a`},
		{"newline", "a\nb", `a\nb`},
		{"bidi_override", "abc\u202egpj.exe", `abc\u202egpj.exe`},
		{"c1_csi", "a\u009b31m", `a\u009b31m`},
		{"invalid_utf8", "a\xffb", `a\xffb`},
		{"backslash_kept_apart", `a\x1b`, `a\\x1b`},
		{"unicode_printable", "café.example", "café.example"},
		{"bearer", "Authorization: Bearer abc.def-123", "Authorization: Bearer REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in); got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"authorization_bearer", "Authorization: Bearer eyJ0.eyJ1.sig", "Authorization: Bearer REDACTED"},
		{"authorization_basic", "authorization=Basic dXNlcjpwYXNz", "authorization=Basic REDACTED"},
		{"cookie", "Cookie: session=abc123", "Cookie: REDACTED"},
		{"query_code", "/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz", "/callback?code=REDACTED&state=xyz"},
		{"query_token", "/api?x=1&access_token=abcdef123456", "/api?x=1&access_token=REDACTED"},
		{"already_redacted", "/api?access_token=REDACTED", "/api?access_token=REDACTED"},
		{"basic_as_word", "basic auth required", "basic auth required"},
		{"nothing", "TCP_DENIED/403", "TCP_DENIED/403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
