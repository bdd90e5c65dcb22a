package parsers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// corpusLogs returns the directory of the public log samples, or skips the
// test when EGRESS_AUDIT_CORPUS is not set.
func corpusLogs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("EGRESS_AUDIT_CORPUS")
	if dir == "" {
		t.Skip("EGRESS_AUDIT_CORPUS is not set")
	}
	return filepath.Join(dir, "logs")
}

// manifestSamples lists the sample files of the corpus manifest with their
// format.
func manifestSamples(t *testing.T, logs string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(logs, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 9 || f[8] != "sample" {
			continue
		}
		out[f[0]] = f[1]
	}
	return out
}

// readCorpusFile reads one corpus file as a run of its own.
func readCorpusFile(t *testing.T, path string) ([]capture.Observation, capture.Stats) {
	t.Helper()
	opts := &Options{}
	var obs []capture.Observation
	emit := func(o *capture.Observation) { obs = append(obs, *o) }
	res, err := ReadFile(path, nil, opts, emit)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	opts.Flush(emit)
	return obs, res.Stats
}

// TestCorpusDetectSensors checks that every Zeek and Suricata sample is
// recognised as such, and that no sample of another format is taken for
// one of them.
func TestCorpusDetectSensors(t *testing.T) {
	logs := corpusLogs(t)
	samples := manifestSamples(t, logs)
	if len(samples) == 0 {
		t.Fatal("no samples in MANIFEST.tsv")
	}
	for file, format := range samples {
		head := make([]byte, headSize)
		f, err := os.Open(filepath.Join(logs, file))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := f.Read(head)
		f.Close()
		got := ""
		if d, err := Detect(head[:n]); err == nil {
			got = d.Name
		}
		switch format {
		case "zeek", "suricata":
			if got != format {
				t.Errorf("Detect(%s) = %q, want %q", file, got, format)
			}
		default:
			if got == "zeek" || got == "suricata" {
				t.Errorf("Detect(%s) = %q, want anything but a sensor format (it is %s)", file, got, format)
			}
		}
	}
}

func TestCorpusZeek(t *testing.T) {
	logs := corpusLogs(t)
	count := func(obs []capture.Observation, keep func(*capture.Observation) bool) int {
		n := 0
		for i := range obs {
			if keep(&obs[i]) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		file   string
		obs    int
		failed int64
		check  func(t *testing.T, obs []capture.Observation)
	}{
		{"zeek-btest-ssl.basic-ssl.log", 1, 0, func(t *testing.T, obs []capture.Observation) {
			o := obs[0]
			if o.Host != "ssl.gstatic.com" || o.HostSource != capture.SourceSNI || o.Outcome != capture.OutcomeOK ||
				o.Server != netip.MustParseAddrPort("74.125.224.79:443") {
				t.Errorf("got %q (%s) %s to %s, want ssl.gstatic.com (sni) ok to 74.125.224.79:443", o.Host, o.HostSource, o.Outcome, o.Server)
			}
		}},
		{"zeek-btest-ssl.tls13-encrypted-client-hello-ssl.log", 2, 0, func(t *testing.T, obs []capture.Observation) {
			if n := count(obs, func(o *capture.Observation) bool { return o.Host == "cloudflare-ech.com" }); n != 2 {
				t.Errorf("%d connections to cloudflare-ech.com, want 2", n)
			}
		}},
		{"zeek-btest-policy.ssl.validate-certs-no-cache-ssl.log", 3, 0, func(t *testing.T, obs []capture.Observation) {
			// The client completed every handshake: the sensor's own
			// validation failure is noted, not a block.
			if n := count(obs, func(o *capture.Observation) bool {
				return o.Outcome == capture.OutcomeOK && strings.Contains(o.Detail, "unable to get local issuer certificate")
			}); n != 2 {
				t.Errorf("%d ok connections noting the validation failure, want 2", n)
			}
		}},
		{"zeek-btest-dns.flip-dns.log", 1, 0, func(t *testing.T, obs []capture.Observation) {
			o := obs[0]
			if o.Host != "us.v27.distributed.net" || len(o.Answers) != 8 || o.TTL != 900*time.Second {
				t.Errorf("got %q with %d answers, TTL %v, want us.v27.distributed.net with 8, 15m0s", o.Host, len(o.Answers), o.TTL)
			}
		}},
		{"zeek-btest-opt.basic-dns.log", 14, 0, func(t *testing.T, obs []capture.Observation) {
			if n := count(obs, func(o *capture.Observation) bool {
				return o.Host == "upload.wikimedia.org.ncsa.uiuc.edu" && o.Reason == capture.DNSNXDomain
			}); n != 4 {
				t.Errorf("%d NXDOMAIN lookups, want 4", n)
			}
			if n := count(obs, func(o *capture.Observation) bool {
				return o.Host == "meta.wikimedia.org" && len(o.Answers) == 1 && o.Answers[0].String() == "208.80.152.2"
			}); n != 1 {
				t.Errorf("%d lookups of meta.wikimedia.org answered 208.80.152.2 past its CNAMEs, want 1", n)
			}
		}},
		{"zeek-btest-core.tunnels.teredo-conn.log", 21, 0, func(t *testing.T, obs []capture.Observation) {
			if n := count(obs, func(o *capture.Observation) bool { return o.Reason == capture.Reset }); n != 3 {
				t.Errorf("%d reset connections (RSTRH), want 3", n)
			}
			if n := count(obs, func(o *capture.Observation) bool { return o.Reason == capture.NoResponse }); n != 1 {
				t.Errorf("%d unanswered connections (SH), want 1", n)
			}
		}},
		{"zeek-btest-core.tunnels.teredo-http.log", 4, 0, func(t *testing.T, obs []capture.Observation) {
			want := []string{"download913.avast.com /cgi-bin/iavs4stats.cgi", "ipv6.google.com /",
				"ipv6.google.com /search?hl=en&q=Wireshark+!&btnG=Google+Search", "www.wireshark.org /"}
			for i, o := range obs {
				if got := o.Host + " " + o.Path; got != want[i] {
					t.Errorf("request %d = %q, want %q", i, got, want[i])
				}
			}
		}},
		{"zeek-btest-javascript.http-uri-sha256-http.log", 1, 0, func(t *testing.T, obs []capture.Observation) {
			o := obs[0]
			if o.Host != "bro.org" || o.Method != "GET" || o.Path != "/download/CHANGES.bro-aux.txt" || !o.Time.IsZero() {
				t.Errorf("got %s %s%s at %v, want GET bro.org/download/CHANGES.bro-aux.txt at a masked (zero) time", o.Method, o.Host, o.Path, o.Time)
			}
		}},
		{"zeek-btest-fw.analyzer.request-analyzer-conn.log", 24, 0, nil},
		{"zeek-docs-conn.json", 2, 0, func(t *testing.T, obs []capture.Observation) {
			want := time.Date(2020, 6, 5, 14, 39, 59, 305988000, time.UTC)
			if !obs[0].Time.Equal(want) || obs[1].Server != netip.MustParseAddrPort("31.3.245.133:80") {
				t.Errorf("got %v and %s, want %v and 31.3.245.133:80", obs[0].Time, obs[1].Server, want)
			}
		}},
		// Line 3 of the manual's dns.log example carries **markup** that is
		// not JSON.
		{"zeek-docs-dns.json", 3, 1, func(t *testing.T, obs []capture.Observation) {
			if n := count(obs, func(o *capture.Observation) bool {
				return o.Host == "testmyids.com" && len(o.Answers) == 1 && o.TTL == time.Hour
			}); n != 2 {
				t.Errorf("%d A lookups of testmyids.com with one answer valid 1h, want 2", n)
			}
		}},
		{"zeek-docs-http.json", 1, 0, func(t *testing.T, obs []capture.Observation) {
			if obs[0].Host != "testmyids.com" || obs[0].HostSource != capture.SourceHTTP {
				t.Errorf("got %q (%s), want testmyids.com (http)", obs[0].Host, obs[0].HostSource)
			}
		}},
		// The manual's ssl.log page shows conn.log records.
		{"zeek-docs-ssl.json", 2, 0, func(t *testing.T, obs []capture.Observation) {
			if n := count(obs, func(o *capture.Observation) bool { return strings.HasPrefix(o.Detail, "conn_state SF") }); n != 2 {
				t.Errorf("%d conn.log records, want 2", n)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			obs, st := readCorpusFile(t, filepath.Join(logs, "zeek", tc.file))
			if st.Format != "zeek" || len(obs) != tc.obs || st.Failed != tc.failed {
				t.Fatalf("format %s, %d observations, %d failed, want zeek, %d, %d (%v)", st.Format, len(obs), st.Failed, tc.obs, tc.failed, st.Problems)
			}
			if tc.check != nil {
				tc.check(t, obs)
			}
		})
	}
}

// TestCorpusSuricataWazuh compares the fields decoded from each event with
// the expected output the Wazuh ruleset tests give for it.
func TestCorpusSuricataWazuh(t *testing.T) {
	logs := corpusLogs(t)
	type endpoint struct {
		IP     string `json:"ip"`
		Port   int    `json:"port"`
		Domain string `json:"domain"`
	}
	type expected struct {
		Source      endpoint `json:"source"`
		Destination endpoint `json:"destination"`
		DNS         struct {
			Question struct {
				Name string `json:"name"`
			} `json:"question"`
		} `json:"dns"`
	}
	for _, name := range []string{"alert", "dns"} {
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(logs, "suricata", "wazuh-engine-suricata-"+name+"_input.json"))
			if err != nil {
				t.Fatal(err)
			}
			exp, err := os.ReadFile(filepath.Join(logs, "suricata", "wazuh-engine-suricata-"+name+"_expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []expected
			if err := json.Unmarshal(exp, &want); err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n"))
			if len(lines) != len(want) {
				t.Fatalf("%d lines, %d expected records", len(lines), len(want))
			}
			var r suricataEvent
			var js visitScanner
			for i, line := range lines {
				if err := r.decode(&js, line); err != nil {
					t.Errorf("line %d: %v", i+1, err)
					continue
				}
				w := want[i]
				if string(r.srcIP) != w.Source.IP || string(r.srcPort) != strconv.Itoa(w.Source.Port) ||
					string(r.destIP) != w.Destination.IP || string(r.destPort) != strconv.Itoa(w.Destination.Port) {
					t.Errorf("line %d: %s:%s -> %s:%s, want %s:%d -> %s:%d", i+1, r.srcIP, r.srcPort, r.destIP, r.destPort,
						w.Source.IP, w.Source.Port, w.Destination.IP, w.Destination.Port)
				}
				if w.Destination.Domain != "" {
					got := string(r.httpHost)
					if got == "" {
						got = string(r.tlsSNI)
					}
					if got != w.Destination.Domain {
						t.Errorf("line %d: name %q, want %q", i+1, got, w.Destination.Domain)
					}
				}
				if q := w.DNS.Question.Name; q != "" {
					got := string(r.dnsRRName)
					if len(r.dnsQueries) > 0 {
						got = string(r.dnsQueries[0])
					}
					if got != q && !(len(r.dnsAnswers) > 0 && string(r.dnsAnswers[0].name) == q) {
						t.Errorf("line %d: question %q, want %q", i+1, got, q)
					}
				}
			}
		})
	}
	t.Run("dns_lookups", func(t *testing.T) {
		obs, st := readCorpusFile(t, filepath.Join(logs, "suricata", "wazuh-engine-suricata-dns_input.json"))
		if st.Records != 24 || st.Failed != 0 {
			t.Errorf("records, failed = %d, %d, want 24, 0", st.Records, st.Failed)
		}
		got := make(map[string]int)
		for _, o := range obs {
			if o.Kind != capture.Lookup || o.Outcome != capture.OutcomeOK || len(o.Answers) == 0 {
				t.Errorf("%s %s: %s %s with %d answers, want an answered lookup", o.Where(), o.Host, o.Kind, o.Outcome, len(o.Answers))
			}
			got[o.Host]++
		}
		// Eight queries, each answered: two of google.com, four of
		// www.elastic.co, two of www.yahoo.com (whose version 1 answers
		// reach 175.16.199.1 through a CNAME).
		if got["google.com"] != 2 || got["www.elastic.co"] != 4 || got["www.yahoo.com"] != 2 || len(got) != 3 {
			t.Errorf("lookups by name = %v, want google.com 2, www.elastic.co 4, www.yahoo.com 2", got)
		}
	})
}

// TestCorpusSuricataCrowdsec compares the decoded fields with the
// assertions of the CrowdSec hub's parser test.
func TestCorpusSuricataCrowdsec(t *testing.T) {
	logs := corpusLogs(t)
	input, err := os.ReadFile(filepath.Join(logs, "suricata", "crowdsec-suricata-logs-evelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	asserts, err := os.Open(filepath.Join(logs, "suricata", "crowdsec-suricata-logs-evelog.parser-assert.expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer asserts.Close()
	lines := bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n"))
	re := regexp.MustCompile(`^results\["s01-parse"\]\["crowdsecurity/suricata-evelogs"\]\[(\d+)\]\.Evt\.(?:Parsed|Meta)\["(dest_ip|dest_port|source_ip|proto|suricata_flow_id)"\] == "(.*)"$`)
	var r suricataEvent
	var js visitScanner
	checked := 0
	sc := bufio.NewScanner(asserts)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(lines) {
			t.Fatalf("assertion on event %d of %d", i, len(lines))
		}
		if err := r.decode(&js, lines[i]); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		field := map[string][]byte{
			"dest_ip": r.destIP, "dest_port": r.destPort, "source_ip": r.srcIP, "proto": r.proto, "suricata_flow_id": r.flowID,
		}[m[2]]
		if string(field) != m[3] {
			t.Errorf("event %d %s = %q, want %q", i, m[2], field, m[3])
		}
		checked++
	}
	if checked < 15 {
		t.Errorf("checked %d assertions, want at least 15", checked)
	}
}

// zeekRows reads a Zeek TSV log the plain way, by its #fields header, into
// one map of field to value per record, keyed by line number. It is the
// oracle TestCorpusZeekFields compares the reader with.
func zeekRows(t *testing.T, path string) map[int64]map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	rows := make(map[int64]map[string]string)
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(f, "\t")
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		vals := strings.Split(line, "\t")
		if len(vals) != len(fields) {
			t.Fatalf("%s:%d: %d values for %d fields", path, i+1, len(vals), len(fields))
		}
		row := make(map[string]string, len(fields))
		for j, f := range fields {
			row[f] = vals[j]
		}
		rows[int64(i+1)] = row
	}
	return rows
}

// TestCorpusZeekFields compares each record the Zeek reader gives for the
// btest baselines with the fields of its line, read by [zeekRows]: the
// endpoints, the name (server_name, host, query), the HTTP method and
// path, the DNS rcode and the TLS handshake.
func TestCorpusZeekFields(t *testing.T) {
	logs := corpusLogs(t)
	unset := func(v string) string {
		if v == "-" || v == "(empty)" {
			return ""
		}
		return v
	}
	for _, name := range []string{
		"zeek-btest-core.ipv6-frag-dns.log",
		"zeek-btest-opt.basic-http.log",
		"zeek-btest-policy.ssl.known-certs-ssl.log",
		"zeek-btest-ssl.tls-1.2-ssl.log",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(logs, "zeek", name)
			rows := zeekRows(t, path)
			obs, st := readCorpusFile(t, path)
			if st.Format != "zeek" || st.Failed != 0 || len(rows) == 0 || len(obs) != len(rows) {
				t.Fatalf("format %s, %d observations, %d failed (%v); want zeek and one for each of the %d records",
					st.Format, len(obs), st.Failed, st.Problems, len(rows))
			}
			for _, o := range obs {
				r := rows[o.Locator.N]
				if r == nil {
					t.Errorf("%s: no record at that line", o.Where())
					continue
				}
				client := endpointString(r["id.orig_h"], 0)
				if p, err := strconv.Atoi(r["id.orig_p"]); err == nil {
					client = endpointString(r["id.orig_h"], uint16(p))
				}
				w := want{client: client, server: endpointString(r["id.resp_h"], uint16(atoiOr(r["id.resp_p"])))}
				switch {
				case r["query"] != "":
					w.host, w.source = r["query"], capture.SourceDNS
					w.detail = r["qtype_name"]
					switch r["rcode_name"] {
					case "NOERROR":
						w.outcome = capture.OutcomeOK
					case "-":
						if o.Outcome == capture.OutcomeOK {
							t.Errorf("%s: unanswered query is ok", o.Where())
						}
					}
				case r["method"] != "":
					w.host, w.source, w.method, w.path = r["host"], capture.SourceHTTP, r["method"], r["uri"]
					w.detail = "status " + r["status_code"]
				default:
					w.host = unset(r["server_name"])
					if w.host != "" {
						w.source = capture.SourceSNI
					}
					w.detail = "tls " + r["version"]
					if r["established"] == "T" {
						w.outcome = capture.OutcomeOK
					}
				}
				t.Run(o.Locator.String(), func(t *testing.T) { checkObservation(t, &o, w) })
			}
		})
	}
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
