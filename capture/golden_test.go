package capture_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// TestGoldenReports audits each lab capture of testdata/captures with the
// default catalog and compares the JSON report with testdata/golden.
// Regenerate with: go test ./capture -run Golden -update
func TestGoldenReports(t *testing.T) {
	files, _ := filepath.Glob("../testdata/captures/*.pcap*")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{})
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := parsers.Read(f, base, nil, &parsers.Options{}, cl.Add)
			if err != nil {
				t.Fatal(err)
			}
			st := &res.Stats
			in := rules.InputReport{
				Path: base, Format: st.Format, SHA256: res.SHA256,
				Records: st.Records, Skipped: st.SkippedTotal(), Errors: st.Failed,
				Reasons: st.Skipped, Truncated: st.Truncated,
			}
			var got bytes.Buffer
			if err := report.JSON(&got, cl.Report([]rules.InputReport{in})); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("../testdata/golden", "capture_"+strings.ReplaceAll(base, ".", "_")+".json")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("report of %s differs from %s; run go test ./capture -run Golden -update and review the diff", base, golden)
			}
		})
	}
}

// TestLabCaptureOutcomes checks the lab capture's observations one by one:
// each scenario make.sh plays gives the outcome it was built to show.
func TestLabCaptureOutcomes(t *testing.T) {
	f, err := os.Open("../testdata/captures/lab_egress.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]string{}
	var st capture.Stats
	err = capture.Read(f, "lab_egress.pcap", nil, &st, func(o *capture.Observation) {
		server := o.Server.String()
		if !o.Server.Addr().IsValid() {
			server = fmt.Sprintf(":%d", o.Server.Port())
		}
		key := o.Kind.String() + " " + o.Host + " " + string(o.HostSource) + " " + server
		got[key] = string(o.Outcome) + " " + string(o.Reason)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"lookup app.gtmhub.com dns 198.51.100.53:53":     "ok ",
		"lookup missing.gtmhub.com dns 198.51.100.53:53": "blocked dns-nxdomain",
		"connection app.gtmhub.com sni 203.0.113.5:443":  "ok ",
		"connection app.gtmhub.com sni 203.0.113.5:8444": "blocked tls-interception",
		"connection app.gtmhub.com dns 203.0.113.5:8443": "blocked reset",
		"connection app.gtmhub.com http 203.0.113.5:80":  "ok ",
		"connection auth.gtmhub.com connect :443":        "blocked proxy-auth-required",
		"connection app.gtmhub.com connect :443":         "ok ",
		"connection app.gtmhub.com sni :443":             "ok ",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: outcome %q, want %q", k, got[k], w)
		}
	}
	if st.Failed != 0 || st.SkippedTotal() != 0 {
		t.Errorf("failed %d, skipped %v; want every packet read", st.Failed, st.Skipped)
	}
}
