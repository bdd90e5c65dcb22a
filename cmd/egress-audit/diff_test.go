package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDiffPairs runs diff on every pair under testdata/diff: a directory
// holding before/ and after/ inputs (logs or captures) is one case, and
// testdata/golden/diff_<case>.txt holds the table diff prints and its exit
// code. A new pair (a capture of the lab before and after its rule change,
// say) needs only its directory and `go test ./cmd/egress-audit -update`.
// A file testdata/diff/<case>/args holds extra flags, one per line.
func TestDiffPairs(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "diff", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no pairs under testdata/diff")
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			args := []string{"diff"}
			if extra, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				for _, a := range strings.Split(strings.TrimSpace(string(extra)), "\n") {
					if a = strings.TrimSpace(a); a != "" {
						args = append(args, a)
					}
				}
			}
			before, after := filepath.Join(dir, "before"), filepath.Join(dir, "after")
			// A pair may name inputs kept elsewhere, such as the lab's
			// samples, in a file "inputs": the before and after paths,
			// relative to the repository's root, one a line.
			if inputs, err := os.ReadFile(filepath.Join(dir, "inputs")); err == nil {
				paths := strings.Fields(string(inputs))
				if len(paths) != 2 {
					t.Fatalf("%s/inputs: want two paths, got %d", dir, len(paths))
				}
				before, after = filepath.Join("..", "..", paths[0]), filepath.Join("..", "..", paths[1])
			}
			args = append(args, before, after)
			r := runWith(t, nil, "", args...)
			if r.code == exitUsage {
				t.Fatalf("diff %s: exit %d, stderr: %s", name, r.code, r.stderr)
			}
			got := r.stdout + "-- exit " + strconv.Itoa(r.code) + " --\n"
			goldenFile(t, "diff_"+name+".txt", []byte(got))
		})
	}
}

// goldenFile compares got with testdata/golden/name, or rewrites it with
// -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/egress-audit -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

const (
	tokenBefore = "testdata/diff/squid_token/before/access.log"
	tokenAfter  = "testdata/diff/squid_token/after/access.log"
	wideAfter   = "testdata/diff/squid_too_wide/after/access.log"
)

// saveReport audits inputs with extra flags and saves the JSON report.
func saveReport(t *testing.T, path string, args ...string) string {
	t.Helper()
	r := runWith(t, nil, "", append([]string{"audit", "-o", "json", "--fail-on", "none"}, args...)...)
	if r.code != exitOK {
		t.Fatalf("audit %v: exit %d, stderr: %s", args, r.code, r.stderr)
	}
	return writeFile(t, path, r.stdout)
}

// diffJSON is the part of diff's JSON output the tests look at.
type diffJSON struct {
	Schema string
	Before struct{ Source, Datacenter string }
	After  struct{ Source, Datacenter string }
	Calls  []struct {
		ID, Change, Detail string
		Before, After      *struct{ Status, Reason string }
	}
	Destinations []struct {
		Host, Change, Finding string
	}
	Warnings []string
}

func (d *diffJSON) call(id string) string {
	for _, c := range d.Calls {
		if c.ID == id {
			return c.Change
		}
	}
	return ""
}

func TestDiffCommand(t *testing.T) {
	tmp := t.TempDir()
	beforeJSON := saveReport(t, filepath.Join(tmp, "before.json"), tokenBefore)
	afterJSON := saveReport(t, filepath.Join(tmp, "after.json"), tokenAfter)
	usJSON := saveReport(t, filepath.Join(tmp, "us.json"), "--datacenter", "us", tokenAfter)
	diffFile := filepath.Join(tmp, "diff.json")
	if r := runWith(t, nil, "", "diff", "-o", "json", tokenBefore, tokenAfter); r.code == exitOK {
		writeFile(t, diffFile, r.stdout)
	} else {
		t.Fatalf("diff -o json: exit %d, stderr %s", r.code, r.stderr)
	}

	tests := []struct {
		name      string
		vars      map[string]string
		args      []string
		code      int
		token     string // want change of oauth-token, if set
		finding   string // want this destination marked new-unexpected, if set
		stderr    string // want stderr to contain this, if set
		beforeSrc string // want this before source, if set
	}{
		{name: "inputs_fixed", args: []string{tokenBefore, tokenAfter}, code: 0, token: "fixed", beforeSrc: tokenBefore},
		{name: "reports_fixed", args: []string{beforeJSON, afterJSON}, code: 0, token: "fixed", beforeSrc: beforeJSON},
		{name: "report_and_inputs", args: []string{beforeJSON, tokenAfter}, code: 0, token: "fixed"},
		{name: "flags_several_files", args: []string{"--before", tokenBefore, "--before", wideAfter, "--after", tokenAfter},
			code: 0, token: "unchanged", beforeSrc: tokenBefore + ", " + wideAfter},
		{name: "reversed_regressed", args: []string{tokenAfter, tokenBefore}, code: 1, token: "regressed"},
		{name: "reversed_fail_on_none", args: []string{"--fail-on", "none", tokenAfter, tokenBefore}, code: 0, token: "regressed"},
		{name: "too_wide", args: []string{tokenBefore, wideAfter}, code: 1, token: "fixed", finding: "paste.example.org"},
		{name: "too_wide_fail_on_regressed", args: []string{"--fail-on", "regressed", tokenBefore, wideAfter}, code: 0, finding: "paste.example.org"},
		{name: "too_wide_env_none", vars: map[string]string{"EGRESS_AUDIT_DIFF_FAIL_ON": "none"}, args: []string{tokenBefore, wideAfter}, code: 0, finding: "paste.example.org"},
		{name: "flag_over_env", vars: map[string]string{"EGRESS_AUDIT_DIFF_FAIL_ON": "none"}, args: []string{"--fail-on", "new-unexpected", tokenBefore, wideAfter}, code: 1, finding: "paste.example.org"},
		{name: "audit_fail_on_env_ignored", vars: map[string]string{"EGRESS_AUDIT_FAIL_ON": "blocked"}, args: []string{tokenBefore, tokenAfter}, code: 0},
		{name: "still_blocked", args: []string{"--fail-on", "still-blocked", tokenBefore, tokenBefore}, code: 1, token: "still-blocked"},
		{name: "datacenter_warning", args: []string{beforeJSON, usJSON}, code: 1, token: "still-blocked", stderr: "the data centers differ: before eu, after us"},

		{name: "one_argument", args: []string{tokenBefore}, code: 2, stderr: "want two arguments"},
		{name: "three_arguments", args: []string{tokenBefore, tokenAfter, tokenAfter}, code: 2, stderr: "want two arguments"},
		{name: "before_without_after", args: []string{"--before", tokenBefore}, code: 2, stderr: "--before and --after go together"},
		{name: "flags_and_arguments", args: []string{"--before", tokenBefore, "--after", tokenAfter, tokenAfter}, code: 2, stderr: "given with --before or --after"},
		{name: "report_with_inputs", args: []string{"--before", beforeJSON, "--before", tokenBefore, "--after", tokenAfter}, code: 2, stderr: "is a saved report: give it alone"},
		{name: "diff_as_side", args: []string{diffFile, tokenAfter}, code: 2, stderr: "a egress-audit/diff/v1 file, not a report"},
		{name: "missing_file", args: []string{filepath.Join(tmp, "nope.log"), tokenAfter}, code: 2, stderr: "before: no input could be read"},
		{name: "missing_file_beside_another", args: []string{"--before", tokenBefore, "--before", filepath.Join(tmp, "nope.log"), "--after", tokenAfter},
			code: 0, token: "fixed", stderr: "nope.log", beforeSrc: tokenBefore + ", " + filepath.Join(tmp, "nope.log")},
		{name: "bad_fail_on", args: []string{"--fail-on", "blocked", tokenBefore, tokenAfter}, code: 2, stderr: `fail-on "blocked": want a list of regressed, new-unexpected, still-blocked, none`},
		{name: "bad_output", args: []string{"-o", "csv", tokenBefore, tokenAfter}, code: 2, stderr: `output "csv": want one of table, json, markdown`},
		{name: "both_stdin", args: []string{"-", "-"}, code: 2, stderr: "only one side can read standard input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"diff", "-o", "json"}, tc.args...)
			r := runWith(t, tc.vars, "", args...)
			if r.code != tc.code {
				t.Fatalf("diff %v: exit %d, want %d; stderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
			if tc.stderr != "" && !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("diff %v: stderr %q, want it to contain %q", tc.args, r.stderr, tc.stderr)
			}
			if tc.code == exitUsage {
				if r.stdout != "" {
					t.Errorf("diff %v: stdout %q on a usage error, want nothing", tc.args, r.stdout)
				}
				return
			}
			var d diffJSON
			if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
			}
			if d.Schema != "egress-audit/diff/v1" {
				t.Errorf("schema %q", d.Schema)
			}
			if tc.token != "" && d.call("oauth-token") != tc.token {
				t.Errorf("oauth-token change %q, want %q", d.call("oauth-token"), tc.token)
			}
			if tc.beforeSrc != "" && d.Before.Source != tc.beforeSrc {
				t.Errorf("before source %q, want %q", d.Before.Source, tc.beforeSrc)
			}
			var flagged []string
			for _, x := range d.Destinations {
				if x.Finding == "new-unexpected" {
					flagged = append(flagged, x.Host)
				}
			}
			if got := strings.Join(flagged, ","); got != tc.finding {
				t.Errorf("new-unexpected destinations %q, want %q", got, tc.finding)
			}
		})
	}
}

// TestDiffOptionalRegressed makes the optional search call regress while
// every required call stays ok: --fail-on regressed fails on it, and the
// verdict names it instead of saying there is no regression.
func TestDiffOptionalRegressed(t *testing.T) {
	tmp := t.TempDir()
	lines := []string{
		"1764752400.100    120 192.0.2.10 TCP_MISS/302 512 POST https://auth.gtmhub.com/oauth/token - HIER_DIRECT/198.51.100.10 application/json",
		"1764752401.100    120 192.0.2.10 TCP_MISS/200 512 GET https://app.gtmhub.com/api/v1/sessions - HIER_DIRECT/198.51.100.20 application/json",
		"1764752402.100    120 192.0.2.10 TCP_MISS/200 512 GET https://app.gtmhub.com/api/v1/goals - HIER_DIRECT/198.51.100.20 application/json",
		"1764752403.100    120 192.0.2.10 TCP_MISS/200 512 POST https://app.gtmhub.com/api/v1/tasks - HIER_DIRECT/198.51.100.20 application/json",
	}
	search := "1764752404.100    120 192.0.2.10 %s GET https://app.gtmhub.com/api/v1/search?q=x - %s"
	before := writeFile(t, filepath.Join(tmp, "before.log"), strings.Join(append(lines,
		fmt.Sprintf(search, "TCP_MISS/200 512", "HIER_DIRECT/198.51.100.20 application/json")), "\n")+"\n")
	after := writeFile(t, filepath.Join(tmp, "after.log"), strings.Join(append(lines,
		fmt.Sprintf(search, "TCP_DENIED/403 3910", "HIER_NONE/- text/html")), "\n")+"\n")

	tests := []struct {
		name    string
		args    []string
		code    int
		verdict string
	}{
		{"default_fail_on", nil, exitFindings, "Verdict: 1 optional call regressed."},
		{"fail_on_regressed", []string{"--fail-on", "regressed"}, exitFindings, "Verdict: 1 optional call regressed."},
		{"fail_on_new_unexpected", []string{"--fail-on", "new-unexpected"}, exitOK, "Verdict: 1 optional call regressed."},
		{"reversed", []string{"--fail-on", "regressed"}, exitOK, "Verdict: no regression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sides := []string{before, after}
			if tc.name == "reversed" {
				sides = []string{after, before}
			}
			r := runWith(t, nil, "", append(append([]string{"diff"}, tc.args...), sides...)...)
			if r.code != tc.code {
				t.Errorf("diff %v: exit %d, want %d; stderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "search (optional)") || !strings.Contains(r.stdout, tc.verdict) {
				t.Errorf("diff %v: stdout lacks the search row or %q:\n%s", tc.args, tc.verdict, r.stdout)
			}
		})
	}

	r := runWith(t, nil, "", "diff", "-o", "json", before, after)
	var d struct {
		Calls   []struct{ ID, Change string }
		Summary struct {
			Regressed         int `json:"regressed"`
			RegressedRequired int `json:"regressed_required"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, r.stdout)
	}
	for _, c := range d.Calls {
		want := "unchanged"
		if c.ID == "search" {
			want = "regressed"
		}
		if c.Change != want {
			t.Errorf("call %s: change %q, want %q", c.ID, c.Change, want)
		}
	}
	if d.Summary.Regressed != 1 || d.Summary.RegressedRequired != 0 {
		t.Errorf("summary regressed %d, regressed_required %d; want 1 and 0", d.Summary.Regressed, d.Summary.RegressedRequired)
	}
}

func TestDiffMarkdown(t *testing.T) {
	r := runWith(t, nil, "", "diff", "-o", "markdown", tokenBefore, tokenAfter)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	goldenFile(t, "diff_squid_token.md", []byte(r.stdout))
}

func TestDiffHelp(t *testing.T) {
	r := runWith(t, nil, "", "diff", "--help")
	if r.code != exitOK {
		t.Fatalf("diff --help: exit %d", r.code)
	}
	for _, want := range []string{"--before", "--after", "--fail-on", "new-unexpected", "still-blocked", "Exit codes:", "$ egress-audit diff before.json after.json"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff --help lacks %q", want)
		}
	}
}

// TestDiffStdinAndCompressed checks that a saved report is recognised on
// standard input and when gzipped (read as an input, it would be a format
// not recognised, exit 2), and that standard input that is not a report is
// still audited whole.
func TestDiffStdinAndCompressed(t *testing.T) {
	tmp := t.TempDir()
	beforeJSON := saveReport(t, filepath.Join(tmp, "before.json"), tokenBefore)
	saved, err := os.ReadFile(beforeJSON)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(saved)
	zw.Close()
	gzFile := writeFile(t, filepath.Join(tmp, "before.json.gz"), gz.String())
	log, err := os.ReadFile(tokenBefore)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, stdin, src string
		args             []string
	}{
		{"report_on_stdin", string(saved), "-", []string{"-", tokenAfter}},
		{"gzip_report_on_stdin", gz.String(), "-", []string{"-", tokenAfter}},
		{"gzip_report_file", "", gzFile, []string{gzFile, tokenAfter}},
		{"log_on_stdin", string(log), "-", []string{"-", tokenAfter}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{
				stdin: strings.NewReader(tc.stdin), stdout: &stdout, stderr: &stderr,
				getenv:    func(string) string { return "" },
				configDir: func() (string, error) { return "", os.ErrNotExist },
			}
			if code := e.run(append([]string{"diff", "-o", "json"}, tc.args...)); code != exitOK {
				t.Fatalf("diff %v: exit %d, stderr: %s", tc.args, code, stderr.String())
			}
			var d diffJSON
			if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
			}
			if d.call("oauth-token") != "fixed" || d.Before.Source != tc.src {
				t.Errorf("diff %v: oauth-token %q, before source %q; want fixed, %q", tc.args, d.call("oauth-token"), d.Before.Source, tc.src)
			}
		})
	}
}

// TestDiffUnreadableInput checks that an input of a side that could not be
// read is named, with its side, in every form of the result, not only on
// stderr.
func TestDiffUnreadableInput(t *testing.T) {
	junk := writeFile(t, filepath.Join(t.TempDir(), "junk.txt"), "hello world\nnothing to see\n")
	const want = "the after side's input %s could not be read (format not recognised (use --format)); that side is judged without it"
	for _, form := range []string{"table", "json", "markdown"} {
		t.Run(form, func(t *testing.T) {
			r := runWith(t, nil, "", "diff", "-o", form, "--fail-on", "none",
				"--before", tokenBefore, "--after", tokenAfter, "--after", junk)
			if r.code != exitOK {
				t.Fatalf("diff: exit %d, stderr: %s", r.code, r.stderr)
			}
			w := fmt.Sprintf(want, junk)
			switch form {
			case "json":
				var d diffJSON
				if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
				}
				if len(d.Warnings) != 1 || d.Warnings[0] != w {
					t.Errorf("warnings = %q, want [%q]", d.Warnings, w)
				}
			case "table":
				if !strings.Contains(r.stdout, "warning: "+w+"\n") {
					t.Errorf("table lacks the warning %q:\n%s", w, r.stdout)
				}
			case "markdown":
				// The path may come escaped for markdown; the rest does not.
				if !strings.Contains(r.stdout, "- Warning: the after side's input ") ||
					!strings.Contains(r.stdout, "junk.txt could not be read (format not recognised (use --format)); that side is judged without it\n") {
					t.Errorf("markdown lacks the warning %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestDiffAuditFlagsOnReports checks that audit flags given with two saved
// reports, which they cannot change, are warned about, and only then.
func TestDiffAuditFlagsOnReports(t *testing.T) {
	tmp := t.TempDir()
	beforeJSON := saveReport(t, filepath.Join(tmp, "before.json"), tokenBefore)
	afterJSON := saveReport(t, filepath.Join(tmp, "after.json"), tokenAfter)
	const warn = "flags apply only to sides given as inputs"
	tests := []struct {
		name  string
		args  []string
		flags string // the flags the warning names; empty for no warning
	}{
		{"reports_with_flags", []string{"--datacenter", "us", "--vantage", "all", "--known", "*.example.org", "--client", "192.0.2.10", "--catalog", "../../rules/quantive.yaml", beforeJSON, afterJSON},
			"--datacenter, --vantage, --client, --known, --catalog"},
		{"reports_with_timezone", []string{"--timezone", "UTC", beforeJSON, afterJSON}, "--timezone"},
		{"reports_without_flags", []string{beforeJSON, afterJSON}, ""},
		{"report_and_inputs", []string{"--vantage", "all", beforeJSON, tokenAfter}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", append([]string{"diff", "-o", "json", "--fail-on", "none"}, tc.args...)...)
			if r.code != exitOK {
				t.Fatalf("diff %v: exit %d, stderr: %s", tc.args, r.code, r.stderr)
			}
			switch {
			case tc.flags == "" && strings.Contains(r.stderr, warn):
				t.Errorf("diff %v: stderr %q, want no warning about flags", tc.args, r.stderr)
			case tc.flags != "" && (!strings.Contains(r.stderr, warn) || !strings.Contains(r.stderr, tc.flags)):
				t.Errorf("diff %v: stderr %q, want a warning naming %s", tc.args, r.stderr, tc.flags)
			}
			if !json.Valid([]byte(r.stdout)) {
				t.Errorf("diff %v: stdout is not JSON", tc.args)
			}
		})
	}
}
