package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/egress-audit/egress-audit/rules"
	"github.com/egress-audit/egress-audit/testdata/bench/loggen"
)

// runCLI runs the command line in dir with no environment and returns
// stdout, stderr and the exit code.
func runInputs(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdin:     strings.NewReader(stdin),
		stdout:    &out,
		stderr:    &errb,
		getenv:    func(string) string { return "" },
		configDir: func() (string, error) { return t.TempDir(), nil },
	}
	code := e.run(args)
	return out.String(), errb.String(), code
}

const squidGood = `1764752400.101    212 192.0.2.10 TCP_TUNNEL/200 6120 CONNECT marketplace.atlassian.com:443 - HIER_DIRECT/203.0.113.80 -
1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html
1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -
`

func writeInput(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeReport(t *testing.T, stdout string) *rules.Report {
	t.Helper()
	var rep rules.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	return &rep
}

func destination(rep *rules.Report, host string) *rules.Destination {
	for i := range rep.Destinations {
		if rep.Destinations[i].Host == host {
			return &rep.Destinations[i]
		}
	}
	return nil
}

// TestDamagedInputs checks that a log with garbage lines, a truncated gzip
// and an empty file each give a message naming the file (and the line),
// while everything readable is still reported.
func TestDamagedInputs(t *testing.T) {
	dir := t.TempDir()
	garbage := writeInput(t, dir, "garbage.log", []byte(
		"1764752400.101    212 192.0.2.10 TCP_TUNNEL/200 6120 CONNECT marketplace.atlassian.com:443 - HIER_DIRECT/203.0.113.80 -\n"+
			"\x00\x01 binary junk \xff\xfe\n"+
			"GET / HTTP/1.1 nothing like squid\n"+
			"1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html\n"))

	var big strings.Builder
	for i := 0; i < 2000; i++ {
		big.WriteString("1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(big.String()))
	zw.Close()
	truncated := writeInput(t, dir, "cut.log.gz", gz.Bytes()[:gz.Len()/2])
	empty := writeInput(t, dir, "empty.log", nil)
	headOnly := writeInput(t, dir, "head.log.gz", gz.Bytes()[:20]) // the header and a few bytes of the first block

	tests := []struct {
		name     string
		args     []string
		stderr   []string // substrings stderr must hold
		check    func(t *testing.T, rep *rules.Report)
		wantCode int
	}{
		{
			name:   "garbage_lines",
			args:   []string{garbage},
			stderr: []string{"garbage.log:2:", "skipped malformed records"},
			check: func(t *testing.T, rep *rules.Report) {
				in := rep.Inputs[0]
				if in.Records != 2 || in.Errors != 2 || len(in.Problems) != 2 || !strings.Contains(in.Problems[1], "garbage.log:3:") {
					t.Errorf("input = %+v, want 2 records, 2 errors naming lines 2 and 3", in)
				}
				if d := destination(rep, "auth.gtmhub.com"); d == nil || d.Reason != "proxy-denied" {
					t.Errorf("auth.gtmhub.com = %+v, want blocked proxy-denied", d)
				}
			},
			wantCode: exitFindings,
		},
		{
			name:   "truncated_gzip",
			args:   []string{truncated},
			stderr: []string{"input ends early", "cut.log.gz", "inside line"},
			check: func(t *testing.T, rep *rules.Report) {
				in := rep.Inputs[0]
				if in.Records == 0 || in.Records >= 2000 || !strings.Contains(in.Truncated, "inside line") {
					t.Errorf("input = %+v, want some of the 2000 records and a truncation note", in)
				}
				if in.Errors != 0 || in.Reasons["last line cut off where the input ends early"] != 1 {
					t.Errorf("input = %+v, want the line at the cut skipped as cut off, not failed", in)
				}
				if d := destination(rep, "app.gtmhub.com"); d == nil || d.Status != "allowed" {
					t.Errorf("app.gtmhub.com = %+v, want allowed", d)
				}
			},
			wantCode: exitFindings,
		},
		{
			name:   "gzip_cut_in_first_block",
			args:   []string{headOnly},
			stderr: []string{"input ends early", "head.log.gz: the gzip stream is cut short before its first full block"},
			check: func(t *testing.T, rep *rules.Report) {
				if in := rep.Inputs[0]; in.Format != "gzip" || in.Records != 0 || !strings.Contains(in.Truncated, "cut short") {
					t.Errorf("input = %+v, want a gzip stream cut short, not an empty input", in)
				}
			},
			wantCode: exitFindings,
		},
		{
			name:   "empty_file_beside_a_good_one",
			args:   []string{empty, garbage},
			stderr: []string{"input is empty", "empty.log"},
			check: func(t *testing.T, rep *rules.Report) {
				if len(rep.Inputs) != 2 || rep.Inputs[0].Format != "empty" || rep.Inputs[1].Records != 2 {
					t.Errorf("inputs = %+v, want the empty one and 2 records of the other", rep.Inputs)
				}
			},
			wantCode: exitFindings,
		},
		{
			name:     "only_empty",
			args:     []string{empty},
			stderr:   []string{"input is empty", "empty.log"},
			check:    func(t *testing.T, rep *rules.Report) {},
			wantCode: exitFindings, // every required call is missing
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"audit", "-o", "json"}, tc.args...)
			stdout, stderr, code := runInputs(t, "", args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			tc.check(t, decodeReport(t, stdout))
		})
	}
}

func TestInputKinds(t *testing.T) {
	dir := t.TempDir()
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(squidGood))
	zw.Close()
	writeInput(t, dir, "a.log.zst", zs.Bytes())
	sub := filepath.Join(dir, "rotated")
	os.Mkdir(sub, 0o755)
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(squidGood))
	gw.Close()
	writeInput(t, sub, "b.log.gz", gz.Bytes())

	stdout, stderr, code := runInputs(t, squidGood, "audit", "-o", "json", dir, "-")
	if code == exitUsage {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	rep := decodeReport(t, stdout)
	if len(rep.Inputs) != 3 {
		t.Fatalf("inputs = %+v, want the zstd file, the gzip file below the directory and stdin", rep.Inputs)
	}
	for _, in := range rep.Inputs {
		if in.Records != 3 || in.Format != "squid" {
			t.Errorf("input %s: %d records in format %s, want 3 in squid", in.Path, in.Records, in.Format)
		}
	}
	if d := destination(rep, "app.gtmhub.com"); d == nil || d.Flows != 3 {
		t.Errorf("app.gtmhub.com = %+v, want 3 flows", d)
	}
}

// TestSecretsNeverReported feeds URLs holding OAuth codes and tokens and
// checks they reach neither the JSON report, the table nor extract's
// output, unless --keep-secrets asks for them.
func TestSecretsNeverReported(t *testing.T) {
	secrets := []string{"SplxlOBeZQQYbYS6WxSbIA", "xyzSTATE123", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl", "hunter2pass", "frag-secret"}
	log := "1764752401.352 0 192.0.2.10 TCP_MISS/302 3910 GET https://auth.gtmhub.com/authorize?client_id=jira&code=SplxlOBeZQQYbYS6WxSbIA&state=xyzSTATE123#frag-secret - HIER_DIRECT/198.51.100.1 -\n" +
		"1764752402.352 0 192.0.2.10 TCP_MISS/200 3910 POST https://auth.gtmhub.com/oauth/token?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl&password=hunter2pass - HIER_DIRECT/198.51.100.1 -\n" +
		"1764752403.352 0 192.0.2.10 TCP_MISS/200 3910 GET https://app.gtmhub.com/api/v1/okrs?q=x - HIER_DIRECT/198.51.100.2 -\n" +
		"1764752404.352 0 192.0.2.10 TCP_MISS/200 3910 GET https://bad<host/?code=SplxlOBeZQQYbYS6WxSbIA - HIER_DIRECT/198.51.100.2 -\n" +
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl 0 192.0.2.10 TCP_MISS/200 1 GET http://a.example/ - HIER_DIRECT/198.51.100.2 -\n" +
		"1764752405.352 0 192.0.2.10 hunter2passhunter2passhunter2pass 1 GET http://a.example/ - HIER_DIRECT/198.51.100.2 -\n"
	dir := t.TempDir()
	p := writeInput(t, dir, "secrets.log", []byte(log))
	for name, args := range map[string][]string{
		"audit_json":    {"audit", "-o", "json", p},
		"audit_table":   {"audit", "-o", "table", p},
		"extract_jsonl": {"extract", p},
		"extract_table": {"extract", "-o", "table", p},
		"audit_debug":   {"audit", "--log-level", "debug", "-o", "json", p},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, _ := runInputs(t, "", args...)
			if strings.HasPrefix(name, "audit") && !strings.Contains(stdout+stderr, "secrets.log:5") {
				t.Errorf("the malformed line 5 is not reported:\n%s\n%s", stdout, stderr)
			}
			if !strings.Contains(stdout, "auth.gtmhub.com") {
				t.Fatalf("stdout lacks the host:\n%s", stdout)
			}
			for _, s := range secrets {
				if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
					t.Errorf("secret %q in output:\n%s\n%s", s, stdout, stderr)
				}
			}
		})
	}
	t.Run("keep_secrets", func(t *testing.T) {
		stdout, _, _ := runInputs(t, "", "extract", "--keep-secrets", p)
		if !strings.Contains(stdout, "SplxlOBeZQQYbYS6WxSbIA") {
			t.Errorf("--keep-secrets output lacks the code:\n%s", stdout)
		}
	})
}

func TestConfiguredFormats(t *testing.T) {
	dir := t.TempDir()
	cfg := writeInput(t, dir, "egress-audit.yaml", []byte(`formats:
  - name: edge
    regex: '^(?P<time>\S+) (?P<client>\S+) (?P<action>\w+) (?P<method>\S+) (?P<url>\S+) (?P<status>\d+)$'
  - name: csvproxy
    delimiter: ","
    columns: [time, client, action, host, port, status, x_bytes]
`))
	edge := writeInput(t, dir, "edge.log", []byte(
		"2025-12-03T09:00:01Z 192.0.2.10 allow GET https://app.gtmhub.com/api/v1/okrs 200\n"+
			"2025-12-03T09:00:02Z 192.0.2.10 deny CONNECT auth.gtmhub.com:443 200\n"))
	csv := writeInput(t, dir, "proxy.csv", []byte("1764752401,192.0.2.10,blocked,auth.gtmhub.com,443,403,0\n"))
	stdout, stderr, code := runInputs(t, "", "extract", "-c", cfg, edge, csv)
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], `"reason":"proxy-denied"`) || !strings.Contains(lines[2], `"host":"auth.gtmhub.com"`) {
		t.Errorf("extract output:\n%s", stdout)
	}

	// --format forces a configured format, by its name.
	stdout, stderr, code = runInputs(t, "", "extract", "-c", cfg, "--format", "csvproxy", csv)
	if code != exitOK || !strings.Contains(stdout, `"reason":"proxy-denied"`) {
		t.Errorf("--format csvproxy: exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, stderr, code = runInputs(t, "", "extract", "-c", cfg, "--format", "nosuch", csv)
	if code != exitUsage || !strings.Contains(stderr, `format "nosuch": want one of`) || !strings.Contains(stderr, "csvproxy") {
		t.Errorf("--format nosuch: exit code %d, stderr %q", code, stderr)
	}

	bad := writeInput(t, dir, "bad.yaml", []byte("formats:\n  - name: broken\n    regex: '^(?P<time>\\S+) (?P<destination>\\S+'\n"))
	_, stderr, code = runInputs(t, "", "extract", "-c", bad, edge)
	if code != exitUsage || !strings.Contains(stderr, `formats[0]: format "broken": regex:`) {
		t.Errorf("bad regex: exit code %d, stderr %q", code, stderr)
	}
	bad = writeInput(t, dir, "bad2.yaml", []byte("formats:\n  - name: broken\n    regex: '^(?P<time>\\S+) (?P<destination>\\S+)'\n"))
	_, stderr, code = runInputs(t, "", "extract", "-c", bad, edge)
	if code != exitUsage || !strings.Contains(stderr, `group 2 "destination": want one of time,`) {
		t.Errorf("unknown group: exit code %d, stderr %q", code, stderr)
	}
}

// TestURLMatching checks that a proxy line with a full URL is judged
// against the call with that method and path, and a CONNECT line at host
// level.
func TestURLMatching(t *testing.T) {
	dir := t.TempDir()
	p := writeInput(t, dir, "url.log", []byte(
		"1764752403.352 10 192.0.2.10 TCP_DENIED/403 3910 GET https://app.gtmhub.com/api/v1/goals?limit=5 - HIER_NONE/- -\n"+
			"1764752404.352 10 192.0.2.10 TCP_DENIED/407 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- -\n"))
	stdout, stderr, _ := runInputs(t, "", "audit", "-o", "json", p)
	rep := decodeReport(t, stdout)
	calls := map[string]rules.CallReport{}
	for _, c := range rep.Calls {
		calls[c.ID] = c
	}
	if c := calls["list-okrs"]; c.Status != "blocked" || c.Reason != "proxy-denied" || c.Level != "url" {
		t.Errorf("list-okrs = %s %s level %q, want blocked proxy-denied at url level; stderr %s", c.Status, c.Reason, c.Level, stderr)
	}
	if c := calls["oauth-token"]; c.Status != "blocked" || c.Reason != "proxy-auth-required" || c.Level != "host" {
		t.Errorf("oauth-token = %s %s level %q, want blocked proxy-auth-required at host level", c.Status, c.Reason, c.Level)
	}
}

// BenchmarkAuditSquid runs the whole audit (reading, classifying, the JSON
// report) on a generated squid log of 200,000 lines.
func BenchmarkAuditSquid(b *testing.B) {
	var log bytes.Buffer
	if err := loggen.Write(&log, "squid", 200000, 1); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "access.log")
	if err := os.WriteFile(p, log.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(log.Len()))
	b.ReportAllocs()
	for b.Loop() {
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
			configDir: func() (string, error) { return b.TempDir(), nil }}
		if code := e.run([]string{"audit", "--fail-on", "none", "-o", "json", p}); code != exitOK {
			b.Fatalf("exit code %d: %s", code, errb.String())
		}
	}
}

// TestUnreadableInput names an input that does not exist beside good ones:
// the good ones are judged, the missing one is listed in the report with
// its error and named on stderr, and only when no input can be read is the
// exit code 2, with no report.
func TestUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	denied := writeInput(t, dir, "denied.log", []byte(
		"1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html\n"))
	other := writeInput(t, dir, "other.log", []byte(
		"1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n"))
	missing := filepath.Join(dir, "rotated.log")

	tests := []struct {
		name string
		args []string
		good int // inputs read
	}{
		{"missing_first", []string{missing, denied}, 1},
		{"missing_last", []string{denied, missing}, 1},
		// Two inputs that can be read alone take the parallel path.
		{"missing_between_two", []string{denied, missing, other}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runInputs(t, "", append([]string{"audit", "-o", "json"}, tc.args...)...)
			if code != exitFindings {
				t.Fatalf("exit code = %d, want %d (the token call is blocked); stderr:\n%s", code, exitFindings, stderr)
			}
			if !strings.Contains(stderr, "cannot read input") || !strings.Contains(stderr, "rotated.log: no such file or directory") {
				t.Errorf("stderr does not name the missing input:\n%s", stderr)
			}
			rep := decodeReport(t, stdout)
			if len(rep.Inputs) != len(tc.args) {
				t.Fatalf("inputs = %+v, want %d, the missing one too", rep.Inputs, len(tc.args))
			}
			good := 0
			for i, in := range rep.Inputs {
				if in.Path != tc.args[i] {
					t.Errorf("input %d = %s, want %s: inputs in the order given", i, in.Path, tc.args[i])
				}
				switch {
				case in.Path == missing:
					if !strings.Contains(in.Error, "no such file or directory") || in.Records != 0 {
						t.Errorf("missing input = %+v, want its error and no records", in)
					}
				case in.Error == "" && in.Records == 1:
					good++
				default:
					t.Errorf("input = %+v, want 1 record and no error", in)
				}
			}
			if good != tc.good {
				t.Errorf("%d inputs read, want %d", good, tc.good)
			}
			if d := destination(rep, "auth.gtmhub.com"); d == nil || d.Reason != "proxy-denied" {
				t.Errorf("auth.gtmhub.com = %+v, want blocked proxy-denied from the good input", d)
			}
		})
	}

	t.Run("table_says_not_read", func(t *testing.T) {
		stdout, _, _ := runInputs(t, "", "audit", missing, denied)
		if !strings.Contains(stdout, "input "+missing+": not read: open "+missing+": no such file or directory") {
			t.Errorf("table lacks the unread input:\n%s", stdout)
		}
	})
	t.Run("none_readable", func(t *testing.T) {
		stdout, stderr, code := runInputs(t, "", "audit", "-o", "json", missing, filepath.Join(dir, "gone.log"))
		if code != exitUsage || stdout != "" {
			t.Errorf("exit code = %d, stdout %q; want %d and no report", code, stdout, exitUsage)
		}
		for _, want := range []string{"rotated.log", "gone.log", "egress-audit: no input could be read"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})
}
