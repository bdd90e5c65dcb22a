package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestGCPFW(t *testing.T) {
	text := `[
  {
    "jsonPayload": {
      "connection": {"dest_ip": "203.0.113.16", "dest_port": 443, "protocol": 6, "src_ip": "10.128.0.10", "src_port": 57794},
      "disposition": "DENIED",
      "rule_details": {"action": "DENY", "direction": "EGRESS", "priority": 1000, "reference": "network:default/firewall:deny-saas"}
    },
    "timestamp": "2019-11-06T16:41:38.394575419Z"
  },
  {"jsonPayload": {"connection": {"dest_ip": "203.0.113.17", "dest_port": 443, "protocol": "tcp", "src_ip": "10.128.0.10", "src_port": 1}, "disposition": "ALLOWED"}, "timestamp": "2019-11-06T16:41:39Z"},
  {"jsonPayload": {"message": "not a firewall entry"}},
  {"jsonPayload": {"connection": {"dest_ip": "nope", "src_ip": "10.128.0.10"}, "disposition": "ALLOWED"}}
]`
	obs, st := readAll(t, gcpFW, text, testRef)
	if st.Records != 2 || st.SkippedTotal() != 1 || st.Failed != 1 {
		t.Fatalf("stats = %+v, want 2 records, 1 skipped, 1 failed", st)
	}
	checkObs(t, &obs[0], "10.128.0.10:57794", "203.0.113.16:443", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny,
		"gcp firewall rule deny-saas (egress, priority 1000): denied")
	if want := time.Date(2019, 11, 6, 16, 41, 38, 394575419, time.UTC); !obs[0].Time.Equal(want) {
		t.Errorf("Time = %v, want %v", obs[0].Time, want)
	}
	if obs[0].Locator.N != 2 || obs[1].Locator.N != 10 {
		t.Errorf("locators %s, %s, want lines 2 and 10", obs[0].Locator, obs[1].Locator)
	}
	checkObs(t, &obs[1], "10.128.0.10:1", "203.0.113.17:443", capture.TCP, capture.OutcomeOK, "", "")
}

// TestGCPFWCorpusLines checks the line locators in the corpus sample, a
// pretty-printed document wrapping two entries.
func TestGCPFWCorpusLines(t *testing.T) {
	dir := corpusDir(t, "gcp-fw")
	f, err := os.Open(filepath.Join(dir, "elastic-integrations-gcp-firewall-test-firewall-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []int64
	res, err := Read(f, "gcp.json", gcpFW, &Options{}, func(o *capture.Observation) { lines = append(lines, o.Locator.N) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Records != 2 || len(lines) != 2 || lines[0] != 4 || lines[1] != 74 {
		t.Errorf("records %d at lines %v, want 2 at lines 4 and 74", res.Stats.Records, lines)
	}
}

func TestGCPFWTruncated(t *testing.T) {
	_, st := readAll(t, gcpFW, `[{"jsonPayload": {"connection": {"dest_ip": "203.0.113.16", "dest_port": 443`, testRef)
	if st.Failed != 1 || st.Truncated == "" {
		t.Errorf("stats = %+v, want one failure and a truncation", st)
	}
}

// FuzzReadCloudLog drives the JSON formats through the whole reader:
// documents, JSON lines and wrappers. Every observation must satisfy the
// firewall properties, and the counts must add up to what was reported.
func FuzzReadCloudLog(f *testing.F) {
	// Each seed names its format, so that every parser starts from records
	// of its own.
	const (
		nfw = iota
		azure
		gcp
	)
	formats := []*Format{nfw: awsNFW, azure: azureFW, gcp: gcpFW}
	seeds := []struct {
		format int
		doc    string
	}{
		{nfw, `{"firewall_name":"fw","event_timestamp":"1636381332","event":{"timestamp":"2021-11-08T14:22:12.637611+0000","event_type":"alert","src_ip":"192.0.2.143","src_port":51254,"dest_ip":"203.0.113.57","dest_port":80,"proto":"TCP","alert":{"action":"blocked","signature_id":1},"tls":{"sni":"auth.gtmhub.com"}}}`},
		{azure, `{"records":[{"category":"AzureFirewallApplicationRule","properties":{"msg":"HTTPS request from 10.0.0.4:49553 to auth.gtmhub.com:443. Action: Deny. Rule: r"},"time":"2024-05-01T10:00:00Z"}]}`},
		{azure, `{"category":"AZFWApplicationRule","properties":{"Action":"Deny","DestinationPort":443,"Fqdn":"App.GtmHub.com","Protocol":"HTTPS","SourceIp":"10.0.0.4","SourcePort":59956,"TargetUrl":"https://a.example/x?code=1"},"time":"2025-11-26T14:16:47.139739+00:00"}`},
		{gcp, "[\n {\"jsonPayload\": {\"connection\": {\"dest_ip\": \"203.0.113.16\", \"dest_port\": 443, \"protocol\": 6, \"src_ip\": \"10.128.0.10\", \"src_port\": 1}, \"disposition\": \"DENIED\"}, \"timestamp\": \"2019-11-06T16:41:38Z\"}\n]"},
		{gcp, `{"events":[{"json":{"jsonPayload":{"connection":{"dest_ip":"203.0.113.16","src_ip":"10.0.0.1"},"disposition":"ALLOWED"}}}]}`},
	}
	for _, s := range seeds {
		res, err := Read(strings.NewReader(s.doc), "seed.json", formats[s.format], &Options{Ref: testRef}, func(*capture.Observation) {})
		if err != nil || res.Stats.Records == 0 {
			f.Fatalf("seed %q read as %s: %+v, %v; want records", s.doc, formats[s.format].Name, res, err)
		}
		f.Add(byte(s.format), s.doc)
	}
	f.Fuzz(func(t *testing.T, which byte, doc string) {
		fm := formats[int(which)%len(formats)]
		var n int64
		res, err := Read(strings.NewReader(doc), "fuzz.json", fm, &Options{Ref: testRef}, func(o *capture.Observation) {
			n++
			checkFirewallObservation(t, fm.Name, doc, o)
			if o.Locator.N < 1 || o.Locator.N > int64(strings.Count(doc, "\n"))+1 {
				t.Fatalf("%s %q: locator %s outside the document", fm.Name, doc, o.Locator)
			}
		})
		if err != nil {
			return
		}
		if res.Stats.Records != n {
			t.Fatalf("%s %q: %d records counted, %d emitted", fm.Name, doc, res.Stats.Records, n)
		}
	})
}
