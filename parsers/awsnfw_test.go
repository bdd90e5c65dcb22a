package parsers

import (
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

func TestAWSNFW(t *testing.T) {
	text := `{"firewall_name":"fw","availability_zone":"us-east-2a","event_timestamp":"1636381332","event":{"timestamp":"2021-11-08T14:22:12.637611+0000","event_type":"alert","src_ip":"192.0.2.143","src_port":51254,"dest_ip":"203.0.113.57","dest_port":80,"proto":"TCP","alert":{"action":"blocked","signature_id":1000003,"signature":"Deny all other TCP traffic"},"http":{"hostname":"App.GtmHub.com","url":"/api/v1/goals?token=abc","http_method":"GET"}}}
{"firewall_name":"fw","availability_zone":"eu-central-1a","event_timestamp":"1674225318","event":{"app_proto":"tls","src_ip":"192.0.2.61","src_port":5302,"event_type":"alert","alert":{"signature_id":4,"signature":"aws:alert_established action","action":"allowed"},"dest_ip":"203.0.113.156","proto":"TCP","tls":{"sni":"auth.gtmhub.com"},"dest_port":443}}
{"firewall_name":"fw","event_timestamp":"1636395643","event":{"event_type":"netflow","src_ip":"192.0.2.61","src_port":61953,"dest_ip":"203.0.113.156","dest_port":5060,"proto":"UDP","netflow":{"pkts":1}}}
{"firewall_name":"fw","event_timestamp":"1636395643","event":{"event_type":"alert","src_ip":"192.0.2.61","src_port":1,"dest_ip":"203.0.113.156","dest_port":443,"proto":"TCP","alert":{"action":"blocked"},"http":{"hostname":"203.0.113.156"}}}
{"firewall_name":"fw","event":{"event_type":"stats"}}
{"firewall_name":"fw","event":{"event_type":"alert","src_ip":"x","dest_ip":"203.0.113.1"}}
`
	obs, st := readAll(t, awsNFW, text, testRef)
	if st.Records != 4 || st.Failed != 1 || st.SkippedTotal() != 1 {
		t.Fatalf("stats = %+v, want 4 records, 1 skipped, 1 failed", st)
	}
	checkObs(t, &obs[0], "192.0.2.143:51254", "203.0.113.57:80", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny,
		"network firewall fw: alert 1000003 Deny all other TCP traffic: blocked")
	if obs[0].Host != "app.gtmhub.com" || obs[0].HostSource != capture.SourceHTTP || obs[0].Path != "/api/v1/goals?token=REDACTED" {
		t.Errorf("obs[0] host %q (%s) path %q, want app.gtmhub.com (http) and a redacted path", obs[0].Host, obs[0].HostSource, obs[0].Path)
	}
	if obs[0].Time.Unix() != 1636381332 {
		t.Errorf("obs[0].Time = %v, want the event's timestamp", obs[0].Time)
	}
	checkObs(t, &obs[1], "192.0.2.61:5302", "203.0.113.156:443", capture.TCP, capture.OutcomeOK, "", "")
	if obs[1].Host != "auth.gtmhub.com" || obs[1].HostSource != capture.SourceSNI {
		t.Errorf("obs[1] host %q (%s), want auth.gtmhub.com from the SNI", obs[1].Host, obs[1].HostSource)
	}
	if obs[1].Time.Unix() != 1674225318 {
		t.Errorf("obs[1].Time = %v, want event_timestamp", obs[1].Time)
	}
	checkObs(t, &obs[2], "192.0.2.61:61953", "203.0.113.156:5060", capture.UDP, capture.OutcomeUnknown, "", "")
	if obs[3].Host != "" {
		t.Errorf("obs[3].Host = %q: an address is not a name", obs[3].Host)
	}
}

func TestAWSNFWCorpus(t *testing.T) {
	checkCorpusParses(t, awsNFW, "aws-nfw", nil)
}
