package parsers

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

func TestASA(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string // earlier lines set up state; the last is checked
		skip    Skip
		client  string
		server  string
		tr      capture.Transport
		outcome capture.Outcome
		reason  capture.Reason
		detail  string
		host    string
	}{
		{
			name:   "built_outbound_server_first",
			lines:  []string{"<166>Aug 18 2026 18:24:29 fw : %ASA-6-302013: Built outbound TCP connection 11757 for outside:203.0.113.104/443 (203.0.113.104/443) to inside:192.0.2.44/1772 (198.51.100.44/8256)"},
			skip:   SkipJoined,
			client: "192.0.2.44:1772", server: "203.0.113.104:443", tr: capture.TCP,
			outcome: capture.OutcomeUnknown, detail: "connection built, no teardown in the input",
		},
		{
			name:   "built_inbound_client_first",
			lines:  []string{"%ASA-6-302015: Built inbound UDP connection 732748 for outside:203.0.113.63/49804 (203.0.113.63/49804) to inside:192.0.2.70/53 (192.0.2.70/53)"},
			skip:   SkipJoined,
			client: "203.0.113.63:49804", server: "192.0.2.70:53", tr: capture.UDP, outcome: capture.OutcomeUnknown,
		},
		{
			name:   "built_without_id",
			lines:  []string{"%ASA-6-302013: Built outbound TCP connection for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50000"},
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeUnknown, detail: "connection built, no teardown in the input",
		},
		{
			name: "teardown_fins_after_built",
			lines: []string{
				"%ASA-6-302013: Built outbound TCP connection 7 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50000 (192.0.2.10/50000)",
				"%ASA-6-302014: Teardown TCP connection 7 for outside:203.0.113.5/443 to inside:192.0.2.10/50000 duration 0:00:30 bytes 5120 TCP FINs",
			},
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeOK, detail: "teardown: TCP FINs",
		},
		{
			name: "teardown_reset_after_built",
			lines: []string{
				"%ASA-6-302013: Built outbound TCP connection 1 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50000 (198.51.100.1/50000)",
				"%ASA-6-302014: Teardown TCP connection 1 for outside:203.0.113.5/443 to inside:192.0.2.10/50000 duration 0:00:01 bytes 0 TCP Reset-O",
			},
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset, detail: "teardown: TCP Reset-O",
		},
		{
			name: "teardown_reset_after_data",
			lines: []string{
				"%ASA-6-302013: Built outbound TCP connection 2 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50001 (198.51.100.1/50001)",
				"%ASA-6-302014: Teardown TCP connection 2 for outside:203.0.113.5/443 to inside:192.0.2.10/50001 duration 0:00:01 bytes 3000 TCP Reset-I",
			},
			client: "192.0.2.10:50001", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeOK, detail: "teardown: TCP Reset-I",
		},
		{
			name: "teardown_syn_timeout",
			lines: []string{
				"%ASA-6-302013: Built outbound TCP connection 8 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50001 (192.0.2.10/50001)",
				"%ASA-6-302014: Teardown TCP connection 8 for outside:203.0.113.5/443 to inside:192.0.2.10/50001 duration 0:00:30 bytes 0 SYN Timeout",
			},
			client: "192.0.2.10:50001", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.NoResponse, detail: "teardown: SYN Timeout",
		},
		{
			name: "teardown_ips_reset_after_built",
			lines: []string{
				"%ASA-6-302013: Built outbound TCP connection 4 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50003 (198.51.100.1/50003)",
				"%ASA-6-302014: Teardown TCP connection 4 for outside:203.0.113.5/443 to inside:192.0.2.10/50003 duration 0:00:01 bytes 517 Flow reset by IPS",
			},
			client: "192.0.2.10:50003", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "teardown: Flow reset by IPS",
		},
		{
			name:   "teardown_invalid_syn_without_built",
			lines:  []string{"%ASA-6-302014: Teardown TCP connection 5 for inside:192.0.2.10/50004 to outside:203.0.113.5/443 duration 0:00:00 bytes 0 TCP Invalid SYN"},
			client: "192.0.2.10:50004", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "teardown: TCP Invalid SYN",
		},
		{
			name:   "teardown_reset_without_built",
			lines:  []string{"%ASA-6-302014: Teardown TCP connection 9 for inside:192.0.2.10/50002 to outside:203.0.113.5/443 duration 0:00:00 bytes 0 TCP Reset-O"},
			client: "192.0.2.10:50002", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset, detail: "teardown: TCP Reset-O",
		},
		{
			name: "icmp_teardown_after_built_skipped", skip: SkipTeardown,
			lines: []string{
				"%ASA-6-302020: Built outbound ICMP connection for faddr 203.0.113.20/0 gaddr 198.51.100.10/0 laddr 192.0.2.30/0 type 8 code 0",
				"%ASA-6-302021: Teardown ICMP connection for faddr 203.0.113.20/0 gaddr 198.51.100.10/0 laddr 192.0.2.30/0 type 8 code 0",
			},
		},
		{
			name:   "icmp_teardown_without_built",
			lines:  []string{"Jun 04 2011 21:59:52 MYHOSTNAME : %ASA-6-302021: Teardown ICMP connection for faddr 192.168.2.15/0 gaddr 192.168.2.134/57808 laddr 192.168.2.134/57808 type 8 code 0"},
			client: "192.168.2.134:0", server: "192.168.2.15:0", tr: capture.ICMP,
			outcome: capture.OutcomeOK, detail: "teardown without a built message",
		},
		{
			name: "icmp_teardown_of_another_built",
			lines: []string{
				"%ASA-6-302020: Built outbound ICMP connection for faddr 203.0.113.20/0 gaddr 198.51.100.10/0 laddr 192.0.2.30/0 type 8 code 0",
				"%ASA-6-302021: Teardown ICMP connection for faddr 203.0.113.21/0 gaddr 198.51.100.10/0 laddr 192.0.2.30/0 type 8 code 0",
			},
			client: "192.0.2.30:0", server: "203.0.113.21:0", tr: capture.ICMP,
			outcome: capture.OutcomeOK, detail: "teardown without a built message",
		},
		{
			name:   "icmp_teardown_named_hosts",
			lines:  []string{"Oct 10 2019 10:21:36 localhost: %ASA-6-302021: Teardown ICMP connection for faddr target.destination.hostname.local/10005 gaddr 10.0.55.66/0 laddr Prod-host.name.addr/0"},
			client: "invalid AddrPort", server: "invalid AddrPort", tr: capture.ICMP, host: "target.destination.hostname.local",
			outcome: capture.OutcomeOK, detail: "teardown without a built message",
		},
		{
			name:   "deny_106023_context_prefix",
			lines:  []string{`LOCAL4.WARNING: fw-1 %ASA-4-106023: Deny tcp src v1:inside:192.0.2.9/54864 dst outside:203.0.113.3/443 by access-group "inside_out" [0x0, 0x0]`},
			client: "192.0.2.9:54864", server: "203.0.113.3:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "106023 deny by access-group inside_out",
		},
		{
			name:   "deny_ipv6",
			lines:  []string{`%ASA-4-106023: Deny tcp src inside:2001:db8::9/54864 dst outside:2001:db8:1::3/443 by access-group "v6"`},
			client: "[2001:db8::9]:54864", server: "[2001:db8:1::3]:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
		},
		{
			name:  "inbound_106001_skipped",
			lines: []string{"%ASA-2-106001: Inbound TCP connection denied from 203.0.113.5/443 to 192.0.2.10/50004 flags RST  on interface outside"},
			skip:  skipASAInbound,
		},
		{
			name:   "deny_106015_no_connection",
			lines:  []string{"%ASA-6-106015: Deny TCP (no connection) from 192.0.2.65/2278 to 203.0.113.83/443 flags RST on interface inside"},
			client: "192.0.2.65:2278", server: "203.0.113.83:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
		},
		{
			name:   "access_list_106100_denied",
			lines:  []string{"%ASA-4-106100: access-list inside_out denied tcp inside/192.0.2.45(51763) -> outside/203.0.113.89(443) hit-cnt 1 first hit [0x62c4905, 0x0]"},
			client: "192.0.2.45:51763", server: "203.0.113.89:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "access-list inside_out",
		},
		{
			name:   "named_server",
			lines:  []string{`%ASA-4-106023: Deny tcp src inside:192.0.2.1/50240 dst outside:App.Example.com/443 by access-group "out"`},
			client: "192.0.2.1:50240", server: "invalid AddrPort", tr: capture.TCP, host: "app.example.com",
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
		},
		{name: "nat_skipped", lines: []string{"%ASA-6-305011: Built dynamic TCP translation from inside:192.0.2.50/1107 to outside:198.51.100.254/1025"}, skip: skipASANATOnly},
		{name: "other_skipped", lines: []string{"%ASA-1-101001: (Primary) Failover cable OK."}, skip: skipASAOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := asa.NewLine(&Options{Ref: testRef})
			var o capture.Observation
			var err error
			for _, l := range tc.lines {
				o = capture.Observation{}
				err = p.ParseLine([]byte(l), &o)
			}
			var skip Skip
			if errors.As(err, &skip) {
				if skip != tc.skip {
					t.Fatalf("ParseLine = skip %q, want %q", skip, tc.skip)
				}
				if tc.client == "" {
					return
				}
				tc.outcome = o.Outcome
			} else if err != nil || tc.skip != "" {
				t.Fatalf("ParseLine = %v, want skip %q", err, tc.skip)
			}
			checkObs(t, &o, tc.client, tc.server, tc.tr, tc.outcome, tc.reason, tc.detail)
			if o.Host != tc.host {
				t.Errorf("Host = %q, want %q", o.Host, tc.host)
			}
		})
	}
}

// TestASACorpusExpected checks the flow direction of ICMP connections
// against the Elastic expected output, and addresses and ports against the
// pylogsparser expectations.
func TestASACorpusExpected(t *testing.T) {
	dir := corpusDir(t, "asa")
	b, err := os.ReadFile(filepath.Join(dir, "elastic-integrations-cisco_asa-test-302020-direction.log-expected.subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expected []map[string]any `json:"expected"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	obs, errs := readCorpusLines(t, asa, filepath.Join(dir, "elastic-integrations-cisco_asa-test-302020-direction.log"), testRef)
	for i, w := range doc.Expected {
		o := obs[i]
		if o == nil {
			t.Fatalf("line %d: %v", i+1, errs[i])
		}
		// Elastic's source is the initiator in both directions: faddr
		// for inbound, laddr for outbound.
		client, server := w["source.ip"], w["destination.ip"]
		if o.Client.Addr().String() != client || o.Server.Addr().String() != server {
			t.Errorf("line %d: %v -> %v, want %v -> %v (%v)", i+1, o.Client, o.Server, client, server, w["network.direction"])
		}
	}

	b, err = os.ReadFile(filepath.Join(dir, "pylogsparser-cisco-asa_msg.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var py []struct {
		Tags map[string]string `json:"expectedTags"`
	}
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatal(err)
	}
	obs, errs = readCorpusLines(t, asa, filepath.Join(dir, "pylogsparser-cisco-asa_msg.log"), testRef)
	checked := 0
	for i := 1; i <= 5; i++ {
		w, o := py[i].Tags, obs[i]
		if o == nil {
			t.Errorf("line %d: %v", i+1, errs[i])
			continue
		}
		checked++
		if o.Client.Addr().String() != w["source_ip"] || o.Server.Addr().String() != w["dest_ip"] {
			t.Errorf("line %d: %v -> %v, want %s -> %s", i+1, o.Client, o.Server, w["source_ip"], w["dest_ip"])
		}
		if p := w["dest_port"]; p != "" && itoa(int(o.Server.Port())) != p {
			t.Errorf("line %d: port %d, want %s", i+1, o.Server.Port(), p)
		}
		if pr := w["protocol"]; (pr == "tcp" || pr == "udp" || pr == "icmp") && string(o.Transport) != pr {
			t.Errorf("line %d: transport %s, want %s", i+1, o.Transport, pr)
		}
	}
	if checked != 5 {
		t.Errorf("%d lines checked, want 5", checked)
	}
}

func TestASACorpus(t *testing.T) {
	checkCorpusParses(t, asa, "asa", nil)
}

func TestASAEndpoint(t *testing.T) {
	tests := []struct {
		name, in, addr, host string
		ok                   bool
	}{
		{"context_prefix", "v1:outside:192.0.2.9/54864", "192.0.2.9:54864", "", true},
		{"paren_port", "inside/192.0.2.45(51763)", "192.0.2.45:51763", "", true},
		{"ipv6", "outside:2001:db8::1/443", "[2001:db8::1]:443", "", true},
		{"name", "dmz:App.Example.com/443", "invalid AddrPort", "app.example.com", true},
		// Found by FuzzParseFirewallLine: a dotted digit is no name.
		{"fuzz_digit_dot", "0./", "", "", false},
		{"empty_label", "a..b/1", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, h, ok := asaEndpoint(tc.in)
			if ok != tc.ok || ok && (a.String() != tc.addr || h != tc.host) {
				t.Errorf("asaEndpoint(%q) = %v %q %v, want %s %q %v", tc.in, a, h, ok, tc.addr, tc.host, tc.ok)
			}
		})
	}
}
