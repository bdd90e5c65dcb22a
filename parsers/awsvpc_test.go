package parsers

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestAWSVPC(t *testing.T) {
	text := `2 123456789010 eni-1235b8ca123456789 192.0.2.139 203.0.113.21 20641 443 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 192.0.2.69 203.0.113.12 49761 443 6 20 4249 1418530010 1418530070 REJECT OK
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
version srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol start end action log-status reject-reason flow-direction
5 10.0.0.220 203.0.113.5 192.0.2.5 203.0.113.5 40000 443 6 1616729292 1616729349 REJECT OK BPA egress
5 10.0.0.220 203.0.113.5 - - 40001 443 6 1616729292 1616729349 ACCEPT OK - egress
`
	obs, st := readAll(t, awsVPC, text, testRef)
	sortByLine(obs)
	if st.Records != 4 || st.Skipped[string(vpcSkipNoData)] != 1 || st.Skipped[string(SkipComment)] != 1 || st.Failed != 0 {
		t.Fatalf("stats = %+v, want 4 records, 1 NODATA and 1 header skipped", st)
	}
	want := []struct {
		client, server string
		outcome        capture.Outcome
		reason         capture.Reason
		detail         string
	}{
		{"192.0.2.139:20641", "203.0.113.21:443", capture.OutcomeOK, "", "VPC flow log: ACCEPT"},
		{"192.0.2.69:49761", "203.0.113.12:443", capture.OutcomeBlocked, capture.FirewallDeny, "VPC flow log: REJECT by a security group or network ACL"},
		// The packet's own source, behind the NAT gateway, is the client.
		{"192.0.2.5:40000", "203.0.113.5:443", capture.OutcomeBlocked, capture.FirewallDeny, "VPC flow log egress: REJECT by a security group or network ACL (BPA)"},
		{"10.0.0.220:40001", "203.0.113.5:443", capture.OutcomeOK, "", "VPC flow log egress: ACCEPT"},
	}
	for i, w := range want {
		checkObs(t, &obs[i], w.client, w.server, capture.TCP, w.outcome, w.reason, w.detail)
	}
	if !obs[0].Time.Equal(time.Unix(1418530010, 0)) {
		t.Errorf("Time = %v, want the start field", obs[0].Time)
	}
}

// TestAWSVPCGuess reads custom records without a header line by shape.
func TestAWSVPCGuess(t *testing.T) {
	text := "7 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 ACCEPT OK arn:aws:ecs:us-east-1:1:cluster/c c\n" +
		"3 eni-3 123456789010 vpc-a subnet-2 i-0 192.0.2.164 203.0.113.236 39812 443 6 3 IPv4 192.0.2.164 203.0.113.236 REJECT OK\n"
	obs, st := readAll(t, awsVPC, text, testRef)
	sortByLine(obs)
	if st.Records != 2 {
		t.Fatalf("stats = %+v, want 2 records", st)
	}
	checkObs(t, &obs[0], "10.0.0.71:34210", "52.95.128.179:80", capture.TCP, capture.OutcomeOK, "", "")
	checkObs(t, &obs[1], "192.0.2.164:39812", "203.0.113.236:443", capture.TCP, capture.OutcomeBlocked, capture.FirewallDeny, "")
	if !obs[0].Time.Equal(time.Unix(1616729292, 0)) {
		t.Errorf("Time = %v, want the start field", obs[0].Time)
	}
}

// sortByLine puts observations in the order of their lines: the ACCEPT
// records a VPC flow log parser holds come at the end of the input.
func sortByLine(obs []capture.Observation) {
	slices.SortFunc(obs, func(a, b capture.Observation) int { return cmp.Compare(a.Locator.N, b.Locator.N) })
}

func TestAWSVPCCorpusExpected(t *testing.T) {
	dir := corpusDir(t, "aws-vpc")
	b, err := os.ReadFile(filepath.Join(dir, "elastic-integrations-aws-vpcflow-test-v5-all-fields.log-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expected []struct {
			Source struct {
				IP   string
				Port int
			}
			Destination struct {
				IP   string
				Port int
			}
			Network struct{ Transport string }
			Event   struct{ Outcome string }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	obs, errs := readCorpusLines(t, awsVPC, filepath.Join(dir, "elastic-integrations-aws-vpcflow-test-v5-all-fields.log"), testRef)
	for i, w := range doc.Expected {
		o := obs[i]
		if o == nil {
			t.Fatalf("line %d: %v", i+1, errs[i])
		}
		if o.Client.Addr().String() != w.Source.IP || int(o.Client.Port()) != w.Source.Port ||
			o.Server.Addr().String() != w.Destination.IP || int(o.Server.Port()) != w.Destination.Port {
			t.Errorf("line %d: %v -> %v, want %s:%d -> %s:%d", i+1, o.Client, o.Server,
				w.Source.IP, w.Source.Port, w.Destination.IP, w.Destination.Port)
		}
		if string(o.Transport) != w.Network.Transport {
			t.Errorf("line %d: transport %s, want %s", i+1, o.Transport, w.Network.Transport)
		}
		if (w.Event.Outcome == "failure") != (o.Outcome == capture.OutcomeBlocked) {
			t.Errorf("line %d: outcome %s, want event outcome %s", i+1, o.Outcome, w.Event.Outcome)
		}
	}
}

func TestAWSVPCCorpus(t *testing.T) {
	checkCorpusParses(t, awsVPC, "aws-vpc", nil)
}

// TestAWSVPCDirection checks that only the records of packets sent become
// destinations: flow-direction ingress records, and without the field the
// answers from a service port, are skipped, and the audit lists only the
// server the instance connected to.
func TestAWSVPCDirection(t *testing.T) {
	tests := []struct {
		name string
		text string
		skip Skip
	}{
		{
			name: "v2_reply_skipped",
			text: "2 123456789010 eni-1235b8ca123456789 192.0.2.139 203.0.113.21 50641 443 6 20 4249 1796288400 1796288460 ACCEPT OK\n" +
				"2 123456789010 eni-1235b8ca123456789 203.0.113.21 192.0.2.139 443 50641 6 20 4249 1796288400 1796288460 ACCEPT OK\n",
			skip: vpcSkipReply,
		},
		{
			name: "v5_ingress_skipped",
			text: "version srcaddr dstaddr srcport dstport protocol start end action flow-direction traffic-path\n" +
				"5 203.0.113.21 192.0.2.139 443 50641 6 1796288400 1796288460 ACCEPT ingress -\n" +
				"5 192.0.2.139 203.0.113.21 50641 443 6 1796288400 1796288460 ACCEPT egress 8\n",
			skip: vpcSkipInbound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs, st := readAll(t, awsVPC, tc.text, testRef)
			if st.Records != 1 || st.Skipped[string(tc.skip)] != 1 || st.Failed != 0 {
				t.Fatalf("stats = %+v, want 1 record and 1 skipped as %q", st, tc.skip)
			}
			checkObs(t, &obs[0], "192.0.2.139:50641", "203.0.113.21:443", capture.TCP, capture.OutcomeOK, "", "")

			rep, _ := auditLogs(t, testRef, logText{awsVPC, tc.text})
			if len(rep.Destinations) != 1 || len(rep.Destinations[0].IPs) != 1 ||
				rep.Destinations[0].IPs[0] != "203.0.113.21" || rep.Destinations[0].Port != 443 {
				t.Errorf("destinations = %+v, want only 203.0.113.21:443", rep.Destinations)
			}
		})
	}
}

// TestAWSVPCAnswersRejected checks that a connection whose egress record
// is an ACCEPT and whose answers a network ACL rejected is blocked, in
// either order of its records, and that other records are judged as
// before.
func TestAWSVPCAnswersRejected(t *testing.T) {
	const (
		v2  = "2 123456789010 eni-1235b8ca123456789 "
		v5  = "version srcaddr dstaddr srcport dstport protocol start end action flow-direction\n"
		out = "192.0.2.139:50641"
		api = "203.0.113.21:443"
	)
	tests := []struct {
		name    string
		text    string
		client  string
		server  string
		tr      capture.Transport
		outcome capture.Outcome
		detail  string
		skipped map[Skip]int64
	}{
		{name: "accept_then_reject",
			text: v2 + "192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288400 1796288460 ACCEPT OK\n" +
				v2 + "203.0.113.21 192.0.2.139 443 50641 6 3 180 1796288400 1796288460 REJECT OK\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeBlocked, detail: vpcAnswersRejected,
			skipped: map[Skip]int64{vpcSkipJoined: 1}},
		{name: "reject_then_accept",
			text: v2 + "203.0.113.21 192.0.2.139 443 50641 6 3 180 1796288400 1796288460 REJECT OK\n" +
				v2 + "192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288400 1796288460 ACCEPT OK\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeBlocked, detail: vpcAnswersRejected,
			skipped: map[Skip]int64{vpcSkipJoined: 1}},
		// With flow-direction, the answers are known by it, whatever
		// their ports.
		{name: "v5_ingress_reject",
			text: v5 + "5 192.0.2.139 203.0.113.21 50641 8443 6 1796288400 1796288460 ACCEPT egress\n" +
				"5 203.0.113.21 192.0.2.139 8443 50641 6 1796288400 1796288460 REJECT ingress\n",
			client: out, server: "203.0.113.21:8443", tr: capture.TCP, outcome: capture.OutcomeBlocked, detail: vpcAnswersRejected,
			skipped: map[Skip]int64{SkipComment: 1, vpcSkipJoined: 1}},
		{name: "reject_alone",
			text:   v2 + "203.0.113.21 192.0.2.139 443 50641 6 3 180 1796288400 1796288460 REJECT OK\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeBlocked, detail: vpcAnswersRejectedAlone},
		{name: "dns_answers_rejected",
			text: v2 + "192.0.2.139 198.51.100.53 40000 53 17 1 70 1796288400 1796288460 ACCEPT OK\n" +
				v2 + "198.51.100.53 192.0.2.139 53 40000 17 1 90 1796288400 1796288460 REJECT OK\n",
			client: "192.0.2.139:40000", server: "198.51.100.53:53", tr: capture.UDP, outcome: capture.OutcomeBlocked, detail: vpcAnswersRejected,
			skipped: map[Skip]int64{vpcSkipJoined: 1}},
		// Answers accepted: the connection worked.
		{name: "answers_accepted",
			text: v2 + "192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288400 1796288460 ACCEPT OK\n" +
				v2 + "203.0.113.21 192.0.2.139 443 50641 6 3 180 1796288400 1796288460 ACCEPT OK\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeOK, detail: vpcAccept,
			skipped: map[Skip]int64{vpcSkipReply: 1}},
		// One connection over two aggregation intervals is one flow.
		{name: "two_intervals",
			text: v2 + "192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288400 1796288460 ACCEPT OK\n" +
				v2 + "192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288460 1796288520 ACCEPT OK\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeOK, detail: vpcAccept,
			skipped: map[Skip]int64{vpcSkipJoined: 1}},
		// A connection from outside, refused: inbound, not egress.
		{name: "v5_inbound_reject",
			text: v5 + "5 198.51.100.7 192.0.2.139 51515 22 6 1796288400 1796288460 REJECT ingress\n" +
				"5 192.0.2.139 203.0.113.21 50641 443 6 1796288400 1796288460 ACCEPT egress\n",
			client: out, server: api, tr: capture.TCP, outcome: capture.OutcomeOK, detail: "VPC flow log egress: ACCEPT",
			skipped: map[Skip]int64{SkipComment: 1, vpcSkipInbound: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs, st := readAll(t, awsVPC, tc.text, testRef)
			skipped := make(map[string]int64)
			for k, v := range tc.skipped {
				skipped[string(k)] = v
			}
			if len(obs) != 1 || st.Records != 1 || st.Failed != 0 || !maps.Equal(st.Skipped, skipped) {
				t.Fatalf("%d observations, stats %+v; want 1 record, skipped %v", len(obs), st, skipped)
			}
			reason := capture.ReasonNone
			if tc.outcome == capture.OutcomeBlocked {
				reason = capture.FirewallDeny
			}
			checkObs(t, &obs[0], tc.client, tc.server, tc.tr, tc.outcome, reason, tc.detail)
			if !obs[0].Time.Equal(time.Unix(1796288400, 0)) {
				t.Errorf("Time = %v, want the first interval's start", obs[0].Time)
			}
		})
	}

	// In an audit, the call is blocked, not ok.
	rep, _ := auditLogs(t, testRef, logText{awsVPC, tests[0].text})
	if len(rep.Destinations) != 1 || rep.Destinations[0].Status != "blocked" || rep.Destinations[0].Reason != string(capture.FirewallDeny) {
		t.Errorf("destinations = %+v, want 203.0.113.21:443 blocked by the firewall", rep.Destinations)
	}
}

// TestAWSVPCHeldWindow checks that past vpcWindow connections held, each
// new record pushes the oldest out, in order, and that every record is
// still counted once.
func TestAWSVPCHeldWindow(t *testing.T) {
	n := vpcWindow + 100
	line := func(i int) string {
		return fmt.Sprintf("2 1 eni-1 192.0.2.%d 203.0.113.21 %d 443 6 3 180 1796288400 1796288460 ACCEPT OK", 1+i/60000, 1024+i%60000)
	}
	p := awsVPC.NewLine(&Options{}).(*awsVPCParser)
	var given []int64
	for i := range n {
		o := capture.Observation{Locator: capture.Line(int64(i + 1))}
		switch err := p.ParseLine([]byte(line(i)), &o); err {
		case nil:
			given = append(given, o.Locator.N)
		case vpcSkipHeld:
		default:
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	p.End(func(o *capture.Observation) { given = append(given, o.Locator.N) })
	if len(given) != n || len(p.held) != 0 || len(p.heldBy) != 0 {
		t.Fatalf("%d records given (%d still held), want %d", len(given), len(p.held), n)
	}
	for i, l := range given {
		if l != int64(i+1) {
			t.Fatalf("record %d given is line %d, want line %d: the oldest goes first", i+1, l, i+1)
		}
	}

	var b strings.Builder
	for i := range n {
		b.WriteString(line(i) + "\n")
	}
	res, err := Read(strings.NewReader(b.String()), "big.log", awsVPC, &Options{}, func(*capture.Observation) {})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Records != int64(n) || res.Stats.SkippedTotal() != 0 || res.Stats.Failed != 0 {
		t.Errorf("stats: %d records, skipped %v, %d failed; want all %d records", res.Stats.Records, res.Stats.Skipped, res.Stats.Failed, n)
	}
}
