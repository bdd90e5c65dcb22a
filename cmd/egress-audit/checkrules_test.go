package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// verdicts runs check-rules -o json and returns each call's verdict with
// the deciding rule's place, or its default.
func verdicts(t *testing.T, r result) (map[string]string, *rules.Check) {
	t.Helper()
	var c rules.Check
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("check-rules output is not JSON: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	out := make(map[string]string)
	for _, cc := range c.Calls {
		v := cc.Verdict
		switch {
		case cc.Source != "":
			v += " " + cc.Source
		case cc.Verdict != rules.StatusNotExpected:
			v += " " + cc.Rule
		}
		out[cc.ID] = v
	}
	return out, &c
}

func TestCheckRulesFormats(t *testing.T) {
	p := func(name string) string { return filepath.Join("testdata", "policies", name) }
	tests := []struct {
		name   string
		args   []string
		format string
		code   int
		want   map[string]string
	}{
		{"squid_include", []string{"--client", "192.0.2.10", p("squid.conf")}, rules.PolicySquid, 0, map[string]string{
			"oauth-authorize": rules.StatusNotExpected,
			"oauth-token":     "allowed " + p("conf.d/quantive.conf") + ":3",
			"list-sessions":   "allowed " + p("conf.d/quantive.conf") + ":3",
		}},
		{"squid_client_outside", []string{"--client", "198.51.100.4", p("squid.conf")}, rules.PolicySquid, 1, map[string]string{
			"oauth-token": "denied " + p("squid.conf") + ":8",
		}},
		{"squid_every_client", []string{"--client", "192.0.2.10", "--client", "198.51.100.4", p("squid.conf")}, rules.PolicySquid, 1, map[string]string{
			"oauth-token": "denied " + p("squid.conf") + ":8",
		}},
		{"squid_client_range_inside", []string{"--client", "192.0.2.128/25", p("squid.conf")}, rules.PolicySquid, 0, map[string]string{
			"oauth-token": "allowed " + p("conf.d/quantive.conf") + ":3",
		}},
		// Part of the range is in localnet: allowed, resting on that.
		{"squid_client_range_straddles", []string{"--client", "192.0.0.0/16", "--fail-on", "uncertain", p("squid.conf")}, rules.PolicySquid, 1, map[string]string{
			"oauth-token": "allowed " + p("conf.d/quantive.conf") + ":3",
		}},
		{"squid_us", []string{"--datacenter", "us", "--client", "192.0.2.10", p("squid.conf")}, rules.PolicySquid, 1, map[string]string{
			"oauth-token":   "denied " + p("squid.conf") + ":8",
			"list-sessions": "denied " + p("squid.conf") + ":8",
		}},
		{"squid_browser_vantage", []string{"--vantage", "browser", "--client", "192.0.2.10", p("squid.conf")}, rules.PolicySquid, 0, map[string]string{
			"oauth-authorize": "allowed " + p("conf.d/quantive.conf") + ":3",
			"oauth-token":     rules.StatusNotExpected,
		}},
		{"plain_list", []string{p("allow.txt")}, rules.PolicyDomains, 1, map[string]string{
			"oauth-token":   "allowed " + p("allow.txt") + ":3",
			"list-sessions": "denied default-deny",
		}},
		{"plain_list_forced_edl", []string{"--rules-format", "panos-edl", p("allow.txt")}, rules.PolicyEDL, 1, map[string]string{
			"oauth-token":   "allowed " + p("allow.txt") + ":3",
			"list-sessions": "denied default-deny",
		}},
		{"panos_edl", []string{p("quantive.edl")}, rules.PolicyEDL, 0, map[string]string{
			"oauth-token":   "allowed " + p("quantive.edl") + ":1",
			"list-sessions": "allowed " + p("quantive.edl") + ":1",
		}},
		{"aws", []string{p("aws-rule-group.json")}, rules.PolicyAWS, 0, map[string]string{
			"oauth-token": "allowed " + p("aws-rule-group.json") + ":6",
		}},
		{"azure", []string{"--client", "192.0.2.10", p("azure-app-rules.json")}, rules.PolicyAzure, 1, map[string]string{
			"oauth-token":   "denied default-deny",
			"list-sessions": "allowed " + p("azure-app-rules.json") + ":10",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", append([]string{"check-rules", "-o", "json"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("check-rules %v: exit %d, want %d; stderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
			got, c := verdicts(t, r)
			if c.Format != tc.format || c.Schema != rules.CheckSchema {
				t.Errorf("format %q schema %q, want %q %q", c.Format, c.Schema, tc.format, rules.CheckSchema)
			}
			for id, want := range tc.want {
				if got[id] != want {
					t.Errorf("%s: %q, want %q", id, got[id], want)
				}
			}
		})
	}
}

func TestCheckRulesReport(t *testing.T) {
	tmp := t.TempDir()
	// The token call was denied by the proxy before the change.
	before := saveReport(t, filepath.Join(tmp, "before.json"), tokenBefore)
	policy := filepath.Join("testdata", "policies", "squid.conf")

	r := runWith(t, nil, "", "check-rules", "-o", "json", "--client", "192.0.2.10", "--report", before, policy)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	_, c := verdicts(t, r)
	if c.Disagreements != 1 || c.Report != before {
		t.Errorf("disagreements %d report %q, want 1 and %s", c.Disagreements, c.Report, before)
	}
	for _, cc := range c.Calls {
		if cc.ID == "oauth-token" {
			if cc.Observed != rules.StatusBlocked || cc.ObservedReason != "proxy-denied" || !strings.Contains(cc.Disagreement, "the proxy runs other rules") {
				t.Errorf("oauth-token = %+v, want blocked (proxy-denied) disagreeing", cc)
			}
		}
	}

	r = runWith(t, nil, "", "check-rules", "--client", "192.0.2.10", "--report", before, policy)
	for _, want := range []string{"Compared with report", "OBSERVED", "blocked (proxy-denied) DISAGREES", "The traffic disagrees:\n- oauth-token: allowed by these rules but denied by the proxy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCheckRulesTable(t *testing.T) {
	r := runWith(t, nil, "", "check-rules", filepath.Join("testdata", "policies", "allow.txt"))
	if r.code != exitFindings {
		t.Errorf("exit %d, want %d", r.code, exitFindings)
	}
	goldenFile(t, "check_rules_allow.txt", []byte(r.stdout))
}

func TestCheckRulesUsage(t *testing.T) {
	tmp := t.TempDir()
	notReport := writeFile(t, filepath.Join(tmp, "x.json"), `{"schema": "egress-audit/diff/v1"}`)
	policy := filepath.Join("testdata", "policies", "allow.txt")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no_policy", []string{}, "accepts 1 arg(s)"},
		{"bad_format", []string{"--rules-format", "iptables", policy}, `rules-format "iptables": want one of squid, domains, panos-edl, aws-domains, azure-app`},
		{"missing_policy", []string{filepath.Join(tmp, "nope.conf")}, "nope.conf"},
		{"bad_output", []string{"-o", "xml", policy}, `output "xml": want one of table, json, markdown, html, csv, junit`},
		{"bad_fail_on", []string{"--fail-on", "denied,blocked", policy}, `check_fail_on "blocked": want a list of denied, uncertain, disagree, none`},
		{"not_a_report", []string{"--report", notReport, policy}, "not a saved report"},
		{"bad_squid", []string{"--rules-format", "squid", writeFile(t, filepath.Join(tmp, "s.conf"), "http_access allow nothere\n")}, `s.conf:1: http_access: acl "nothere" is not defined above`},
		{"bad_datacenter", []string{"--datacenter", "mars", policy}, `datacenter "mars"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", append([]string{"check-rules"}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.stderr) || r.stdout != "" {
				t.Errorf("check-rules %v: exit %d, stderr %q, stdout %q; want 2 and %q", tc.args, r.code, r.stderr, r.stdout, tc.stderr)
			}
		})
	}
}

// allowListGoldens is where the report package keeps what the allowlist
// command writes, one file per catalog case and target.
const allowListGoldens = "../../report/testdata/golden/allowlist"

// allowListFormats maps the allow-list targets that check-rules reads to
// their policy formats.
var allowListFormats = map[string]string{
	"squid":     rules.PolicySquid,
	"plain":     rules.PolicyDomains,
	"panos-edl": rules.PolicyEDL,
	"aws-nfw":   rules.PolicyAWS,
	"azure-fw":  rules.PolicyAzure,
}

// TestAllowListChecksClean reads every allow-list the allowlist command's
// golden tests keep for the default catalog (catalog_<dc>_<vantage>.<target>)
// and asserts that check-rules lets every call of that data center and
// vantage through, by a rule of the list.
func TestAllowListChecksClean(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(allowListGoldens, "catalog_*"))
	if len(files) == 0 {
		t.Skip("no allow-lists under " + allowListGoldens)
	}
	tmp := t.TempDir()
	checked := 0
	for _, f := range files {
		base := filepath.Base(f)
		stem, target, _ := strings.Cut(base, ".")
		format, ok := allowListFormats[target]
		parts := strings.Split(stem, "_")
		if !ok || len(parts) != 3 {
			continue
		}
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The golden file ends with the warnings the command printed.
			text, _, _ := strings.Cut(string(data), "\n==== warnings ====")
			policy := writeFile(t, filepath.Join(tmp, base), text+"\n")
			r := runWith(t, nil, "", "check-rules", "-o", "json", "--rules-format", format,
				"--datacenter", parts[1], "--vantage", parts[2], "--client", "192.0.2.10", policy)
			if r.code != exitOK {
				t.Errorf("check-rules: exit %d, want 0; stderr: %s\n%s", r.code, r.stderr, r.stdout)
			}
			_, c := verdicts(t, r)
			for _, cc := range c.Calls {
				if cc.Verdict == rules.StatusNotExpected {
					continue
				}
				if cc.Verdict != rules.VerdictAllowed || cc.Source == "" {
					t.Errorf("%s (%s): %s by %s %s, want allowed by a line of the list", cc.ID, cc.Request, cc.Verdict, cc.Rule, cc.Source)
				}
			}
		})
		checked++
	}
	if checked == 0 {
		t.Errorf("no allow-list of a target check-rules reads among %d files", len(files))
	}
}

// TestCheckRulesDst checks a squid dst acl: without addresses the verdict
// names the rule it could not decide; with a report that saw the hosts'
// addresses, it is decided by them.
func TestCheckRulesDst(t *testing.T) {
	tmp := t.TempDir()
	policy := writeFile(t, filepath.Join(tmp, "squid.conf"),
		"acl bad dst 203.0.113.0/24\nacl gt dstdomain .gtmhub.com\nhttp_access deny bad\nhttp_access allow gt\n")
	seen := writeFile(t, filepath.Join(tmp, "access.log"),
		"1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT auth.gtmhub.com:443 - HIER_DIRECT/203.0.113.10 -\n"+
			"1764752411.105    512 192.0.2.10 TCP_TUNNEL/200 7210 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n")
	rep := saveReport(t, filepath.Join(tmp, "report.json"), seen)

	r := runWith(t, nil, "", "check-rules", "-o", "json", "--client", "192.0.2.10", policy)
	got, c := verdicts(t, r)
	if got["oauth-token"] != "allowed "+policy+":4" {
		t.Errorf("oauth-token without a report: %q, want allowed by line 4", got["oauth-token"])
	}
	for _, cc := range c.Calls {
		if cc.Verdict != rules.StatusNotExpected && !strings.Contains(cc.Uncertain, policy+":3 (http_access deny bad): acl bad (dst)") {
			t.Errorf("%s without a report: uncertain %q, want it to name line 3's dst acl", cc.ID, cc.Uncertain)
		}
	}

	r = runWith(t, nil, "", "check-rules", "-o", "json", "--client", "192.0.2.10", "--report", rep, policy)
	if r.code != exitFindings {
		t.Errorf("with the report: exit %d, want %d; stderr: %s", r.code, exitFindings, r.stderr)
	}
	got, c = verdicts(t, r)
	want := map[string]string{
		"oauth-token":   "denied " + policy + ":3",
		"list-sessions": "allowed " + policy + ":4",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s with the report: %q, want %q", id, got[id], w)
		}
	}
	for _, cc := range c.Calls {
		if cc.Uncertain != "" {
			t.Errorf("%s with the report: uncertain %q, want none", cc.ID, cc.Uncertain)
		}
	}
}

func TestCheckRulesFailOn(t *testing.T) {
	tmp := t.TempDir()
	before := saveReport(t, filepath.Join(tmp, "before.json"), tokenBefore)
	allow := filepath.Join("testdata", "policies", "allow.txt") // denies required calls
	squid := filepath.Join("testdata", "policies", "squid.conf")
	dst := writeFile(t, filepath.Join(tmp, "dst.conf"),
		"acl bad dst 203.0.113.0/24\nacl gt dstdomain .gtmhub.com\nhttp_access deny bad\nhttp_access allow gt\n")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"denied_by_default", []string{allow}, exitFindings},
		{"denied_none", []string{"--fail-on", "none", allow}, exitOK},
		{"uncertain_not_asked", []string{dst}, exitOK},
		{"uncertain", []string{"--fail-on", "uncertain", dst}, exitFindings},
		{"uncertain_none_there", []string{"--fail-on", "uncertain", allow}, exitOK},
		{"disagree_not_asked", []string{"--client", "192.0.2.10", "--report", before, squid}, exitOK},
		{"disagree", []string{"--client", "192.0.2.10", "--report", before, "--fail-on", "denied,disagree", squid}, exitFindings},
		{"disagree_none_there", []string{"--client", "192.0.2.10", "--fail-on", "disagree", squid}, exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, "", append([]string{"check-rules"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("check-rules %v: exit %d, want %d; stderr: %s", tc.args, r.code, tc.code, r.stderr)
			}
		})
	}
	// The audit's fail_on, from the environment, is not check-rules'.
	r := runWith(t, map[string]string{"EGRESS_AUDIT_FAIL_ON": "blocked,missing"}, "", "check-rules", allow)
	if r.code != exitFindings {
		t.Errorf("with EGRESS_AUDIT_FAIL_ON: exit %d, want %d; stderr: %s", r.code, exitFindings, r.stderr)
	}
	// check_fail_on is: from the environment, from a file, and below the flag.
	r = runWith(t, map[string]string{"EGRESS_AUDIT_CHECK_FAIL_ON": "none"}, "", "check-rules", allow)
	if r.code != exitOK {
		t.Errorf("with EGRESS_AUDIT_CHECK_FAIL_ON=none: exit %d, want 0; stderr: %s", r.code, r.stderr)
	}
	r = runWith(t, map[string]string{"EGRESS_AUDIT_CHECK_FAIL_ON": "uncertain,disagree"}, "", "check-rules", "--fail-on", "denied", allow)
	if r.code != exitFindings {
		t.Errorf("--fail-on denied over EGRESS_AUDIT_CHECK_FAIL_ON: exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	conf := writeFile(t, filepath.Join(tmp, "egress-audit.yaml"), "check_fail_on: [uncertain]\nfail_on: [blocked]\n")
	r = runWith(t, nil, "", "check-rules", "--config", conf, allow)
	if r.code != exitOK {
		t.Errorf("check_fail_on [uncertain] from %s: exit %d, want 0; stderr: %s", conf, r.code, r.stderr)
	}
	r = runWith(t, nil, "", "check-rules", "--config", conf, dst)
	if r.code != exitFindings {
		t.Errorf("check_fail_on [uncertain] from %s, dst acl: exit %d, want 1; stderr: %s", conf, r.code, r.stderr)
	}
	bad := writeFile(t, filepath.Join(tmp, "bad.yaml"), "check_fail_on: [blocked]\n")
	r = runWith(t, nil, "", "check-rules", "--config", bad, allow)
	if r.code != exitUsage || !strings.Contains(r.stderr, `check_fail_on "blocked"`) {
		t.Errorf("check_fail_on [blocked]: exit %d, stderr %q; want 2 naming the key", r.code, r.stderr)
	}
}

// TestCheckRulesStdin reads the policy from standard input.
func TestCheckRulesStdin(t *testing.T) {
	policy := "acl gt dstdomain .gtmhub.com\nacl post method POST\nhttp_access allow gt\nhttp_access deny all\n"
	out, stderr, code := runInputs(t, policy, "check-rules", "-o", "json", "-")
	if code != exitOK {
		t.Fatalf("check-rules -: exit %d, stderr %s", code, stderr)
	}
	got, c := verdicts(t, result{code, out, stderr})
	if c.Format != rules.PolicySquid || c.Policy != "stdin" || got["oauth-token"] != "allowed stdin:3" {
		t.Errorf("check-rules - = format %q policy %q oauth-token %q; want squid, stdin, allowed stdin:3", c.Format, c.Policy, got["oauth-token"])
	}
	_, stderr, code = runInputs(t, "http_access allow nothere\n", "check-rules", "--rules-format", "squid", "-")
	if code != exitUsage || !strings.Contains(stderr, `stdin:1: http_access: acl "nothere" is not defined above`) {
		t.Errorf("bad policy on stdin: exit %d, stderr %q", code, stderr)
	}
}

// TestCheckRulesOutputs runs every form and checks that each is the form
// it claims, holding every call; the forms' content is in report's golden
// files.
func TestCheckRulesOutputs(t *testing.T) {
	policy := filepath.Join("testdata", "policies", "allow.txt")
	want := map[string]string{
		"table":    "Verdict: the rules deny 3 required calls",
		"json":     `"schema": "egress-audit/check-rules/v1"`,
		"markdown": "**Verdict: the rules deny 3 required calls",
		"html":     `<p class="verdict bad">Verdict: the rules deny 3 required calls`,
		"csv":      "id,host,port,side,required,request,verdict,rule,source",
		"junit":    `<testsuites name="egress-audit" tests="6" failures="3" skipped="2">`,
	}
	for _, form := range checkOutputs {
		t.Run(form, func(t *testing.T) {
			r := runWith(t, nil, "", "check-rules", "-o", form, policy)
			if r.code != exitFindings || r.stderr != "" {
				t.Errorf("-o %s: exit %d, stderr %q; want %d and nothing", form, r.code, r.stderr, exitFindings)
			}
			if !strings.Contains(r.stdout, want[form]) || !strings.Contains(r.stdout, "create-task") {
				t.Errorf("-o %s lacks %q or a call:\n%s", form, want[form], r.stdout)
			}
		})
	}
}

// TestCheckRulesSSLBump checks that a squid that bumps the server's
// CONNECTs judges each call again by its own method: the POST calls are
// denied, the GET calls allowed; a squid that splices lets them all
// through.
func TestCheckRulesSSLBump(t *testing.T) {
	tmp := t.TempDir()
	const access = "http_port 3128 ssl-bump\nacl post method POST\nacl gt dstdomain .gtmhub.com\nhttp_access deny post\nhttp_access allow gt\nhttp_access deny all\n"
	for _, tc := range []struct {
		name, bump string
		want       map[string]string
	}{
		{"bump", "ssl_bump bump all\n", map[string]string{"create-task": "denied", "oauth-token": "denied", "list-okrs": "allowed"}},
		{"stare_bump", "acl step1 at_step SslBump1\nssl_bump stare step1\nssl_bump bump all\n", map[string]string{"create-task": "denied", "list-okrs": "allowed"}},
		{"splice", "ssl_bump splice all\n", map[string]string{"create-task": "allowed", "oauth-token": "allowed", "list-okrs": "allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := writeFile(t, filepath.Join(tmp, tc.name+".conf"), access+tc.bump)
			r := runWith(t, nil, "", "check-rules", "-o", "json", policy)
			_, c := verdicts(t, r)
			for _, cc := range c.Calls {
				want, ok := tc.want[cc.ID]
				if !ok {
					continue
				}
				if cc.Verdict != want {
					t.Errorf("%s (%s): %s by %s (%s), want %s", cc.ID, cc.Request, cc.Verdict, cc.Source, cc.Why, want)
				}
				if want == "denied" && (cc.Source != policy+":4" || !strings.Contains(cc.Why, "squid denies the decrypted request POST https://")) {
					t.Errorf("%s: denied by %s (%s), want line 4 and the decrypted request named", cc.ID, cc.Source, cc.Why)
				}
			}
		})
	}
}

// TestCheckRulesReportOtherDatacenter compares a check of the US data
// center with a report of EU traffic: the report's verdicts are of other
// hosts, so none is shown as observed.
func TestCheckRulesReportOtherDatacenter(t *testing.T) {
	tmp := t.TempDir()
	eu := saveReport(t, filepath.Join(tmp, "eu.json"), tokenBefore)
	policy := filepath.Join("testdata", "policies", "squid.conf")
	r := runWith(t, nil, "", "check-rules", "--datacenter", "us", "--client", "192.0.2.10", "--report", eu, policy)
	if !strings.Contains(r.stdout, "not observed (report of data center eu)") || strings.Contains(r.stdout, "proxy-denied") || strings.Contains(r.stdout, "DISAGREES") {
		t.Errorf("check of us against an eu report:\n%s", r.stdout)
	}
	r = runWith(t, nil, "", "check-rules", "-o", "json", "--datacenter", "us", "--client", "192.0.2.10", "--report", eu, policy)
	_, c := verdicts(t, r)
	for _, cc := range c.Calls {
		if cc.Verdict != rules.StatusNotExpected && (cc.Observed != rules.ObservedNot || !strings.Contains(cc.Host, ".us.")) {
			t.Errorf("%s at %s: observed %q (%s), want not observed", cc.ID, cc.Host, cc.Observed, cc.ObservedReason)
		}
	}
	if c.Disagreements != 0 {
		t.Errorf("disagreements %d, want 0", c.Disagreements)
	}
}

// TestCheckRulesHelpACLTypes holds check-rules' help to the squid acl types
// README says it reads.
func TestCheckRulesHelpACLTypes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const lead = "It reads squid configurations (`acl` of types "
	_, rest, ok := strings.Cut(string(readme), lead)
	list, _, ok2 := strings.Cut(rest, ";")
	if !ok || !ok2 {
		t.Fatalf("README has no %q list", lead)
	}
	r := runWith(t, nil, "", "check-rules", "--help")
	help := strings.Join(strings.Fields(r.stdout), " ")
	for _, typ := range strings.Split(strings.Join(strings.Fields(list), " "), ", ") {
		if !strings.Contains(help, typ) {
			t.Errorf("check-rules --help does not name the acl type %q README lists", typ)
		}
	}
}

// TestCheckRulesLabProxies gives check-rules the rules the lab's squid ran
// with (testdata/lab/squid/, which lab.sh includes) and a report of the
// access.log that squid wrote in each proxy scenario, and checks that the
// prediction is what the traffic shows: the token call allowed where squid
// tunnelled it, denied by the deny line where squid answered 403; where it
// asked for credentials, the verdict rests on the proxy_auth acl and the
// comparison says so; where the token host was dropped behind the proxy,
// the rules allow it and the comparison names another device.
func TestCheckRulesLabProxies(t *testing.T) {
	const lab, samples = "../../testdata/lab/squid", "../../testdata/samples"
	tmp := t.TempDir()
	tests := []struct {
		scenario, rules string
		verdict, line   string // the token call's verdict and deciding line
		uncertain       string
		disagreement    string
		disagreements   int
	}{
		{"proxy-allowed", "open.conf", rules.VerdictAllowed, ":5", "", "", 0},
		{"proxy-denied", "deny-auth.conf", rules.VerdictDenied, ":5", "", "", 0},
		{"proxy-auth-required", "auth.conf", rules.VerdictAllowed, ":7", "(http_access deny !authenticated): acl authenticated of type proxy_auth", "the proxy asked for authentication", 1},
		{"proxy-token-dropped", "open.conf", rules.VerdictAllowed, ":5", "", "another device on the path", 1},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			log := filepath.Join(samples, tc.scenario+"-squid.log")
			if _, err := os.Stat(log); err != nil {
				t.Skipf("no sample: %v", err)
			}
			rep := saveReport(t, filepath.Join(tmp, tc.scenario+".json"), log)
			policy := filepath.Join(lab, tc.rules)
			r := runWith(t, nil, "", "check-rules", "-o", "json", "--client", "192.0.2.10", "--report", rep, policy)
			_, c := verdicts(t, r)
			if c.Disagreements != tc.disagreements {
				t.Errorf("disagreements %d, want %d", c.Disagreements, tc.disagreements)
			}
			for _, cc := range c.Calls {
				if cc.Observed != "" && cc.Observed != rules.StatusMissing && cc.Disagreement == "" {
					// Every call the proxy saw agrees with the rules.
					if (cc.Verdict == rules.VerdictAllowed) != (cc.Observed == rules.StatusOK) {
						t.Errorf("%s: %s by the rules, %s in the traffic, and no disagreement", cc.ID, cc.Verdict, cc.Observed)
					}
				}
				if cc.ID != "oauth-token" {
					continue
				}
				if cc.Verdict != tc.verdict || cc.Source != policy+tc.line {
					t.Errorf("oauth-token: %s by %s, want %s by %s%s", cc.Verdict, cc.Source, tc.verdict, policy, tc.line)
				}
				if (tc.uncertain == "") != (cc.Uncertain == "") || !strings.Contains(cc.Uncertain, tc.uncertain) {
					t.Errorf("oauth-token uncertain %q, want %q", cc.Uncertain, tc.uncertain)
				}
				if (tc.disagreement == "") != (cc.Disagreement == "") || !strings.Contains(cc.Disagreement, tc.disagreement) {
					t.Errorf("oauth-token observed %s (%s), disagreement %q, want %q", cc.Observed, cc.ObservedReason, cc.Disagreement, tc.disagreement)
				}
			}
		})
	}
}
