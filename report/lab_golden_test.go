package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/rules"
)

// labScenarios are reports of the network lab's kept samples: real
// captures and logs of real clients, resolvers, proxies and firewalls.
var labScenarios = []struct {
	name   string
	opts   rules.Options
	inputs []string
}{
	{"lab_token_dropped", rules.Options{}, []string{"token-dropped.pcap"}},
	{"lab_proxy_denied", rules.Options{}, []string{"proxy-denied-squid.log"}},
	{"lab_tls_intercepted", rules.Options{}, []string{"tls-intercepted.pcap"}},
	{"lab_unexpected_egress", rules.Options{Known: []string{"*.example.net"}}, []string{"unexpected-egress-netfilter.log", "unexpected-egress-dnsmasq.log"}},
	{"lab_other_datacenter", rules.Options{Datacenter: "us"}, []string{"token-reset.pcap"}},
}

// labReport audits the named samples as the audit command does.
func labReport(t *testing.T, opts rules.Options, inputs []string) *rules.Report {
	t.Helper()
	cl := rules.NewClassifier(rules.DefaultCatalog(), opts)
	popts := &parsers.Options{}
	var ins []rules.InputReport
	for _, name := range inputs {
		path := filepath.Join("..", "testdata", "samples", name)
		res, err := parsers.ReadFile(path, nil, popts, func(o *capture.Observation) {
			o.Input = name // paths in goldens do not depend on the working directory
			cl.Add(o)
		})
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, rules.InputReport{
			Path: name, Format: res.Stats.Format, SHA256: res.SHA256,
			Records: res.Stats.Records, Skipped: res.Stats.SkippedTotal(), Errors: res.Stats.Failed,
			Reasons: res.Stats.Skipped,
		})
	}
	popts.Flush(cl.Add)
	return cl.Report(ins)
}

// TestLabGoldenReports renders every form of the lab's reports; the
// allow-lists made from them are among the cases of TestGoldenAllowLists.
func TestLabGoldenReports(t *testing.T) {
	for _, s := range labScenarios {
		rep := labReport(t, s.opts, s.inputs)
		for _, w := range writers {
			t.Run(s.name+"."+w.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, rep); err != nil {
					t.Fatalf("write: %v", err)
				}
				golden(t, s.name+"."+w.ext, buf.Bytes())
			})
		}
	}
}
