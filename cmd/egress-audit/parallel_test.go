package main

import (
	"path/filepath"
	"runtime"
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
		"captures":                   {"allowed.pcap", "allowed-us.pcap", "ipv6-only.pcapng", "tls-intercepted.pcap"},
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
