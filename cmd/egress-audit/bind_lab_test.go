package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLabBIND runs a real BIND (named) in a network namespace as the Jira
// server's resolver, lets the server ask it the token host the way each
// resolver failure happens, and audits named's own log of the queries,
// security and query-errors categories. The namespace holds only
// loopback: the resolver 198.51.100.53, the server 192.0.2.10, a
// forwarder address where nothing listens (203.0.113.250) and one whose
// queries nftables drops (203.0.113.251).
//
// It runs with the lab (EGRESS_AUDIT_LAB, root) and needs named and dig
// besides.
func TestLabBIND(t *testing.T) {
	requireLab(t)
	for _, tool := range []string{"named", "dig"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("BIND lab: %s not found; CI runs the lab, so this is a failure", tool)
			}
			t.Skipf("BIND lab: %s not found", tool)
		}
	}
	const ns = "eabind-resolver"
	sh := func(args ...string) {
		t.Helper()
		if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	exec.Command("ip", "netns", "delete", ns).Run() // left by a killed run
	sh("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	in := func(args ...string) { t.Helper(); sh(append([]string{"ip", "netns", "exec", ns}, args...)...) }
	in("ip", "link", "set", "lo", "up")
	for _, a := range []string{"198.51.100.53/32", "192.0.2.10/32", "203.0.113.250/32", "203.0.113.251/32"} {
		in("ip", "addr", "add", a, "dev", "lo")
	}
	in("nft", "add table inet eabind; add chain inet eabind in { type filter hook input priority 0; };"+
		" add rule inet eabind in ip daddr 203.0.113.251 meta l4proto { udp, tcp } th dport 53 drop")

	// Each case is a resolver configuration; the server asks it for the
	// token host once.
	cases := []struct {
		name    string
		options string // named.conf options besides the lab's own
		zone    bool   // named serves gtmhub.com itself
		tc      labCase
	}{
		{name: "answered", options: "allow-recursion { any; };", zone: true,
			// The query log holds the question without the answer.
			tc: labCase{calls: map[string]string{"oauth-token": "missing:not-seen"}}},
		{name: "recursion-refused", options: "allow-recursion { 192.0.2.99; };",
			// The access list that refused the query is the rule to change.
			tc: labCase{calls: tokenBlocked("dns-refused"), evidence: "query denied (allow-"}},
		{name: "forwarder-refused", options: "forwarders { 203.0.113.250; }; forward only;",
			tc: labCase{calls: tokenBlocked("dns-servfail"), evidence: "query failed (failure)"}},
		{name: "forwarder-silent", options: "forwarders { 203.0.113.251; }; forward only;",
			tc: labCase{calls: tokenBlocked("dns-timeout"), evidence: "query failed (timed out)"}},
	}
	out := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log, asked := runNamed(t, ns, c.options, c.zone, "auth.gtmhub.com")
			c.tc.name, c.tc.scenario, c.tc.inputs = c.name, c.name, []string{"-bind.log"}
			if err := os.WriteFile(filepath.Join(out, c.name+"-bind.log"), log, 0o644); err != nil {
				t.Fatal(err)
			}
			auditLabCase(t, out, c.tc)
			if t.Failed() {
				t.Logf("named's log:\n%s\ndig:\n%s", log, asked)
			}
		})
	}
}

// runNamed starts named in namespace ns with the lab's configuration and
// options, has the server 192.0.2.10 ask it for each name with dig, stops
// it and returns its log and what dig printed.
func runNamed(t *testing.T, ns, options string, zone bool, names ...string) (log, asked []byte) {
	t.Helper()
	dir := daemonDir(t, "named") // named drops root for the bind user
	logFile := filepath.Join(dir, "named.log")
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	listen-on { 198.51.100.53; };
	listen-on-v6 { none; };
	dnssec-validation no;
	querylog yes;
	%[2]s
};
logging {
	channel lab { file "%[3]s"; print-time yes; print-category yes; print-severity yes; severity info; };
	category default { lab; };
	category queries { lab; };
	category security { lab; };
	category query-errors { lab; };
	category lame-servers { lab; };
};
`, dir, options, logFile)
	if zone {
		zf := filepath.Join(dir, "gtmhub.com.zone")
		z := "$TTL 60\n@ IN SOA ns hostmaster 1 60 60 600 60\n@ IN NS ns\nns IN A 198.51.100.53\n" +
			"auth IN A 203.0.113.10\napp IN A 203.0.113.11\n"
		if err := os.WriteFile(zf, []byte(z), 0o644); err != nil {
			t.Fatal(err)
		}
		conf += fmt.Sprintf("zone \"gtmhub.com\" { type primary; file %q; };\n", zf)
	}
	cf := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "named", "-f", "-4", "-u", "bind", "-c", cf)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	// named says "running" once it listens: at most 100 tries, 100 ms apart.
	for i := 0; ; i++ {
		b, _ := os.ReadFile(logFile)
		if strings.Contains(string(b), "general: notice: running") {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("named stopped: %v\n%s\n%s", err, stderr.String(), b)
		default:
		}
		if i == 100 {
			stop()
			t.Fatalf("named did not start\n%s\n%s", stderr.String(), b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range names {
		// A failed lookup is what the case is about: dig's status is not.
		b, _ := exec.Command("ip", "netns", "exec", ns, "dig", "+tries=1", "+time=20",
			"-b", "192.0.2.10", "@198.51.100.53", name, "A").CombinedOutput()
		asked = append(asked, b...)
	}
	stop()
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	return log, asked
}
