package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// checkWriters are the forms of a check with golden files, by extension.
var checkWriters = []struct {
	ext   string
	write func(io.Writer, *rules.Check) error
}{
	{"txt", CheckTable},
	{"json", CheckJSON},
	{"md", CheckMarkdown},
	{"html", CheckHTML},
	{"csv", CheckCSV},
	{"junit.xml", CheckJUnit},
}

// checkScenarios build checks of the default catalog against squid
// configurations.
var checkScenarios = []struct {
	name string
	conf string
	// compare, when set, is the report the check is compared with.
	compare func() *rules.Report
}{
	// The token call is allowed but a dst acl could not be decided, and a
	// report shows the proxy denying it.
	{"check_squid_dst_report",
		"acl lan src 192.0.2.0/24\nacl bad dst 203.0.113.0/24\nacl auth dstdomain auth.gtmhub.com\n" +
			"http_access deny bad\nhttp_access allow lan auth\nhttp_access deny all\n",
		func() *rules.Report {
			return &rules.Report{Datacenter: "eu", Calls: []rules.CallReport{
				{ID: "oauth-token", Status: rules.StatusBlocked, Reason: "proxy-denied"},
				{ID: "list-sessions", Status: rules.StatusMissing, Reason: "dependency-blocked"},
			}}
		}},
	// Acl names are the configuration's own text: markup, a spreadsheet
	// formula and a terminal escape must come out as text.
	{"check_hostile",
		"acl <img/src=x> dstdomain auth.gtmhub.com\nacl =HYPERLINK(\"x\")|cmd dstdomain app.gtmhub.com\n" +
			"acl \x1b[31mred\x1b[0m port 443\n" +
			"http_access allow <img/src=x> \x1b[31mred\x1b[0m\nhttp_access deny =HYPERLINK(\"x\")|cmd\n",
		nil},
}

func buildCheck(t *testing.T, name string) *rules.Check {
	t.Helper()
	for _, s := range checkScenarios {
		if s.name != name {
			continue
		}
		p, err := rules.ParsePolicy("squid.conf", []byte(s.conf), rules.PolicySquid, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := rules.CheckPolicy(rules.DefaultCatalog(), p, "squid.conf", rules.CheckOptions{
			Proxy:   true,
			Clients: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")},
		})
		if s.compare != nil {
			c.Compare(s.compare(), "report.json")
		}
		return c
	}
	t.Fatalf("no check scenario %s", name)
	return nil
}

func TestGoldenChecks(t *testing.T) {
	for _, s := range checkScenarios {
		c := buildCheck(t, s.name)
		for _, w := range checkWriters {
			t.Run(s.name+"."+w.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, c); err != nil {
					t.Fatalf("write: %v", err)
				}
				golden(t, s.name+"."+w.ext, buf.Bytes())
			})
		}
	}
}

func TestCheckHostile(t *testing.T) {
	c := buildCheck(t, "check_hostile")
	out := func(write func(io.Writer, *rules.Check) error) string {
		var buf bytes.Buffer
		if err := write(&buf, c); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	// How each form shows the escape character, once escaped for its sink.
	shown := map[string]string{"json": `\u001b[31mred`, "md": `\\x1b\[31mred`}
	for _, w := range checkWriters {
		s, want := out(w.write), `\x1b[31mred`
		if v, ok := shown[w.ext]; ok {
			want = v
		}
		if strings.Contains(s, "\x1b") || !strings.Contains(s, want) {
			t.Errorf("%s: the acl name's escape sequence is not shown escaped:\n%s", w.ext, s)
		}
	}

	md := out(CheckMarkdown)
	if regexp.MustCompile(`(^|[^\\])<`).MatchString(md) || !strings.Contains(md, `\<img/src=x\>`) {
		t.Errorf("markdown does not escape the markup in a rule:\n%s", md)
	}

	page := out(CheckHTML)
	if strings.Contains(page, "<img") || !strings.Contains(page, "&lt;img/src=x&gt;") || strings.Contains(page, "<script") {
		t.Errorf("HTML does not escape the markup in a rule:\n%s", page)
	}

	rows, err := csv.NewReader(strings.NewReader(out(CheckCSV))).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if len(rows) != len(c.Calls)+1 || len(rows[0]) != len(CheckCSVHeader) {
		t.Fatalf("CSV has %d rows of %d cells, want %d of %d", len(rows), len(rows[0]), len(c.Calls)+1, len(CheckCSVHeader))
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
	}

	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out(CheckJUnit)), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	failed := map[string]string{}
	for _, tc := range doc.Suites[0].Cases {
		if tc.Failure != nil {
			failed[tc.Name] = tc.Failure.Type + " " + tc.Failure.Message
		}
	}
	// app.gtmhub.com's calls are denied by the formula rule; the token
	// call is allowed by the markup one.
	if !strings.HasPrefix(failed["list-sessions"], `denied denied by http_access deny =HYPERLINK("x")|cmd (squid.conf:5)`) || failed["oauth-token"] != "" {
		t.Errorf("JUnit failures %q, want list-sessions denied by squid.conf:5 and oauth-token passing", failed)
	}
}

func TestCheckJUnitDisagree(t *testing.T) {
	c := buildCheck(t, "check_squid_dst_report")
	var buf bytes.Buffer
	if err := CheckJUnit(&buf, c); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{
		`type="disagree"`,
		"allowed by these rules but denied by the proxy in the traffic",
		"assumed: squid.conf:4 (http_access deny bad): acl bad (dst)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("CheckJUnit lacks %q:\n%s", want, s)
		}
	}
}
