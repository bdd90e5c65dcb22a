package parsers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// The tests in this file compare what the parsers read from the public
// samples with what other tools read from them (the expected files beside
// the samples), or, where a sample has none, with the sample's own JSON
// decoded by encoding/json.

// corpusLine is what a line parser made of one line: the observation, which
// holds the line's fields even when the line is skipped, and the error.
type corpusLine struct {
	o    capture.Observation
	err  error
	skip Skip
}

// parseCorpusFile parses every line of a corpus file with one parser.
func parseCorpusFile(t *testing.T, f *Format, file string) []corpusLine {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := f.NewLine(&Options{Ref: testRef})
	var out []corpusLine
	for _, l := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		var c corpusLine
		c.err = p.ParseLine(bytes.TrimRight(l, "\r"), &c.o)
		if errors.As(c.err, &c.skip) {
			c.err = nil
		}
		out = append(out, c)
	}
	return out
}

// checkEndpoints compares an observation's addresses, ports and transport
// with the strings an expected file gives ("" where it gives none).
func checkEndpoints(t *testing.T, where string, o *capture.Observation, src, dst, sport, dport, proto string) {
	t.Helper()
	if got := o.Client.Addr().String(); src != "" && got != src {
		t.Errorf("%s: source %s, want %s", where, got, src)
	}
	if got := o.Server.Addr().String(); dst != "" && got != dst {
		t.Errorf("%s: destination %s, want %s", where, got, dst)
	}
	if got := strconv.Itoa(int(o.Client.Port())); sport != "" && got != sport {
		t.Errorf("%s: source port %s, want %s", where, got, sport)
	}
	if got := strconv.Itoa(int(o.Server.Port())); dport != "" && got != dport {
		t.Errorf("%s: destination port %s, want %s", where, got, dport)
	}
	if proto != "" && !strings.EqualFold(string(o.Transport), proto) {
		t.Errorf("%s: transport %s, want %s", where, o.Transport, proto)
	}
}

// TestNetfilterCorpusCrowdsec compares the crowdsec sample with the crowdsec
// parser's assertions: addresses, ports, protocol, time, and the
// interfaces, which make every line a packet to the host itself.
func TestNetfilterCorpusCrowdsec(t *testing.T) {
	dir := corpusDir(t, "iptables")
	exp := filepath.Join(dir, "crowdsec-iptables-logs.parser-assert.expected.txt")
	parsed := crowdsecParsed(t, exp, "s01-parse")
	ifaces := crowdsecValues(t, exp, "s01-parse", `Evt.Unmarshaled["iptables"]`)
	lines := parseCorpusFile(t, netfilter, filepath.Join(dir, "crowdsec-iptables-logs.log"))
	if len(parsed) == 0 || len(ifaces) == 0 {
		t.Fatal("no assertions read")
	}
	for i, c := range lines {
		where := fmt.Sprintf("line %d", i+1)
		w, ok := parsed[i]
		if !ok {
			// crowdsec fails this line (XX= in place of IN=).
			if c.err == nil {
				t.Errorf("%s: parsed (skip %q), want a failure as crowdsec gives", where, c.skip)
			}
			continue
		}
		if c.err != nil {
			t.Errorf("%s: %v", where, c.err)
			continue
		}
		checkEndpoints(t, where, &c.o, w["src_ip"], w["dst_ip"], w["src_port"], w["dst_port"], w["proto"])
		if ts, err := time.Parse(time.Stamp, w["timestamp"]); err != nil {
			t.Errorf("%s: expected timestamp %q: %v", where, w["timestamp"], err)
		} else if got := c.o.Time.UTC(); got.Month() != ts.Month() || got.Day() != ts.Day() || got.Format(time.TimeOnly) != ts.Format(time.TimeOnly) {
			t.Errorf("%s: time %v, want %s", where, got, w["timestamp"])
		}
		in := ifaces[i]
		if in["IN"] != "" && in["OUT"] == "" && c.skip != SkipInbound {
			t.Errorf("%s: skip %q, want %q for IN=%s OUT=", where, c.skip, SkipInbound, in["IN"])
		}
	}
}

// TestNetfilterCorpusPylogsparser compares the pylogsparser sample with the
// normalizer's expected tags.
func TestNetfilterCorpusPylogsparser(t *testing.T) {
	dir := corpusDir(t, "iptables")
	var exp []struct {
		Text string            `json:"text"`
		Tags map[string]string `json:"expectedTags"`
	}
	readJSON(t, filepath.Join(dir, "pylogsparser-netfilter.expected.json"), &exp)
	lines := parseCorpusFile(t, netfilter, filepath.Join(dir, "pylogsparser-netfilter.log"))
	if len(exp) != len(lines) {
		t.Fatalf("%d lines, %d expected", len(lines), len(exp))
	}
	for i, e := range exp {
		where := fmt.Sprintf("line %d", i+1)
		c := lines[i]
		if c.err != nil {
			t.Errorf("%s: %v", where, c.err)
			continue
		}
		w := e.Tags
		checkEndpoints(t, where, &c.o, w["source_ip"], w["dest_ip"], w["source_port"], w["dest_port"], w["protocol"])
		if !strings.HasPrefix(c.o.Detail, w["prefix"]) {
			t.Errorf("%s: detail %q, want the prefix %q", where, c.o.Detail, w["prefix"])
		}
		if w["inbound_int"] != "" && w["outbound_int"] == "" && c.skip != SkipInbound {
			t.Errorf("%s: skip %q, want %q for a packet in on %s", where, c.skip, SkipInbound, w["inbound_int"])
		}
	}
}

// TestNetfilterCorpusJournald checks why the Filebeat journald sample gives
// no record: its one netfilter line is a packet to the host itself (IN=eth0
// OUT=, to the host's own address in host.ip), and its other lines are the
// pretty-printed JSON around it.
func TestNetfilterCorpusJournald(t *testing.T) {
	dir := corpusDir(t, "iptables")
	file := filepath.Join(dir, "elastic-integrations-iptables-test-journald.json")
	var doc struct {
		Events []struct {
			Message string `json:"message"`
			Host    struct {
				IP []string `json:"ip"`
			} `json:"host"`
		} `json:"events"`
	}
	readJSON(t, file, &doc)
	if len(doc.Events) != 1 || len(doc.Events[0].Host.IP) != 1 {
		t.Fatalf("sample holds %d events, want 1 with one host address", len(doc.Events))
	}
	res, err := ReadFile(file, netfilter, &Options{Ref: testRef}, func(*capture.Observation) {})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	lines := int64(len(bytes.Split(bytes.TrimRight(mustRead(t, file), "\n"), []byte("\n"))))
	if st.Records != 0 || st.Failed != 0 || st.Skipped[string(SkipInbound)] != 1 ||
		st.Skipped[string(SkipNotFirewall)] != lines-1 {
		t.Errorf("stats = %+v, want the one message skipped as %q and %d other lines", st, SkipInbound, lines-1)
	}
	var o capture.Observation
	err = netfilter.NewLine(&Options{}).ParseLine([]byte(doc.Events[0].Message), &o)
	if err != SkipInbound || o.Server.Addr().String() != doc.Events[0].Host.IP[0] {
		t.Errorf("message: %v to %v, want %q to the host's own %s", err, o.Server, SkipInbound, doc.Events[0].Host.IP[0])
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPfsenseCorpusRFC5424 compares the RFC 5424 filterlog sample with the
// crowdsec assertions: the time, and the addresses, ports and action of
// the filterlog message they give, read by the documented column layout
// (IPv4 and IPv6 differ).
func TestPfsenseCorpusRFC5424(t *testing.T) {
	dir := corpusDir(t, "pfsense")
	name := "crowdsec-pfsense-rfc5424-filterlog"
	want := crowdsecParsed(t, filepath.Join(dir, name+".parser-assert.expected.txt"), "s02-enrich")
	lines := parseCorpusFile(t, pfsense, filepath.Join(dir, name+".log"))
	if len(want) != len(lines) {
		t.Fatalf("%d lines, %d with assertions", len(lines), len(want))
	}
	for i, c := range lines {
		where := fmt.Sprintf("line %d", i+1)
		w := want[i]
		if c.err != nil || c.skip != "" {
			t.Errorf("%s: %v %q", where, c.err, c.skip)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, w["timestamp8601"])
		if err != nil || !c.o.Time.Equal(ts) {
			t.Errorf("%s: time %v, want %s", where, c.o.Time, w["timestamp8601"])
		}
		// https://docs.netgate.com/pfsense/en/latest/monitoring/logs/raw-filter-format.html
		f := strings.Split(w["message"], ",")
		var src, dst, sport, dport, proto string
		switch f[8] {
		case "4":
			proto, src, dst, sport, dport = f[16], f[18], f[19], f[20], f[21]
		case "6":
			proto, src, dst, sport, dport = f[12], f[15], f[16], f[17], f[18]
		default:
			t.Fatalf("%s: IP version %q", where, f[8])
		}
		checkEndpoints(t, where, &c.o, src, dst, sport, dport, proto)
		if blocked := f[6] == "block" || f[6] == "reject"; blocked != (c.o.Outcome == capture.OutcomeBlocked) {
			t.Errorf("%s: outcome %s, want action %s", where, c.o.Outcome, f[6])
		}
	}
}

// vrlString matches a double-quoted VRL string literal.
var vrlString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// TestAWSVPCCorpusVRL compares the examples of Vector's
// parse_aws_vpc_flow_log reference with what they return there. A custom
// format is given to the parser as the header line S3 delivery writes.
func TestAWSVPCCorpusVRL(t *testing.T) {
	dir := corpusDir(t, "aws-vpc")
	var doc struct {
		Examples []struct {
			Title  string         `json:"title"`
			Source string         `json:"source"`
			Return map[string]any `json:"return"`
		} `json:"examples"`
	}
	readJSON(t, filepath.Join(dir, "vrl-parse_aws_vpc_flow_log.docs-examples.expected.json"), &doc)
	if len(doc.Examples) == 0 {
		t.Fatal("no examples read")
	}
	for _, ex := range doc.Examples {
		t.Run(ex.Title, func(t *testing.T) {
			lits := vrlString.FindAllStringSubmatch(ex.Source, -1)
			if len(lits) == 0 {
				t.Fatalf("no string in %q", ex.Source)
			}
			text := lits[0][1] + "\n"
			if len(lits) > 1 {
				text = lits[1][1] + "\n" + text
			}
			obs, st := readAll(t, awsVPC, text, testRef)
			r := ex.Return
			str := func(k string) string {
				switch v := r[k].(type) {
				case string:
					return v
				case float64:
					return strconv.FormatFloat(v, 'f', -1, 64)
				}
				return ""
			}
			if r["srcaddr"] == nil {
				// NODATA: no traffic, nothing to judge.
				if st.Records != 0 || st.Skipped[string(vpcSkipNoData)] != 1 {
					t.Errorf("stats = %+v, want the %s record skipped", st, str("log_status"))
				}
				return
			}
			if str("flow_direction") == "ingress" {
				// Packets received: no egress destination.
				if st.Records != 0 || st.Skipped[string(vpcSkipInbound)] != 1 {
					t.Errorf("stats = %+v, want the ingress record skipped as inbound", st)
				}
				return
			}
			if st.Records != 1 || len(obs) != 1 {
				t.Fatalf("stats = %+v, want 1 record", st)
			}
			o := &obs[0]
			src, dst := str("srcaddr"), str("dstaddr")
			if p := str("pkt_srcaddr"); p != "" {
				src = p // the packet's own addresses, past NAT
			}
			if p := str("pkt_dstaddr"); p != "" {
				dst = p
			}
			checkEndpoints(t, "record", o, src, dst, str("srcport"), str("dstport"), "")
			if r["protocol"] == 6.0 && o.Transport != capture.TCP {
				t.Errorf("transport %s, want tcp for protocol 6", o.Transport)
			}
			if start := str("start"); start != "" && strconv.FormatInt(o.Time.Unix(), 10) != start {
				t.Errorf("time %v (%d), want start %s", o.Time, o.Time.Unix(), start)
			}
			switch str("action") {
			case "ACCEPT":
				if o.Outcome != capture.OutcomeOK {
					t.Errorf("outcome %s, want ok for ACCEPT", o.Outcome)
				}
			case "REJECT":
				if o.Outcome != capture.OutcomeBlocked {
					t.Errorf("outcome %s, want blocked for REJECT", o.Outcome)
				}
			}
		})
	}
}

// readCorpusRecords reads a corpus file whole and returns its observations
// by the line they were found on, and its counts.
func readCorpusRecords(t *testing.T, f *Format, file string) (map[int64]capture.Observation, []capture.Observation, capture.Stats) {
	t.Helper()
	byLine := map[int64]capture.Observation{}
	var all []capture.Observation
	res, err := ReadFile(file, f, &Options{Ref: testRef}, func(o *capture.Observation) {
		byLine[o.Locator.N] = *o
		all = append(all, *o)
	})
	if err != nil {
		t.Fatal(err)
	}
	return byLine, all, res.Stats
}

// jsonLines decodes every line of a JSON lines corpus file into a new T.
func jsonLines[T any](t *testing.T, file string) []T {
	t.Helper()
	var out []T
	for i, l := range bytes.Split(bytes.TrimSpace(mustRead(t, file)), []byte("\n")) {
		var v T
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatalf("%s:%d: %v", file, i+1, err)
		}
		out = append(out, v)
	}
	return out
}

func portString(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// TestAWSNFWCorpusFields compares each Network Firewall record with the
// record's own fields decoded by encoding/json: the Suricata event's
// endpoints, the alert action, and the TLS SNI.
func TestAWSNFWCorpusFields(t *testing.T) {
	file := filepath.Join(corpusDir(t, "aws-nfw"), "elastic-integrations-aws-firewall_logs-test-firewall.log")
	type record struct {
		Event struct {
			Timestamp string `json:"timestamp"`
			EventType string `json:"event_type"`
			SrcIP     string `json:"src_ip"`
			SrcPort   int    `json:"src_port"`
			DestIP    string `json:"dest_ip"`
			DestPort  int    `json:"dest_port"`
			Proto     string `json:"proto"`
			Alert     struct {
				Action string `json:"action"`
			} `json:"alert"`
			TLS struct {
				SNI string `json:"sni"`
			} `json:"tls"`
		} `json:"event"`
	}
	recs := jsonLines[record](t, file)
	byLine, _, st := readCorpusRecords(t, awsNFW, file)
	if st.Records != int64(len(recs)) {
		t.Errorf("%d records, want %d: %+v", st.Records, len(recs), st)
	}
	for i, r := range recs {
		where := fmt.Sprintf("line %d", i+1)
		o, ok := byLine[int64(i+1)]
		if !ok {
			t.Errorf("%s: no observation", where)
			continue
		}
		e := r.Event
		checkEndpoints(t, where, &o, e.SrcIP, e.DestIP, portString(e.SrcPort), portString(e.DestPort), e.Proto)
		want := capture.OutcomeUnknown // a netflow record says nothing of a verdict
		switch e.Alert.Action {
		case "blocked":
			want = capture.OutcomeBlocked
		case "allowed":
			want = capture.OutcomeOK
		}
		if o.Outcome != want {
			t.Errorf("%s: outcome %s, want %s for %s action %q", where, o.Outcome, want, e.EventType, e.Alert.Action)
		}
		if o.Host != strings.ToLower(e.TLS.SNI) {
			t.Errorf("%s: host %q, want the SNI %q", where, o.Host, e.TLS.SNI)
		}
		if ts, err := time.Parse("2006-01-02T15:04:05.999999-0700", e.Timestamp); err != nil || !o.Time.Equal(ts) {
			t.Errorf("%s: time %v, want %s", where, o.Time, e.Timestamp)
		}
	}
}

// azureClassic reads the free-text msg of a classic Azure Firewall record:
// "TCP request from a:p to b:q. Action: Deny." (ICMP without ports).
var azureClassic = regexp.MustCompile(`^(\w+)(?: Type=\d+)? request from ([0-9.]+)(?::(\d*))? to ([^ :]+)(?::(\d*))?(\.| was DNAT)`)

var isDottedQuad = regexp.MustCompile(`^[0-9.]+$`)

// TestAzureFWCorpusFields compares each Azure Firewall record with its own
// fields decoded by encoding/json: the typed properties of structured
// records, or the msg text of classic ones.
func TestAzureFWCorpusFields(t *testing.T) {
	type record struct {
		Category   string `json:"category"`
		Time       string `json:"time"`
		Properties struct {
			Msg             string `json:"msg"`
			Action          string `json:"Action"`
			SourceIP        string `json:"SourceIp"`
			SourcePort      int    `json:"SourcePort"`
			DestinationIP   string `json:"DestinationIp"`
			DestinationPort int    `json:"DestinationPort"`
			Fqdn            string `json:"Fqdn"`
			TargetURL       string `json:"TargetUrl"`
		} `json:"properties"`
	}
	dir := corpusDir(t, "azure-fw")
	for _, file := range corpusSamples(t, dir) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			recs := jsonLines[record](t, file)
			byLine, _, st := readCorpusRecords(t, azureFW, file)
			var dnat int64
			for i, r := range recs {
				where := fmt.Sprintf("line %d", i+1)
				p := r.Properties
				src, dst, sport, dport, action, host := p.SourceIP, p.DestinationIP, portString(p.SourcePort), portString(p.DestinationPort), p.Action, strings.ToLower(p.Fqdn)
				if p.Msg != "" {
					m := azureClassic.FindStringSubmatch(p.Msg)
					if m == nil {
						t.Fatalf("%s: msg %q not understood by the test", where, p.Msg)
					}
					if m[6] != "." {
						// A DNAT rule translates an inbound connection.
						dnat++
						if _, ok := byLine[int64(i+1)]; ok {
							t.Errorf("%s: a DNAT record gave an observation", where)
						}
						continue
					}
					src, sport, dst, dport = m[2], m[3], m[4], m[5]
					if _, a, ok := strings.Cut(p.Msg, "Action: "); ok {
						action, _, _ = strings.Cut(a, ".")
					}
					if !isDottedQuad.MatchString(dst) {
						host, dst = dst, ""
					}
				} else if host == "" && strings.Contains(p.TargetURL, "://") {
					host = strings.Split(strings.SplitN(p.TargetURL, "://", 2)[1], "/")[0]
				}
				o, ok := byLine[int64(i+1)]
				if !ok {
					t.Errorf("%s: no observation", where)
					continue
				}
				checkEndpoints(t, where, &o, src, dst, sport, dport, "")
				if o.Host != host {
					t.Errorf("%s: host %q, want %q", where, o.Host, host)
				}
				blocked := strings.EqualFold(action, "deny") || strings.EqualFold(action, "drop")
				if blocked != (o.Outcome == capture.OutcomeBlocked) {
					t.Errorf("%s: outcome %s, want action %q", where, o.Outcome, action)
				}
				if ts, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || !o.Time.Equal(ts) {
					t.Errorf("%s: time %v, want %s", where, o.Time, r.Time)
				}
			}
			if st.Records+dnat != int64(len(recs)) || st.SkippedTotal() != dnat {
				t.Errorf("stats %+v, want %d records and %d DNAT records skipped", st, int64(len(recs))-dnat, dnat)
			}
		})
	}
}

// TestGCPFWCorpusFields compares each GCP firewall entry with its own
// jsonPayload decoded by encoding/json.
func TestGCPFWCorpusFields(t *testing.T) {
	file := filepath.Join(corpusDir(t, "gcp-fw"), "elastic-integrations-gcp-firewall-test-firewall-event.json")
	var doc struct {
		Events []struct {
			JSON struct {
				Timestamp   string `json:"timestamp"`
				JSONPayload struct {
					Connection struct {
						SrcIP    string `json:"src_ip"`
						SrcPort  int    `json:"src_port"`
						DestIP   string `json:"dest_ip"`
						DestPort int    `json:"dest_port"`
						Protocol any    `json:"protocol"`
					} `json:"connection"`
					Disposition string `json:"disposition"`
				} `json:"jsonPayload"`
			} `json:"json"`
		} `json:"events"`
	}
	readJSON(t, file, &doc)
	_, obs, st := readCorpusRecords(t, gcpFW, file)
	if len(obs) != len(doc.Events) || st.Records != int64(len(doc.Events)) {
		t.Fatalf("%d observations, stats %+v, want %d records", len(obs), st, len(doc.Events))
	}
	for i, e := range doc.Events {
		where := fmt.Sprintf("entry %d", i+1)
		c := e.JSON.JSONPayload.Connection
		proto, _ := c.Protocol.(string)
		checkEndpoints(t, where, &obs[i], c.SrcIP, c.DestIP, portString(c.SrcPort), portString(c.DestPort), proto)
		if blocked := e.JSON.JSONPayload.Disposition == "DENIED"; blocked != (obs[i].Outcome == capture.OutcomeBlocked) {
			t.Errorf("%s: outcome %s, want disposition %s", where, obs[i].Outcome, e.JSON.JSONPayload.Disposition)
		}
		if ts, err := time.Parse(time.RFC3339Nano, e.JSON.Timestamp); err != nil || !obs[i].Time.Equal(ts) {
			t.Errorf("%s: time %v, want %s", where, obs[i].Time, e.JSON.Timestamp)
		}
	}
}
