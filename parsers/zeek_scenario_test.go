package parsers

import (
	"path/filepath"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// TestSensorScenarios audits the Zeek and Suricata logs of the lab's
// scenarios (testdata/sensors) and checks that the OAuth token exchange
// gets the verdict a capture of the same scenario gives.
func TestSensorScenarios(t *testing.T) {
	tests := []struct {
		dir    string
		status string
		reason capture.Reason
	}{
		{"zeek/allowed", rules.StatusOK, ""},
		{"zeek/token-dropped", rules.StatusBlocked, capture.NoResponse},
		{"zeek/token-reset", rules.StatusBlocked, capture.Reset},
		{"zeek/token-nxdomain", rules.StatusBlocked, capture.DNSNXDomain},
		{"zeek/tls-interception", rules.StatusBlocked, capture.TLSInterception},
		{"zeek-json/allowed", rules.StatusOK, ""},
		{"zeek-json/tls-interception", rules.StatusBlocked, capture.TLSInterception},
		{"suricata/allowed", rules.StatusOK, ""},
		{"suricata/token-dropped", rules.StatusBlocked, capture.NoResponse},
		{"suricata/token-reset", rules.StatusBlocked, capture.Reset},
		{"suricata/token-nxdomain", rules.StatusBlocked, capture.DNSNXDomain},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "sensors", tc.dir)
			names, err := Expand([]string{dir})
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
			rep := cl.Report(nil)
			var token *rules.CallReport
			for i := range rep.Calls {
				if rep.Calls[i].ID == "oauth-token" {
					token = &rep.Calls[i]
				}
			}
			if token == nil {
				t.Fatal("no oauth-token call in the report")
			}
			if token.Status != tc.status || token.Reason != string(tc.reason) {
				t.Errorf("oauth-token = %s %q, want %s %q (%s)", token.Status, token.Reason, tc.status, tc.reason, token.Detail)
			}
			if rep.Datacenter != "eu" {
				t.Errorf("data center = %s, want eu", rep.Datacenter)
			}
		})
	}
}
