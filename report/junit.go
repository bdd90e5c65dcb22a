package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/egress-audit/egress-audit/rules"
)

// JUnit XML as CI systems read it (the Ant schema that Jenkins, GitLab and
// GitHub actions' reporters accept).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// junitSkipped has no type attribute: the schema CI systems validate
// against (Jenkins' junit-10.xsd) gives <skipped> a message only.
type junitSkipped struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes r as a JUnit XML report: one test case per catalog call.
// A blocked call fails with its reason as the failure type and its evidence
// as the text; a missing required call fails the same way; a missing
// optional call and a call not expected from the vantage are skipped, with
// the reason in the message.
// Unexpected destinations and the hint are in the suite's system-out.
// Values from the input are cleaned of control characters, which XML 1.0
// cannot hold, and escaped by the XML encoder.
func JUnit(w io.Writer, r *rules.Report) error {
	suite := junitSuite{
		Name: Clean(r.Catalog.Name),
		Properties: []junitProperty{
			{Name: "catalog", Value: Clean(r.Catalog.Name)},
			{Name: "catalog_version", Value: Clean(r.Catalog.Version)},
			{Name: "datacenter", Value: Clean(r.Datacenter)},
			{Name: "vantage", Value: Clean(r.Vantage)},
		},
	}
	class := Clean(r.Catalog.Name) + "." + Clean(r.Datacenter)
	for _, c := range r.Calls {
		tc := junitCase{
			Name:      Clean(c.ID),
			ClassName: class,
			SystemOut: fmt.Sprintf("%s\n%s %s", Clean(c.Title), Clean(hostPortRaw(c.Host, c.Port)), Clean(c.Status)),
		}
		msg := &junitMessage{
			Message: Clean(reasonRaw(c.Reason, c.Detail)),
			Type:    Clean(c.Reason),
			Text:    evidenceText(c.Evidence),
		}
		switch {
		case c.Status == rules.StatusBlocked || (c.Status == rules.StatusMissing && c.Required):
			msg.Message = Clean(c.Status) + ": " + msg.Message
			tc.Failure = msg
		case c.Status == rules.StatusMissing || c.Status == rules.StatusNotExpected:
			tc.Skipped = &junitSkipped{Message: Clean(c.Status) + ": " + msg.Message, Text: msg.Text}
		}
		suite.Cases = append(suite.Cases, tc)
	}

	var out strings.Builder
	out.WriteString(Clean(Hint(r)) + "\n")
	for _, d := range r.Destinations {
		if d.Class == rules.ClassUnexpected || d.Class == rules.ClassOtherDatacenter {
			fmt.Fprintf(&out, "%s destination %s: %s, %d flows\n",
				Clean(d.Class), Clean(hostPortRaw(d.Host, d.Port)), Clean(d.Status), d.Flows)
		}
	}
	for _, n := range r.Notes {
		out.WriteString("note: " + Clean(n) + "\n")
	}
	suite.SystemOut = out.String()
	return writeJUnit(w, suite)
}

// writeJUnit counts the tests, failures and skipped cases of suite and
// writes it as the one suite of an XML document, indented, with a final
// newline.
func writeJUnit(w io.Writer, suite junitSuite) error {
	suite.Tests = len(suite.Cases)
	suite.Failures, suite.Skipped = 0, 0
	for _, tc := range suite.Cases {
		if tc.Failure != nil {
			suite.Failures++
		}
		if tc.Skipped != nil {
			suite.Skipped++
		}
	}
	doc := junitSuites{
		Name:     "egress-audit",
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Skipped:  suite.Skipped,
		Suites:   []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// evidenceText lists the evidence one per line, with times and addresses.
func evidenceText(ev []rules.Evidence) string {
	if len(ev) == 0 {
		return "no evidence in the inputs"
	}
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(Clean(strings.TrimSpace(e.Input + " " + e.Locator)))
		if !e.Time.IsZero() {
			b.WriteString(" " + e.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		if e.Client != "" || e.Server != "" {
			b.WriteString(" " + Clean(orDash(e.Client)) + " -> " + Clean(orDash(e.Server)))
		}
		if e.Detail != "" {
			b.WriteString(": " + Clean(e.Detail))
		}
		b.WriteString("\n")
	}
	return b.String()
}
