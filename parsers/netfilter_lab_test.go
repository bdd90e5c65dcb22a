package parsers

import (
	"path/filepath"
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
	tests := []struct {
		name    string
		log     string
		records int64
	}{
		{"syn_resent_1_2_4_8_16_s", line("19:30:11", "DROP", 59520) + line("19:30:12", "DROP", 59520) +
			line("19:30:14", "DROP", 59520) + line("19:30:18", "DROP", 59520) + line("19:30:26", "DROP", 59520) +
			line("19:30:42", "DROP", 59520), 1},
		{"gap_longer_than_resends", line("19:30:11", "DROP", 59520) + line("19:31:11", "DROP", 59520), 2},
		{"other_source_port", line("19:30:11", "DROP", 59520) + line("19:30:12", "DROP", 59521), 2},
		{"other_outcome", line("19:30:11", "DROP", 59520) + line("19:30:12", "ACCEPT", 59520), 2},
	}
	ref := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, st := readAll(t, netfilter, tc.log, ref)
			lines := int64(strings.Count(tc.log, "\n"))
			if st.Records != tc.records || st.Skipped[string(SkipRepeat)] != lines-tc.records || st.Failed != 0 {
				t.Errorf("counts = %d records, %v skipped, %d failed; want %d records, the rest repeats",
					st.Records, st.Skipped, st.Failed, tc.records)
			}
		})
	}
}
