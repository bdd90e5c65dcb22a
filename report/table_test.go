package report

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// tableLines returns the lines of the calls and destinations tables in a
// table report: from a header line to the next blank line.
func tableLines(out string) []string {
	var lines []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		plain := ownEscapes.ReplaceAllString(line, "")
		switch {
		case strings.HasPrefix(plain, "CALL ") || strings.HasPrefix(plain, "DESTINATION "):
			in = true
		case line == "":
			in = false
		}
		if in {
			lines = append(lines, line)
		}
	}
	return lines
}

// visible is the text of s as a person sees it, one rune per visible
// character in sorted order: what wrapping must neither lose nor repeat.
func visible(s string) []rune {
	var rs []rune
	for _, r := range ownEscapes.ReplaceAllString(s, "") {
		if r != ' ' && r != '\n' {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	return rs
}

func TestTableFitsWidth(t *testing.T) {
	for _, s := range scenarios {
		for _, width := range []int{80, 100, 120} {
			t.Run(s.name, func(t *testing.T) {
				rep := s.build()
				var piped, plain, color bytes.Buffer
				if err := Table(&piped, rep); err != nil {
					t.Fatal(err)
				}
				if err := (TableOptions{Width: width}).Write(&plain, rep); err != nil {
					t.Fatal(err)
				}
				if err := (TableOptions{Color: true, Width: width}).Write(&color, rep); err != nil {
					t.Fatal(err)
				}
				for _, line := range tableLines(color.String()) {
					if n := twwidth.Width(line); n > width {
						t.Errorf("width %d: line of %d columns: %q", width, n, line)
					}
					if strings.HasSuffix(line, " ") {
						t.Errorf("trailing space: %q", line)
					}
				}
				// Colour changes no column: without its escapes the
				// coloured table is the plain one.
				if got := ownEscapes.ReplaceAllString(color.String(), ""); got != plain.String() {
					t.Errorf("width %d: colour moves text:\n%s\nwant:\n%s", width, got, plain.String())
				}
				if !slices.Equal(visible(plain.String()), visible(piped.String())) {
					t.Errorf("width %d: wrapping lost or added text:\n%s", width, plain.String())
				}
			})
		}
	}
}

func TestTablePipedOneLinePerRow(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			rep := s.build()
			var buf bytes.Buffer
			if err := Table(&buf, rep); err != nil {
				t.Fatal(err)
			}
			want := 1 + len(rep.Calls)
			if len(rep.Destinations) > 0 {
				want += 1 + len(rep.Destinations)
			}
			if got := len(tableLines(buf.String())); got != want {
				t.Errorf("%d table lines, want %d (a header and one line per row):\n%s", got, want, buf.String())
			}
		})
	}
}

func TestTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	rep := &rules.Report{}
	if err := (TableOptions{Width: 80}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{"\nCALL  HOST  STATUS  REASON  EVIDENCE\n\n", "\nNo destinations seen.\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestCutWords(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width int
		want  string
	}{
		{"fits", "a bb ccc", 3, "a bb ccc"},
		{"no_limit", "abcdefgh", 0, "abcdefgh"},
		{"long_word", "ab abcdefgh", 3, "ab abc\ndef\ngh"},
		{"wide_runes", "日本語です", 4, "日本\n語で\nす"},
		{"colour_kept_whole", "\x1b[2mnot-expected\x1b[0m x", 4, "\x1b[2mnot-expected\x1b[0m x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cutWords(tc.in, tc.width); got != tc.want {
				t.Errorf("cutWords(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
			}
		})
	}
}

// An IPv6 destination is written [addr]:port wherever host and port are
// joined, so that the port is not read as the address's last group.
func TestIPv6HostPort(t *testing.T) {
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{})
	for _, server := range []string{"[2001:db8:3::99]:443", "[2001:db8:2::53]:53"} {
		cl.Add(&capture.Observation{
			Kind:      capture.Connection,
			Input:     "v6.log",
			Locator:   capture.Line(1),
			Client:    netip.MustParseAddrPort("[2001:db8:1::10]:40000"),
			Server:    netip.MustParseAddrPort(server),
			Transport: capture.UDP,
			Outcome:   capture.OutcomeOK,
		})
	}
	rep := cl.Report(nil)
	for _, w := range writers {
		if w.ext == "json" || w.ext == "csv" {
			continue // host and port are fields of their own
		}
		var buf bytes.Buffer
		if err := w.write(&buf, rep); err != nil {
			t.Fatalf("%s: %v", w.ext, err)
		}
		out := buf.String()
		if w.ext == "md" {
			out = strings.NewReplacer(`\[`, "[", `\]`, "]").Replace(out) // as rendered
		}
		for _, want := range []string{"[2001:db8:3::99]:443", "[2001:db8:2::53]:53"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %s:\n%s", w.ext, want, out)
			}
		}
		if strings.Contains(out, "2001:db8:2::53:53") {
			t.Errorf("%s report joins address and port without brackets:\n%s", w.ext, out)
		}
	}
}

// TestTableUncertain checks that the table says in a few words why a name
// given from DNS is uncertain.
func TestTableUncertain(t *testing.T) {
	rep := &rules.Report{Destinations: []rules.Destination{
		{Host: "cdn-a.example.net", Port: 443, Class: rules.ClassUnexpected, Status: "ok", HostSource: "dns", Flows: 1,
			Uncertain: "address shared by several names: also cdn-b.example.net"},
		{Host: "late.example.net", Port: 443, Class: rules.ClassUnexpected, Status: "ok", HostSource: "dns", Flows: 1,
			Uncertain: "DNS answer outside the flow's time window"},
		{Host: "hidden.example.net", Port: 443, Class: rules.ClassUnexpected, Status: "ok", HostSource: "dns", Flows: 1,
			Uncertain: "encrypted client hello with the outer name public.example.net; named from DNS"},
		{Host: "sure.example.net", Port: 443, Class: rules.ClassUnexpected, Status: "ok", HostSource: "dns", Flows: 1},
	}}
	var buf bytes.Buffer
	if err := (TableOptions{Width: 200}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cdn-a.example.net":  "dns? (shared address)",
		"late.example.net":   "dns? (outside time window)",
		"hidden.example.net": "dns? (ECH)",
		"sure.example.net":   "dns ",
	}
	for _, line := range tableLines(buf.String()) {
		for host, w := range want {
			if strings.Contains(line, host) {
				if !strings.Contains(line, w) {
					t.Errorf("row %q lacks %q", line, w)
				}
				delete(want, host)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no rows for %v in:\n%s", want, buf.String())
	}
}
