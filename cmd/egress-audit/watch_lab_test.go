package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// TestWatchLab brings the network lab up (testdata/lab/lab.sh up), runs
// watch on the client host's interface while lab.sh plays a scenario, and
// checks the live lines, the final report, and that auditing the capture
// watch saved (--write) gives the same verdicts. The blocking is done by
// the lab's forward firewall, as on a real network: a drop, a reset and an
// ICMP error. The allowed case ends watch with SIGINT, as Ctrl-C would.
//
// It runs with the main lab: EGRESS_AUDIT_LAB=1, root and the lab's tools.
// It uses the main lab's namespaces, so it cannot run beside TestLab; go
// test runs the two one after the other.
func TestWatchLab(t *testing.T) {
	requireLab(t)
	l := newWatchLab(t)
	tests := []struct {
		name     string
		scenario string
		// until, when set, is the call watch waits for; otherwise the
		// test ends watch with SIGINT once the scenario is over.
		until string
		calls map[string]string
		// lines are the live lines watch must print, as "call state".
		lines []string
		// hosts gives the client the lab's hosts file before watch starts.
		hosts bool
		// saved, when set, are the verdicts of the audit of the capture
		// watch saved, when they differ from watch's own.
		saved map[string]string
	}{
		{name: "token_dropped", scenario: "token-dropped", until: "oauth-token",
			calls: tokenBlocked("no-response"),
			lines: []string{"oauth-token blocked no-response", "list-sessions missing dependency-blocked"}},
		// No DNS on the wire and no ClientHello: watch names the dropped
		// SYNs from its lookups at start, which read the hosts file; the
		// saved capture alone does not name them.
		{name: "token_dropped_hosts", scenario: "token-dropped-hosts", until: "oauth-token", hosts: true,
			calls: tokenBlocked("no-response"),
			lines: []string{"oauth-token blocked no-response"},
			saved: map[string]string{"oauth-token": "missing:not-seen"}},
		{name: "token_reset", scenario: "token-reset", until: "oauth-token",
			calls: tokenBlocked("reset"),
			lines: []string{"oauth-token blocked reset", "list-sessions missing dependency-blocked"}},
		// The kernel filter must let the firewall's ICMP error through.
		{name: "token_icmp", scenario: "token-icmp-prohibited", until: "oauth-token",
			calls: tokenBlocked("icmp-prohibited"),
			lines: []string{"oauth-token blocked icmp-prohibited", "list-sessions missing dependency-blocked"}},
		{name: "allowed_sigint", scenario: "allowed", calls: labAllOK,
			lines: []string{"oauth-token ok", "list-sessions ok", "list-okrs ok", "create-task ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := filepath.Join(l.dir, tc.name+".pcap")
			// --duration bounds a run whose call never settles: the
			// report then shows what watch saw instead of a hang.
			args := []string{"watch", "-i", "eth0", "-o", "json", "--write", saved, "--duration", "90s"}
			if tc.until != "" {
				args = append(args, "--until", tc.until)
			}
			if tc.hosts {
				if out, err := l.lab("hosts"); err != nil {
					t.Fatalf("lab.sh hosts: %v\n%s", err, out)
				}
			}
			w := l.startWatch(t, args)
			l.scenario(t, tc.scenario)
			if tc.until == "" {
				// The last call's flow has ended; let watch read its
				// last packets before the interrupt.
				time.Sleep(time.Second)
				if err := w.cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatalf("SIGINT: %v", err)
				}
			}
			rep, stderr := w.wait(t)

			checkLabReport(t, rep, labCase{name: tc.name, calls: tc.calls})
			if tc.hosts {
				if d := labDest(rep, "auth.gtmhub.com"); d == nil || d.Uncertain != learnedAtStart {
					t.Errorf("auth.gtmhub.com: want a destination marked %q\n%s", learnedAtStart, labSummary(rep))
				}
			}
			if len(rep.Inputs) != 1 || rep.Inputs[0].Format != "live" || rep.Inputs[0].Records == 0 {
				t.Errorf("inputs = %+v, want one live capture with records", rep.Inputs)
			}
			for _, want := range tc.lines {
				re := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d ` + regexp.QuoteMeta(want) + `(:|$)`)
				if !re.MatchString(stderr) {
					t.Errorf("live view lacks the line %q:\n%s", want, stderr)
				}
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
			wantSaved := labCase{name: tc.name, calls: tc.calls}
			if tc.saved != nil {
				wantSaved = labCase{name: tc.name, calls: tc.saved, unexpected: []string{"203.0.113.10"}}
			}
			checkLabReport(t, audited, wantSaved)
			if got, want := packetsOf(audited), packetsOf(rep); got != want {
				t.Errorf("saved capture holds %d packets, watch read %d", got, want)
			}
			if got, want := callVerdicts(audited), callVerdicts(rep); tc.saved == nil && !equalMaps(got, want) {
				t.Errorf("audit of the saved capture = %v, watch = %v", got, want)
			}
		})
	}
}

// watchLab is the main lab, up for TestWatchLab, and the binaries it runs.
type watchLab struct {
	dir    string // the test's files
	bin    string // egress-audit, built from this package
	script string // lab.sh
	env    []string
}

// watchLabClient is the lab's client namespace, where watch runs.
const watchLabClient = "ealab-client"

func newWatchLab(t *testing.T) *watchLab {
	l := &watchLab{dir: t.TempDir()}
	l.bin = filepath.Join(l.dir, "egress-audit")
	if out, err := exec.Command("go", "build", "-o", l.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "testdata", "lab", "lab.sh"))
	if err != nil {
		t.Fatal(err)
	}
	l.script = script
	l.env = append(os.Environ(), "EGRESS_AUDIT_LAB_WORK="+t.TempDir())
	t.Cleanup(func() {
		if out, err := l.lab("down"); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, out)
		}
	})
	if out, err := l.lab("up"); err != nil {
		t.Fatalf("lab.sh up: %v\n%s", err, out)
	}
	return l
}

// lab runs lab.sh with args and returns what it printed.
func (l *watchLab) lab(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.script, args...)
	cmd.Env = l.env
	return cmd.CombinedOutput()
}

// scenario plays one of lab.sh's scenarios; its files go to the test's
// directory, beside watch's capture.
func (l *watchLab) scenario(t *testing.T, name string) {
	t.Helper()
	out, err := l.lab("scenario", filepath.Join(l.dir, "lab"), name)
	if err != nil {
		t.Fatalf("lab.sh scenario %s: %v\n%s", name, err, out)
	}
	if b, err := os.ReadFile(filepath.Join(l.dir, "lab", name+"-client.txt")); err == nil {
		t.Logf("%s-client.txt:\n%s", name, b)
	}
}

// runningWatch is a watch started in the lab's client namespace.
type runningWatch struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdout bytes.Buffer
	stderr *waitWriter
	args   []string
}

// startWatch starts the built binary's watch in the client namespace with
// args and returns once it captures.
func (l *watchLab) startWatch(t *testing.T, args []string) *runningWatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	w := &runningWatch{cancel: cancel, args: args}
	t.Cleanup(cancel)
	// ip netns exec becomes the program (it forks only in batch mode), so
	// a signal sent to the process reaches watch.
	w.cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", watchLabClient, l.bin}, args...)...)
	started := make(chan struct{})
	w.stderr = &waitWriter{want: "watching eth0", seen: started}
	w.cmd.Stdout = &w.stdout
	w.cmd.Stderr = w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		cancel()
		w.cmd.Wait()
		t.Fatalf("watch did not start:\n%s", w.stderr.String())
	}
	return w
}

// wait waits for watch to end and returns its report and its stderr.
func (w *runningWatch) wait(t *testing.T) (*rules.Report, string) {
	t.Helper()
	err := w.cmd.Wait()
	w.cancel()
	stderr := w.stderr.String()
	if code := w.cmd.ProcessState.ExitCode(); code != exitOK && code != exitFindings {
		t.Fatalf("watch %q: %v\n%s", w.args, err, stderr)
	}
	rep, err := report.ReadJSON(&w.stdout)
	if err != nil {
		t.Fatalf("watch %q: report: %v\nstderr: %s", w.args, err, stderr)
	}
	return rep, stderr
}

// waitWriter keeps what is written and closes seen once want has been
// written. It is safe for concurrent use.
type waitWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (w *waitWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.seen != nil && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return n, err
}

func (w *waitWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// packetsOf counts the packets of a report's only input: used or skipped.
func packetsOf(rep *rules.Report) int64 {
	if len(rep.Inputs) != 1 {
		return -1
	}
	return rep.Inputs[0].Records + rep.Inputs[0].Skipped
}
