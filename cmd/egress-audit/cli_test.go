package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// result is what one run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runWith runs the command line with the given environment variables and
// user configuration directory, and returns what it printed.
func runWith(t *testing.T, vars map[string]string, configDir string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:  strings.NewReader(""),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
		configDir: func() (string, error) {
			if configDir == "" {
				return "", os.ErrNotExist
			}
			return configDir, nil
		},
	}
	code := e.run(args)
	return result{code, stdout.String(), stderr.String()}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// squidLog is a proxy log in which the token call is denied.
const squidLog = `1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html
1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT auth.us.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -
`

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	log := writeFile(t, filepath.Join(dir, "access.log"), squidLog)
	userDir := filepath.Join(dir, "user")
	writeFile(t, filepath.Join(userDir, "egress-audit", "egress-audit.yaml"), "datacenter: sa\nvantage: all\n")

	report := func(t *testing.T, r result) (dc, vantage string) {
		t.Helper()
		var rep struct{ Datacenter, Vantage string }
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("stdout is not a JSON report: %v\nstderr: %s", err, r.stderr)
		}
		return rep.Datacenter, rep.Vantage
	}

	tests := []struct {
		name        string
		workdirConf string // ./egress-audit.yaml, if any
		vars        map[string]string
		args        []string
		dc, vantage string
	}{
		{"default_infers", "", nil, nil, "eu", "server"},
		{"user_config_dir", "", nil, nil, "sa", "all"},
		{"workdir_file_over_user_dir", "datacenter: as\n", nil, nil, "as", "server"},
		{"env_over_file", "datacenter: as\n", map[string]string{"EGRESS_AUDIT_DATACENTER": "us"}, nil, "us", "server"},
		{"flag_over_env", "datacenter: as\n", map[string]string{"EGRESS_AUDIT_DATACENTER": "us"}, []string{"--datacenter", "eu"}, "eu", "server"},
		{"explicit_config", "datacenter: as\n", nil, []string{"-c", "other.yaml"}, "us", "browser"},
	}
	writeFile(t, filepath.Join(dir, "other.yaml"), "datacenter: us\nvantage: browser\n")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "egress-audit.yaml"))
			if tc.workdirConf != "" {
				writeFile(t, filepath.Join(dir, "egress-audit.yaml"), tc.workdirConf)
			}
			ud := ""
			if tc.name != "default_infers" {
				ud = userDir
			}
			args := append([]string{"audit", "-o", "json", log}, tc.args...)
			r := runWith(t, tc.vars, ud, args...)
			dc, vantage := report(t, r)
			if dc != tc.dc || vantage != tc.vantage {
				t.Errorf("datacenter, vantage = %s, %s, want %s, %s", dc, vantage, tc.dc, tc.vantage)
			}
		})
	}
}

// TestConfigPrecedenceKeys sets each of known, clients, fail_on and output
// at every level in turn, each level to another value: the configuration
// file over the default, the environment over the file, the flag over the
// environment.
func TestConfigPrecedenceKeys(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// Three clients, each reaching a host of its own that no catalog names,
	// and the token call denied.
	log := writeFile(t, filepath.Join(dir, "access.log"), `1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html
1764752402.100    212 192.0.2.11 TCP_TUNNEL/200 6120 CONNECT a.example.com:443 - HIER_DIRECT/203.0.113.81 -
1764752403.100    212 192.0.2.12 TCP_TUNNEL/200 6120 CONNECT b.example.com:443 - HIER_DIRECT/203.0.113.82 -
1764752404.100    212 192.0.2.13 TCP_TUNNEL/200 6120 CONNECT c.example.com:443 - HIER_DIRECT/203.0.113.83 -
`)
	type report struct {
		Destinations []struct{ Host, Class string }
	}
	decode := func(t *testing.T, r result) report {
		t.Helper()
		var rep report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("stdout is not a JSON report: %v\nstderr: %s", err, r.stderr)
		}
		return rep
	}
	// known: which of the example hosts is of class known.
	known := func(t *testing.T, r result) string {
		var hosts []string
		for _, d := range decode(t, r).Destinations {
			if d.Class == "known" {
				hosts = append(hosts, d.Host)
			}
		}
		return strings.Join(hosts, ",")
	}
	// clients: which of the example hosts the report holds.
	seen := func(t *testing.T, r result) string {
		var hosts []string
		for _, d := range decode(t, r).Destinations {
			if strings.HasSuffix(d.Host, ".example.com") {
				hosts = append(hosts, d.Host)
			}
		}
		return strings.Join(hosts, ",")
	}
	exit := func(t *testing.T, r result) string { return strconv.Itoa(r.code) }
	// output: the report's form, from how it starts.
	form := func(t *testing.T, r result) string {
		for prefix, name := range map[string]string{"{": "json", "record,": "csv", "# Egress audit": "markdown", "Catalog ": "table"} {
			if strings.HasPrefix(r.stdout, prefix) {
				return name
			}
		}
		return "unknown: " + r.stdout[:min(40, len(r.stdout))]
	}

	tests := []struct {
		key     string
		file    string // the key's value in ./egress-audit.yaml
		env     string // the value of EGRESS_AUDIT_<KEY>
		flag    []string
		observe func(*testing.T, result) string
		want    [4]string // by default, from the file, the environment, the flag
	}{
		{"known", "[a.example.com]", "b.example.com", []string{"--known", "c.example.com"}, known,
			[4]string{"", "a.example.com", "b.example.com", "c.example.com"}},
		{"clients", "[192.0.2.11/32]", "192.0.2.12/32", []string{"--client", "192.0.2.13"}, seen,
			[4]string{"a.example.com,b.example.com,c.example.com", "a.example.com", "b.example.com", "c.example.com"}},
		{"fail_on", "[none]", "blocked", []string{"--fail-on", "none"}, exit,
			[4]string{"1", "0", "1", "0"}},
		{"output", "csv", "markdown", []string{"-o", "json"}, form,
			[4]string{"table", "csv", "markdown", "json"}},
	}
	levels := []string{"default", "file", "env_over_file", "flag_over_env"}
	for _, tc := range tests {
		for i, level := range levels {
			t.Run(tc.key+"/"+level, func(t *testing.T) {
				os.Remove(filepath.Join(dir, "egress-audit.yaml"))
				if i >= 1 {
					writeFile(t, filepath.Join(dir, "egress-audit.yaml"), tc.key+": "+tc.file+"\n")
				}
				vars := map[string]string{}
				if i >= 2 {
					vars["EGRESS_AUDIT_"+strings.ToUpper(tc.key)] = tc.env
				}
				args := []string{"audit", log}
				if tc.key != "output" {
					args = append(args, "-o", "json")
				}
				if i >= 3 {
					args = append(args, tc.flag...)
				}
				r := runWith(t, vars, "", args...)
				if r.code == exitUsage {
					t.Fatalf("%v: exit %d, stderr %s", args, r.code, r.stderr)
				}
				if got := tc.observe(t, r); got != tc.want[i] {
					t.Errorf("%s %s: got %q, want %q", tc.key, level, got, tc.want[i])
				}
			})
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	log := writeFile(t, filepath.Join(dir, "access.log"), squidLog)
	tests := []struct {
		name string
		conf string
		vars map[string]string
		args []string
		want string
	}{
		{"unknown_key", "datacentre: eu\n", nil, nil, `unknown key "datacentre"`},
		{"bad_datacenter", "datacenter: mars\n", nil, nil, `datacenter "mars": want one of auto, eu, us, as, sa`},
		{"bad_env_vantage", "", map[string]string{"EGRESS_AUDIT_VANTAGE": "phone"}, nil, `vantage "phone": want one of server, browser, all`},
		{"bad_client", "", nil, []string{"--client", "jira"}, `clients "jira": want a CIDR`},
		{"bad_fail_on", "fail_on: [blocked, everything]\n", nil, nil, `fail_on "everything"`},
		{"bad_output", "", nil, []string{"-o", "xml"}, `output "xml": want one of`},
		{"bad_format", "", nil, []string{"--format", "syslog-ng"}, `format "syslog-ng": want one of`},
		{"unknown_flag", "", nil, []string{"--colour"}, `unknown flag: --colour`},
		{"bad_catalog", "", nil, []string{"--catalog", "missing.yaml"}, `catalog: open missing.yaml`},
		// A value of the wrong kind would be read as empty and fall back
		// to the default without a word.
		{"list_datacenter", "datacenter: [eu, us]\n", nil, nil, `config egress-audit.yaml: datacenter: want one value, not a list`},
		{"list_vantage", "vantage: [browser]\n", nil, nil, `config egress-audit.yaml: vantage: want one value, not a list`},
		{"list_catalog", "catalog: [a.yaml, b.yaml]\n", nil, nil, `config egress-audit.yaml: catalog: want one value, not a list`},
		{"list_output", "output: [json]\n", nil, nil, `config egress-audit.yaml: output: want one value, not a list`},
		{"list_timezone", "timezone: [UTC]\n", nil, nil, `config egress-audit.yaml: timezone: want one value, not a list`},
		{"mapping_known", "known:\n  - {host: a.example}\n", nil, nil, `config egress-audit.yaml: known[0]: want a value, not a mapping`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "egress-audit.yaml"))
			if tc.conf != "" {
				writeFile(t, filepath.Join(dir, "egress-audit.yaml"), tc.conf)
			}
			r := runWith(t, tc.vars, "", append([]string{"audit", log}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit code = %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "egress-audit: ") {
				t.Errorf("stderr = %q, want egress-audit: ...%s", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	denied := writeFile(t, filepath.Join(dir, "denied.log"), squidLog)
	allowed := writeFile(t, filepath.Join(dir, "allowed.log"),
		"1764752401.352 10 192.0.2.10 TCP_TUNNEL/200 3910 CONNECT auth.gtmhub.com:443 - HIER_DIRECT/203.0.113.10 -\n"+
			"1764752402.352 10 192.0.2.10 TCP_TUNNEL/200 3910 CONNECT app.gtmhub.com:443 - HIER_DIRECT/203.0.113.20 -\n")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"findings", []string{"audit", denied}, exitFindings},
		{"no_findings", []string{"audit", allowed}, exitOK},
		{"fail_on_none", []string{"audit", "--fail-on", "none", denied}, exitOK},
		{"fail_on_unexpected", []string{"audit", "--fail-on", "other-datacenter", "--datacenter", "eu", denied}, exitFindings},
		{"no_input_readable", []string{"audit", filepath.Join(dir, "nope.log")}, exitUsage},
		{"no_args", []string{"audit"}, exitUsage},
		{"unknown_command", []string{"audti"}, exitUsage},
		{"version", []string{"version"}, exitOK},
		{"catalog", []string{"catalog", "--datacenter", "us"}, exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("%v: exit code = %d, want %d\nstderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
		})
	}
}

func TestCatalogCommand(t *testing.T) {
	r := runWith(t, nil, "", "catalog", "--datacenter", "us")
	for _, want := range []string{"POST   https://auth.us.gtmhub.com:443/oauth/token*", "create-task", "after list-okrs", "(optional)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("catalog output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestExtractJSONLines(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "access.log"), squidLog)
	r := runWith(t, nil, "", "extract", log)
	if r.code != exitOK {
		t.Fatalf("exit code %d, stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), r.stdout)
	}
	var o map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &o); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"locator": "line 1", "host": "auth.gtmhub.com", "host_source": "connect",
		"outcome": "blocked", "reason": "proxy-denied", "client": "192.0.2.10", "transport": "tcp",
		"time": "2025-12-03T09:00:01.352Z",
	} {
		if o[k] != want {
			t.Errorf("%s = %v, want %v", k, o[k], want)
		}
	}
	for _, k := range []string{"time", "input", "locator", "client", "server", "transport", "host", "host_source", "outcome", "detail"} {
		if _, ok := o[k]; !ok {
			t.Errorf("field %s missing from %s", k, lines[0])
		}
	}
}

// TestConfigUnknownEnv checks that an EGRESS_AUDIT_ variable that sets no
// key is warned about by name, and that the run goes on.
func TestConfigUnknownEnv(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "access.log"), squidLog)
	vars := map[string]string{"EGRESS_AUDIT_DATACENTRE": "us", "EGRESS_AUDIT_OUTPUT": "json", "HOME": dir}
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:  strings.NewReader(""),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
		environ: func() []string {
			return []string{"HOME=" + dir, "EGRESS_AUDIT_DATACENTRE=us", "EGRESS_AUDIT_OUTPUT=json"}
		},
		configDir: func() (string, error) { return "", os.ErrNotExist },
	}
	code := e.run([]string{"audit", "--fail-on", "none", log})
	if code != exitOK {
		t.Fatalf("exit code = %d, want %d; stderr: %s", code, exitOK, stderr.String())
	}
	warn := "egress-audit: warning: environment variable EGRESS_AUDIT_DATACENTRE sets no configuration key"
	if got := stderr.String(); strings.Count(got, warn) != 1 || strings.Contains(got, "variable EGRESS_AUDIT_OUTPUT ") {
		t.Errorf("stderr = %q, want one warning naming EGRESS_AUDIT_DATACENTRE and none for EGRESS_AUDIT_OUTPUT", got)
	}
	if !json.Valid(stdout.Bytes()) {
		t.Errorf("stdout is not the JSON report EGRESS_AUDIT_OUTPUT asked for: %.200q", stdout.String())
	}
}
