package parsers

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

func TestPfsense(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		skip    Skip
		client  string
		server  string
		tr      capture.Transport
		outcome capture.Outcome
		reason  capture.Reason
		detail  string
	}{
		{
			name:   "bsd_tcp_block",
			line:   "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,192.0.2.50,203.0.113.1,49724,443,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale",
			client: "192.0.2.50:49724", server: "203.0.113.1:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
			detail: "rule 146 tracker 1535324496 on igb1.12 in: block",
		},
		{
			name:   "rfc5424_udp_pass",
			line:   "<134>1 2021-07-03T19:10:14.578333-05:00 pfSense.example.com filterlog 72237 - - 115,,,1534283903,igb1.27,match,pass,in,4,0x0,,63,29559,0,DF,17,udp,69,192.0.2.50,198.51.100.1,52797,53,49",
			client: "192.0.2.50:52797", server: "198.51.100.1:53", tr: capture.UDP, outcome: capture.OutcomeOK,
		},
		{
			name:   "ipv6_tcp_reject_is_reset",
			line:   "<134>1 2025-11-06T11:42:14.270789+00:00 fw filterlog 92653 - - 621,,,1644355515,vtnet0.10,match,reject,out,6,0x00,0x07c63,64,TCP,6,44,2001:db8::10,2001:db8:5::6,65382,443,0,S,1927530165,,0,,mss",
			client: "[2001:db8::10]:65382", server: "[2001:db8:5::6]:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset,
		},
		{
			name:   "icmp_pass",
			line:   "<134>Jul  4 11:10:45 filterlog[72237]: 176,,,1520797901,igb1.10,match,pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,192.0.2.30,203.0.113.105,request,37728,164",
			client: "192.0.2.30:0", server: "203.0.113.105:0", tr: capture.ICMP, outcome: capture.OutcomeOK,
		},
		{
			name: "udp_reject_is_deny", line: "Sep 28 10:38:09 pfSense filterlog: 53,,,1000000301,em0,match,reject,in,4,0x0,,64,420,0,none,17,udp,460,192.0.2.2,203.0.113.15,53742,53,420",
			client: "192.0.2.2:53742", server: "203.0.113.15:53", tr: capture.UDP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
		},
		{
			name: "multicast_skipped", skip: SkipMulticast,
			line:   "<134>Jul  3 19:10:33 filterlog[72237]: 199,,,1557957510,igb1.12,match,pass,in,4,0xc0,,1,0,0,DF,2,igmp,32,192.0.2.17,239.255.255.250,datalength=8",
			client: "192.0.2.17:0", server: "239.255.255.250:0", outcome: capture.OutcomeOK,
		},
		{name: "other_program", line: "Jul  3 19:10:33 pfSense unbound[1]: info: reply", skip: SkipNotFirewall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o capture.Observation
			err := pfsense.NewLine(&Options{Ref: testRef}).ParseLine([]byte(tc.line), &o)
			var skip Skip
			if errors.As(err, &skip) {
				if skip != tc.skip {
					t.Fatalf("ParseLine = skip %q, want %q", skip, tc.skip)
				}
				if tc.client == "" {
					return
				}
			} else if err != nil || tc.skip != "" {
				t.Fatalf("ParseLine = %v, want skip %q", err, tc.skip)
			}
			checkObs(t, &o, tc.client, tc.server, tc.tr, tc.outcome, tc.reason, tc.detail)
		})
	}
}

func TestPfsenseErrors(t *testing.T) {
	for _, line := range []string{
		"Jul  3 19:10:30 filterlog[1]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617",
		"Jul  3 19:10:30 filterlog[1]: 146,,,1535324496,igb1.12,match,block,in,5,0x0,,63,12617,0,DF,6,tcp,60,1.2.3.4,5.6.7.8,1,2",
		"Jul  3 19:10:30 filterlog[1]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,1.2.3,5.6.7.8,1,2",
		"Jul  3 19:10:30 filterlog[1]: garbage",
	} {
		var o capture.Observation
		err := pfsense.NewLine(&Options{}).ParseLine([]byte(line), &o)
		var skip Skip
		if err == nil || errors.As(err, &skip) {
			t.Errorf("ParseLine(%q) = %v, want an error", line, err)
		}
	}
}

// TestPfsenseCorpusExpected asserts addresses, port and action against the
// crowdsec parser assertions of the samples that have them.
func TestPfsenseCorpusExpected(t *testing.T) {
	dir := corpusDir(t, "pfsense")
	for _, name := range []string{"crowdsec-pf-logs"} {
		want := crowdsecParsed(t, filepath.Join(dir, name+".parser-assert.expected.txt"), "s01-parse")
		obs, errs := readCorpusLines(t, pfsense, filepath.Join(dir, name+".log"), testRef)
		if len(want) == 0 {
			t.Fatalf("%s: no assertions read", name)
		}
		for i, w := range want {
			if w["src_ip"] == "" {
				continue
			}
			o := obs[i]
			if o == nil {
				t.Errorf("%s line %d: %v", name, i+1, errs[i])
				continue
			}
			if o.Client.Addr().String() != w["src_ip"] || o.Server.Addr().String() != w["dst_ip"] {
				t.Errorf("%s line %d: %v -> %v, want %s -> %s", name, i+1, o.Client, o.Server, w["src_ip"], w["dst_ip"])
			}
			if p := w["dst_port"]; p != "" && strconv.Itoa(int(o.Server.Port())) != p {
				t.Errorf("%s line %d: port %d, want %s", name, i+1, o.Server.Port(), p)
			}
			blocked := w["action"] == "block" || w["action"] == "reject"
			if (o.Outcome == capture.OutcomeBlocked) != blocked {
				t.Errorf("%s line %d: outcome %s, want action %s", name, i+1, o.Outcome, w["action"])
			}
		}
	}
}

// TestPfsenseCorpusSyslog asserts that the syslog header is stripped where
// the crowdsec assertions give the message.
func TestPfsenseCorpusSyslog(t *testing.T) {
	dir := corpusDir(t, "pfsense")
	name := "crowdsec-pfsense-rfc5424-filterlog"
	want := crowdsecParsed(t, filepath.Join(dir, name+".parser-assert.expected.txt"), "s02-enrich")
	b, err := os.ReadFile(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(want) == 0 {
		t.Fatal("no assertions read")
	}
	for i, w := range want {
		h := ParseSyslog([]byte(lines[i]), nil, testRef)
		if string(h.Msg) != w["message"] || string(h.Program) != w["program"] {
			t.Errorf("line %d: ParseSyslog = %q %q, want %q %q", i+1, h.Program, h.Msg, w["program"], w["message"])
		}
	}
}

func TestPfsenseCorpus(t *testing.T) {
	// An OPNsense IPv6 router solicitation to ff02::1:2.
	checkCorpusParses(t, pfsense, "pfsense", map[string][]Skip{
		"elastic-integrations-pfsense-test-opensense-transport-dash.log": {SkipMulticast},
	})
}

// TestPfsenseRepeats checks that a blocked connect, which filterlog logs
// once per resent SYN, counts one attempt, and that the call it was is
// reported blocked after one attempt.
func TestPfsenseRepeats(t *testing.T) {
	line := func(at, action string, sport int) string {
		return "<134>Dec  3 " + at + " filterlog[72237]: 146,,,1535324496,igb1,match," + action +
			",in,4,0x0,,63,12617,0,DF,6,tcp,60,192.0.2.10,203.0.113.5," + itoa(sport) + ",443,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale\n"
	}
	resent := line("09:00:05", "block", 50002) + line("09:00:06", "block", 50002) +
		line("09:00:08", "block", 50002) + line("09:00:12", "block", 50002)
	checkRepeats(t, pfsense, []repeatCase{
		{"syn_resent_1_2_4_s", resent, 1},
		{"gap_longer_than_resends", line("09:00:05", "block", 50002) + line("09:01:05", "block", 50002), 2},
		{"other_source_port", line("09:00:05", "block", 50002) + line("09:00:06", "block", 50003), 2},
		{"reject_after_block", line("09:00:05", "block", 50002) + line("09:00:06", "reject", 50002), 2},
	})

	const dnsLog = "Dec  3 09:00:00 dnsmasq[1]: query[A] auth.gtmhub.com from 192.0.2.10\n" +
		"Dec  3 09:00:00 dnsmasq[1]: reply auth.gtmhub.com is 203.0.113.5\n"
	rep, _ := auditLogs(t, time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
		logText{dnsmasq, dnsLog},
		logText{pfsense, resent})
	c := callReport(t, rep, "oauth-token")
	if c.Status != rules.StatusBlocked || c.Reason != string(capture.FirewallDeny) || !strings.Contains(c.Detail, "(1 attempt, blocked)") {
		t.Errorf("oauth-token = %s (%s) %q, want blocked (firewall-deny), 1 attempt", c.Status, c.Reason, c.Detail)
	}
}
