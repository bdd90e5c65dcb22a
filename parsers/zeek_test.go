package parsers

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// sensorInput is one named input of a test run.
type sensorInput struct {
	name, text string
}

// readRun reads the inputs in order as one run (shared Options, then
// Flush) and returns the observations and each input's stats.
func readRun(t *testing.T, inputs ...sensorInput) ([]capture.Observation, []capture.Stats) {
	t.Helper()
	opts := &Options{}
	var obs []capture.Observation
	emit := func(o *capture.Observation) { obs = append(obs, *o) }
	var stats []capture.Stats
	for _, in := range inputs {
		res, err := Read(strings.NewReader(in.text), in.name, nil, opts, emit)
		if err != nil {
			t.Fatalf("Read(%s): %v", in.name, err)
		}
		stats = append(stats, res.Stats)
	}
	opts.Flush(emit)
	return obs, stats
}

// zeekTSV builds a TSV log with the standard header.
func zeekTSV(path string, fields string, rows ...string) string {
	var b strings.Builder
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
	b.WriteString("#path\t" + path + "\n#open\t2025-12-03-09-00-00\n")
	b.WriteString("#fields\t" + strings.ReplaceAll(fields, " ", "\t") + "\n")
	for _, r := range rows {
		b.WriteString(strings.ReplaceAll(r, " ", "\t") + "\n")
	}
	b.WriteString("#close\t2025-12-03-10-00-00\n")
	return b.String()
}

const (
	connFields = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service conn_state history resp_bytes"
	sslFields  = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p version server_name established last_alert cert_chain_fps validation_status"
	httpFields = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p trans_depth method host uri status_code"
	dnsFields  = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto query qtype_name rcode_name answers TTLs rejected"
)

func TestZeekConnOutcome(t *testing.T) {
	tests := []struct {
		tr      capture.Transport
		state   string
		history string
		port    uint16
		outcome capture.Outcome
		reason  capture.Reason
	}{
		{capture.TCP, "S0", "S", 443, capture.OutcomeBlocked, capture.NoResponse},
		{capture.TCP, "REJ", "Sr", 443, capture.OutcomeBlocked, capture.Reset},
		{capture.TCP, "RSTOS0", "SR", 443, capture.OutcomeBlocked, capture.NoResponse},
		{capture.TCP, "SH", "SF", 443, capture.OutcomeBlocked, capture.NoResponse},
		{capture.TCP, "RSTRH", "^r", 443, capture.OutcomeBlocked, capture.Reset},
		{capture.TCP, "RSTR", "ShADr", 443, capture.OutcomeBlocked, capture.Reset},
		{capture.TCP, "RSTR", "ShADdr", 443, capture.OutcomeOK, ""},
		{capture.TCP, "RSTO", "ShADadR", 443, capture.OutcomeOK, ""},
		{capture.TCP, "SF", "ShADadFf", 443, capture.OutcomeOK, ""},
		{capture.TCP, "S1", "ShADad", 443, capture.OutcomeOK, ""},
		{capture.TCP, "S2", "ShADadF", 443, capture.OutcomeOK, ""},
		{capture.TCP, "S3", "ShADadf", 443, capture.OutcomeOK, ""},
		{capture.TCP, "SHR", "^fA", 443, capture.OutcomeUnknown, ""},
		{capture.TCP, "OTH", "DdA", 443, capture.OutcomeUnknown, ""},
		{capture.UDP, "S0", "D", 443, capture.OutcomeBlocked, capture.NoResponse},
		{capture.UDP, "S0", "D", 137, capture.OutcomeUnknown, ""},
		{capture.UDP, "SF", "Dd", 53, capture.OutcomeOK, ""},
		{capture.ICMP, "OTH", "", 0, capture.OutcomeUnknown, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.tr)+"_"+tc.state+"_"+tc.history, func(t *testing.T) {
			out, reason := zeekConnOutcome(tc.tr, []byte(tc.state), []byte(tc.history), tc.port)
			if out != tc.outcome || reason != tc.reason {
				t.Errorf("zeekConnOutcome(%s, %s, %s) = %s %s, want %s %s", tc.tr, tc.state, tc.history, out, reason, tc.outcome, tc.reason)
			}
		})
	}
}

func TestZeekTSVValues(t *testing.T) {
	// A custom set separator, an escaped tab inside a query, "(empty)" and
	// "-" values, and a vector whose items carry an escaped separator.
	log := "#separator \\x09\n#set_separator\t|\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n" +
		"#fields\t" + strings.ReplaceAll(dnsFields, " ", "\t") + "\n" +
		"1764752401.5\tCx1\t192.0.2.10\t5000\t192.0.2.53\t53\tudp\tAuth.GTMhub.com.\tA\tNOERROR\tedge.example.net|203.0.113.10|203.0.113.11\t60.0|30.0|120.0\tF\n" +
		"1764752402\tCx2\t192.0.2.10\t5001\t192.0.2.53\t53\tudp\tweird\\x09name.example\tA\tNXDOMAIN\t(empty)\t(empty)\tF\n" +
		"1764752403\tCx3\t192.0.2.10\t5002\t192.0.2.53\t53\tudp\tslow.example\tA\t-\t-\t-\tF\n" +
		"1764752404\tCx4\t192.0.2.10\t5003\t224.0.0.251\t5353\tudp\tprinter.local\tA\t-\t-\t-\tF\n"
	obs, stats := readRun(t, sensorInput{"dns.log", log})
	if stats[0].Format != "zeek" {
		t.Fatalf("format = %q, want zeek", stats[0].Format)
	}
	if len(obs) != 3 {
		t.Fatalf("got %d observations, want 3: %+v", len(obs), obs)
	}
	first := obs[0]
	if first.Host != "auth.gtmhub.com" || first.Kind != capture.Lookup || first.Outcome != capture.OutcomeOK {
		t.Errorf("first lookup = %q %s %s, want auth.gtmhub.com lookup ok", first.Host, first.Kind, first.Outcome)
	}
	wantAnswers := []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("203.0.113.11")}
	if len(first.Answers) != 2 || first.Answers[0] != wantAnswers[0] || first.Answers[1] != wantAnswers[1] {
		t.Errorf("answers = %v, want %v", first.Answers, wantAnswers)
	}
	if first.TTL != 120*time.Second {
		t.Errorf("TTL = %v, want 2m0s", first.TTL)
	}
	if want := time.Unix(1764752401, 500000000).UTC(); !first.Time.Equal(want) {
		t.Errorf("time = %v, want %v", first.Time, want)
	}
	if first.Locator != capture.Line(7) {
		t.Errorf("locator = %v, want line 7", first.Locator)
	}
	if obs[1].Host != "weird\tname.example" || obs[1].Reason != capture.DNSNXDomain {
		t.Errorf("second lookup = %q %s, want the unescaped name and dns-nxdomain", obs[1].Host, obs[1].Reason)
	}
	if obs[2].Reason != capture.DNSTimeout {
		t.Errorf("unanswered lookup reason = %s, want dns-timeout", obs[2].Reason)
	}
	if got := stats[0].Skipped[string(skipZeekDNSLocal)]; got != 1 {
		t.Errorf("multicast lookups skipped = %d, want 1", got)
	}
	if stats[0].Records != 3 || stats[0].Failed != 0 {
		t.Errorf("records, failed = %d, %d, want 3, 0", stats[0].Records, stats[0].Failed)
	}
}

func TestZeekJoin(t *testing.T) {
	conn := zeekTSV("conn", connFields,
		"1764752401.1 C1 192.0.2.10 40001 203.0.113.10 443 tcp ssl SF ShADadFf 5200",
		"1764752402.1 C2 192.0.2.10 40002 203.0.113.10 443 tcp - S0 S -",
		"1764752403.1 C3 192.0.2.10 40003 203.0.113.20 443 tcp ssl SF ShADadFf 5200",
		"1764752404.1 C4 192.0.2.10 40004 192.0.2.1 3128 tcp http SF ShADadFf 5200",
		"1764752405.1 C5 192.0.2.10 40005 198.51.100.7 80 tcp http SF ShADadFf 900",
	)
	ssl := zeekTSV("ssl", sslFields,
		"1764752401.2 C1 192.0.2.10 40001 203.0.113.10 443 TLSv13 auth.gtmhub.com T - - -",
		"1764752403.2 C3 192.0.2.10 40003 203.0.113.20 443 TLSv12 app.gtmhub.com F unknown_ca FP1 unable\\x20to\\x20get\\x20local\\x20issuer\\x20certificate",
		"1764752409.2 C9 192.0.2.10 40009 203.0.113.30 443 TLSv13 alone.example.com T - - -",
	)
	http := zeekTSV("http", httpFields,
		"1764752404.2 C4 192.0.2.10 40004 192.0.2.1 3128 1 CONNECT auth.gtmhub.com:443 auth.gtmhub.com:443 407",
		"1764752405.2 C5 192.0.2.10 40005 198.51.100.7 80 1 GET crl.example.net /ca.crl?token=abcdefabcdefabcdefabcdef0123 200",
		"1764752405.3 C5 192.0.2.10 40005 198.51.100.7 80 2 POST crl.example.net /submit 204",
	)
	x509 := "#separator \\x09\n#path\tx509\n#fields\tts\tfingerprint\tcertificate.subject\tcertificate.issuer\n" +
		"1764752403.2\tFP1\tCN=app.gtmhub.com\tCN=Example Inspection CA\n"
	for _, order := range [][]sensorInput{
		{{"conn.log", conn}, {"http.log", http}, {"ssl.log", ssl}, {"x509.log", x509}},
		{{"x509.log", x509}, {"ssl.log", ssl}, {"http.log", http}, {"conn.log", conn}},
	} {
		t.Run(order[0].name+"_first", func(t *testing.T) {
			obs, _ := readRun(t, order...)
			byPort := make(map[uint16][]capture.Observation)
			for _, o := range obs {
				byPort[o.Client.Port()] = append(byPort[o.Client.Port()], o)
			}
			check := func(port uint16, n int, host string, src capture.HostSource, out capture.Outcome, reason capture.Reason, input string) {
				t.Helper()
				got := byPort[port]
				if len(got) != n {
					t.Fatalf("client port %d: %d observations, want %d: %+v", port, len(got), n, got)
				}
				o := got[0]
				if o.Host != host || o.HostSource != src || o.Outcome != out || o.Reason != reason || o.Input != input {
					t.Errorf("client port %d = %q (%s) %s %s at %s, want %q (%s) %s %s at %s",
						port, o.Host, o.HostSource, o.Outcome, o.Reason, o.Input, host, src, out, reason, input)
				}
			}
			check(40001, 1, "auth.gtmhub.com", capture.SourceSNI, capture.OutcomeOK, "", "conn.log")
			check(40002, 1, "", "", capture.OutcomeBlocked, capture.NoResponse, "conn.log")
			check(40003, 1, "app.gtmhub.com", capture.SourceSNI, capture.OutcomeBlocked, capture.TLSInterception, "conn.log")
			check(40004, 1, "auth.gtmhub.com", capture.SourceConnect, capture.OutcomeBlocked, capture.ProxyAuthRequired, "conn.log")
			check(40005, 2, "crl.example.net", capture.SourceHTTP, capture.OutcomeOK, "", "conn.log")
			check(40009, 1, "alone.example.com", capture.SourceSNI, capture.OutcomeOK, "", "ssl.log")
			if got := byPort[40003][0].Issuer; got != "CN=Example Inspection CA" {
				t.Errorf("issuer = %q, want the x509.log issuer", got)
			}
			if got := byPort[40004][0].Server.Port(); got != 443 {
				t.Errorf("CONNECT server port = %d, want the target's 443", got)
			}
			if got := byPort[40005][0].Path; got != "/ca.crl?token=REDACTED" {
				t.Errorf("path = %q, want the token redacted", got)
			}
			if got := byPort[40005][1]; got.Method != "POST" || got.Path != "/submit" || got.Input != "http.log" {
				t.Errorf("second request = %s %s at %s, want POST /submit at http.log", got.Method, got.Path, got.Input)
			}
		})
	}
}

func TestZeekTLSOutcome(t *testing.T) {
	tests := []struct {
		name        string
		established bool
		alert       string
		validation  string
		before      capture.Reason
		outcome     capture.Outcome
		reason      capture.Reason
	}{
		{"established", true, "", "ok", "", capture.OutcomeOK, ""},
		{"established_untrusted_accepted", true, "", "unable to get local issuer certificate", "", capture.OutcomeOK, ""},
		{"unknown_ca", false, "unknown_ca", "", "", capture.OutcomeBlocked, capture.TLSInterception},
		{"validation_only", false, "", "self signed certificate in certificate chain", "", capture.OutcomeBlocked, capture.TLSInterception},
		{"handshake_failure", false, "handshake_failure", "", "", capture.OutcomeBlocked, capture.TLSAlert},
		{"reset_kept", false, "", "", capture.Reset, capture.OutcomeBlocked, capture.Reset},
		{"closed_early", false, "", "", "", capture.OutcomeBlocked, capture.ClosedEarly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := capture.Observation{Outcome: capture.OutcomeOK, Transport: capture.TCP}
			if tc.before != "" {
				o.Outcome, o.Reason = capture.OutcomeBlocked, tc.before
			}
			s := &zeekTLS{sni: "auth.gtmhub.com", established: tc.established, alert: tc.alert, validation: tc.validation}
			applyZeekTLS(&o, s, nil, false)
			if o.Outcome != tc.outcome || o.Reason != tc.reason {
				t.Errorf("applyZeekTLS(%s) = %s %s, want %s %s", tc.name, o.Outcome, o.Reason, tc.outcome, tc.reason)
			}
		})
	}
}

func TestZeekLines(t *testing.T) {
	tests := []struct {
		name             string
		text             string
		records, skipped int64
		failed           int64
		problem          string
	}{
		{
			name:   "data_before_fields",
			text:   "#separator \\x09\n1764752401.1\tC1\n",
			failed: 1, skipped: 1, problem: "before a #fields header",
		},
		{
			name: "bad_address",
			text: zeekTSV("conn", connFields, "1764752401.1 C1 192.0.2.999 40001 203.0.113.10 443 tcp - S0 S -"),
			// 7 header lines and #close
			failed: 1, skipped: 8, problem: "id.orig_h",
		},
		{
			name:    "other_log",
			text:    zeekTSV("files", "ts fuid uid", "1764752401.1 F1 C1"),
			skipped: 9,
		},
		{
			name: "two_header_blocks",
			text: zeekTSV("conn", connFields, "1764752401.1 C1 192.0.2.10 40001 203.0.113.10 443 tcp - S0 S -") +
				zeekTSV("conn", "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto conn_state",
					"1764752402.1 C2 192.0.2.10 40002 203.0.113.10 443 tcp REJ"),
			records: 2, skipped: 16,
		},
		{
			// Found by FuzzParseZeekTSV: a lookup of the root, with no
			// endpoints either.
			name:    "root_query",
			text:    "#fields\t\t\t\t\t\t\t\t\t\tquery\t\n\t\t\t\t\t\t\t\t\t.",
			skipped: 1, failed: 1, problem: "in.log:2: zeek dns: no id.orig_h or id.resp_h",
		},
		{
			// The header's separators written out as \t: one field name,
			// none known, so the record has no endpoints. Both lines fail,
			// with their line numbers, and nothing is reported.
			name:    "fields_literal_tab",
			text:    "#separator \\x09\n#path\tconn\n#fields\tts\\tuid\\tid.orig_h\\tid.orig_p\\tid.resp_h\\tid.resp_p\\tproto\\tconn_state\n1764752401.1\tC1\t192.0.2.10\t40001\t203.0.113.10\t443\ttcp\tS0\n",
			skipped: 2, failed: 2, problem: "in.log:3: zeek: #fields: names separated by a written-out backslash and t",
		},
		{
			name:    "no_responder",
			text:    zeekTSV("conn", "ts uid id.orig_h id.orig_p proto conn_state", "1764752401.1 C1 192.0.2.10 40001 tcp S0"),
			skipped: 8, failed: 1, problem: "in.log:8: zeek conn: no id.resp_h",
		},
		{
			name:   "json_no_endpoints",
			text:   `{"_path":"conn","ts":1764752401.1,"uid":"C1","proto":"tcp","conn_state":"S0"}` + "\n",
			failed: 1, problem: "in.log:1: zeek conn: no id.orig_h or id.resp_h",
		},
		{
			name:    "masked_time",
			text:    zeekTSV("conn", connFields, "XXXXXXXXXX.XXXXXX C1 192.0.2.10 40001 203.0.113.10 443 tcp - S0 S -"),
			records: 1, skipped: 8,
		},
		{
			name:    "json_lines",
			text:    `{"ts":1764752401.1,"uid":"C1","id.orig_h":"192.0.2.10","id.orig_p":40001,"id.resp_h":"203.0.113.10","id.resp_p":443,"proto":"tcp","conn_state":"REJ"}` + "\n{\"ts\":1,\"uid\":\"C2\",\"id.orig_h\":\n",
			records: 1, failed: 1, problem: "zeek json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &capture.Stats{}
			opts := &Options{}
			var obs []capture.Observation
			emit := func(o *capture.Observation) { obs = append(obs, *o) }
			if err := readZeek(strings.NewReader(tc.text), "in.log", opts, st, emit); err != nil {
				t.Fatal(err)
			}
			opts.Flush(emit)
			if int64(len(obs)) != tc.records {
				t.Errorf("%d observations, want one a record: %+v", len(obs), obs)
			}
			if st.Records != tc.records || st.SkippedTotal() != tc.skipped || st.Failed != tc.failed {
				t.Errorf("records, skipped, failed = %d, %d, %d, want %d, %d, %d (%v %v)",
					st.Records, st.SkippedTotal(), st.Failed, tc.records, tc.skipped, tc.failed, st.Skipped, st.Problems)
			}
			if tc.problem != "" && (len(st.Problems) == 0 || !strings.Contains(st.Problems[0].Err, tc.problem)) {
				t.Errorf("problems = %v, want one mentioning %q", st.Problems, tc.problem)
			}
		})
	}
}

func TestDetectSensors(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"zeek_tsv", zeekTSV("conn", connFields), "zeek"},
		{"zeek_tsv_banner", "### BTest baseline data generated by btest-diff.\n" + zeekTSV("ssl", sslFields), "zeek"},
		{"zeek_json", `{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp"}` + "\n", "zeek"},
		{"zeek_json_nested_id", `{"ts":1591367999.305988,"uid":"C1","id":{"orig_h":"192.168.4.76","orig_p":1,"resp_h":"192.168.4.1","resp_p":53}}` + "\n", "zeek"},
		{"eve", `{"timestamp":"2022-07-12T06:22:33.415742+0000","flow_id":1,"event_type":"flow","src_ip":"1.2.3.4","src_port":1,"dest_ip":"1.2.3.5","dest_port":80,"proto":"TCP"}` + "\n", "suricata"},
		{"squid", "1764752400.101    212 192.0.2.10 TCP_TUNNEL/200 6120 CONNECT marketplace.atlassian.com:443 - HIER_DIRECT/203.0.113.80 -\n", "squid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Detect([]byte(tc.head))
			if err != nil || f.Name != tc.want {
				t.Errorf("Detect(%s) = %v, %v, want %s", tc.name, f, err, tc.want)
			}
		})
	}
	// A Suricata event wrapped in a cloud firewall's document is not eve.json.
	wrapped := `{"firewall_name":"fw","availability_zone":"a","event_timestamp":"1","event":{"timestamp":"2021-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"1.2.3.4"}}`
	if got := detectEve(nil, [][]byte{[]byte(wrapped)}); got != 0 {
		t.Errorf("detectEve(wrapped) = %d, want 0", got)
	}
}

func TestZeekJoinOverflow(t *testing.T) {
	conn := zeekTSV("conn", connFields,
		"1764752401.1 C1 192.0.2.10 40001 203.0.113.10 443 tcp ssl SF ShADadFf 5200",
		"1764752402.1 C2 192.0.2.10 40002 203.0.113.20 443 tcp ssl SF ShADadFf 5200",
	)
	ssl := zeekTSV("ssl", sslFields,
		"1764752401.2 C1 192.0.2.10 40001 203.0.113.10 443 TLSv13 auth.gtmhub.com T - - -",
		"1764752402.2 C2 192.0.2.10 40002 203.0.113.20 443 TLSv13 app.gtmhub.com T - - -",
	)
	opts := &Options{}
	j := opts.State(zeekJoinKey, func() any { return newZeekJoin() }).(*zeekJoin)
	j.limit = 1
	var obs []capture.Observation
	emit := func(o *capture.Observation) { obs = append(obs, *o) }
	st := &capture.Stats{}
	if err := readZeek(strings.NewReader(conn), "conn.log", opts, st, emit); err != nil {
		t.Fatal(err)
	}
	// The second connection found no room: emitted at once, unnamed, and
	// counted.
	if len(obs) != 1 || obs[0].Host != "" || len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Err, "1 connections emitted without") {
		t.Fatalf("after conn.log: %d observations, problems %v, want 1 unnamed and the overflow counted", len(obs), st.Problems)
	}
	if err := readZeek(strings.NewReader(ssl), "ssl.log", opts, &capture.Stats{}, emit); err != nil {
		t.Fatal(err)
	}
	opts.Flush(emit)
	hosts := make(map[string]bool)
	for _, o := range obs {
		hosts[o.Host] = true
	}
	if !hosts["auth.gtmhub.com"] || !hosts["app.gtmhub.com"] {
		t.Errorf("hosts = %v, want both SNIs to be seen", hosts)
	}
}

func TestZeekJSONRecords(t *testing.T) {
	lines := `{"_path":"files","ts":1764752401.1,"fuid":"F1","uid":"C1"}
{"_path":"http","ts":"2025-12-03T09:00:01.500000Z","uid":"C7","id.orig_h":"192.0.2.10","id.orig_p":40007,"id.resp_h":"192.0.2.1","id.resp_p":3128,"method":"POST","host":"auth.gtmhub.com","uri":"http://auth.gtmhub.com/oauth/token?code=abc","status_code":403}
`
	obs, stats := readRun(t, sensorInput{"http.json", lines})
	if stats[0].Skipped[string(skipZeekOtherLog)] != 1 || stats[0].Records != 1 {
		t.Errorf("skipped %v, records %d, want the files.log line skipped and one record", stats[0].Skipped, stats[0].Records)
	}
	if len(obs) != 1 {
		t.Fatalf("%d observations, want 1", len(obs))
	}
	o := obs[0]
	want := time.Date(2025, 12, 3, 9, 0, 1, 500000000, time.UTC)
	if o.Host != "auth.gtmhub.com" || o.HostSource != capture.SourceURL || o.Path != "/oauth/token?code=REDACTED" ||
		o.Reason != capture.ProxyDenied || o.Server.Port() != 80 || !o.Time.Equal(want) {
		t.Errorf("got %q (%s) %s %s port %d at %v, want auth.gtmhub.com (url) /oauth/token?code=REDACTED proxy-denied port 80 at %v",
			o.Host, o.HostSource, o.Path, o.Reason, o.Server.Port(), o.Time, want)
	}
}
