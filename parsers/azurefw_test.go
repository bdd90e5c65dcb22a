package parsers

import (
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestAzureFW(t *testing.T) {
	text := `{"records":[
{"category":"AzureFirewallApplicationRule","operationName":"AzureFirewallApplicationRuleLog","properties":{"msg":"HTTPS request from 10.0.0.4:49553 to auth.gtmhub.com:443. Action: Deny. Policy: p1. Rule Collection Group: g. Rule Collection: web. Rule: default-deny"},"time":"2024-05-01T10:00:00.1234567Z"},
{"category":"AzureFirewallNetworkRule","properties":{"msg":"TCP request from 10.0.0.4:50306 to 203.0.113.156:443. Action: Allow.. Rule Collection: out. Rule: https"},"time":"2024-05-01T10:00:01Z"},
{"category":"AzureFirewallNetworkRule","properties":{"msg":"ICMP Type=8 request from 10.0.0.4 to 203.0.113.156. Action: Deny. "},"time":"2024-05-01T10:00:02Z"},
{"category":"AzureFirewallNetworkRule","properties":{"msg":"TCP request from 198.51.100.2:50306 to 203.0.113.156:3389 was DNAT'ed to 10.0.0.2:3389"},"time":"2024-05-01T10:00:03Z"},
{"category":"AzureFirewallNetworkRule","properties":{"msg":"HTTP request from 10.0.0.4:54314 to ocsp.example.com:80. Url: ocsp.example.com/status?code=abc. Action: Deny. ThreatIntel: Bot Networks"},"time":"2024-05-01T10:00:04Z"}
]}
{"category":"AZFWApplicationRule","properties":{"Action":"Deny","DestinationPort":443,"Fqdn":"App.GtmHub.com","Protocol":"HTTPS","Rule":"r","RuleCollection":"c","Policy":"p","SourceIp":"10.0.0.4","SourcePort":59956,"TargetUrl":""},"time":"2025-11-26T14:16:47.139739+00:00"}
{"category":"AZFWNetworkRule","properties":{"Action":"Allow","DestinationIp":"203.0.113.7","DestinationPort":"443","Protocol":"TCP","SourceIp":"10.0.0.4","SourcePort":1234},"time":"2025-11-26T14:16:47Z"}
{"TimeGenerated":"2025-11-26T14:16:47Z","Type":"AZFWApplicationRule","Action":"Allow","SourceIp":"10.0.0.5","SourcePort":1,"DestinationPort":443,"Fqdn":"api.example.com","Protocol":"HTTPS"}
{"category":"AZFWDnsQuery","properties":{"QueryName":"x.example."},"time":"2025-11-26T14:16:47Z"}
`
	obs, st := readAll(t, azureFW, text, testRef)
	if st.Records != 7 || st.SkippedTotal() != 2 || st.Failed != 0 {
		t.Fatalf("stats = %+v, want 7 records and 2 skipped", st)
	}
	tests := []struct {
		client, server string
		tr             capture.Transport
		outcome        capture.Outcome
		reason         capture.Reason
		detail         string
		host           string
		source         capture.HostSource
		path           string
		line           int64
	}{
		{"10.0.0.4:49553", "invalid AddrPort", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny,
			"azure firewall / Policy p1 / Rule Collection Group g / Rule Collection web / Rule default-deny: deny",
			"auth.gtmhub.com", capture.SourceSNI, "", 2},
		{"10.0.0.4:50306", "203.0.113.156:443", capture.TCP, capture.OutcomeOK, "",
			"azure firewall / Rule Collection out / Rule https: allow", "", "", "", 3},
		{"10.0.0.4:0", "203.0.113.156:0", capture.ICMP, capture.OutcomeBlocked, capture.FirewallDeny, "azure firewall: deny", "", "", "", 4},
		{"10.0.0.4:54314", "invalid AddrPort", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny,
			"azure firewall / ThreatIntel Bot Networks: deny", "ocsp.example.com", capture.SourceURL, "/status?code=REDACTED", 6},
		{"10.0.0.4:59956", "invalid AddrPort", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny,
			"azure firewall AZFWApplicationRule / p / c / r: deny", "app.gtmhub.com", capture.SourceSNI, "", 8},
		{"10.0.0.4:1234", "203.0.113.7:443", capture.TCP, capture.OutcomeOK, "", "", "", "", "", 9},
		{"10.0.0.5:1", "invalid AddrPort", capture.TCP, capture.OutcomeOK, "", "", "api.example.com", capture.SourceSNI, "", 10},
	}
	for i, w := range tests {
		o := &obs[i]
		checkObs(t, o, w.client, w.server, w.tr, w.outcome, w.reason, w.detail)
		if o.Host != w.host || o.HostSource != w.source || o.Path != w.path {
			t.Errorf("obs[%d] host %q (%s) path %q, want %q (%s) %q", i, o.Host, o.HostSource, o.Path, w.host, w.source, w.path)
		}
		if o.Locator.N != w.line {
			t.Errorf("obs[%d] at %s, want line %d", i, o.Locator, w.line)
		}
	}
	if obs[0].Time.IsZero() || obs[0].Time.Nanosecond() != 123456700 {
		t.Errorf("obs[0].Time = %v, want 10:00:00.1234567Z", obs[0].Time)
	}
}

// TestAzureFWTimeWithoutZone: a time without zone is UTC, as Azure writes
// all its times (found by FuzzReadCloudLog, which made it panic).
func TestAzureFWTimeWithoutZone(t *testing.T) {
	obs, st := readAll(t, azureFW, `{"category":"AZFWNetworkRule","properties":{"Action":"Deny","DestinationIp":"203.0.113.7","DestinationPort":443,"Protocol":"TCP","SourceIp":"10.0.0.4","SourcePort":1},"time":"2025-11-26T14:16:47"}`, testRef)
	if st.Records != 1 || !obs[0].Time.Equal(time.Date(2025, 11, 26, 14, 16, 47, 0, time.UTC)) {
		t.Errorf("stats %+v, observations %+v, want one at 14:16:47 UTC", st, obs)
	}
}

func TestAzureFWCorpus(t *testing.T) {
	checkCorpusParses(t, azureFW, "azure-fw", nil)
}
