package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// sample is a proxy log in which the OAuth token exchange is denied.
const sample = "../../testdata/samples/squid-token-denied.log"

// fakeTerm describes the fake terminal a test runs on.
type fakeTerm struct {
	stdoutTTY, stderrTTY bool
	width                int
	env                  map[string]string
}

// cliResult is what one run printed and returned.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command line with buffers for stdin, stdout and stderr,
// a fake terminal and a clock that moves two seconds per reading.
func runCLI(t *testing.T, tm fakeTerm, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cfgDir := t.TempDir()
	e := &env{
		stdin:     strings.NewReader(stdin),
		stdout:    &stdout,
		stderr:    &stderr,
		getenv:    func(k string) string { return tm.env[k] },
		configDir: func() (string, error) { return cfgDir, nil },
		terminal: func(w io.Writer) (bool, int) {
			switch w {
			case io.Writer(&stdout):
				return tm.stdoutTTY, tm.width
			case io.Writer(&stderr):
				return tm.stderrTTY, tm.width
			}
			return false, 0
		},
		now: func() time.Time {
			clock = clock.Add(2 * time.Second)
			return clock
		},
	}
	code := e.run(args)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

var piped = fakeTerm{}

func TestAuditOutputs(t *testing.T) {
	tests := []struct {
		output string
		check  func(t *testing.T, out string)
	}{
		{"table", func(t *testing.T, out string) {
			mustContain(t, out, "oauth-token", "blocked", "Missing rule: the proxy must allow auth.gtmhub.com:443")
		}},
		{"json", func(t *testing.T, out string) { mustContain(t, out, `"schema": "egress-audit/report/v1"`) }},
		{"markdown", func(t *testing.T, out string) {
			mustContain(t, out, "# Egress audit", "| 2 | oauth-token | auth.gtmhub.com:443 | server | **blocked** |", "## Next steps")
		}},
		{"html", func(t *testing.T, out string) {
			mustContain(t, out, "<!DOCTYPE html>", "The chain breaks here", "marketplace.atlassian.com")
		}},
		{"csv", func(t *testing.T, out string) {
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("csv: %v", err)
			}
			if len(recs) != 1+6+3 || recs[0][0] != "record" {
				t.Errorf("csv: %d records, header %q; want header, 6 calls, 3 destinations", len(recs), recs[0])
			}
		}},
		{"junit", func(t *testing.T, out string) {
			var doc struct {
				Failures int `xml:"failures,attr"`
			}
			// The token call is blocked and the three required calls after
			// it are missing.
			if err := xml.Unmarshal([]byte(out), &doc); err != nil || doc.Failures != 4 {
				t.Errorf("junit: %v, %d failures, want 4", err, doc.Failures)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			r := runCLI(t, piped, "", "audit", "-o", tc.output, sample)
			if r.code != exitFindings {
				t.Errorf("exit code %d, want %d (a required call is blocked)", r.code, exitFindings)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			if strings.Contains(r.stdout, "\x1b") {
				t.Errorf("piped output holds escape sequences")
			}
			tc.check(t, r.stdout)
		})
	}
}

func TestAuditOutputUnknown(t *testing.T) {
	r := runCLI(t, piped, "", "audit", "-o", "xml", sample)
	if r.code != exitUsage || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want %d and nothing", r.code, r.stdout, exitUsage)
	}
	mustContain(t, r.stderr, `output "xml": want one of table, json, markdown, html, csv, junit`)
}

func mustContain(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

func TestAuditTableOnTerminal(t *testing.T) {
	tests := []struct {
		name      string
		tm        fakeTerm
		wantColor bool
	}{
		{"tty", fakeTerm{stdoutTTY: true, width: 100}, true},
		{"tty_no_color", fakeTerm{stdoutTTY: true, width: 100, env: map[string]string{"NO_COLOR": "1"}}, false},
		{"tty_dumb", fakeTerm{stdoutTTY: true, width: 100, env: map[string]string{"TERM": "dumb"}}, false},
		{"piped", fakeTerm{}, false},
		{"stderr_tty_only", fakeTerm{stderrTTY: true, width: 100}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.tm, "", "audit", "--quiet", sample)
			if r.code != exitFindings {
				t.Errorf("exit code %d, want %d", r.code, exitFindings)
			}
			if got := strings.Contains(r.stdout, "\x1b[31mblocked\x1b[0m"); got != tc.wantColor {
				t.Errorf("coloured blocked status: %v, want %v", got, tc.wantColor)
			}
			if !strings.Contains(r.stdout, "blocked") {
				t.Errorf("the status word is missing: colour must not be the only signal")
			}
		})
	}
}

func TestAuditTableFitsTerminal(t *testing.T) {
	for _, width := range []int{60, 80, 120} {
		r := runCLI(t, fakeTerm{stdoutTTY: true, width: width, env: map[string]string{"NO_COLOR": "1"}}, "", "audit", sample)
		inTable := false
		for _, line := range strings.Split(r.stdout, "\n") {
			switch {
			case strings.HasPrefix(line, "CALL ") || strings.HasPrefix(line, "DESTINATION "):
				inTable = true
			case line == "":
				inTable = false
			}
			// A table's columns cannot all shrink below their headers'
			// words: tables must fit from 80 columns on. Text lines wrap
			// at any width; only a word wider than the terminal (a long
			// path) may pass it.
			over := runewidth.StringWidth(line) > width
			if inTable && over && width >= 80 {
				t.Errorf("width %d: table line of %d columns: %q", width, runewidth.StringWidth(line), line)
			}
			if !inTable && over && len(strings.Fields(line)) > 1 {
				t.Errorf("width %d: text line of %d columns: %q", width, runewidth.StringWidth(line), line)
			}
		}
	}
	// Piped, nothing is wrapped: one line per call.
	r := runCLI(t, piped, "", "audit", sample)
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "oauth-token ") && !strings.Contains(line, "squid-token-denied.log line 2") {
			t.Errorf("piped table wrapped a row: %q", line)
		}
	}
}

func TestAuditProgress(t *testing.T) {
	tests := []struct {
		name  string
		tm    fakeTerm
		args  []string
		stdin string
		want  bool
	}{
		{"stderr_tty", fakeTerm{stderrTTY: true, width: 60}, []string{sample}, "", true},
		{"stderr_tty_stdin", fakeTerm{stderrTTY: true, width: 60}, []string{"-"}, "", true},
		{"quiet", fakeTerm{stderrTTY: true, width: 60}, []string{"--quiet", sample}, "", false},
		{"stderr_piped", fakeTerm{stdoutTTY: true, width: 60}, []string{sample}, "", false},
	}
	log, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"audit", "-o", "json"}, tc.args...)
			r := runCLI(t, tc.tm, string(log), args...)
			if r.code != exitFindings {
				t.Errorf("exit code %d, want %d; stderr %q", r.code, exitFindings, r.stderr)
			}
			shown := strings.Contains(r.stderr, "reading ")
			if shown != tc.want {
				t.Errorf("progress shown: %v, want %v; stderr %q", shown, tc.want, r.stderr)
			}
			if shown && !strings.HasSuffix(r.stderr, "\r\x1b[K") {
				t.Errorf("progress bar not cleared at the end: %q", r.stderr)
			}
			if strings.Contains(r.stdout, "reading ") || !strings.HasPrefix(r.stdout, "{") {
				t.Errorf("stdout holds more than the report: %q", r.stdout[:min(len(r.stdout), 80)])
			}
		})
	}
}

func TestAllowlistCommand(t *testing.T) {
	dir := t.TempDir()
	reportFile := filepath.Join(dir, "report.json")
	r := runCLI(t, piped, "", "audit", "-o", "json", sample)
	if err := os.WriteFile(reportFile, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		notStdout  []string
		stderr     []string
		stdoutNone bool
	}{
		{name: "squid", args: []string{"--target", "squid"}, code: exitOK,
			stdout: []string{"acl egress_audit_quantive_okrs_for_jira dstdomain auth.gtmhub.com", "dstdomain app.gtmhub.com", "2026.12.1"}},
		{name: "browser_vantage", args: []string{"-t", "plain", "--vantage", "browser"}, code: exitOK,
			stdout: []string{"\nauth.gtmhub.com\n"}, notStdout: []string{"app.gtmhub.com\n"}},
		{name: "us", args: []string{"-t", "panos-edl", "--datacenter", "us"}, code: exitOK,
			stdout: []string{"auth.us.gtmhub.com/\napp.us.gtmhub.com/\n"}, stderr: []string{"2026.12.1"}},
		{name: "from_report", args: []string{"-t", "aws-nfw", "--from-report", reportFile}, code: exitOK,
			stdout: []string{`"auth.gtmhub.com"`, "2026.12.1"}, notStdout: []string{"app.gtmhub.com"}},
		{name: "from_report_nftables", args: []string{"-t", "nftables", "--from-report", reportFile}, code: exitOK,
			stdout: []string{"# egress-audit allow-list"}, stderr: []string{"egress-audit: warning: nftables: rules match addresses"}},
		{name: "from_report_other_dc", args: []string{"-t", "squid", "--from-report", reportFile, "--datacenter", "us"}, code: exitUsage,
			stderr: []string{"--datacenter us: the report is for data center eu"}, stdoutNone: true},
		{name: "from_report_missing", args: []string{"-t", "squid", "--from-report", filepath.Join(dir, "nope.json")}, code: exitUsage,
			stderr: []string{"--from-report: open"}, stdoutNone: true},
		{name: "from_report_not_json", args: []string{"-t", "squid", "--from-report", sample}, code: exitUsage,
			stderr: []string{"not a JSON report"}, stdoutNone: true},
		{name: "no_target", args: nil, code: exitUsage,
			stderr: []string{`--target "": want one of squid, panos-edl, fortigate, aws-nfw, azure-fw, pfsense, nftables, plain`}, stdoutNone: true},
		{name: "bad_datacenter", args: []string{"-t", "squid", "--datacenter", "mars"}, code: exitUsage,
			stderr: []string{`datacenter "mars": want one of auto, eu, us, as, sa`}, stdoutNone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, piped, "", append([]string{"allowlist"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.notStdout {
				if strings.Contains(r.stdout, w) {
					t.Errorf("stdout holds %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %q", w, r.stderr)
				}
			}
			if tc.stdoutNone && r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// hostileLog is a proxy log whose targets hold markup, a terminal escape,
// a spreadsheet formula and an access token.
const hostileLog = "1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT <script>alert(1)</script>.example:443 - HIER_NONE/- text/html\n" +
	"1764752402.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT \x1b[31mred.example:443 - HIER_NONE/- text/html\n" +
	"1764752403.352      0 192.0.2.10 TCP_MISS/200 3910 GET http://=HYPERLINK(\"x\")/a?access_token=eyJhbGciOiJSUzI1NiJ9.abcdefghijklmnop.qrstuvwxyz012345 - HIER_NONE/- text/html\n"

func TestAuditHostileLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostile.log")
	if err := os.WriteFile(path, []byte(hostileLog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range outputs {
		t.Run(out, func(t *testing.T) {
			r := runCLI(t, fakeTerm{stdoutTTY: true, width: 100}, "", "audit", "--quiet", "--log-level", "error", "-o", out, path)
			if r.code != exitFindings {
				t.Errorf("exit code %d, want %d; stderr %q", r.code, exitFindings, r.stderr)
			}
			rest := regexp.MustCompile(`\x1b\[(0|1|2|31|32|33)m`).ReplaceAllString(r.stdout, "")
			if strings.ContainsAny(rest, "\x1b\x07") {
				t.Errorf("%s output holds a raw control character from the input", out)
			}
			if strings.Contains(r.stdout, "qrstuvwxyz012345") {
				t.Errorf("%s output holds the access token", out)
			}
			switch out {
			case "html", "junit":
				if strings.Contains(r.stdout, "<script") {
					t.Errorf("%s output holds a <script> element", out)
				}
			case "markdown":
				if regexp.MustCompile(`(^|[^\\])<script`).MatchString(r.stdout) {
					t.Errorf("markdown holds a raw <script>")
				}
			case "csv":
				// The squid reader may refuse such a host outright; if it
				// reaches a cell, the cell must not start a formula.
				if regexp.MustCompile(`(^|,)"?[=+@-]`).MatchString(r.stdout) {
					t.Errorf("csv does not neutralise the formula:\n%s", r.stdout)
				}
			}
		})
	}
}

// TestAllowListNothingBlocked gives allowlist a report in which no call
// was blocked: for every target it writes nothing, says so, and exits 1
// so that a script does not install an empty list.
func TestAllowListNothingBlocked(t *testing.T) {
	rep := saveReport(t, filepath.Join(t.TempDir(), "after.json"), tokenAfter)
	// Only an unexpected destination is blocked in it, which no allow-list
	// lets through.
	f, err := os.Open(rep)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := report.ReadJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parsed.Calls {
		if c.Status == rules.StatusBlocked {
			t.Fatalf("the report of %s has %s blocked", tokenAfter, c.ID)
		}
	}
	for _, target := range report.AllowTargets {
		t.Run(target, func(t *testing.T) {
			r := runWith(t, nil, "", "allowlist", "--target", target, "--from-report", rep)
			if r.code != exitFindings || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", r.code, r.stdout, exitFindings)
			}
			if want := "egress-audit: nothing to allow: the report found no call blocked; no rules written\n"; !strings.HasSuffix(r.stderr, want) {
				t.Errorf("stderr %q, want it to end with %q", r.stderr, want)
			}
		})
	}
}

// TestAllowListPANOSNote checks that a PAN-OS list, which holds entries
// only, names its catalog in a note on stderr, not in a warning.
func TestAllowListPANOSNote(t *testing.T) {
	r := runWith(t, nil, "", "allowlist", "--target", "panos-edl")
	if r.code != exitOK || r.stdout != "auth.gtmhub.com/\napp.gtmhub.com/\n" {
		t.Errorf("exit %d, stdout %q; want 0 and the two hosts", r.code, r.stdout)
	}
	want := "egress-audit: note: egress-audit allow-list: catalog quantive-okrs-for-jira 2026.12.1, data center eu, vantage server"
	if !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr, "warning") {
		t.Errorf("stderr %q, want a note starting %q and no warning", r.stderr, want)
	}
}
