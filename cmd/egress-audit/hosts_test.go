package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// TestAuditHosts checks that --hosts names the flows of a server whose
// hosts file pins the catalog's hosts, that a DNS answer in the inputs
// takes over, and that a bad hosts file is told apart from a bad input.
func TestAuditHosts(t *testing.T) {
	samples := filepath.Join("..", "..", "testdata", "samples")
	pinned := filepath.Join(samples, "token-dropped-hosts.pcap")
	withDNS := filepath.Join(samples, "token-dropped.pcap")
	labHosts := filepath.Join("..", "..", "testdata", "lab", "hosts")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	damaged := write("damaged", "203.0.113.10 auth.gtmhub.com\n203.0.113.11\n203.0.113.12 app.gtmhub.com <script>\n")
	config := write("egress-audit.yaml", "hosts: ["+labHosts+"]\n")
	tests := []struct {
		name  string
		args  []string
		code  int
		token string
		// dest is the name of the destination of the SYNs and its mark.
		dest, uncertain string
		note            string // a substring of one note
		stderr          string // a substring of stderr
	}{
		{name: "no_hosts", args: []string{pinned}, code: exitOK, token: "missing:not-seen", dest: "203.0.113.10"},
		{name: "hosts", args: []string{"--hosts", labHosts, pinned}, code: exitOK, token: "blocked:no-response",
			dest: "auth.gtmhub.com", uncertain: "named by hosts file " + labHosts,
			note: "hosts file " + labHosts + " names 6 addresses (6 names) for the flows that carry no name"},
		{name: "config", args: []string{"--config", config, pinned}, code: exitOK, token: "blocked:no-response",
			dest: "auth.gtmhub.com", uncertain: "named by hosts file " + labHosts},
		// The capture's own DNS answer confirms the pinned name.
		{name: "dns_answer", args: []string{"--hosts", labHosts, withDNS}, code: exitOK, token: "blocked:no-response",
			dest: "auth.gtmhub.com"},
		{name: "damaged", args: []string{"--hosts", damaged, pinned}, code: exitOK, token: "blocked:no-response",
			dest: "auth.gtmhub.com", uncertain: "named by hosts file " + damaged,
			note:   "names 1 address (1 name) for the flows that carry no name (marked \"named by hosts file " + damaged + "\"); 2 lines could not be read, the first: " + damaged + ":2: hosts: address 203.0.113.11 without a name",
			stderr: "skipped malformed hosts file lines"},
		{name: "missing", args: []string{"--hosts", filepath.Join(dir, "nosuch"), pinned}, code: exitUsage,
			stderr: "hosts: open " + filepath.Join(dir, "nosuch") + ": no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"audit", "-o", "json", "--fail-on", "none"}, tc.args...)
			res := runCLI(t, piped, "", args...)
			if res.code != tc.code {
				t.Fatalf("audit %q = %d, want %d\nstderr: %s", tc.args, res.code, tc.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.stderr) {
				t.Errorf("stderr %q, want %q in it", res.stderr, tc.stderr)
			}
			if tc.code != exitOK {
				return
			}
			rep := readReport(t, res.stdout)
			if got := callVerdicts(rep)["oauth-token"]; got != tc.token {
				t.Errorf("oauth-token = %q, want %q", got, tc.token)
			}
			i := slices.IndexFunc(rep.Destinations, func(d rules.Destination) bool { return d.Port == 443 })
			if i < 0 {
				t.Fatalf("no destination on port 443: %+v", rep.Destinations)
			}
			if d := rep.Destinations[i]; d.Host != tc.dest || d.Uncertain != tc.uncertain {
				t.Errorf("destination %s (uncertain %q), want %s (uncertain %q)", d.Host, d.Uncertain, tc.dest, tc.uncertain)
			}
			if tc.note != "" && !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q, want one with %q", rep.Notes, tc.note)
			}
			hostsNoted := slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "hosts file ") })
			if want := slices.Contains(tc.args, "--hosts") || tc.name == "config"; hostsNoted != want {
				t.Errorf("notes %q: a note on the hosts file %v, want %v", rep.Notes, hostsNoted, want)
			}
		})
	}
}
