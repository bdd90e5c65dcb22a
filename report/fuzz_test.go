package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// unescapedLT finds a '<' in markdown that no backslash escapes.
var unescapedLT = regexp.MustCompile(`(^|[^\\])<`)

// FuzzRenderers puts arbitrary text where input text lands in a report (a
// host name, an input name, a detail) and checks every form stays inert:
// the HTML has no element the page did not make, the terminal forms no
// raw control character, the markdown no raw '<', the CSV one record per
// line with no formula, and the JUnit well-formed XML.
func FuzzRenderers(f *testing.F) {
	for _, s := range []string{
		hostileScript, hostileANSI, hostileFormula, "Authorization: Bearer " + hostileToken,
		"auth.gtmhub.com", "a|b`c*d_e[f](g)", "\u202eexe.txt", "\xff\xfe", "-1+2", "\r\n=1",
		"</style><script>x</script>", "<!--", "]]>", "{{.R}}", "javascript:alert(1)",
	} {
		f.Add(s)
	}
	base := scenarioReport("hostile")
	f.Fuzz(func(t *testing.T, s string) {
		r := *base
		r.Destinations = append(r.Destinations[:0:0], r.Destinations...)
		r.Destinations[2].Host = s
		r.Destinations[2].Evidence = append(r.Destinations[2].Evidence[:0:0], r.Destinations[2].Evidence...)
		r.Destinations[2].Evidence[0].Input = s
		r.Destinations[2].Evidence[0].Detail = s
		r.Notes = []string{s}

		var out bytes.Buffer
		if err := HTML(&out, &r); err != nil {
			t.Fatal(err)
		}
		z := html.NewTokenizer(bytes.NewReader(out.Bytes()))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
				name, _ := z.TagName()
				switch string(name) {
				case "script", "img", "iframe", "object", "embed", "link", "base", "form", "svg", "math":
					t.Fatalf("HTML holds a <%s> element for input %q", name, s)
				}
			}
		}

		for _, w := range []struct {
			name string
			fn   func(*bytes.Buffer) error
		}{
			{"table", func(b *bytes.Buffer) error { return Table(b, &r) }},
			{"table_tty", func(b *bytes.Buffer) error { return TableOptions{Width: 60}.Write(b, &r) }},
			{"markdown", func(b *bytes.Buffer) error { return Markdown(b, &r) }},
			{"csv", func(b *bytes.Buffer) error { return CSV(b, &r) }},
			{"junit", func(b *bytes.Buffer) error { return JUnit(b, &r) }},
		} {
			out.Reset()
			if err := w.fn(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, c := range text {
				if c != '\n' && c != '\t' && (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
					t.Fatalf("%s prints control character %U for input %q", w.name, c, s)
				}
			}
			switch w.name {
			case "markdown":
				if m := unescapedLT.FindString(text); m != "" {
					t.Fatalf("markdown holds a raw '<' for input %q", s)
				}
			case "csv":
				recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
				if err != nil {
					t.Fatalf("csv does not parse for input %q: %v", s, err)
				}
				if n := strings.Count(text, "\n"); n != len(recs) {
					t.Fatalf("csv: %d lines for %d records for input %q", n, len(recs), s)
				}
				for _, rec := range recs {
					for _, cell := range rec {
						if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
							t.Fatalf("csv cell %q starts a formula", cell)
						}
					}
				}
			case "junit":
				if err := xml.Unmarshal(out.Bytes(), new(junitSuites)); err != nil {
					t.Fatalf("junit does not parse for input %q: %v", s, err)
				}
			}
		}
	})
}
