package parsers

import (
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// auditLogs reads each log through [Read] with its format, as the audit
// command does, and returns the report of the embedded catalog for the eu
// data center and the counts of each log.
func auditLogs(t *testing.T, ref time.Time, logs ...logText) (*rules.Report, []capture.Stats) {
	t.Helper()
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{Datacenter: "eu"})
	opts := &Options{Ref: ref}
	var stats []capture.Stats
	for i, l := range logs {
		res, err := Read(strings.NewReader(l.text), "log"+itoa(i)+".log", l.f, opts, func(o *capture.Observation) { cl.Add(o) })
		if err != nil {
			t.Fatalf("Read(%s): %v", l.f.Name, err)
		}
		stats = append(stats, res.Stats)
	}
	return cl.Report(nil), stats
}

// logText is a log's text and its format.
type logText struct {
	f    *Format
	text string
}

// callReport returns the report of the catalog call id.
func callReport(t *testing.T, rep *rules.Report, id string) rules.CallReport {
	t.Helper()
	for _, c := range rep.Calls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no call %s in the report", id)
	return rules.CallReport{}
}

// TestFirewallConnectionReport checks the verdict of a call whose one
// connection a firewall logged twice, opened and then ended: the record of
// its opening must not count as an attempt that got through.
func TestFirewallConnectionReport(t *testing.T) {
	const dnsLog = "Dec  3 09:00:00 dnsmasq[1]: query[A] auth.gtmhub.com from 192.0.2.10\n" +
		"Dec  3 09:00:00 dnsmasq[1]: reply auth.gtmhub.com is 203.0.113.5\n"
	const asaBuilt = "Dec 03 2026 09:00:05 fw : %ASA-6-302013: Built outbound TCP connection 3 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50002 (198.51.100.1/50002)\n"
	const panStart = "Dec  3 09:00:05 PA-220 1,2026/12/03 09:00:05,012801096514,TRAFFIC,start,2049,2026/12/03 09:00:05,192.0.2.10,203.0.113.5,198.51.100.63,203.0.113.5,out_rule,,,incomplete,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send,2026/12/03 09:00:05,22751,1,55113,443,16418,443,0x400053,tcp,allow,74,74,0,1,2026/12/03 09:00:04,0,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,1,0,n-a,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0\n"
	const panEnd = "Dec  3 09:00:35 PA-220 1,2026/12/03 09:00:35,012801096514,TRAFFIC,end,2049,2026/12/03 09:00:35,192.0.2.10,203.0.113.5,198.51.100.63,203.0.113.5,out_rule,,,incomplete,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send,2026/12/03 09:00:35,22751,1,55113,443,16418,443,0x400053,tcp,allow,222,222,0,3,2026/12/03 09:00:04,30,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,3,0,aged-out,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0\n"
	asaTeardown := func(bytes, reason string) string {
		return "Dec 03 2026 09:00:35 fw : %ASA-6-302014: Teardown TCP connection 3 for outside:203.0.113.5/443 to inside:192.0.2.10/50002 duration 0:00:30 bytes " + bytes + " " + reason + "\n"
	}
	tests := []struct {
		name    string
		f       *Format
		log     string
		status  string
		reason  capture.Reason
		detail  string // a part of the call's detail
		records int64
		joined  int64
	}{
		{"asa_syn_timeout", asa, asaBuilt + asaTeardown("0", "SYN Timeout"), rules.StatusBlocked, capture.NoResponse, "1 attempt, blocked", 1, 1},
		{"asa_reset_o", asa, asaBuilt + asaTeardown("0", "TCP Reset-O"), rules.StatusBlocked, capture.Reset, "1 attempt, blocked", 1, 1},
		{"asa_reset_i", asa, asaBuilt + asaTeardown("0", "TCP Reset-I"), rules.StatusBlocked, capture.Reset, "1 attempt, blocked", 1, 1},
		{"asa_fins", asa, asaBuilt + asaTeardown("5120", "TCP FINs"), rules.StatusOK, "", "", 1, 1},
		{"asa_closed_by_inspection", asa, asaBuilt + asaTeardown("0", "Flow closed by inspection"), rules.StatusBlocked, capture.FirewallDeny, "1 attempt, blocked", 1, 1},
		{"asa_url_filter_after_data", asa, asaBuilt + asaTeardown("1820", "Unauth Deny"), rules.StatusBlocked, capture.FirewallDeny, "1 attempt, blocked", 1, 1},
		{"asa_inspection_without_built", asa, asaTeardown("0", "Deny Terminate"), rules.StatusBlocked, capture.FirewallDeny, "1 attempt, blocked", 1, 0},
		{"asa_built_only", asa, asaBuilt, rules.StatusMissing, capture.ReasonNotSeen, "does not show their outcome", 1, 0},
		{"panos_start_end_aged_out", panos, panStart + panEnd, rules.StatusBlocked, capture.NoResponse, "1 attempt, blocked", 1, 1},
		{"panos_start_only", panos, panStart, rules.StatusMissing, capture.ReasonNotSeen, "does not show their outcome", 1, 0},
	}
	ref := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, st := auditLogs(t, ref,
				logText{dnsmasq, dnsLog},
				logText{tc.f, tc.log})
			fw := st[1]
			if fw.Records != tc.records || fw.Skipped[string(SkipJoined)] != tc.joined || fw.Failed != 0 {
				t.Errorf("counts = %d records, %v skipped, %d failed; want %d records, %d joined",
					fw.Records, fw.Skipped, fw.Failed, tc.records, tc.joined)
			}
			c := callReport(t, rep, "oauth-token")
			if c.Status != tc.status || c.Reason != string(tc.reason) || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("oauth-token = %s (%s) %q, want %s (%s) containing %q",
					c.Status, c.Reason, c.Detail, tc.status, tc.reason, tc.detail)
			}
		})
	}
}

// TestASAInboundNotDestination checks that a 106001 message, a packet from
// outside to the inside host, is skipped and lists no destination.
func TestASAInboundNotDestination(t *testing.T) {
	const log = "Dec 03 2026 09:00:37 fw : %ASA-2-106001: Inbound TCP connection denied from 203.0.113.5/443 to 192.0.2.10/50004 flags RST  on interface outside\n" +
		"Dec 03 2026 09:00:36 fw : %ASA-4-106023: Deny tcp src inside:192.0.2.10/50003 dst outside:203.0.113.5/443 by access-group \"inside_out\" [0x0, 0x0]\n"
	rep, st := auditLogs(t, testRef, logText{asa, log})
	if st[0].Records != 1 || st[0].Skipped[string(skipASAInbound)] != 1 {
		t.Errorf("counts = %d records, %v skipped; want 1 record, 1 inbound", st[0].Records, st[0].Skipped)
	}
	if len(rep.Destinations) != 1 || rep.Destinations[0].Port != 443 || rep.Destinations[0].Status != rules.DestBlocked {
		t.Errorf("destinations = %+v, want only 203.0.113.5:443, blocked", rep.Destinations)
	}
}
