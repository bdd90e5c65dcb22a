package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// TestWatchLab runs watch on the client's interface in a small network lab
// of its own (a client namespace and a network namespace holding the
// resolver and the vendor's servers) while the Go client plays the OAuth
// flow, then checks the live verdicts, the saved capture, and that auditing
// the saved capture gives the same verdicts. Its namespaces are named
// eawatch-*, apart from the main lab's, so that both may run at once.
//
// It runs with the main lab: EGRESS_AUDIT_LAB=1, root and the lab's tools.
func TestWatchLab(t *testing.T) {
	requireLab(t)
	l := newWatchLab(t)
	tests := []struct {
		name  string
		nft   string // rules of the network namespace's input chain
		args  []string
		calls map[string]string
	}{
		{name: "token_dropped", nft: "ip daddr 203.0.113.10 tcp dport 443 drop",
			args: []string{"--until", "oauth-token"}, calls: tokenBlocked("no-response")},
		{name: "allowed", args: []string{"--duration", "20s"}, calls: labAllOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l.firewall(t, tc.nft)
			saved := filepath.Join(l.dir, tc.name+".pcap")
			args := append([]string{"watch", "-i", "eth0", "-o", "json", "--write", saved}, tc.args...)
			rep, stderr := l.watch(t, args, func() { l.client(t) })
			checkLabReport(t, rep, labCase{name: tc.name, calls: tc.calls})
			if rep.Inputs[0].Format != "live" || rep.Inputs[0].Records == 0 {
				t.Errorf("input = %+v, want a live capture with records", rep.Inputs[0])
			}
			if !strings.Contains(stderr, "oauth-token "+strings.Replace(tc.calls["oauth-token"], ":", " ", 1)) {
				t.Errorf("live view lacks the oauth-token line:\n%s", stderr)
			}
			requireFormat(t, saved)
			again := runCLI(t, piped, "", "audit", "-o", "json", "--fail-on", "none", saved)
			if again.code != exitOK {
				t.Fatalf("audit %s = %d\n%s", saved, again.code, again.stderr)
			}
			audited, err := report.ReadJSON(strings.NewReader(again.stdout))
			if err != nil {
				t.Fatal(err)
			}
			checkLabReport(t, audited, labCase{name: tc.name, calls: tc.calls})
			if got, want := packetsOf(audited), packetsOf(rep); got != want {
				t.Errorf("saved capture holds %d packets, watch read %d", got, want)
			}
			if got, want := callVerdicts(audited), callVerdicts(rep); !equalMaps(got, want) {
				t.Errorf("audit of the saved capture = %v, watch = %v", got, want)
			}
		})
	}
}

// watchLab is the lab of TestWatchLab.
type watchLab struct {
	dir, bin, ca string
	procs        []*exec.Cmd
}

const (
	watchLabClient = "eawatch-cli"
	watchLabNet    = "eawatch-net"
)

func newWatchLab(t *testing.T) *watchLab {
	l := &watchLab{dir: t.TempDir()}
	l.bin = filepath.Join(l.dir, "bin")
	l.ca = filepath.Join(l.dir, "ca")
	t.Cleanup(l.down)
	l.down()
	for _, pkg := range []string{".", "../../testdata/lab/server", "../../testdata/lab/client"} {
		out := filepath.Join(l.bin, filepath.Base(pkg))
		if pkg == "." {
			out = filepath.Join(l.bin, "egress-audit")
		}
		l.sh(t, "go", "build", "-o", out, pkg)
	}
	l.sh(t, filepath.Join(l.bin, "server"), "ca", l.ca)

	cli, inet := watchLabClient, watchLabNet
	for _, ns := range []string{cli, inet} {
		l.sh(t, "ip", "netns", "add", ns)
		l.sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	l.sh(t, "ip", "link", "add", "eth0", "netns", cli, "address", "02:00:00:00:03:10", "type", "veth",
		"peer", "name", "eth0", "netns", inet, "address", "02:00:00:00:03:01")
	l.sh(t, "ip", "-n", cli, "addr", "add", "192.0.2.10/24", "dev", "eth0")
	l.sh(t, "ip", "-n", cli, "link", "set", "eth0", "up")
	l.sh(t, "ip", "-n", cli, "route", "add", "default", "via", "192.0.2.1")
	l.sh(t, "ip", "-n", inet, "addr", "add", "192.0.2.1/24", "dev", "eth0")
	l.sh(t, "ip", "-n", inet, "link", "set", "eth0", "up")
	for _, a := range []string{"198.51.100.53/32", "203.0.113.10/32", "203.0.113.11/32"} {
		l.sh(t, "ip", "-n", inet, "addr", "add", a, "dev", "lo")
	}
	if err := os.MkdirAll("/etc/netns/"+cli, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/etc/netns/"+cli+"/resolv.conf", []byte("nameserver 198.51.100.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.start(t, "ip", "netns", "exec", inet, filepath.Join(l.bin, "server"), "serve", "-ca", l.ca,
		"-listen", ":443", "-inspect-listen", "127.0.0.1:8443")
	l.start(t, "ip", "netns", "exec", inet, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		"--bind-interfaces", "--listen-address=198.51.100.53", "--user=root", "--local=/gtmhub.com/",
		"--host-record=auth.gtmhub.com,203.0.113.10", "--host-record=app.gtmhub.com,203.0.113.11",
		"--pid-file="+filepath.Join(l.dir, "dnsmasq.pid"))
	for i := 0; ; i++ {
		err := exec.Command("ip", "netns", "exec", inet, "bash", "-c", "exec 3<>/dev/tcp/203.0.113.10/443").Run()
		if err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("the lab's server did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return l
}

// sh runs a command of the lab's set-up.
func (l *watchLab) sh(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// start runs a server of the lab until the lab goes down.
func (l *watchLab) start(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	l.procs = append(l.procs, cmd)
}

// down stops the lab's servers and removes its namespaces.
func (l *watchLab) down() {
	for _, p := range l.procs {
		p.Process.Kill()
		p.Wait()
	}
	l.procs = nil
	for _, ns := range []string{watchLabClient, watchLabNet} {
		exec.Command("ip", "netns", "delete", ns).Run()
	}
	os.RemoveAll("/etc/netns/" + watchLabClient)
}

// firewall loads the network namespace's input rules.
func (l *watchLab) firewall(t *testing.T, rules string) {
	t.Helper()
	conf := fmt.Sprintf("flush ruleset\ntable inet watchlab {\n chain input {\n  type filter hook input priority filter; policy accept;\n  %s\n }\n}\n", rules)
	cmd := exec.Command("ip", "netns", "exec", watchLabNet, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

// client plays the plugin's OAuth flow from the client namespace; a failed
// call is what some cases are about.
func (l *watchLab) client(t *testing.T) {
	out, err := exec.Command("ip", "netns", "exec", watchLabClient, filepath.Join(l.bin, "client"),
		"-ca", filepath.Join(l.ca, "ca.pem")).CombinedOutput()
	t.Logf("client: %v %s", err, out)
}

// watch runs the built binary's watch in the client namespace with args,
// runs flow once it captures, and returns the report and its stderr.
func (l *watchLab) watch(t *testing.T, args []string, flow func()) (*rules.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", watchLabClient,
		filepath.Join(l.bin, "egress-audit")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	started := make(chan struct{})
	watching := &waitWriter{w: &stderr, want: "watching eth0", seen: started}
	cmd.Stderr = watching
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("watch did not start:\n%s", stderr.String())
	}
	flow()
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitOK && code != exitFindings {
		t.Fatalf("watch %q: %v\n%s", args, err, stderr.String())
	}
	rep, err := report.ReadJSON(&stdout)
	if err != nil {
		t.Fatalf("watch %q: report: %v\nstderr: %s", args, err, stderr.String())
	}
	return rep, stderr.String()
}

// waitWriter passes writes on and closes seen once want has been written.
type waitWriter struct {
	w    *bytes.Buffer
	want string
	seen chan struct{}
}

func (w *waitWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if w.seen != nil && strings.Contains(w.w.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return n, err
}

// packetsOf counts the packets of a report's only input: used or skipped.
func packetsOf(rep *rules.Report) int64 {
	if len(rep.Inputs) != 1 {
		return -1
	}
	return rep.Inputs[0].Records + rep.Inputs[0].Skipped
}
