package parsers

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// labSample is a file of the project's lab samples (testdata/samples).
func labSample(name string) string { return filepath.Join("..", "testdata", "samples", name) }

// TestNetfilterRetransmitsOneAttempt checks that the firewall's log of the
// token-dropped run, where the client sent its SYN three times, counts one
// attempt, as the capture of the same run does.
func TestNetfilterRetransmitsOneAttempt(t *testing.T) {
	fromLog := callReport(t, auditFiles(t, labSample("token-dropped-netfilter.log"), labSample("token-dropped-dnsmasq.log")), "oauth-token")
	fromCapture := callReport(t, auditFiles(t, labSample("token-dropped.pcap")), "oauth-token")
	for _, c := range []rules.CallReport{fromLog, fromCapture} {
		if c.Status != rules.StatusBlocked || !strings.Contains(c.Detail, "(1 attempt, blocked)") {
			t.Errorf("oauth-token = %s %q, want blocked, 1 attempt", c.Status, c.Detail)
		}
	}
	if fromLog.Reason != string(capture.FirewallDeny) {
		t.Errorf("oauth-token from the log = %s, want %s", fromLog.Reason, capture.FirewallDeny)
	}
}

// TestNetfilterRepeats checks which lines count as repeats of an attempt:
// the same sockets and outcome within the gap of SYN retransmissions.
func TestNetfilterRepeats(t *testing.T) {
	line := func(at, verdict string, sport int) string {
		return "Dec  3 " + at + " fw kernel: LAB-" + verdict + " IN=lan OUT=wan SRC=192.0.2.10 DST=203.0.113.10 LEN=60 PROTO=TCP SPT=" + itoa(sport) + " DPT=443 SYN URGP=0\n"
	}
	checkRepeats(t, netfilter, []repeatCase{
		{"syn_resent_1_2_4_8_16_s", line("19:30:11", "DROP", 59520) + line("19:30:12", "DROP", 59520) +
			line("19:30:14", "DROP", 59520) + line("19:30:18", "DROP", 59520) + line("19:30:26", "DROP", 59520) +
			line("19:30:42", "DROP", 59520), 1},
		{"gap_longer_than_resends", line("19:30:11", "DROP", 59520) + line("19:31:11", "DROP", 59520), 2},
		{"other_source_port", line("19:30:11", "DROP", 59520) + line("19:30:12", "DROP", 59521), 2},
		{"other_outcome", line("19:30:11", "DROP", 59520) + line("19:30:12", "ACCEPT", 59520), 2},
	})
}

// labLine reads the fields of a lab firewall line on its own, as a second
// reading to hold the parser to: the prefix the lab's nftables rule
// logged with, and the packet's addresses, ports and protocol.
var labLine = regexp.MustCompile(`lab-fw (LAB-[A-Z]+) +IN=lan OUT=wan .*SRC=(\S+) DST=(\S+) .*PROTO=(TCP|UDP) SPT=(\d+) DPT=(\d+) `)

// labRule is what each rule of testdata/lab/lab.sh does to the packets
// it logs: "log prefix "LAB-DROP " drop" and so on.
var labRule = map[string]struct {
	outcome capture.Outcome
	reason  capture.Reason
}{
	"LAB-ACCEPT": {capture.OutcomeOK, ""},
	"LAB-DROP":   {capture.OutcomeBlocked, capture.FirewallDeny},
	"LAB-RESET":  {capture.OutcomeBlocked, capture.Reset},        // reject with tcp reset
	"LAB-REJECT": {capture.OutcomeBlocked, capture.FirewallDeny}, // reject with icmpx admin-prohibited
}

// TestNetfilterLabFields checks every record of the lab's firewall logs,
// field by field, against the line itself and the nftables rule its prefix
// names, and, where the capture of the scenario comes from the same run
// (its client ports are the log's), against the flows of the capture.
func TestNetfilterLabFields(t *testing.T) {
	logs, err := filepath.Glob(labSample("*-netfilter.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no lab firewall logs: %v", err)
	}
	sameRun := map[string]bool{}
	for _, name := range logs {
		scenario := strings.TrimSuffix(filepath.Base(name), "-netfilter.log")
		t.Run(scenario, func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			// The records the lines give: one per flow and prefix, since
			// every lab run lasts seconds and a resent packet repeats its
			// flow.
			type flow struct {
				prefix, client, server string
				transport              capture.Transport
			}
			var want []flow
			seen := map[flow]bool{}
			for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				m := labLine.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("line %d: not a lab firewall line: %q", i+1, l)
				}
				f := flow{m[1],
					netip.AddrPortFrom(netip.MustParseAddr(m[2]), uint16(atoiTest(t, m[5]))).String(),
					netip.AddrPortFrom(netip.MustParseAddr(m[3]), uint16(atoiTest(t, m[6]))).String(),
					capture.Transport(strings.ToLower(m[4]))}
				if f.prefix != "LAB-ACCEPT" && (m[3] != "203.0.113.10" || m[4] != "TCP" || m[6] != "443") {
					t.Errorf("line %d: %s logged a packet its rule (ip daddr 203.0.113.10 tcp dport 443) does not match", i+1, f.prefix)
				}
				if !seen[f] {
					seen[f] = true
					want = append(want, f)
				}
			}
			obs, st := readAll(t, netfilter, string(b), time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
			if st.Failed != 0 || len(obs) != len(want) {
				t.Fatalf("%d records, %d failed, want %d records (%v skipped)", len(obs), st.Failed, len(want), st.Skipped)
			}
			for i, w := range want {
				o := &obs[i]
				rule := labRule[w.prefix]
				if o.Client.String() != w.client || o.Server.String() != w.server || o.Transport != w.transport ||
					o.Outcome != rule.outcome || o.Reason != rule.reason || o.Detail != w.prefix {
					t.Errorf("record %d = %v -> %v %s %s (%s) %q, want %s -> %s %s %s (%s) %q", i+1,
						o.Client, o.Server, o.Transport, o.Outcome, o.Reason, o.Detail,
						w.client, w.server, w.transport, rule.outcome, rule.reason, w.prefix)
				}
			}

			// The capture, taken on the client's side of the firewall.
			pcaps, _ := filepath.Glob(labSample(scenario + ".pcap*"))
			if len(pcaps) != 1 {
				return
			}
			byClient := map[netip.AddrPort]capture.Observation{}
			if _, err := ReadFile(pcaps[0], nil, &Options{}, func(o *capture.Observation) {
				if _, ok := byClient[o.Client]; !ok {
					byClient[o.Client] = *o
				}
			}); err != nil {
				t.Fatal(err)
			}
			for i := range obs {
				o := &obs[i]
				c, ok := byClient[o.Client]
				if !ok {
					continue
				}
				sameRun[scenario] = true
				if c.Server != o.Server || c.Transport != o.Transport || c.Outcome != o.Outcome {
					t.Errorf("record %d = %v -> %v %s %s, the capture shows %v -> %v %s %s", i+1,
						o.Client, o.Server, o.Transport, o.Outcome, c.Client, c.Server, c.Transport, c.Outcome)
				}
			}
		})
	}
	for _, s := range []string{"token-dropped", "token-icmp-prohibited", "allowed-go", "ipv6-only", "unexpected-egress"} {
		if !sameRun[s] {
			t.Errorf("%s: no record of the log matched a flow of its capture", s)
		}
	}
}

func atoiTest(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
