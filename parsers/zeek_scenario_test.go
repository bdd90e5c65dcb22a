package parsers

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// auditFiles reads the inputs as one run into a classifier with the
// CLI's default options, as `egress-audit audit` does, and returns its
// report. Captures go through the same path as logs ([ReadFile] routes
// them to capture.Read).
func auditFiles(t *testing.T, paths ...string) *rules.Report {
	t.Helper()
	names, err := Expand(paths)
	if err != nil {
		t.Fatal(err)
	}
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{})
	opts := &Options{}
	for _, name := range names {
		res, err := ReadFile(name, nil, opts, cl.Add)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Failed != 0 {
			t.Errorf("%s: %d records failed: %v", name, res.Stats.Failed, res.Stats.Problems)
		}
	}
	opts.Flush(cl.Add)
	return cl.Report(nil)
}

// TestSensorScenarios audits the Zeek and Suricata logs of the lab's
// scenarios (testdata/sensors) and checks that every call of the catalog
// gets the verdict the lab's capture of the same scenario gives
// (testdata/samples), so that a sensor's view and the packets agree.
func TestSensorScenarios(t *testing.T) {
	samples := filepath.Join("..", "testdata", "samples")
	tests := []struct {
		dir     string
		capture string
	}{
		{"zeek/allowed", "after-token-allowed.pcap"},
		{"zeek/token-dropped", "token-dropped.pcap"},
		{"zeek/token-reset", "token-reset.pcap"},
		{"zeek/token-nxdomain", "token-nxdomain.pcap"},
		{"zeek/tls-interception", "tls-intercepted.pcap"},
		{"zeek-json/allowed", "after-token-allowed.pcap"},
		{"zeek-json/tls-interception", "tls-intercepted.pcap"},
		{"suricata/allowed", "after-token-allowed.pcap"},
		{"suricata/token-dropped", "token-dropped.pcap"},
		{"suricata/token-reset", "token-reset.pcap"},
		{"suricata/token-nxdomain", "token-nxdomain.pcap"},
		{"zeek/proxy-denied", "proxy-denied.pcap"},
		{"zeek/unexpected-egress", "unexpected-egress.pcap"},
		{"zeek/ipv6-only", "ipv6-only.pcapng"},
		{"suricata/proxy-denied", "proxy-denied.pcap"},
		{"suricata/unexpected-egress", "unexpected-egress.pcap"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			want := auditFiles(t, filepath.Join(samples, tc.capture))
			got := auditFiles(t, filepath.Join("..", "testdata", "sensors", tc.dir))
			if len(want.Calls) == 0 || len(got.Calls) != len(want.Calls) {
				t.Fatalf("%d calls, want the %d of %s", len(got.Calls), len(want.Calls), tc.capture)
			}
			for i, w := range want.Calls {
				g := got.Calls[i]
				if g.ID != w.ID || g.Status != w.Status || g.Reason != w.Reason {
					t.Errorf("call %s = %s %q (%s), want %s %s %q as in %s (%s)",
						g.ID, g.Status, g.Reason, g.Detail, w.ID, w.Status, w.Reason, tc.capture, w.Detail)
				}
			}
			if g, w := destinations(got), destinations(want); g != w {
				t.Errorf("destinations:\n%s\nwant, as in %s:\n%s", g, tc.capture, w)
			}
			if got.Datacenter != want.Datacenter {
				t.Errorf("data center = %s, want %s", got.Datacenter, want.Datacenter)
			}
		})
	}
}

// destinations lists a report's destinations, one "class status host:port"
// a line, sorted. The resolver's port 53 is left out: a capture's DNS
// packets are lookups only, while conn.log and flow events also list their
// UDP flow to the resolver.
func destinations(r *rules.Report) string {
	var out []string
	for _, d := range r.Destinations {
		if d.Port == 53 {
			continue
		}
		out = append(out, d.Class+" "+d.Status+" "+d.Host+":"+strconv.Itoa(d.Port))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
