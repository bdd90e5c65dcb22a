package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/rules"
)

// squidLab holds a squid started for one configuration. It listens on
// loopback only, resolves the catalog's names to 127.0.0.2 from its own
// hosts file and asks no other resolver than 127.0.0.1, where nothing
// listens: no request leaves the machine. An allowed request fails to
// reach the origin (squid answers 503), a denied one gets 403 at once.
type squidLab struct {
	dir  string
	addr string
	cmd  *exec.Cmd
}

// labHosts are the names the lab's hosts file points at 127.0.0.2.
var labHosts = []string{"gtmhub.com", "auth.gtmhub.com", "app.gtmhub.com", "evil.example.net"}

// daemonDir returns a directory, removed when the test ends, that a
// daemon started as root can still write in once it has dropped root for
// its own user: world-writable, outside t.TempDir's private parent.
func daemonDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "egress-audit-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func startSquid(t *testing.T, rulesConf string, extra map[string]string) *squidLab {
	t.Helper()
	dir := daemonDir(t, "squid") // squid drops root for its own user
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	write := func(name, s string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hosts", "127.0.0.2 "+strings.Join(labHosts, " ")+"\n")
	for name, s := range extra {
		write(name, s)
	}
	// Squid takes relative names from its working directory, so the rules
	// name their files as {dir}/name. The rules come first in their own file, so that check-rules reads
	// exactly what squid enforces; lab.conf adds the plumbing and includes
	// them.
	write("rules.conf", strings.ReplaceAll(rulesConf, "{dir}", dir))
	write("lab.conf", fmt.Sprintf(`http_port %s
pid_filename %[2]s/squid.pid
cache_log %[2]s/cache.log
access_log stdio:%[2]s/access.log
cache_store_log none
coredump_dir %[2]s
hosts_file %[2]s/hosts
dns_nameservers 127.0.0.1
pinger_enable off
shutdown_lifetime 0 seconds
connect_timeout 5 seconds
cache deny all
include %[2]s/rules.conf
`, addr, dir))

	cmd := exec.Command("squid", "-N", "-f", filepath.Join(dir, "lab.conf"))
	out, err := os.Create(filepath.Join(dir, "squid.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lab := &squidLab{dir: dir, addr: addr, cmd: cmd}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		out.Close()
	})
	// Wait until squid listens: at most 300 tries, 100 ms apart.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return lab
		}
		stopped := false
		select {
		case <-exited:
			stopped = true
		default:
		}
		if i == 300 || stopped {
			log, _ := os.ReadFile(filepath.Join(dir, "squid.out"))
			clog, _ := os.ReadFile(filepath.Join(dir, "cache.log"))
			t.Fatalf("squid did not start on %s: %v\n%s\n%s", addr, err, log, clog)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status sends one request line through squid and returns the status code
// of its answer.
func (l *squidLab) status(t *testing.T, method, target string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	host := target
	if method != "CONNECT" {
		host = strings.TrimPrefix(target, "http://")
		host, _, _ = strings.Cut(host, "/")
	}
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, host)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("%s %s through squid: %v", method, target, err)
	}
	var proto string
	var code int
	if _, err := fmt.Sscanf(line, "%s %d", &proto, &code); err != nil {
		t.Fatalf("%s %s through squid: status line %q", method, target, line)
	}
	return code
}

// TestCheckRulesAgainstSquid starts squid with each configuration, sends
// every catalog call through it as the plugin's server would (CONNECT
// host:443), and asserts that check-rules predicted what squid did: 403 is
// a denial, any other answer means squid let the request through.
func TestCheckRulesAgainstSquid(t *testing.T) {
	if os.Getenv("EGRESS_AUDIT_LAB") != "1" || os.Geteuid() != 0 {
		t.Skip("squid lab: set EGRESS_AUDIT_LAB=1 and run as root with squid installed")
	}
	if _, err := exec.LookPath("squid"); err != nil {
		t.Skip("squid lab: squid is not installed (apt-get install -y squid)")
	}
	type squidCase struct {
		name  string
		rules string
		extra map[string]string // files beside rules.conf
		// more requests to check with the parsed policy: method and target
		more [][2]string
		// seen, when set, is a squid access log of earlier traffic to the
		// catalog's hosts: check-rules is given the audit of it with
		// --report, and without it must name assumes among each call's
		// assumptions.
		seen, assumes string
	}
	tests := []squidCase{
		{"dot_domain_via_include", "include {dir}/conf.d/*.conf\nhttp_access deny all\n",
			map[string]string{"conf.d/quantive.conf": "acl quantive dstdomain .gtmhub.com\nhttp_access allow CONNECT quantive\n"},
			[][2]string{{"CONNECT", "evil.example.net:443"}, {"CONNECT", "gtmhub.com:443"}}, "", ""},
		{"exact_auth_only_default_deny", "acl auth dstdomain auth.gtmhub.com\nhttp_access allow CONNECT auth\n", nil,
			[][2]string{{"CONNECT", "app.gtmhub.com:443"}}, "", ""},
		{"deny_app_default_allow", "acl app dstdomain app.gtmhub.com\nhttp_access deny app\n", nil,
			[][2]string{{"CONNECT", "evil.example.net:443"}}, "", ""},
		{"regex_and_ports", "acl tls port 443\nacl app dstdom_regex -i ^APP\\.GTMHUB\\.com$\nhttp_access deny CONNECT !tls\nhttp_access allow app\nhttp_access deny all\n", nil,
			[][2]string{{"CONNECT", "app.gtmhub.com:8443"}, {"GET", "http://app.gtmhub.com/api/v1/goals"}}, "", ""},
		{"method_get_only", "acl get method GET\nacl saas dstdomain .gtmhub.com\nhttp_access allow get saas\nhttp_access deny all\n", nil,
			[][2]string{{"GET", "http://auth.gtmhub.com/oauth/token"}, {"GET", "http://evil.example.net/"}}, "", ""},
		{"src_and_values_file", "acl lab src 127.0.0.1/32\nacl saas dstdomain \"{dir}/saas.txt\"\nhttp_access allow lab saas\nhttp_access deny all\n",
			map[string]string{"saas.txt": "# the plugin's hosts\napp.gtmhub.com\n"},
			[][2]string{{"CONNECT", "auth.gtmhub.com:443"}}, "", ""},
		// End-of-line comments as the stock squid.conf writes them, and the
		// definitions of built-in acls older configurations carry.
		{"eol_comments", "acl lab src 127.0.0.1/32\t# RFC 1122 \"this\" host\nacl Safe_ports port 443\t\t# https\nacl saas dstdomain .gtmhub.com # the vendor\nhttp_access deny !Safe_ports\nhttp_access allow lab saas # the plugin\nhttp_access deny all\n", nil,
			[][2]string{{"CONNECT", "evil.example.net:443"}, {"CONNECT", "app.gtmhub.com:8443"}}, "", ""},
		{"old_builtins", "acl all src all\nacl manager proto cache_object\nacl saas dstdomain .gtmhub.com\nhttp_access deny manager\nhttp_access allow saas\nhttp_access deny all\n", nil,
			[][2]string{{"CONNECT", "evil.example.net:443"}}, "", ""},
		// The lab's hosts file puts every catalog name at 127.0.0.2, as the
		// earlier traffic saw them.
		{name: "dst_denied_by_address", rules: "acl bad dst 127.0.0.2/32\nacl gt dstdomain .gtmhub.com\nhttp_access deny bad\nhttp_access allow gt\n",
			more: [][2]string{{"CONNECT", "evil.example.net:443"}},
			seen: "1764752410.002    433 127.0.0.1 TCP_TUNNEL/200 5002 CONNECT auth.gtmhub.com:443 - HIER_DIRECT/127.0.0.2 -\n" +
				"1764752411.105    512 127.0.0.1 TCP_TUNNEL/200 7210 CONNECT app.gtmhub.com:443 - HIER_DIRECT/127.0.0.2 -\n",
			assumes: "rules.conf:3 (http_access deny bad): acl bad (dst)"},
	}
	// What the allowlist command writes for squid, when its golden file is
	// there, put above a final deny as its comment asks.
	for _, name := range []string{"catalog_eu_server.squid", "catalog_us_all.squid"} {
		data, err := os.ReadFile(filepath.Join(allowListGoldens, name))
		if err != nil {
			continue
		}
		text, _, _ := strings.Cut(string(data), "\n==== warnings ====")
		tests = append(tests, squidCase{name: "allowlist_" + name, rules: text + "\nhttp_access deny all\n",
			more: [][2]string{{"CONNECT", "evil.example.net:443"}, {"CONNECT", "gtmhub.com:443"}}})
	}
	seen := map[int]int{} // squid's answers, to show both kinds occurred
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lab := startSquid(t, tc.rules, tc.extra)
			conf := filepath.Join(lab.dir, "rules.conf")

			args := []string{"check-rules", "-o", "json", "--vantage", "all", "--client", "127.0.0.1"}
			if tc.seen != "" {
				r := runWith(t, nil, "", append(args, conf)...)
				_, c := verdicts(t, r)
				for _, cc := range c.Calls {
					if !strings.Contains(cc.Uncertain, tc.assumes) {
						t.Errorf("%s without a report: uncertain %q, want it to name %q", cc.ID, cc.Uncertain, tc.assumes)
					}
				}
				seen := writeFile(t, filepath.Join(lab.dir, "seen", "access.log"), tc.seen)
				rep := saveReport(t, filepath.Join(lab.dir, "seen", "report.json"), "--vantage", "all", seen)
				args = append(args, "--report", rep)
			}
			r := runWith(t, nil, "", append(args, conf)...)
			if r.code == exitUsage {
				t.Fatalf("check-rules: exit %d: %s", r.code, r.stderr)
			}
			var c rules.Check
			if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
				t.Fatalf("check-rules output: %v\n%s", err, r.stdout)
			}
			deniedRequired := false
			for _, cc := range c.Calls {
				target := strings.TrimPrefix(cc.Request, "CONNECT ")
				code := lab.status(t, "CONNECT", target)
				seen[code]++
				squid := rules.VerdictAllowed
				if code == 403 {
					squid = rules.VerdictDenied
				}
				if cc.Verdict != squid {
					t.Errorf("%s (%s): check-rules says %s (%s %s), squid answered %d", cc.ID, cc.Request, cc.Verdict, cc.Rule, cc.Source, code)
				}
				if cc.Uncertain != "" {
					t.Errorf("%s: verdict rests on an assumption: %s", cc.ID, cc.Uncertain)
				}
				deniedRequired = deniedRequired || (cc.Required && cc.Verdict == rules.VerdictDenied)
			}
			if want := map[bool]int{true: exitFindings, false: exitOK}[deniedRequired]; r.code != want {
				t.Errorf("check-rules exit %d, want %d", r.code, want)
			}

			p, err := rules.LoadPolicy(conf, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.more {
				req := rules.PolicyRequest{Method: m[0], Client: netip.MustParseAddr("127.0.0.1")}
				hostPort := m[1]
				if m[0] != "CONNECT" {
					req.Scheme = "http"
					rest := strings.TrimPrefix(m[1], "http://")
					hostPort, req.Path, _ = strings.Cut(rest, "/")
					req.Path = "/" + req.Path
					hostPort += ":80"
				}
				h, port, _ := net.SplitHostPort(hostPort)
				req.Host = h
				fmt.Sscan(port, &req.Port)
				d := p.Decide(req)
				code := lab.status(t, m[0], m[1])
				seen[code]++
				if d.Allowed != (code != 403) {
					t.Errorf("%s %s: policy allowed=%v (%s %s), squid answered %d", m[0], m[1], d.Allowed, d.Rule, d.Source, code)
				}
			}
		})
	}
	if seen[403] == 0 || len(seen) < 2 {
		t.Errorf("squid's answers %v: want both denials (403) and requests let through", seen)
	}
	t.Logf("squid's answers by status: %v", seen)
}
