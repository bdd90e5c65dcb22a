package parsers

import (
	"bytes"
	"compress/gzip"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// eveLine builds one eve.json event of the audited client 192.0.2.10.
func eveLine(ts string, flowID int, typ, src string, sp int, dst string, dp int, proto, rest string) string {
	s := `{"timestamp":"2025-12-03T09:00:` + ts + `+0000","flow_id":` + itoa(flowID) +
		`,"event_type":"` + typ + `","src_ip":"` + src + `","src_port":` + itoa(sp) +
		`,"dest_ip":"` + dst + `","dest_port":` + itoa(dp) + `,"proto":"` + proto + `"`
	if rest != "" {
		s += "," + rest
	}
	return s + "}\n"
}

const (
	cl  = "192.0.2.10"
	res = "192.0.2.53"
)

func TestEveJoin(t *testing.T) {
	eve := eveLine("01.100000", 1, "tls", cl, 40001, "203.0.113.10", 443, "TCP",
		`"tls":{"sni":"Auth.Gtmhub.com","version":"TLS 1.3","issuerdn":"CN=Example CA"}`) +
		eveLine("02.000000", 2, "flow", cl, 40002, "203.0.113.10", 443, "TCP",
			`"flow":{"pkts_toserver":3,"pkts_toclient":0,"state":"new","reason":"timeout"},"tcp":{"tcp_flags":"02","tcp_flags_ts":"02","tcp_flags_tc":"00"}`) +
		eveLine("03.000000", 3, "flow", cl, 40003, "203.0.113.10", 443, "TCP",
			`"flow":{"pkts_toserver":1,"pkts_toclient":1,"state":"closed"},"tcp":{"tcp_flags_ts":"02","tcp_flags_tc":"14"}`) +
		eveLine("04.000000", 4, "http", cl, 40004, "192.0.2.1", 3128, "TCP",
			`"http":{"hostname":"auth.gtmhub.com","url":"auth.gtmhub.com:443","http_method":"CONNECT","status":403}`) +
		eveLine("05.000000", 5, "alert", cl, 40005, "203.0.113.66", 443, "TCP",
			`"alert":{"action":"blocked","signature_id":9,"signature":"block this"},"tls":{"sni":"evil.example"}`) +
		eveLine("06.000000", 6, "quic", cl, 40006, "203.0.113.20", 443, "UDP", `"quic":{"version":"1","sni":"app.gtmhub.com"}`) +
		eveLine("09.000000", 1, "flow", cl, 40001, "203.0.113.10", 443, "TCP",
			`"flow":{"pkts_toserver":9,"pkts_toclient":8,"state":"closed"},"tcp":{"tcp_flags_ts":"1b","tcp_flags_tc":"1b"}`) +
		eveLine("09.500000", 0, "stats", "", 0, "", 0, "", `"stats":{"uptime":1}`) +
		eveLine("09.600000", 3, "anomaly", cl, 40003, "203.0.113.10", 443, "TCP", `"anomaly":{"type":"stream","event":"stream.pkt_invalid_ack"}`) +
		eveLine("09.700000", 7, "anomaly", cl, 40007, "203.0.113.70", 443, "TCP", `"anomaly":{"type":"applayer","event":"APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION"}`) +
		eveLine("09.800000", 7, "flow", cl, 40007, "203.0.113.70", 443, "TCP",
			`"flow":{"pkts_toserver":3,"pkts_toclient":2,"state":"closed"},"tcp":{"tcp_flags_ts":"1b","tcp_flags_tc":"1b"}`)
	obs, stats := readRun(t, sensorInput{"eve.json", eve})
	if stats[0].Format != "suricata" {
		t.Fatalf("format = %s, want suricata", stats[0].Format)
	}
	if stats[0].Records != 10 || stats[0].SkippedTotal() != 1 || stats[0].Skipped[string(skipEveOther)] != 1 {
		t.Errorf("records, skipped = %d, %v, want 10 and the stats event skipped", stats[0].Records, stats[0].Skipped)
	}
	byPort := make(map[uint16][]capture.Observation)
	for _, o := range obs {
		byPort[o.Client.Port()] = append(byPort[o.Client.Port()], o)
	}
	tests := []struct {
		port    uint16
		host    string
		src     capture.HostSource
		outcome capture.Outcome
		reason  capture.Reason
		line    int64
	}{
		{40001, "auth.gtmhub.com", capture.SourceSNI, capture.OutcomeOK, "", 7},
		{40002, "", "", capture.OutcomeBlocked, capture.NoResponse, 2},
		{40003, "", "", capture.OutcomeBlocked, capture.Reset, 3},
		{40004, "auth.gtmhub.com", capture.SourceConnect, capture.OutcomeBlocked, capture.ProxyDenied, 4},
		{40005, "evil.example", capture.SourceSNI, capture.OutcomeBlocked, capture.FirewallDeny, 5},
		{40006, "app.gtmhub.com", capture.SourceQUIC, capture.OutcomeUnknown, "", 6},
	}
	for _, tc := range tests {
		got := byPort[tc.port]
		if len(got) != 1 {
			t.Errorf("client port %d: %d observations, want 1", tc.port, len(got))
			continue
		}
		o := got[0]
		if o.Host != tc.host || o.HostSource != tc.src || o.Outcome != tc.outcome || o.Reason != tc.reason || o.Locator != capture.Line(tc.line) {
			t.Errorf("client port %d = %q (%s) %s %s at %s, want %q (%s) %s %s at line %d",
				tc.port, o.Host, o.HostSource, o.Outcome, o.Reason, o.Locator, tc.host, tc.src, tc.outcome, tc.reason, tc.line)
		}
	}
	if got := byPort[40001][0].Issuer; got != "CN=Example CA" {
		t.Errorf("issuer = %q, want CN=Example CA", got)
	}
	if got := byPort[40007]; len(got) != 1 || !strings.Contains(got[0].Detail, "anomaly applayer APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION") {
		t.Errorf("flow with an anomaly = %+v, want one observation naming the anomaly", got)
	}
	if got := byPort[40003]; len(got) != 1 || !strings.Contains(got[0].Detail, "stream.pkt_invalid_ack") {
		t.Errorf("flow with an anomaly after its flow event = %+v, want the anomaly in its detail", got)
	}
	if got := byPort[40006][0].Transport; got != capture.QUIC {
		t.Errorf("quic transport = %s, want quic", got)
	}
}

func TestEveDNS(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	tests := []struct {
		name    string
		eve     string
		host    []string
		reason  []capture.Reason
		answers [][]netip.Addr
		ttl     time.Duration
	}{
		{
			name: "v1_records_follow_cname",
			eve: eveLine("01.000000", 1, "dns", cl, 5001, res, 53, "UDP", `"dns":{"type":"query","id":7,"rrname":"www.example.com","rrtype":"A"}`) +
				eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP", `"dns":{"type":"answer","id":7,"rcode":"NOERROR","rrname":"www.example.com","rrtype":"CNAME","ttl":300,"rdata":"edge.example.net"}`) +
				eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP", `"dns":{"type":"answer","id":7,"rcode":"NOERROR","rrname":"edge.example.net","rrtype":"A","ttl":20,"rdata":"198.51.100.9"}`),
			host:    []string{"www.example.com"},
			reason:  []capture.Reason{""},
			answers: [][]netip.Addr{{a("198.51.100.9")}},
			ttl:     20 * time.Second,
		},
		{
			name: "v2_detailed",
			eve: eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP",
				`"dns":{"version":2,"type":"answer","id":7,"rcode":"NOERROR","rrname":"auth.gtmhub.com","rrtype":"A","answers":[{"rrname":"auth.gtmhub.com","rrtype":"A","ttl":60,"rdata":"203.0.113.10"},{"rrname":"auth.gtmhub.com","rrtype":"A","ttl":60,"rdata":"203.0.113.11"}]}`),
			host:    []string{"auth.gtmhub.com"},
			reason:  []capture.Reason{""},
			answers: [][]netip.Addr{{a("203.0.113.10"), a("203.0.113.11")}},
			ttl:     time.Minute,
		},
		{
			// Some exports name the last name of the CNAME chain.
			name: "v2_named_by_chain_end",
			eve: eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP",
				`"dns":{"version":2,"type":"answer","id":7,"rcode":"NOERROR","rrname":"edge.example.net","rrtype":"A","answers":[{"rrname":"auth.gtmhub.com","rrtype":"CNAME","ttl":300,"rdata":"edge.example.net"},{"rrname":"edge.example.net","rrtype":"A","ttl":30,"rdata":"203.0.113.10"}]}`),
			host:    []string{"auth.gtmhub.com"},
			reason:  []capture.Reason{""},
			answers: [][]netip.Addr{{a("203.0.113.10")}},
			ttl:     30 * time.Second,
		},
		{
			name: "v2_grouped",
			eve: eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP",
				`"dns":{"version":2,"type":"answer","id":7,"rcode":"NOERROR","rrname":"app.gtmhub.com","rrtype":"AAAA","grouped":{"AAAA":["2001:db8::20"],"CNAME":["x.example"]}}`),
			host:    []string{"app.gtmhub.com"},
			reason:  []capture.Reason{""},
			answers: [][]netip.Addr{{a("2001:db8::20")}},
		},
		{
			name: "v3_nxdomain",
			eve: eveLine("01.000000", 1, "dns", cl, 5001, res, 53, "UDP", `"dns":{"version":3,"type":"request","id":9,"queries":[{"rrname":"auth.gtmhub.com","rrtype":"A"}]}`) +
				eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP", `"dns":{"version":3,"type":"response","id":9,"rcode":"NXDOMAIN","queries":[{"rrname":"auth.gtmhub.com","rrtype":"A"}]}`),
			host:    []string{"auth.gtmhub.com"},
			reason:  []capture.Reason{capture.DNSNXDomain},
			answers: [][]netip.Addr{nil},
		},
		{
			name: "unanswered_with_answers_logged",
			eve: eveLine("01.000000", 1, "dns", cl, 5001, res, 53, "UDP", `"dns":{"type":"query","id":1,"rrname":"a.example","rrtype":"A"}`) +
				eveLine("01.000000", 2, "dns", cl, 5002, res, 53, "UDP", `"dns":{"type":"query","id":2,"rrname":"b.example","rrtype":"A"}`) +
				eveLine("01.010000", 2, "dns", res, 53, cl, 5002, "UDP", `"dns":{"version":2,"type":"answer","id":2,"rcode":"SERVFAIL","rrname":"b.example","rrtype":"A"}`),
			host:    []string{"b.example", "a.example"},
			reason:  []capture.Reason{capture.DNSServFail, capture.DNSTimeout},
			answers: [][]netip.Addr{nil, nil},
		},
		{
			name:    "queries_only",
			eve:     eveLine("01.000000", 1, "dns", cl, 5001, res, 53, "UDP", `"dns":{"type":"query","id":1,"rrname":"a.example","rrtype":"A"}`),
			host:    []string{"a.example"},
			reason:  []capture.Reason{""},
			answers: [][]netip.Addr{nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs, _ := readRun(t, sensorInput{"eve.json", tc.eve})
			if len(obs) != len(tc.host) {
				t.Fatalf("got %d lookups, want %d: %+v", len(obs), len(tc.host), obs)
			}
			for i, o := range obs {
				if o.Kind != capture.Lookup || o.Host != tc.host[i] || o.Reason != tc.reason[i] {
					t.Errorf("lookup %d = %s %q %q, want lookup %q %q", i, o.Kind, o.Host, o.Reason, tc.host[i], tc.reason[i])
				}
				if o.Client != netip.MustParseAddrPort(cl+":"+itoa(int(o.Client.Port()))) || o.Server.Addr() != netip.MustParseAddr(res) {
					t.Errorf("lookup %d: client %s server %s, want the client %s asking %s", i, o.Client, o.Server, cl, res)
				}
				if len(o.Answers) != len(tc.answers[i]) {
					t.Errorf("lookup %d answers = %v, want %v", i, o.Answers, tc.answers[i])
					continue
				}
				for j := range o.Answers {
					if o.Answers[j] != tc.answers[i][j] {
						t.Errorf("lookup %d answers = %v, want %v", i, o.Answers, tc.answers[i])
					}
				}
			}
			if tc.ttl != 0 && obs[0].TTL != tc.ttl {
				t.Errorf("TTL = %v, want %v", obs[0].TTL, tc.ttl)
			}
		})
	}
}

func TestEveFlowOutcome(t *testing.T) {
	tests := []struct {
		name     string
		tr       capture.Transport
		port     uint16
		toClient string
		flagsTC  string
		appDone  bool
		outcome  capture.Outcome
		reason   capture.Reason
	}{
		{"syn_unanswered", capture.TCP, 443, "0", "00", false, capture.OutcomeBlocked, capture.NoResponse},
		{"syn_refused", capture.TCP, 443, "1", "14", false, capture.OutcomeBlocked, capture.Reset},
		{"reset_after_handshake", capture.TCP, 443, "2", "16", false, capture.OutcomeBlocked, capture.Reset},
		{"reset_after_tls", capture.TCP, 443, "9", "1e", true, capture.OutcomeOK, ""},
		{"normal", capture.TCP, 443, "9", "1b", false, capture.OutcomeOK, ""},
		{"no_flags_no_answer", capture.TCP, 443, "0", "", false, capture.OutcomeBlocked, capture.NoResponse},
		{"quic_unanswered", capture.UDP, 443, "0", "", false, capture.OutcomeBlocked, capture.NoResponse},
		{"udp_unanswered", capture.UDP, 514, "0", "", false, capture.OutcomeUnknown, ""},
		{"udp_answered", capture.UDP, 53, "1", "", false, capture.OutcomeOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &eveFlowEnd{pktsToClient: tc.toClient, tcpFlagsTC: tc.flagsTC}
			out, reason := eveFlowOutcome(tc.tr, tc.port, e, tc.appDone)
			if out != tc.outcome || reason != tc.reason {
				t.Errorf("eveFlowOutcome(%s) = %s %s, want %s %s", tc.name, out, reason, tc.outcome, tc.reason)
			}
		})
	}
}

// TestEveJoinFileOrder reads a flow's flow event in a file read before the
// one holding its tls event, as a directory of rotated or split outputs is
// read in lexical order.
func TestEveJoinFileOrder(t *testing.T) {
	tlsEvent := eveLine("01.100000", 1, "tls", cl, 40001, "203.0.113.10", 443, "TCP",
		`"tls":{"sni":"auth.gtmhub.com","version":"TLS 1.3"}`)
	flowEvent := eveLine("59.000000", 1, "flow", cl, 40001, "203.0.113.10", 443, "TCP",
		`"flow":{"pkts_toserver":9,"pkts_toclient":8,"state":"closed"},"tcp":{"tcp_flags_ts":"1b","tcp_flags_tc":"1b"}`)
	refused := eveLine("02.000000", 2, "flow", cl, 40002, "203.0.113.10", 443, "TCP",
		`"flow":{"pkts_toserver":1,"pkts_toclient":1,"state":"closed"},"tcp":{"tcp_flags_ts":"02","tcp_flags_tc":"14"}`)
	tests := []struct {
		name  string
		files map[string][]byte
		flow  string // the file whose line the connection is located at
	}{
		{
			// The current file sorts before the rotated one, which holds
			// the start of the flow.
			name: "rotated",
			files: map[string][]byte{
				"eve.json":             []byte(refused + flowEvent),
				"eve.json-20251203.gz": gzipBytes(t, tlsEvent),
			},
			flow: "eve.json",
		},
		{
			name: "split",
			files: map[string][]byte{
				"eve-flow.json": []byte(refused + flowEvent),
				"eve-tls.json":  []byte(tlsEvent),
			},
			flow: "eve-flow.json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			names, err := Expand([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			opts := &Options{}
			var obs []capture.Observation
			emit := func(o *capture.Observation) { obs = append(obs, *o) }
			for _, name := range names {
				res, err := ReadFile(name, nil, opts, emit)
				if err != nil {
					t.Fatalf("ReadFile(%s): %v", name, err)
				}
				if res.Stats.SkippedTotal() != 0 || res.Stats.Failed != 0 {
					t.Errorf("%s: skipped %v, failed %d, want every event read", name, res.Stats.Skipped, res.Stats.Failed)
				}
			}
			opts.Flush(emit)
			if len(obs) != 2 {
				t.Fatalf("got %d observations, want 2: %+v", len(obs), obs)
			}
			byPort := map[uint16]capture.Observation{}
			for _, o := range obs {
				byPort[o.Client.Port()] = o
			}
			o := byPort[40001]
			if o.Host != "auth.gtmhub.com" || o.HostSource != capture.SourceSNI || o.Outcome != capture.OutcomeOK ||
				filepath.Base(o.Input) != tc.flow || o.Locator != capture.Line(2) {
				t.Errorf("joined flow = %q (%s) %s at %s %s, want auth.gtmhub.com (sni) ok at %s line 2",
					o.Host, o.HostSource, o.Outcome, filepath.Base(o.Input), o.Locator, tc.flow)
			}
			if o := byPort[40002]; o.Outcome != capture.OutcomeBlocked || o.Reason != capture.Reset {
				t.Errorf("refused flow = %s %s, want blocked reset", o.Outcome, o.Reason)
			}
		})
	}
}

// TestEveJoinLimit checks what happens past the held flows' limit: the
// oldest flow whose flow event was read is emitted to make room, a later
// event of it is skipped rather than counted as a second connection, and
// when every held flow still waits for its flow event a new event is
// emitted alone and reported.
func TestEveJoinLimit(t *testing.T) {
	opts := &Options{}
	opts.State(eveJoinKey, func() any { j := newEveJoin(); j.limit = 2; return j })
	closed := `"flow":{"pkts_toserver":3,"pkts_toclient":3,"state":"closed"}`
	eve := eveLine("01.000000", 1, "flow", cl, 40001, "203.0.113.10", 443, "TCP", closed) +
		eveLine("02.000000", 2, "tls", cl, 40002, "203.0.113.20", 443, "TCP", `"tls":{"sni":"app.gtmhub.com"}`) +
		eveLine("03.000000", 3, "flow", cl, 40003, "203.0.113.10", 443, "TCP", closed) + // emits flow 1
		eveLine("04.000000", 3, "tls", cl, 40003, "203.0.113.10", 443, "TCP", `"tls":{"sni":"auth.gtmhub.com"}`) +
		eveLine("05.000000", 1, "anomaly", cl, 40001, "203.0.113.10", 443, "TCP", `"anomaly":{"type":"stream","event":"x"}`) +
		eveLine("06.000000", 4, "tls", cl, 40004, "203.0.113.30", 443, "TCP", `"tls":{"sni":"a.example"}`) + // emits flow 3
		eveLine("07.000000", 5, "tls", cl, 40005, "203.0.113.40", 443, "TCP", `"tls":{"sni":"b.example"}`) + // no room
		eveLine("08.000000", 2, "flow", cl, 40002, "203.0.113.20", 443, "TCP", closed)
	var obs []capture.Observation
	emit := func(o *capture.Observation) { obs = append(obs, *o) }
	res, err := Read(strings.NewReader(eve), "eve.json", nil, opts, emit)
	if err != nil {
		t.Fatal(err)
	}
	opts.Flush(emit)
	var got []string
	for _, o := range obs {
		got = append(got, itoa(int(o.Client.Port()))+" "+o.Host+" "+string(o.Outcome))
	}
	want := "40001  ok, 40003 auth.gtmhub.com ok, 40005 b.example unknown, 40002 app.gtmhub.com ok, 40004 a.example unknown"
	if strings.Join(got, ", ") != want {
		t.Errorf("observations = %s, want %s", strings.Join(got, ", "), want)
	}
	if res.Stats.Skipped[string(skipEveLate)] != 1 || len(res.Stats.Problems) != 1 {
		t.Errorf("skipped %v, problems %v; want the late anomaly skipped and the unjoined event reported", res.Stats.Skipped, res.Stats.Problems)
	}
}

// TestEveJoinEvictMany runs many more flows than the limit through the
// join, each flow event read before its tls event: every flow keeps its
// name and is emitted once.
func TestEveJoinEvictMany(t *testing.T) {
	opts := &Options{}
	opts.State(eveJoinKey, func() any { j := newEveJoin(); j.limit = 4; return j })
	var b strings.Builder
	const n = 5000
	for i := 1; i <= n; i++ {
		b.WriteString(eveLine("01.000000", i, "flow", cl, 10000+i, "203.0.113.10", 443, "TCP",
			`"flow":{"pkts_toserver":3,"pkts_toclient":3,"state":"closed"}`))
		b.WriteString(eveLine("01.100000", i, "tls", cl, 10000+i, "203.0.113.10", 443, "TCP", `"tls":{"sni":"auth.gtmhub.com"}`))
	}
	named := 0
	seen := make(map[uint16]bool)
	emit := func(o *capture.Observation) {
		if seen[o.Client.Port()] {
			t.Errorf("client port %d emitted twice", o.Client.Port())
		}
		seen[o.Client.Port()] = true
		if o.Host == "auth.gtmhub.com" {
			named++
		}
	}
	res, err := Read(strings.NewReader(b.String()), "eve.json", nil, opts, emit)
	if err != nil {
		t.Fatal(err)
	}
	opts.Flush(emit)
	if len(seen) != n || named != n || res.Stats.SkippedTotal() != 0 || len(res.Stats.Problems) != 0 {
		t.Errorf("%d flows, %d named, skipped %v, problems %v; want all %d named, none skipped",
			len(seen), named, res.Stats.Skipped, res.Stats.Problems, n)
	}
	if j := opts.State(eveJoinKey, nil).(*eveJoin); cap(j.ended) > 4096 {
		t.Errorf("the list of ended flows grew to %d ids, want it compacted as flows leave", cap(j.ended))
	}
}

func TestEveLines(t *testing.T) {
	text := "{\"timestamp\":\"2025-12-03T09:00:00.000000+0000\",\"event_type\":\"flow\",\"src_ip\":\"nope\"}\n" +
		"{\"timestamp\":\"2025-12-03T09:00:00.000000+0000\",\"flow_id\":1}\n" +
		"not json\n" +
		strings.Repeat(" ", 3) + "\n"
	st := &capture.Stats{}
	if err := readEve(strings.NewReader(text), "eve.json", &Options{}, st, func(*capture.Observation) {}); err != nil {
		t.Fatal(err)
	}
	if st.Failed != 3 || st.Skipped[string(SkipBlank)] != 1 || st.Records != 0 {
		t.Errorf("failed, blank, records = %d, %d, %d, want 3, 1, 0 (%v)", st.Failed, st.Skipped[string(SkipBlank)], st.Records, st.Problems)
	}
}

// gzipBytes compresses s as a rotated log is.
func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
