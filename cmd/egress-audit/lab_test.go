package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// The network lab (testdata/lab/lab.sh) runs real clients, a firewall, a
// resolver and a proxy in network namespaces and keeps what each scenario
// left: a capture of the client host and the logs of the firewall, the
// resolver and the proxy. TestLab audits each of them through the command
// line and checks the verdicts.
//
// It needs root and the lab's tools, and runs only when EGRESS_AUDIT_LAB is
// set. EGRESS_AUDIT_LAB_KEEP=<dir> keeps the run's files in dir.

// labTools are the programs lab.sh runs.
var labTools = []string{"ip", "nft", "ethtool", "dnsmasq", "squid", "tcpdump", "dumpcap", "tshark", "ulogd", "curl", "go"}

// Expected call verdicts, by call id: "ok", "blocked:<reason>" or
// "missing:<reason>"; alternatives are separated by "|".
var (
	labAllOK = map[string]string{
		"oauth-token":   "ok",
		"list-sessions": "ok",
		"list-okrs":     "ok",
		"create-task":   "ok",
	}
	labDependents = map[string]string{
		"list-sessions": "missing:dependency-blocked",
		"list-okrs":     "missing:dependency-blocked",
		"create-task":   "missing:dependency-blocked",
	}
)

// tokenBlocked returns the verdicts of a run whose token call was blocked
// for one of reasons.
func tokenBlocked(reasons ...string) map[string]string {
	m := map[string]string{"oauth-token": "blocked:" + strings.Join(reasons, "|blocked:")}
	for k, v := range labDependents {
		m[k] = v
	}
	return m
}

// labCase is one audit of one scenario's evidence.
type labCase struct {
	name     string
	scenario string
	// inputs are the scenario's files by suffix: ".pcap", "-squid.log" ...
	inputs []string
	args   []string
	calls  map[string]string
	// dests maps a destination host to its class, or class/status.
	dests map[string]string
	// ips maps a destination host to an address it must list.
	ips map[string]string
	// ports maps a destination host to its port.
	ports map[string]int
	// sources maps a destination host to how its name was learned.
	sources map[string]string
	// evidence is a substring of the detail of oauth-token's evidence.
	evidence string
	note     string // a substring of one of the report's notes
	// unexpected lists every destination of class unexpected, by host,
	// in the report's order; none when empty.
	unexpected []string
	// helloSegments, when set, is how many TCP segments carry every
	// ClientHello of the capture; maxFrame is the length on the wire of
	// its largest frame.
	helloSegments int
	maxFrame      int
	// defect, when set, names a known defect that makes the case fail: the
	// case is skipped while it fails and fails once it passes, so that the
	// mark is dropped with the fix.
	defect string
}

// unexpectedEgress are the strangers the unexpected-egress scenario calls.
var unexpectedEgress = []string{"203.0.113.99", "telemetry.example.net", "updates.example.com"}

var labCases = []labCase{
	// Captures of the client host.
	{name: "allowed_pcap", scenario: "allowed", inputs: []string{".pcap"}, calls: labAllOK,
		dests: map[string]string{"auth.gtmhub.com": "catalog/allowed", "app.gtmhub.com": "catalog/allowed"}},
	{name: "allowed_us_pcap", scenario: "allowed-us", inputs: []string{".pcap"}, calls: labAllOK,
		dests: map[string]string{"auth.us.gtmhub.com": "catalog/allowed", "app.us.gtmhub.com": "catalog/allowed"}},
	// The Go client's ClientHello spans two segments: the name must come
	// from the reassembled SNI, not from DNS.
	{name: "allowed_go_pcap", scenario: "allowed-go", inputs: []string{".pcap"}, calls: labAllOK,
		sources:       map[string]string{"auth.gtmhub.com": "sni", "app.gtmhub.com": "sni"},
		helloSegments: 2},
	{name: "go_mtu1280_pcap", scenario: "go-mtu1280", inputs: []string{".pcap"}, calls: labAllOK,
		sources:       map[string]string{"auth.gtmhub.com": "sni", "app.gtmhub.com": "sni"},
		helloSegments: 2, maxFrame: 1280 + 14},
	{name: "token_dropped_pcap", scenario: "token-dropped", inputs: []string{".pcap"}, calls: tokenBlocked("no-response"),
		sources: map[string]string{"auth.gtmhub.com": "dns"}},
	// The names are in the client's hosts file: neither DNS nor a
	// ClientHello names the dropped SYNs, until --hosts gives the file.
	{name: "token_dropped_hosts_pcap", scenario: "token-dropped-hosts", inputs: []string{".pcap"},
		calls:      map[string]string{"oauth-token": "missing:not-seen"},
		dests:      map[string]string{"203.0.113.10": "unexpected/blocked"},
		unexpected: []string{"203.0.113.10"}},
	{name: "token_dropped_hosts_named_pcap", scenario: "token-dropped-hosts", inputs: []string{".pcap"}, args: labHostsArgs,
		calls: tokenBlocked("no-response"), dests: map[string]string{"auth.gtmhub.com": "catalog/blocked"},
		note: "hosts file ../../testdata/lab/hosts names 6 addresses (6 names)"},
	{name: "token_reset_pcap_nano", scenario: "token-reset", inputs: []string{".pcap"}, calls: tokenBlocked("reset")},
	{name: "token_icmp_pcap", scenario: "token-icmp-prohibited", inputs: []string{".pcap"}, calls: tokenBlocked("icmp-prohibited")},
	{name: "token_nxdomain_pcap", scenario: "token-nxdomain", inputs: []string{".pcap"}, calls: tokenBlocked("dns-nxdomain")},
	{name: "proxy_allowed_pcap", scenario: "proxy-allowed", inputs: []string{".pcap"}, calls: labAllOK},
	{name: "proxy_denied_pcap", scenario: "proxy-denied", inputs: []string{".pcap"}, calls: tokenBlocked("proxy-denied")},
	{name: "proxy_auth_pcap", scenario: "proxy-auth-required", inputs: []string{".pcap"}, calls: tokenBlocked("proxy-auth-required")},
	{name: "proxy_token_dropped_pcap", scenario: "proxy-token-dropped", inputs: []string{".pcap"}, calls: tokenBlocked("proxy-error")},
	{name: "tls_intercepted_pcap", scenario: "tls-intercepted", inputs: []string{".pcap"}, calls: tokenBlocked("tls-interception"),
		evidence: "Lab Inspecting Proxy CA"},
	{name: "unexpected_sll", scenario: "unexpected-egress", inputs: []string{".pcap"}, calls: labAllOK,
		dests: map[string]string{
			"updates.example.com":   "unexpected/allowed",
			"telemetry.example.net": "unexpected/allowed",
			"203.0.113.99":          "unexpected/allowed",
		},
		unexpected: unexpectedEgress},
	{name: "ipv6_only_pcapng", scenario: "ipv6-only", inputs: []string{".pcapng"}, calls: labAllOK,
		ips: map[string]string{"auth.gtmhub.com": "2001:db8:3::10", "app.gtmhub.com": "2001:db8:3::11"}},
	{name: "other_datacenter_pcap", scenario: "after-token-allowed", inputs: []string{".pcap"}, args: []string{"--datacenter", "us"},
		calls: map[string]string{"oauth-token": "missing:not-seen"},
		dests: map[string]string{"auth.gtmhub.com": "other-datacenter", "app.gtmhub.com": "other-datacenter"},
		note:  "the configured data center is us, but the calls went to eu"},
	{name: "before_token_dropped_pcap", scenario: "before-token-dropped", inputs: []string{".pcap"}, calls: tokenBlocked("no-response")},
	{name: "after_token_allowed_pcap", scenario: "after-token-allowed", inputs: []string{".pcap"}, calls: labAllOK},

	// The proxy's access.log.
	{name: "proxy_allowed_squid", scenario: "proxy-allowed", inputs: []string{"-squid.log"}, calls: labAllOK},
	{name: "proxy_denied_squid", scenario: "proxy-denied", inputs: []string{"-squid.log"}, calls: tokenBlocked("proxy-denied")},
	{name: "proxy_auth_squid", scenario: "proxy-auth-required", inputs: []string{"-squid.log"}, calls: tokenBlocked("proxy-auth-required")},
	{name: "proxy_token_dropped_squid", scenario: "proxy-token-dropped", inputs: []string{"-squid.log"}, calls: tokenBlocked("proxy-error")},

	// The resolver's query log alone.
	{name: "token_nxdomain_dnsmasq", scenario: "token-nxdomain", inputs: []string{"-dnsmasq.log"}, calls: tokenBlocked("dns-nxdomain")},

	// The firewall's log, named by the resolver's log beside it. The
	// queries to the resolver are flows there, counted as the resolver's.
	{name: "allowed_netfilter", scenario: "allowed", inputs: labLogs, calls: labAllOK,
		note: "counted as a resolver, class known: 198.51.100.53:53"},
	{name: "allowed_us_netfilter", scenario: "allowed-us", inputs: labLogs, calls: labAllOK,
		dests: map[string]string{"auth.us.gtmhub.com": "catalog/allowed", "app.us.gtmhub.com": "catalog/allowed"}},
	{name: "allowed_go_netfilter", scenario: "allowed-go", inputs: labLogs, calls: labAllOK,
		sources: map[string]string{"auth.gtmhub.com": "dns", "app.gtmhub.com": "dns"}},
	{name: "go_mtu1280_netfilter", scenario: "go-mtu1280", inputs: labLogs, calls: labAllOK},
	{name: "token_dropped_netfilter", scenario: "token-dropped", inputs: labLogs, calls: tokenBlocked("firewall-deny")},
	{name: "token_dropped_hosts_netfilter", scenario: "token-dropped-hosts", inputs: labLogs, args: labHostsArgs,
		calls: tokenBlocked("firewall-deny")},
	{name: "token_reset_netfilter", scenario: "token-reset", inputs: labLogs, calls: tokenBlocked("reset")},
	// The reject's ICMP error comes from the firewall itself and is not
	// logged: its LAB-REJECT line is a denial.
	{name: "token_icmp_netfilter", scenario: "token-icmp-prohibited", inputs: labLogs, calls: tokenBlocked("firewall-deny")},
	// The forward chain sees the flow after the redirection to the
	// inspecting proxy's port: a firewall log shows no interception, only
	// the token host reached on 8443 instead of 443.
	{name: "tls_intercepted_netfilter", scenario: "tls-intercepted", inputs: labLogs,
		calls: map[string]string{"oauth-token": "missing:not-seen", "list-sessions": "missing:not-seen"},
		dests: map[string]string{"auth.gtmhub.com": "catalog/allowed"}, ports: map[string]int{"auth.gtmhub.com": 8443}},
	{name: "unexpected_netfilter", scenario: "unexpected-egress", inputs: labLogs, calls: labAllOK,
		dests:      map[string]string{"updates.example.com": "unexpected", "telemetry.example.net": "unexpected", "203.0.113.99": "unexpected"},
		unexpected: unexpectedEgress},
	{name: "ipv6_only_netfilter", scenario: "ipv6-only", inputs: labLogs, calls: labAllOK,
		note: "counted as a resolver, class known: [2001:db8:2::53]:53"},
	{name: "other_datacenter_netfilter", scenario: "after-token-allowed", inputs: labLogs, args: []string{"--datacenter", "us"},
		calls: map[string]string{"oauth-token": "missing:not-seen"},
		dests: map[string]string{"auth.gtmhub.com": "other-datacenter", "app.gtmhub.com": "other-datacenter"},
		note:  "the configured data center is us, but the calls went to eu"},
	{name: "before_token_dropped_netfilter", scenario: "before-token-dropped", inputs: labLogs, calls: tokenBlocked("firewall-deny")},
	{name: "after_token_allowed_netfilter", scenario: "after-token-allowed", inputs: labLogs, calls: labAllOK},
}

// labHostsArgs give an audit the hosts file of the token-dropped-hosts
// scenario's client.
var labHostsArgs = []string{"--hosts", filepath.Join("..", "..", "testdata", "lab", "hosts")}

// labLogs are the inputs of a firewall log case.
var labLogs = []string{"-netfilter.log", "-dnsmasq.log"}

// labSkip returns why the lab cannot run here, or "".
func labSkip() string {
	if os.Getenv("EGRESS_AUDIT_LAB") == "" {
		return "network lab: set EGRESS_AUDIT_LAB=1 to run it (root, Linux, tools: " + strings.Join(labTools, " ") + ")"
	}
	if os.Geteuid() != 0 {
		return "network lab: needs root for network namespaces"
	}
	var missing []string
	for _, tool := range labTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return "network lab: missing tools: " + strings.Join(missing, ", ")
	}
	return ""
}

// runLab runs every scenario of the lab and returns the directory holding
// their files.
func runLab(t *testing.T) string {
	t.Helper()
	out := os.Getenv("EGRESS_AUDIT_LAB_KEEP")
	if out == "" {
		out = t.TempDir()
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "testdata", "lab", "lab.sh"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	labEnv := append(os.Environ(), "EGRESS_AUDIT_LAB_WORK="+work)
	t.Cleanup(func() {
		// lab.sh tears down on its own exit; this covers a run killed midway.
		cmd := exec.Command(script, "down")
		cmd.Env = labEnv
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, b)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "run", out)
	cmd.Env = labEnv
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lab.sh run: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("lab files in %s\n%s", out, stderr.Bytes())
	return out
}

// requireLab skips the test, with one line saying why, when the lab cannot
// run here. CI's lab step installs every tool, runs as root and asks for
// the lab, so there a lab that cannot run is a failure, not a skip.
func requireLab(t *testing.T) {
	t.Helper()
	why := labSkip()
	switch {
	case why == "":
	case os.Getenv("CI") == "true" && os.Getenv("EGRESS_AUDIT_LAB") != "":
		t.Fatalf("%s; CI runs the lab, so this is a failure", why)
	default:
		t.Skip(why)
	}
}

func TestLab(t *testing.T) {
	requireLab(t)
	dir := runLab(t)
	for _, tc := range labCases {
		t.Run(tc.name, func(t *testing.T) { auditLabCase(t, dir, tc) })
	}
}

// TestLabSamples audits the lab's files kept in testdata/samples with the
// same expectations, without the lab: every case whose files were kept.
func TestLabSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "samples")
	ran := 0
	for _, tc := range labCases {
		kept := true
		for _, suffix := range tc.inputs {
			if _, err := os.Stat(filepath.Join(dir, tc.scenario+suffix)); err != nil {
				kept = false
			}
		}
		if !kept {
			continue
		}
		ran++
		t.Run(tc.name, func(t *testing.T) { auditLabCase(t, dir, tc) })
	}
	if ran == 0 {
		t.Fatalf("no lab sample kept in %s", dir)
	}
}

// auditLabCase audits the case's files in dir through the command line and
// checks the report.
func auditLabCase(t *testing.T, dir string, tc labCase) {
	var files []string
	for _, suffix := range tc.inputs {
		f := filepath.Join(dir, tc.scenario+suffix)
		requireFormat(t, f)
		files = append(files, f)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".pcap") || strings.HasSuffix(f, ".pcapng") {
			checkLabFrames(t, f, tc)
		}
	}
	args := append([]string{"audit", "-o", "json", "--fail-on", "none"}, tc.args...)
	args = append(args, files...)
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Fatalf("run(%q) = %d, want %d\nstderr: %s", args, code, exitOK, stderr.String())
	}
	rep, err := report.ReadJSON(&stdout)
	if err != nil {
		t.Fatalf("run(%q): report: %v", args, err)
	}
	if tc.defect == "" {
		checkLabReport(t, rep, tc)
		if b, err := os.ReadFile(filepath.Join(dir, tc.scenario+"-client.txt")); t.Failed() && err == nil {
			t.Logf("%s-client.txt:\n%s", tc.scenario, b)
		}
		return
	}
	var c collector
	checkLabReport(&c, rep, tc)
	if len(c.errs) == 0 {
		t.Fatalf("the case passes: drop its known defect %q", tc.defect)
	}
	slices.Sort(c.errs)
	t.Skipf("known defect: %s (%d checks fail, first: %s)", tc.defect, len(c.errs), c.errs[0])
}

// collector gathers the failures of checks whose failure is expected.
type collector struct{ errs []string }

func (c *collector) Helper() {}

func (c *collector) Errorf(format string, args ...any) {
	msg, _, _ := strings.Cut(fmt.Sprintf(format, args...), "\n")
	c.errs = append(c.errs, msg)
}

// reporter is the part of testing.T the checks use.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// requireFormat skips the test when no format of this build recognises
// the file, naming the kind of input that still lacks one.
func requireFormat(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("lab file: %v", err)
	}
	defer f.Close()
	head := make([]byte, 16<<10)
	n, _ := f.Read(head)
	if _, err := parsers.Detect(head[:n]); errors.Is(err, parsers.ErrUnknownFormat) {
		t.Skipf("no input format recognises %s yet (%s)", filepath.Base(path), labKind(path))
	}
}

// labKind names the kind of a lab file for skip messages.
func labKind(path string) string {
	switch {
	case strings.HasSuffix(path, ".pcapng"):
		return "pcapng capture"
	case strings.HasSuffix(path, ".pcap"):
		return "pcap capture"
	case strings.HasSuffix(path, "-netfilter.log"):
		return "netfilter LOG lines written by ulogd2 LOGEMU"
	case strings.HasSuffix(path, "-dnsmasq.log"):
		return "dnsmasq log-queries"
	case strings.HasSuffix(path, "-squid.log"):
		return "squid native access.log"
	case strings.HasSuffix(path, "-bind.log"):
		return "BIND query, security and query-errors log"
	}
	return "unknown"
}

func checkLabReport(t reporter, rep *rules.Report, tc labCase) {
	t.Helper()
	for id, want := range tc.calls {
		var got string
		for _, c := range rep.Calls {
			if c.ID == id {
				got = c.Status
				if c.Reason != "" && c.Status != rules.StatusOK {
					got += ":" + c.Reason
				}
			}
		}
		if !slices.Contains(strings.Split(want, "|"), got) {
			t.Errorf("call %s = %q, want %q\n%s", id, got, want, labSummary(rep))
		}
	}
	for host, want := range tc.dests {
		d := labDest(rep, host)
		if d == nil {
			t.Errorf("destination %s not reported\n%s", host, labSummary(rep))
			continue
		}
		got := d.Class
		if strings.Contains(want, "/") {
			got += "/" + d.Status
		}
		if got != want {
			t.Errorf("destination %s = %q, want %q\n%s", host, got, want, labSummary(rep))
		}
	}
	for host, port := range tc.ports {
		if d := labDest(rep, host); d == nil || d.Port != port {
			t.Errorf("destination %s: not reported on port %d\n%s", host, port, labSummary(rep))
		}
	}
	var unexpected []string
	for _, d := range rep.Destinations {
		if d.Class == rules.ClassUnexpected {
			unexpected = append(unexpected, d.Host)
		}
	}
	if !slices.Equal(unexpected, tc.unexpected) {
		t.Errorf("unexpected destinations = %q, want %q\n%s", unexpected, tc.unexpected, labSummary(rep))
	}
	for host, ip := range tc.ips {
		d := labDest(rep, host)
		if d == nil || !slices.Contains(d.IPs, ip) {
			t.Errorf("destination %s: addresses do not include %s\n%s", host, ip, labSummary(rep))
		}
	}
	for host, want := range tc.sources {
		if d := labDest(rep, host); d == nil || d.HostSource != want {
			t.Errorf("destination %s: not named by %s\n%s", host, want, labSummary(rep))
		}
	}
	if tc.evidence != "" {
		found := false
		for _, c := range rep.Calls {
			for _, ev := range c.Evidence {
				found = found || (c.ID == "oauth-token" && strings.Contains(ev.Detail, tc.evidence))
			}
		}
		if !found {
			t.Errorf("oauth-token: no evidence mentions %q\n%s", tc.evidence, labSummary(rep))
		}
	}
	if tc.note != "" && !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
		t.Errorf("notes %q: none contains %q", rep.Notes, tc.note)
	}
	for _, in := range rep.Inputs {
		if in.Errors > 0 {
			t.Errorf("input %s: %d records failed: %q", in.Path, in.Errors, in.Problems)
		}
	}
}

func labDest(rep *rules.Report, host string) *rules.Destination {
	for i := range rep.Destinations {
		if rep.Destinations[i].Host == host {
			return &rep.Destinations[i]
		}
	}
	return nil
}

// labSummary is a compact view of a report for failure messages.
func labSummary(rep *rules.Report) string {
	var b strings.Builder
	for _, c := range rep.Calls {
		b.WriteString("  call " + c.ID + ": " + c.Status + " " + c.Reason + " " + c.Detail + "\n")
	}
	for _, d := range rep.Destinations {
		b.WriteString("  dest " + d.Host + ": " + d.Class + " " + d.Status + " " + d.Reason + " " + strings.Join(d.IPs, ",") + " named by " + d.HostSource + "\n")
	}
	for _, in := range rep.Inputs {
		b.WriteString("  input " + in.Path + ": " + in.Format + "\n")
	}
	return b.String()
}

// Every reason a lab case expects is part of the fixed vocabulary.
func TestLabCasesUseKnownReasons(t *testing.T) {
	known := []string{string(capture.ReasonDependencyBlocked), string(capture.ReasonNotSeen)}
	for _, r := range capture.Reasons {
		known = append(known, string(r))
	}
	for _, tc := range labCases {
		for id, want := range tc.calls {
			for _, alt := range strings.Split(want, "|") {
				status, reason, _ := strings.Cut(alt, ":")
				if !slices.Contains([]string{rules.StatusOK, rules.StatusBlocked, rules.StatusMissing}, status) {
					t.Errorf("%s: call %s: status %q unknown", tc.name, id, status)
				}
				if reason != "" && !slices.Contains(known, reason) {
					t.Errorf("%s: call %s: reason %q unknown", tc.name, id, reason)
				}
			}
		}
	}
}
