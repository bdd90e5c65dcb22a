package parsers

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

var testRef = time.Date(2024, 12, 31, 12, 0, 0, 0, time.UTC)

func TestNetfilter(t *testing.T) {
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
			name:   "nft_output_drop",
			line:   "Dec  3 19:01:02 jira kernel: [ 812.001] egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=50000 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0",
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "egress DROP",
		},
		{
			name:   "forward_accept_edgeos",
			line:   "Jan  5 20:17:01 gw kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 SRC=192.0.2.7 DST=198.51.100.25 LEN=52 PROTO=TCP SPT=43189 DPT=443 WINDOW=159 RES=0x00 ACK PSH URGP=0",
			client: "192.0.2.7:43189", server: "198.51.100.25:443", tr: capture.TCP,
			outcome: capture.OutcomeOK, detail: "[WAN_OUT-2000-A]",
		},
		{
			name:   "edgeos_drop",
			line:   "Jan  5 20:17:01 gw kernel: [source-dest-default-D]IN=eth0 OUT=eth2 SRC=192.0.2.7 DST=198.51.100.25 PROTO=TCP SPT=1 DPT=1443",
			client: "192.0.2.7:1", server: "198.51.100.25:1443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "[source-dest-default-D]",
		},
		{
			name:   "reject_reset_word",
			line:   "Dec  3 19:01:02 fw kernel: REJECT-RST IN=eth1 OUT=eth0 SRC=192.0.2.7 DST=198.51.100.25 PROTO=TCP SPT=1 DPT=443 SYN",
			client: "192.0.2.7:1", server: "198.51.100.25:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset, detail: "REJECT-RST",
		},
		{
			name:   "no_verdict_word",
			line:   "Feb  4 23:33:37 h kernel: FIREWALL_OUT IN= OUT=eth0 SRC=192.0.2.57 DST=203.0.113.225 PROTO=TCP SPT=46388 DPT=37628",
			client: "192.0.2.57:46388", server: "203.0.113.225:37628", tr: capture.TCP,
			outcome: capture.OutcomeUnknown, detail: "FIREWALL_OUT",
		},
		{
			name:   "host_less_prefix_as_tag",
			line:   "Jan  8 03:37:09 DENY: IN= OUT=eth0 SRC=192.0.2.1 DST=203.0.113.9 PROTO=UDP SPT=5 DPT=53",
			client: "192.0.2.1:5", server: "203.0.113.9:53", tr: capture.UDP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "DENY",
		},
		{
			name:   "ulogd_logemu",
			line:   "Dec  3 19:01:02 jira block-out IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=UDP SPT=40000 DPT=443",
			client: "192.0.2.10:40000", server: "203.0.113.5:443", tr: capture.UDP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "block-out",
		},
		{
			name:   "ipv6",
			line:   "Jan 15 11:21:13 h kernel: v6 ACCEPT IN=eth0 OUT=eth1 SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:db8::2 LEN=527 TC=0 HOPLIMIT=255 FLOWLBL=804001 PROTO=UDP SPT=5353 DPT=443 LEN=487",
			client: "[2001:db8::1]:5353", server: "[2001:db8::2]:443", tr: capture.UDP,
			outcome: capture.OutcomeOK, detail: "v6 ACCEPT",
		},
		{
			// The firewall host itself sends a port unreachable that quotes
			// the client's packet: the flow is the quoted one, rejected.
			name:   "outgoing_icmp_reject_names_quoted_flow",
			line:   "Dec  3 19:01:02 fw kernel: REJECT IN= OUT=eth1 SRC=198.51.100.1 DST=192.0.2.10 LEN=88 PROTO=ICMP TYPE=3 CODE=13 [SRC=192.0.2.10 DST=203.0.113.5 LEN=60 TTL=63 ID=1 DF PROTO=TCP SPT=50000 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0 ]",
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
			detail: "REJECT: rejected with ICMP unreachable code 13",
		},
		{
			name:   "incoming_icmp_prohibited",
			line:   "Dec  3 19:01:02 jira kernel: in-icmp IN=eth0 OUT= SRC=198.51.100.1 DST=192.0.2.10 PROTO=ICMP TYPE=3 CODE=10 [SRC=192.0.2.10 DST=203.0.113.5 PROTO=UDP SPT=50000 DPT=443 LEN=40 ]",
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.UDP,
			outcome: capture.OutcomeBlocked, reason: capture.ICMPProhibited,
			detail: "in-icmp: ICMP unreachable code 10 from 198.51.100.1",
		},
		{
			name: "inbound_skipped", skip: SkipInbound,
			line:   "Jun  8 14:34:33 h kernel: [50028442.088484] IN=enp1s0 OUT= SRC=198.51.100.107 DST=192.0.2.67 PROTO=TCP SPT=8080 DPT=8123 SYN",
			client: "198.51.100.107:8080", server: "192.0.2.67:8123", tr: capture.TCP, outcome: capture.OutcomeUnknown,
			detail: "netfilter log without prefix",
		},
		{
			name: "broadcast_skipped", skip: SkipMulticast,
			line:   "*UDP_IN Blocked* IN=eth0 OUT=eth1 SRC=192.0.2.1 DST=255.255.255.255 PROTO=UDP SPT=5 DPT=6",
			client: "192.0.2.1:5", server: "255.255.255.255:6", tr: capture.UDP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "*UDP_IN Blocked*",
		},
		{name: "other_kernel_line", line: "Dec  3 19:01:02 h kernel: eth0: link up", skip: SkipNotFirewall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := netfilter.NewLine(&Options{Ref: testRef})
			var o capture.Observation
			err := p.ParseLine([]byte(tc.line), &o)
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

func checkObs(t *testing.T, o *capture.Observation, client, server string, tr capture.Transport,
	outcome capture.Outcome, reason capture.Reason, detail string) {
	t.Helper()
	if got := o.Client.String(); got != client {
		t.Errorf("Client = %s, want %s", got, client)
	}
	if got := o.Server.String(); got != server {
		t.Errorf("Server = %s, want %s", got, server)
	}
	if o.Transport != tr {
		t.Errorf("Transport = %q, want %q", o.Transport, tr)
	}
	if o.Outcome != outcome || o.Reason != reason {
		t.Errorf("Outcome, Reason = %s %s, want %s %s", o.Outcome, o.Reason, outcome, reason)
	}
	if detail != "" && o.Detail != detail {
		t.Errorf("Detail = %q, want %q", o.Detail, detail)
	}
}

func TestNetfilterErrors(t *testing.T) {
	for _, line := range []string{
		"May  5 20:46:45 gw user.info kernel: TTL=126 ID=15317 DF PROTO=TCP SPT=59344 DPT=443",
		"kernel: IN=eth0 OUT=eth1 SRC=1.2.3 DST=192.0.2.1 PROTO=TCP",
		"kernel: IN=eth0 OUT=eth1 SRC=192.0.2.1 DST=x PROTO=TCP",
	} {
		var o capture.Observation
		err := netfilter.NewLine(&Options{}).ParseLine([]byte(line), &o)
		var skip Skip
		if err == nil || errors.As(err, &skip) {
			t.Errorf("ParseLine(%q) = %v, want an error", line, err)
		}
	}
}

func TestNetfilterTimeZone(t *testing.T) {
	loc := time.FixedZone("X", -5*3600)
	opts := &Options{Location: loc, Ref: testRef}
	var o capture.Observation
	line := "Dec  3 19:01:02 jira kernel: DROP IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=UDP SPT=1 DPT=2"
	if err := netfilter.NewLine(opts).ParseLine([]byte(line), &o); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 12, 4, 0, 1, 2, 0, time.UTC)
	if !o.Time.Equal(want) || !opts.ZoneUsed {
		t.Errorf("Time = %v (zone used %v), want %v and zone used", o.Time.UTC(), opts.ZoneUsed, want)
	}
	opts = &Options{Location: loc}
	line = "2024-12-03T19:01:02Z jira kernel: DROP IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=UDP SPT=1 DPT=2"
	if err := netfilter.NewLine(opts).ParseLine([]byte(line), &o); err != nil {
		t.Fatal(err)
	}
	if opts.ZoneUsed {
		t.Errorf("ZoneUsed after a zoned time, want false")
	}
}

// TestNetfilterCorpusExpected asserts the fields the corpus's Elastic
// expected output gives for the Ubiquiti sample (resolved to year 2024).
func TestNetfilterCorpusExpected(t *testing.T) {
	dir := corpusDir(t, "iptables")
	b, err := os.ReadFile(filepath.Join(dir, "elastic-integrations-iptables-test-ubiquiti.log-expected.subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expected []map[string]any `json:"expected"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	obs, errs := readCorpusLines(t, netfilter, filepath.Join(dir, "elastic-integrations-iptables-test-ubiquiti.log"), testRef)
	if len(obs) != len(doc.Expected) {
		t.Fatalf("%d lines, %d expected records", len(obs), len(doc.Expected))
	}
	checked := 0
	for i, want := range doc.Expected {
		ip, _ := want["source.ip"].(string)
		if ip == "" {
			// A truncated line: no addresses, so it must not become evidence.
			if obs[i] != nil {
				t.Errorf("line %d: truncated line gave evidence %+v", i+1, obs[i])
			}
			continue
		}
		var skip Skip
		if errors.As(errs[i], &skip) && skip == SkipRepeat {
			// A packet of an attempt counted already: an earlier line
			// has the same sockets and action.
			same := func(w map[string]any) bool {
				for _, k := range []string{"source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "event.action"} {
					if w[k] != want[k] {
						return false
					}
				}
				return true
			}
			if !slices.ContainsFunc(doc.Expected[:i], same) {
				t.Errorf("line %d: skipped as a repeat, but no earlier line has its sockets and action", i+1)
			}
			continue
		}
		if errors.As(errs[i], &skip) {
			if want["iptables.output_device"] != "" {
				t.Errorf("line %d: skipped (%s) but it left through %v", i+1, skip, want["iptables.output_device"])
			}
			continue
		}
		o := obs[i]
		if o == nil {
			t.Errorf("line %d: %v", i+1, errs[i])
			continue
		}
		checked++
		ts, _ := time.Parse(time.RFC3339, want["@timestamp"].(string))
		if !o.Time.Equal(ts) {
			t.Errorf("line %d: Time = %v, want %v", i+1, o.Time, ts)
		}
		if o.Client.Addr() != netip.MustParseAddr(ip) || float64(o.Client.Port()) != want["source.port"] {
			t.Errorf("line %d: Client = %v, want %v:%v", i+1, o.Client, ip, want["source.port"])
		}
		if o.Server.Addr().String() != want["destination.ip"] || float64(o.Server.Port()) != want["destination.port"] {
			t.Errorf("line %d: Server = %v, want %v:%v", i+1, o.Server, want["destination.ip"], want["destination.port"])
		}
		if string(o.Transport) != want["network.transport"] {
			t.Errorf("line %d: Transport = %s, want %v", i+1, o.Transport, want["network.transport"])
		}
		wantOutcome := capture.OutcomeBlocked
		if want["event.action"] == "accept" {
			wantOutcome = capture.OutcomeOK
		}
		if o.Outcome != wantOutcome {
			t.Errorf("line %d: Outcome = %s, want %s (%v)", i+1, o.Outcome, wantOutcome, want["event.action"])
		}
		if !strings.Contains(o.Detail, want["rule.name"].(string)) {
			t.Errorf("line %d: Detail = %q, want the rule %v", i+1, o.Detail, want["rule.name"])
		}
	}
	if checked == 0 {
		t.Errorf("no line checked")
	}
}

func TestNetfilterCorpus(t *testing.T) {
	// These samples log only packets to the host itself (and IPv6
	// multicast); TestNetfilterCorpusCrowdsec, TestNetfilterCorpusJournald
	// and TestNetfilterCorpusPylogsparser check the first three against
	// their expected files.
	checkCorpusParses(t, netfilter, "iptables", map[string][]Skip{
		"crowdsec-iptables-logs.log":                       {SkipInbound},
		"elastic-integrations-iptables-test-journald.json": {SkipInbound, SkipNotFirewall},
		"pylogsparser-netfilter.log":                       {SkipInbound},
		"logstash-firewalls_spec-iptables.log":             {SkipInbound, SkipMulticast},
	})
}

func FuzzParseFirewallLine(f *testing.F) {
	// One target for every line-oriented firewall format: the first
	// argument chooses the format (an index into lineFirewallFormats).
	seeds := [][]string{
		{ // netfilter
			"Dec  3 19:01:02 fw kernel: REJECT IN= OUT=eth1 SRC=198.51.100.1 DST=192.0.2.10 PROTO=ICMP TYPE=3 CODE=13 [SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 ]",
			"Jan  5 20:17:01 gw kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 SRC=192.0.2.7 DST=198.51.100.25 PROTO=TCP SPT=43189 DPT=443",
			`            "message": "iptables DROP_INPUT: IN=eth0 OUT=eth1 SRC=10.10.10.18 DST=10.10.10.34 PROTO=TCP SPT=443 DPT=40702 RST ",`,
		},
		{ // pfsense
			"<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,192.0.2.50,203.0.113.1,49724,443,0,S,1891286705,,64240,,mss",
			"<134>1 2025-11-06T11:42:14.270789+00:00 fw filterlog 92653 - - 621,,,1644355515,vtnet0.10,match,reject,out,6,0x00,0x07c63,64,TCP,6,44,2001:db8::10,2001:db8:5::6,65382,443,0,S,1,,0,,mss",
		},
		{ // asa
			"<166>Aug 18 2026 18:24:29 fw : %ASA-6-302013: Built outbound TCP connection 11757 for outside:203.0.113.104/443 (203.0.113.104/443) to inside:192.0.2.44/1772 (198.51.100.44/8256)",
			`%ASA-4-106023: Deny tcp src inside:2001:db8::9/54864 dst outside:2001:db8:1::3/443 by access-group "v6"`,
			"%ASA-6-302014: Teardown TCP connection 9 for inside:192.0.2.10/50002 to outside:203.0.113.5/443 duration 0:00:00 bytes 0 TCP Reset-O",
			"%ASA-4-106100: access-list inside_out denied tcp inside/192.0.2.45(51763) -> outside/203.0.113.89(443) hit-cnt 1 first hit [0x62c4905, 0x0]",
		},
		{ // panos
			`Aug 5 14:56:46 pa 1,2014/08/05 14:56:46,0123456789,THREAT,url,1,2014/08/05 14:56:40,192.0.2.89,203.0.113.175,198.51.100.8,203.0.113.175,allow_all,,,ssl,vsys1,Trust-L3,Untrust-L3,ethernet1/2,ethernet1/1,fwd,2014/08/05 14:56:46,196863,1,55143,443,52716,443,0x408000,tcp,block-url,"auth.gtmhub.com/authorize?code=abc",(9999),business-and-economy,informational`,
			"2021/02/05 15:05:55,0123456789,TRAFFIC,drop,2305,2021/02/05 15:05:55,192.0.2.1,203.0.113.2,0.0.0.0,0.0.0.0,interzone-default,,,not-applicable,vsys1,trust,untrust,ethernet1,,Log Collector,2021/02/05 15:05:55,0,1,35861,443,0,0,0x0,tcp,deny,102",
		},
		{ // fortigate
			`date=2020-04-23 time=12:17:48 logid="0316013056" type="utm" subtype="webfilter" eventtime=1587230269052907555 tz="-0500" policyid=100602 srcip=192.0.2.1 srcport=61930 dstip=203.0.113.1 dstport=443 proto=6 hostname="auth.gtmhub.com" action="blocked" url="/oauth/token?code=xyz"`,
			`Mar 22 19:21:00 192.0.2.254 date=2024-03-22 time=19:20:46 logid="0000000013" type="traffic" subtype="forward" srcip=192.0.2.10 srcport=50000 dstip=203.0.113.5 dstport=443 proto=6 action="timeout" rcvdpkt=0`,
		},
		{ // aws-vpc
			"2 123456789010 eni-1235b8ca123456789 192.0.2.139 203.0.113.21 20641 443 6 20 4249 1418530010 1418530070 ACCEPT OK",
			"3 eni-3 123456789010 vpc-a subnet-2 i-0 192.0.2.164 203.0.113.236 39812 443 6 3 IPv4 192.0.2.164 203.0.113.236 REJECT OK",
		},
	}
	for i, ss := range seeds {
		for _, s := range ss {
			f.Add(byte(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, line string) {
		fws := lineFirewallFormats()
		fm := fws[int(which)%len(fws)]
		p := fm.NewLine(&Options{Ref: testRef})
		var o capture.Observation
		err := p.ParseLine([]byte(line), &o)
		if err != nil {
			var skip Skip
			if errors.As(err, &skip) && skip == "" {
				t.Fatalf("%s %q: empty skip reason", fm.Name, line)
			}
			return
		}
		checkFirewallObservation(t, fm.Name, line, &o)
		// A fresh parser gives the same result: nothing but the line
		// decides it (ASA's connection table starts empty both times).
		var o2 capture.Observation
		if err := fm.NewLine(&Options{Ref: testRef}).ParseLine([]byte(line), &o2); err != nil ||
			o2.Client != o.Client || o2.Server != o.Server || o2.Outcome != o.Outcome || o2.Detail != o.Detail {
			t.Fatalf("%s %q: second parse differs: %+v, %v", fm.Name, line, o2, err)
		}
	})
}

// lineFirewallFormats lists the line formats FuzzParseFirewallLine drives.
func lineFirewallFormats() []*Format {
	return []*Format{netfilter, pfsense, asa, panos, fortigate, awsVPC}
}

// checkFirewallObservation checks the properties every firewall
// observation has: a valid server address, an outcome from the vocabulary,
// a reason exactly when blocked, and a host that is a plain lower-case name.
func checkFirewallObservation(t *testing.T, format, line string, o *capture.Observation) {
	t.Helper()
	if !o.Server.Addr().IsValid() && o.Host == "" {
		t.Fatalf("%s %q: evidence without server address or host: %+v", format, line, o)
	}
	switch o.Outcome {
	case capture.OutcomeOK, capture.OutcomeUnknown:
		if o.Reason != "" {
			t.Fatalf("%s %q: reason %q without a block", format, line, o.Reason)
		}
	case capture.OutcomeBlocked:
		if o.Reason == "" {
			t.Fatalf("%s %q: blocked without reason", format, line)
		}
	default:
		t.Fatalf("%s %q: outcome %q", format, line, o.Outcome)
	}
	if o.Host != "" {
		if o.Host != strings.ToLower(o.Host) || strings.ContainsAny(o.Host, " \t/\\\x00") || strings.HasSuffix(o.Host, ".") {
			t.Fatalf("%s %q: host %q is not a plain lower-case name", format, line, o.Host)
		}
	}
}

// TestNetfilterJSONExport reads netfilter lines held in JSON exports: the
// MESSAGE of journalctl -o json with its __REALTIME_TIMESTAMP, and a log
// shipper's message with its @timestamp.
func TestNetfilterJSONExport(t *testing.T) {
	tests := []struct {
		name, line string
		time       time.Time
	}{
		{"journalctl_json",
			`{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1733252462123456","_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN ","_HOSTNAME":"jira"}`,
			time.Date(2024, 12, 3, 19, 1, 2, 123456000, time.UTC)},
		{"shipper_message",
			`{"@timestamp":"2024-12-03T19:01:02.5Z","message":"egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN "}`,
			time.Date(2024, 12, 3, 19, 1, 2, 5e8, time.UTC)},
		{"no_time",
			`{"message":"egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN "}`,
			time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o capture.Observation
			if err := netfilter.NewLine(&Options{Ref: testRef}).ParseLine([]byte(tc.line), &o); err != nil {
				t.Fatal(err)
			}
			checkObs(t, &o, "192.0.2.10:50000", "203.0.113.5:443", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny, "egress DROP")
			if !o.Time.Equal(tc.time) {
				t.Errorf("Time = %v, want %v", o.Time, tc.time)
			}
		})
	}
}

// TestNetfilterJournalctlShortFull reads "journalctl -k -o short-full"
// lines: the weekday stamp gives the time and its zone, and the rule
// prefix, not the header, becomes the detail.
func TestNetfilterJournalctlShortFull(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	tests := []struct {
		name     string
		line     string
		loc      *time.Location
		want     time.Time
		zoneUsed bool
	}{
		{"zone_of_location", "Tue 2024-12-03 19:01:02 CET jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN",
			berlin, time.Date(2024, 12, 3, 18, 1, 2, 0, time.UTC), false},
		{"utc", "Tue 2024-12-03 19:01:02 UTC jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN",
			berlin, time.Date(2024, 12, 3, 19, 1, 2, 0, time.UTC), false},
		{"other_zone", "Tue 2024-12-03 19:01:02 EST jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN",
			berlin, time.Date(2024, 12, 3, 18, 1, 2, 0, time.UTC), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := &Options{Location: tc.loc, Ref: testRef}
			var o capture.Observation
			if err := netfilter.NewLine(opts).ParseLine([]byte(tc.line), &o); err != nil {
				t.Fatal(err)
			}
			checkObs(t, &o, "192.0.2.10:50000", "203.0.113.5:443", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny, "egress DROP")
			if !o.Time.Equal(tc.want) || opts.ZoneUsed != tc.zoneUsed {
				t.Errorf("Time = %v (zone used %v), want %v (%v)", o.Time.UTC(), opts.ZoneUsed, tc.want, tc.zoneUsed)
			}
		})
	}
}
