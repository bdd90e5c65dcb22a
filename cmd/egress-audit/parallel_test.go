package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestAuditParallelEqualsSequential audits several inputs on two cores,
// where each is read on a goroutine of its own, and on one core, where they
// are read one after the other: the reports must be the same.
func TestAuditParallelEqualsSequential(t *testing.T) {
	samples := filepath.Join("..", "..", "testdata", "samples")
	sets := map[string][]string{
		"capture_and_logs":           {"token-dropped.pcap", "token-dropped-netfilter.log", "token-dropped-dnsmasq.log", "proxy-denied-squid.log"},
		"firewall_named_by_resolver": {"unexpected-egress-netfilter.log", "unexpected-egress-dnsmasq.log"},
		"captures":                   {"after-token-allowed.pcap", "allowed-us.pcap", "ipv6-only.pcapng", "tls-intercepted.pcap"},
	}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			args := []string{"audit", "-o", "json", "--timezone", "UTC"}
			for _, f := range files {
				args = append(args, filepath.Join(samples, f))
			}
			prev := runtime.GOMAXPROCS(1)
			one := runWith(t, nil, "", args...)
			runtime.GOMAXPROCS(2)
			two := runWith(t, nil, "", args...)
			runtime.GOMAXPROCS(prev)
			if one.code != two.code || one.stdout != two.stdout {
				t.Errorf("reports differ between one core (exit %d) and two (exit %d):\n--- one\n%s\n--- two\n%s",
					one.code, two.code, one.stdout, two.stdout)
			}
		})
	}
}

// TestAuditParallelProgress reads several inputs in parallel on a
// terminal: one bar counts them all, and is cleared at the end, so that
// the report on stdout is what it is without it.
func TestAuditParallelProgress(t *testing.T) {
	samples := filepath.Join("..", "..", "testdata", "samples")
	args := []string{"audit", "-o", "json", "--timezone", "UTC"}
	for _, f := range []string{"after-token-allowed.pcap", "allowed-us.pcap", "tls-intercepted.pcap"} {
		args = append(args, filepath.Join(samples, f))
	}
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	tty := runCLI(t, fakeTerm{stderrTTY: true, width: 100}, "", args...)
	quiet := runCLI(t, fakeTerm{stderrTTY: true, width: 100}, "", append(args, "-q")...)
	if tty.stdout != quiet.stdout || tty.code != quiet.code {
		t.Errorf("the report differs with the bar (exit %d) and without (exit %d)", tty.code, quiet.code)
	}
	if !strings.Contains(tty.stderr, "\r\x1b[Kreading 3 inputs [") || !strings.HasSuffix(tty.stderr, "\r\x1b[K") ||
		!strings.Contains(tty.stderr, "100%") {
		t.Errorf("stderr %q: want one bar for the 3 inputs, up to 100%%, cleared at the end", tty.stderr)
	}
	if strings.Contains(quiet.stderr, "reading") {
		t.Errorf("-q: stderr %q, want no bar", quiet.stderr)
	}
}
