package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWatchWithoutPrivilege runs the real command as an unprivileged user on
// the loopback interface: the kernel refuses the capture socket, and the
// command must say which capability is missing and how to get it.
func TestWatchWithoutPrivilege(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("watch without privilege: needs root, to drop it")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("watch without privilege: needs setpriv (util-linux)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "egress-audit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=-all", "--bounding-set=-all",
		bin, "watch", "-i", "lo", "--duration", "1s")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
		t.Fatalf("watch as nobody: %v, want exit code %d; stderr %q", err, exitUsage, stderr.String())
	}
	for _, want := range []string{"CAP_NET_RAW", "setcap cap_net_raw+ep", "sudo"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
