package parsers

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// seedLines adds the lines of the test sessions and, when the public corpus
// is available, of its files in dirs.
func seedLines(f *testing.F, own string, dirs ...string) {
	for _, l := range strings.Split(own, "\n") {
		f.Add(l)
	}
	root := os.Getenv("EGRESS_AUDIT_CORPUS")
	if root == "" {
		return
	}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, "logs", d, "*.log"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				f.Add(sc.Text())
			}
		}
	}
}

// checkProperties checks what every observation must satisfy whatever the
// input: a valid lower-case host, an outcome and reason of the vocabulary,
// and no secret left in the path.
func checkProperties(t *testing.T, line string, o *capture.Observation) {
	t.Helper()
	if o.Host != "" && (!validHost([]byte(o.Host)) || strings.ToLower(o.Host) != o.Host || strings.HasSuffix(o.Host, ".")) {
		t.Fatalf("%q: host %q is not a lower-case host name", line, o.Host)
	}
	switch o.Outcome {
	case capture.OutcomeOK, capture.OutcomeUnknown:
		if o.Reason != "" {
			t.Fatalf("%q: outcome %s with reason %s", line, o.Outcome, o.Reason)
		}
	case capture.OutcomeBlocked:
		found := false
		for _, r := range capture.Reasons {
			found = found || r == o.Reason
		}
		if !found {
			t.Fatalf("%q: blocked with reason %q outside the vocabulary", line, o.Reason)
		}
	default:
		t.Fatalf("%q: outcome %q", line, o.Outcome)
	}
	if o.Path != "" {
		if o.Path[0] != '/' {
			t.Fatalf("%q: path %q does not start with /", line, o.Path)
		}
		if strings.Contains(o.Path, "#") {
			t.Fatalf("%q: path %q keeps its fragment", line, o.Path)
		}
		if redactPath(o.Path, false) != o.Path {
			t.Fatalf("%q: path %q still holds secrets", line, o.Path)
		}
	}
	if o.Kind == capture.Lookup {
		for _, a := range o.Answers {
			if !a.IsValid() {
				t.Fatalf("%q: invalid answer", line)
			}
		}
	}
}

// fuzzFormat fuzzes one format's parser line by line: first a fresh
// parser, then one that has seen the previous inputs (formats with state).
func fuzzFormat(f *testing.F, fm *Format) {
	shared := fm.NewLine(&Options{})
	f.Fuzz(func(t *testing.T, line string) {
		if line == "" || strings.ContainsAny(line, "\n") {
			return
		}
		for _, p := range []LineParser{fm.NewLine(&Options{}), shared} {
			o := capture.Observation{Locator: capture.Line(1)}
			if err := p.ParseLine([]byte(line), &o); err == nil {
				checkProperties(t, line, &o)
			}
		}
	})
}

func squidSeeds() string {
	return `1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -
1764752401.352 0 192.0.2.10 TCP_MISS/302 3910 GET https://auth.gtmhub.com/authorize?client_id=jira&code=s3cr3t&state=xyz#tok - HIER_DIRECT/192.0.2.1 -
1764752410.002    433 2001:db8::10 TCP_MISS/200 5002 POST https://[2001:db8::1]:8443/api - HIER_DIRECT/2001:db8::20 application/json
1726124255.221      0 10.10.10.10 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -
10.10.10.10 - - [12/Sep/2024:12:38:20 +0530] "GET http://proxy.squid.local:3128/x HTTP/1.1" 407 4235 "-" "Datadog Agent/7.53.0" TCP_DENIED:HIER_NONE
2019/10/11 09:14:49 kid1| Accepting HTTP Socket connections`
}

func FuzzParseSquidLine(f *testing.F) {
	seedLines(f, squidSeeds(), "squid")
	fuzzFormat(f, squidNative)
}

func FuzzParseSquidCombinedLine(f *testing.F) {
	seedLines(f, squidSeeds(), "squid")
	fuzzFormat(f, squidCombined)
}

// FuzzSquidLogFormat fuzzes the logformat compiler and matcher together.
func FuzzSquidLogFormat(f *testing.F) {
	f.Add(`%ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %mt "%ssl::>sni" %{Host}>h`,
		`1764752410.002     12 192.0.2.10 50124 TCP_MISS/200 5002 GET /api/v1/okrs - HIER_DIRECT/198.51.100.20 - "-" app.gtmhub.com`)
	f.Add(`%>a %[ui %[un [%tl] "%rm %ru %rv" %>Hs %<st %Ss:%Sh`, `10.10.10.10 - x [12/Sep/2024:12:08:20 +0530] "CONNECT ssl.gstatic.com:443 HTTP/1.1" 200 0 NONE_NONE:HIER_DIRECT`)
	f.Fuzz(func(t *testing.T, spec, line string) {
		fm, err := NewSquidLogFormat("x", spec)
		if err != nil || line == "" {
			return
		}
		o := capture.Observation{}
		if fm.NewLine(&Options{}).ParseLine([]byte(line), &o) == nil {
			checkProperties(t, line, &o)
		}
	})
}

func FuzzParseDnsmasqLine(f *testing.F) {
	seedLines(f, dnsmasqSession)
	fuzzFormat(f, dnsmasq)
}

func FuzzParseBINDLine(f *testing.F) {
	seedLines(f, `client @0x7f85b4026ed0 127.0.0.1#42520 (ci.elastic.co): query: ci.elastic.co IN A +E(0)K (35.193.103.164)
03-Dec-2025 09:00:01.123 queries: info: client @0x7f6 192.0.2.10#53124 (App.Gtmhub.com.): query: App.Gtmhub.com. IN AAAA +T (192.0.2.53)
client @0x1 192.0.2.10#5353 (app.gtmhub.com): query failed (SERVFAIL) for app.gtmhub.com/IN/A at query.c:7375
03-Dec-2025 09:00:01.135 responses: info: client @0x7f6 192.0.2.10#53124 (nosuch.gtmhub.com): response: nosuch.gtmhub.com IN A NXDOMAIN 0 1 0 +E(0)K (192.0.2.53)
04-Dec-2026 08:04:45.179 security: info: client @0x7facca6e7098 192.0.2.11#46370 (telemetry.example.net): query (cache) 'telemetry.example.net/A/IN' denied (allow-query-cache did not match)
04-Dec-2026 08:05:52.875 query-errors: info: client @0x7faccb66d098 192.0.2.10#44152 (a.example.org): query failed (timed out) for a.example.org/IN/A at query.c:7916`, "dns-query")
	fuzzFormat(f, bind)
}

func FuzzParseUnboundLine(f *testing.F) {
	seedLines(f, `Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 App.Gtmhub.com. AAAA IN NOERROR 0.012000 0 93
[1764752401] unbound[811:0] info: 192.0.2.10 nosuch.gtmhub.com. A IN NXDOMAIN 0.030000 0 110`, "dns-query")
	fuzzFormat(f, unbound)
}

func FuzzParseW3CLine(f *testing.F) {
	seedLines(f, proxySGLog, "w3c")
	fm := w3c
	f.Fuzz(func(t *testing.T, line string) {
		if line == "" || strings.ContainsAny(line, "\n") {
			return
		}
		p := fm.NewLine(&Options{})
		hdr := strings.Split(proxySGLog, "\n")[2]
		p.ParseLine([]byte(hdr), &capture.Observation{})
		o := capture.Observation{}
		if p.ParseLine([]byte(line), &o) == nil {
			checkProperties(t, line, &o)
		}
	})
}

func FuzzParseZscalerLine(f *testing.F) {
	seedLines(f, `{"sourcetype":"zscalernss-web","event":{"time":"Wed Dec  3 09:00:01 2025","cip":"192.0.2.10","sip":"198.51.100.30","proto":"SSL","eurl":"auth.gtmhub.com:443","reqmethod":"CONNECT","respcode":"200","action":"Blocked","ruletype":"URLFilter","rulelabel":"Block SaaS"}}
{"event":{"time":"Wed Dec  3 09:00:02 2025","cip":"192.0.2.10","eurl":"app.gtmhub.com\/api\u002fv1","reqmethod":"GET","respcode":"502","action":"Allowed","x":[1,{"a":"b"}]}}`, "zscaler")
	fuzzFormat(f, zscaler)
}

func FuzzParseEnvoyLine(f *testing.F) {
	seedLines(f, `[2025-12-03T09:00:01.000Z] "CONNECT app.gtmhub.com:443 HTTP/1.1" 200 - 0 0 52 - "192.0.2.10" "curl/8" "id-1" "app.gtmhub.com:443" "198.51.100.20:443"
2025-12-03T09:00:03.000000000+00:00 stdout F {":authority":"app.gtmhub.com","method":"POST","path":"/api/v1/tasks","response_code":403,"response_flags":"-","downstream_remote_address":"[2001:db8::10]:40000","upstream_host":null,"start_time":"2025-12-03T09:00:03.000Z"}`, "proxy-access")
	fuzzFormat(f, envoy)
}

func FuzzParseHAProxyLine(f *testing.F) {
	seedLines(f, `Dec  3 09:00:01 gw haproxy[811]: 192.0.2.10:50123 [03/Dec/2025:09:00:01.123] egress egress/proxy 0/0/1/30/31 200 512 - - ---- 1/1/0/0/0 0/0 "CONNECT app.gtmhub.com:443 HTTP/1.1"
192.0.2.10:50125 [03/Dec/2025:09:00:03.000] fe be/srv 0/0/0/3/3 403 739 - - ---- 0/0/0/0/0 0/0 {app.gtmhub.com|curl} "GET /api/v1/okrs HTTP/1.1"`, "proxy-access")
	fuzzFormat(f, haproxy)
}

func FuzzParseCustomLine(f *testing.F) {
	seedLines(f, `192.0.2.10,"http://a.example/x,y",block-saas,Blocked
192.0.2.10,auth.gtmhub.com:443,r,allow`)
	fm, err := NewCustomFormat(CustomSpec{Name: "csv", Delimiter: ",", Columns: []string{"client", "url", "rule", "action"}})
	if err != nil {
		f.Fatal(err)
	}
	fuzzFormat(f, fm)
}

// FuzzRedactPath checks that redaction is idempotent and leaves no value of
// a secret parameter.
func FuzzRedactPath(f *testing.F) {
	for _, s := range []string{"/authorize?client_id=jira&code=abc&state=xyz", "/x?access_token=eyJ.a.b#f", "/a/b?&&=&code", "/api/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl/okrs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := RedactPath(p)
		if RedactPath(r) != r {
			t.Fatalf("RedactPath(%q) = %q, not stable", p, r)
		}
		_, q, _ := strings.Cut(r, "?")
		for _, kv := range strings.Split(q, "&") {
			k, v, ok := strings.Cut(kv, "=")
			if ok && secretKeys[strings.ToLower(unescape(k))] && v != Redacted {
				t.Fatalf("RedactPath(%q) = %q keeps %s", p, r, kv)
			}
		}
	})
}

// FuzzReadInput reads whole inputs, compressed or not, through detection,
// checking that reading never fails on damaged content and every line is
// counted.
func FuzzReadInput(f *testing.F) {
	f.Add([]byte(squidSeeds()))
	f.Add([]byte(dnsmasqSession))
	f.Add([]byte(proxySGLog))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0})
	// Formats that join records: a VPC connection and the REJECT of its
	// answers, in both orders; an ASA connection built and torn down.
	f.Add([]byte("2 1 eni-1 192.0.2.139 203.0.113.21 50641 443 6 3 180 1796288400 1796288460 ACCEPT OK\n" +
		"2 1 eni-1 203.0.113.21 192.0.2.139 443 50641 6 3 180 1796288400 1796288460 REJECT OK\n" +
		"2 1 eni-1 203.0.113.22 192.0.2.139 443 50642 6 3 180 1796288400 1796288460 REJECT OK\n" +
		"2 1 eni-1 192.0.2.139 203.0.113.22 50642 443 6 3 180 1796288400 1796288460 ACCEPT OK\n"))
	f.Add([]byte("version srcaddr dstaddr srcport dstport protocol start end action flow-direction\n" +
		"5 192.0.2.139 203.0.113.21 50641 8443 6 1796288400 1796288460 ACCEPT egress\n" +
		"5 203.0.113.21 192.0.2.139 8443 50641 6 1796288400 1796288460 REJECT ingress\n"))
	f.Add([]byte("%ASA-6-302013: Built outbound TCP connection 9 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50002 (198.51.100.10/50002)\n" +
		"%ASA-6-302014: Teardown TCP connection 9 for outside:203.0.113.5/443 to inside:192.0.2.10/50002 duration 0:00:30 bytes 0 SYN Timeout\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read(bytes.NewReader(data), "fuzz", nil, nil, func(o *capture.Observation) {
			checkProperties(t, "", o)
		})
		if err != nil {
			return // not recognised, or a compressed header that is not one
		}
		st := res.Stats
		if st.Records < 0 || st.Failed < 0 || int64(len(st.Problems)) > st.Failed {
			t.Fatalf("inconsistent stats %+v", st)
		}
		// Every line of a line format is counted once: parsed, skipped
		// or failed, also when a parser held it for a join.
		f, _ := Lookup(st.Format)
		compressed := bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd})
		if f == nil || f.NewLine == nil || compressed {
			return
		}
		lines := int64(bytes.Count(data, []byte("\n")))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if got := st.Records + st.SkippedTotal() + st.Failed; got != lines {
			t.Fatalf("%s: %d records + %d skipped + %d failed = %d, want every one of %d lines", st.Format, st.Records, st.SkippedTotal(), st.Failed, got, lines)
		}
	})
}
