package parsers

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestZscaler(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"blocked_connect", `{"sourcetype":"zscalernss-web","event":{"time":"Wed Dec  3 09:00:01 2025","cip":"192.0.2.10","sip":"198.51.100.30","proto":"SSL","eurl":"auth.gtmhub.com:443","reqmethod":"CONNECT","respcode":"200","action":"Blocked","ruletype":"URLFilter","rulelabel":"Block SaaS"}}`,
			want{time: "2025-12-03T09:00:01Z", client: "192.0.2.10", server: "198.51.100.30:443", host: "auth.gtmhub.com", source: capture.SourceConnect, outcome: capture.OutcomeBlocked, reason: capture.ProxyDenied, detail: "rule URLFilter Block SaaS"}},
		{"allowed_url", `{"time":"Wed Dec  3 09:00:02 2025","cip":"192.0.2.10","sip":"198.51.100.20","proto":"HTTPS","eurl":"app.gtmhub.com/api/v1/okrs?access_token=eyJhbGciOiJIUzI1NiJ9.e30.sig","reqmethod":"GET","respcode":"200","action":"Allowed","ruletype":"None","rulelabel":"None"}`,
			want{host: "app.gtmhub.com", server: "198.51.100.20:443", method: "GET", path: "/api/v1/okrs?access_token=REDACTED", outcome: capture.OutcomeOK}},
		{"escaped", `{"event":{"time":"Wed Dec  3 09:00:02 2025","cip":"192.0.2.10","eurl":"app.gtmhub.com\/api\u002fv1","reqmethod":"GET","respcode":"502","action":"Allowed"}}`,
			want{path: "/api/v1", reason: capture.ProxyError}},
		{"not_json", `hello`, want{err: "zscaler: not a JSON object"}},
		{"truncated_json", `{"event":{"cip":"192.0.2.10","eurl":"app.gtm`, want{err: "malformed JSON"}},
		{"no_url", `{"event":{"cip":"192.0.2.10"}}`, want{err: "no eurl"}},
		{"bad_time", `{"time":"yesterday","cip":"192.0.2.10","eurl":"a.example","reqmethod":"GET"}`, want{err: "time"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, zscaler.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestEnvoy(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"text_connect", `[2025-12-03T09:00:01.000Z] "CONNECT app.gtmhub.com:443 HTTP/1.1" 200 - 0 0 52 - "192.0.2.10" "curl/8" "id-1" "app.gtmhub.com:443" "198.51.100.20:443"`,
			want{time: "2025-12-03T09:00:01Z", client: "192.0.2.10", server: "198.51.100.20:443", host: "app.gtmhub.com", source: capture.SourceConnect, outcome: capture.OutcomeOK}},
		{"text_upstream_failure", `[2025-12-03T09:00:02.000Z] "GET http://auth.gtmhub.com/authorize?code=abc HTTP/1.1" 503 UF 0 91 5 - "192.0.2.10, 10.0.0.1" "curl/8" "id-2" "auth.gtmhub.com" "-"`,
			want{client: "192.0.2.10", host: "auth.gtmhub.com", path: "/authorize?code=REDACTED", reason: capture.ProxyError, detail: "UF/503"}},
		{"json_cri", `2025-12-03T09:00:03.000000000+00:00 stdout F {":authority":"app.gtmhub.com","method":"POST","path":"/api/v1/tasks","response_code":403,"response_flags":"-","downstream_remote_address":"[2001:db8::10]:40000","upstream_host":null,"start_time":"2025-12-03T09:00:03.000Z"}`,
			want{client: "[2001:db8::10]:40000", host: "app.gtmhub.com", method: "POST", path: "/api/v1/tasks", reason: capture.ProxyDenied}},
		{"garbage", `[not envoy`, want{err: "does not match"}},
		// A container prefix with nothing behind it (found by fuzzing).
		{"empty_after_prefix", "0000-00000T000000000000000000000000 stdout F ", want{skip: string(SkipBlank)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, envoy.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestHAProxy(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"connect", `Dec  3 09:00:01 gw haproxy[811]: 192.0.2.10:50123 [03/Dec/2025:09:00:01.123] egress egress/proxy 0/0/1/30/31 200 512 - - ---- 1/1/0/0/0 0/0 "CONNECT app.gtmhub.com:443 HTTP/1.1"`,
			want{time: "2025-12-03T09:00:01.123Z", client: "192.0.2.10:50123", host: "app.gtmhub.com", source: capture.SourceConnect, outcome: capture.OutcomeOK}},
		{"nosrv", `192.0.2.10:50124 [03/Dec/2025:09:00:02.000] egress egress/<NOSRV> 0/-1/-1/-1/0 503 212 - - SC-- 1/1/0/0/0 0/0 "GET http://auth.gtmhub.com/authorize HTTP/1.1"`,
			want{host: "auth.gtmhub.com", reason: capture.ProxyError, detail: "NOSRV/503"}},
		{"captured_host", `192.0.2.10:50125 [03/Dec/2025:09:00:03.000] fe be/<NOSRV> 0/-1/-1/-1/0 403 212 - - PR-- 0/0/0/0/0 0/0 {app.gtmhub.com|curl} "GET /api/v1/okrs HTTP/1.1"`,
			want{host: "app.gtmhub.com", path: "/api/v1/okrs", reason: capture.ProxyDenied}},
		{"relative", `117.136.40.129:14853 [14/Jan/2015:12:48:57.127] https-in~ xx_server_https/xxx_node_8002 170/0/0/3/173 200 739 - - --NN 0/0/0/0/0 0/0 "GET /xxx/xxx HTTP/1.1"`,
			want{skip: string(errNoDestination)}},
		{"tls_event", `192.168.1.4:50033 [28/Feb/2025:02:43:10.123] frontend/backend: SSL handshake failure (error:0A0000C1:SSL routines::no shared cipher)`,
			want{skip: string(SkipHAProxyEvent)}},
		{"no_date", `192.0.2.10:1 whatever "GET / HTTP/1.1"`, want{err: "accept date"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, haproxy.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestProxyCorpus(t *testing.T) {
	t.Run("zscaler", func(t *testing.T) {
		// The NSS feed's records are JSON: decode each with encoding/json
		// and compare its fields with the observation of its line.
		file := filepath.Join(corpusDir(t, "zscaler"), "elastic-integrations-zscaler_zia-web-test-web.log")
		obs, res := readFileAll(t, file, nil, nil)
		lines := strings.Split(readText(t, file), "\n")
		if res.Stats.Format != "zscaler" || res.Stats.Failed != 0 || len(obs) != len(lines) {
			t.Fatalf("format %s, %d observations for %d lines, %d failed: %v", res.Stats.Format, len(obs), len(lines), res.Stats.Failed, res.Stats.Problems)
		}
		for i, line := range lines {
			var rec struct {
				Event struct {
					CIP, SIP, EURL, Action, ReqMethod string
				}
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			e := rec.Event
			host, path, _ := strings.Cut(e.EURL, "/")
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			w := want{client: e.CIP, method: e.ReqMethod, host: host}
			if path != "" {
				w.path = "/" + path
			}
			switch e.Action {
			case "Blocked":
				w.outcome = capture.OutcomeBlocked
			case "Allowed":
				w.outcome = capture.OutcomeOK
			default:
				t.Fatalf("line %d: action %q", i+1, e.Action)
			}
			t.Run(itoa(i+1), func(t *testing.T) {
				if o := obs[i]; o.Server.Addr().String() != e.SIP {
					t.Errorf("server = %s, want %s", o.Server, e.SIP)
				}
				checkObservation(t, &obs[i], w)
			})
		}
	})
	dir := corpusDir(t, "proxy-access")
	t.Run("envoy", func(t *testing.T) {
		file := filepath.Join(dir, "crowdsec-envoy-logs.log")
		obs, res := readFileAll(t, file, nil, nil)
		if res.Stats.Format != "envoy" || res.Stats.Failed != 0 {
			t.Fatalf("format %s, %d failed: %v", res.Stats.Format, res.Stats.Failed, res.Stats.Problems)
		}
		// The CrowdSec parser test gives the client, request, authority
		// and upstream of every line.
		asserted := crowdsecParsed(t, filepath.Join(dir, "crowdsec-envoy-logs.parser-assert.expected.txt"), "s01-parse")
		if len(asserted) == 0 || len(obs) != len(asserted) {
			t.Fatalf("%d observations, want one for each of the %d lines the source asserts", len(obs), len(asserted))
		}
		for i, o := range obs {
			e := asserted[int(o.Locator.N)-1]
			t.Run(itoa(i+1), func(t *testing.T) {
				if e == nil {
					t.Fatalf("%s: no assertion for this line", o.Where())
				}
				w := want{client: e["remote_addr"], method: e["verb"], path: e["request"], host: e["target_fqdn"], time: e["time"]}
				if ts, err := time.Parse(time.RFC3339Nano, w.time); err == nil {
					w.time = ts.UTC().Format(time.RFC3339Nano)
				}
				if o.Client.Port() != 0 {
					w.client = endpointString(e["remote_addr"], o.Client.Port())
				}
				if u := strings.TrimPrefix(e["upstream_host"], "tcp://"); u != "" {
					w.server = u
				}
				if !strings.Contains(o.Detail, e["status"]) {
					t.Errorf("detail = %q, want the status %s", o.Detail, e["status"])
				}
				checkObservation(t, &o, w)
			})
		}
	})
	t.Run("haproxy", func(t *testing.T) {
		file := filepath.Join(dir, "crowdsec-haproxy-logs.log")
		asserted := crowdsecParsed(t, filepath.Join(dir, "crowdsec-haproxy-logs.parser-assert.expected.txt"), "s01-parse")
		lines := strings.Split(readText(t, file), "\n")
		if len(asserted) == 0 {
			t.Fatal("no assertions read")
		}
		// Every line of the sample names no destination: two requests
		// with a relative path to a reverse proxy, TLS events and one line
		// the source's parser rejects too. Each must be skipped, for the
		// reason its asserted fields give.
		p := haproxy.NewLine(&Options{})
		for i, line := range lines {
			e := asserted[i]
			if e == nil {
				// Rejected by the source's parser: no observation either.
				o := capture.Observation{}
				if err := p.ParseLine([]byte(line), &o); err == nil {
					t.Errorf("line %d gave %+v, want it skipped or failed", i+1, o)
				}
				continue
			}
			var w want
			switch {
			case e["verb"] != "" && strings.HasPrefix(e["http_request"], "/"):
				w.skip = string(errNoDestination)
			case e["verb"] == "":
				w.skip = string(SkipHAProxyEvent)
			default:
				t.Fatalf("line %d: asserted %v, a request with a destination", i+1, e)
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkLine(t, p, line, w) })
		}
		_, res := readFileAll(t, file, nil, nil)
		if res.Stats.Format != "haproxy" || res.Stats.Records+res.Stats.SkippedTotal()+res.Stats.Failed != int64(len(lines)) {
			t.Errorf("format %s, %d records, skipped %v, %d failed; want haproxy and all %d lines counted",
				res.Stats.Format, res.Stats.Records, res.Stats.Skipped, res.Stats.Failed, len(lines))
		}
	})
}

// TestProxyOriginAnswered holds each proxy format to the difference its log
// shows between the proxy refusing a request and the server answering 401
// or 403 through it: the first is proxy-denied, the second reached the
// server, so egress works.
func TestProxyOriginAnswered(t *testing.T) {
	const serverDetail = " (answered by the server, not the proxy)"
	denied := want{outcome: capture.OutcomeBlocked, reason: capture.ProxyDenied}
	tests := []struct {
		name string
		f    *Format
		line string
		want want
	}{
		{"squid_miss_403", squidNative, "1764752401.352 35 192.0.2.10 TCP_MISS/403 310 GET https://app.gtmhub.com/api/v1/okrs - HIER_DIRECT/198.51.100.20 text/html",
			want{server: "198.51.100.20:443", outcome: capture.OutcomeOK, detail: "TCP_MISS/403" + serverDetail}},
		{"squid_miss_401", squidNative, "1764752401.352 35 192.0.2.10 TCP_MISS/401 310 GET https://app.gtmhub.com/api/v1/okrs - HIER_DIRECT/198.51.100.20 text/html",
			want{outcome: capture.OutcomeOK, detail: "TCP_MISS/401" + serverDetail}},
		{"squid_parent_403", squidNative, "1764752401.352 35 192.0.2.10 TCP_MISS/403 310 GET http://app.gtmhub.com/ - FIRSTUP_PARENT/parent.example.net text/html",
			want{outcome: capture.OutcomeOK, detail: "TCP_MISS/403" + serverDetail}},
		{"squid_denied", squidNative, "1764752401.352 0 192.0.2.10 TCP_DENIED/403 3910 GET https://app.gtmhub.com/api/v1/okrs - HIER_NONE/- text/html",
			want{outcome: capture.OutcomeBlocked, reason: capture.ProxyDenied, detail: "TCP_DENIED/403"}},
		{"squid_miss_403_no_peer", squidNative, "1764752401.352 0 192.0.2.10 TCP_MISS/403 3910 GET https://app.gtmhub.com/api/v1/okrs - HIER_NONE/- text/html",
			denied},
		{"squid_denied_with_peer", squidNative, "1764752401.352 0 192.0.2.10 TCP_DENIED_REPLY/403 3910 GET https://app.gtmhub.com/ - HIER_DIRECT/198.51.100.20 text/html",
			denied},
		// Squid logs HIER_DIRECT with the address it failed to connect to,
		// so a 5xx stays the proxy's error.
		{"squid_miss_503_direct", squidNative, "1796326237.817 2551 192.0.2.10 NONE_NONE/503 0 CONNECT auth.gtmhub.com:443 - HIER_DIRECT/203.0.113.10 -",
			want{outcome: capture.OutcomeBlocked, reason: capture.ProxyError}},
		{"w3c_supplier_403", nil, "2025-12-03 09:00:02 48 192.0.2.10 403 TCP_NC_MISS 1242 969 GET https app.gtmhub.com 443 /api/v1/okrs - - 198.51.100.20 OBSERVED \"Business/Economy\" -",
			want{outcome: capture.OutcomeOK, detail: "TCP_NC_MISS/403" + serverDetail}},
		{"w3c_no_supplier_403", nil, "2025-12-03 09:00:02 0 192.0.2.10 403 TCP_NC_MISS 1242 969 GET https app.gtmhub.com 443 /api/v1/okrs - - - OBSERVED \"Business/Economy\" -",
			denied},
		{"w3c_filter_denied", nil, "2025-12-03 09:00:02 0 192.0.2.10 403 TCP_NC_MISS 1242 969 GET https app.gtmhub.com 443 /api/v1/okrs - - 198.51.100.20 DENIED \"Business/Economy\" -",
			denied},
		{"zscaler_allowed_403", zscaler, `{"time":"Wed Dec  3 09:00:02 2025","cip":"192.0.2.10","sip":"198.51.100.20","proto":"HTTPS","eurl":"app.gtmhub.com/api/v1/okrs","reqmethod":"GET","respcode":"403","action":"Allowed"}`,
			want{outcome: capture.OutcomeOK, detail: "Allowed/403" + serverDetail}},
		{"zscaler_blocked_403", zscaler, `{"time":"Wed Dec  3 09:00:02 2025","cip":"192.0.2.10","proto":"HTTPS","eurl":"app.gtmhub.com/api/v1/okrs","reqmethod":"GET","respcode":"403","action":"Blocked"}`,
			denied},
		{"envoy_upstream_403", envoy, `{":authority":"app.gtmhub.com","method":"GET","path":"/api/v1/okrs","response_code":403,"response_flags":"-","downstream_remote_address":"192.0.2.10:40000","upstream_host":"198.51.100.20:443","start_time":"2025-12-03T09:00:03.000Z"}`,
			want{server: "198.51.100.20:443", outcome: capture.OutcomeOK, detail: "HTTP 403" + serverDetail}},
		{"envoy_rbac_403", envoy, `{":authority":"app.gtmhub.com","method":"GET","path":"/api/v1/okrs","response_code":403,"response_flags":"RBAC","downstream_remote_address":"192.0.2.10:40000","upstream_host":null,"start_time":"2025-12-03T09:00:03.000Z"}`,
			denied},
		{"envoy_text_upstream_403", envoy, `[2025-12-03T09:00:01.000Z] "GET http://app.gtmhub.com/api/v1/okrs HTTP/1.1" 403 - 0 0 52 - "192.0.2.10" "curl/8" "id-1" "app.gtmhub.com" "198.51.100.20:80"`,
			want{outcome: capture.OutcomeOK, detail: "HTTP 403" + serverDetail}},
		{"haproxy_server_403", haproxy, `192.0.2.10:50125 [03/Dec/2025:09:00:03.000] fe be/srv 0/0/0/3/3 403 739 - - ---- 0/0/0/0/0 0/0 {app.gtmhub.com|curl} "GET /api/v1/okrs HTTP/1.1"`,
			want{outcome: capture.OutcomeOK, detail: "HTTP 403" + serverDetail}},
		{"haproxy_nosrv_403", haproxy, `192.0.2.10:50125 [03/Dec/2025:09:00:03.000] fe be/<NOSRV> 0/-1/-1/-1/0 403 212 - - PR-- 0/0/0/0/0 0/0 {app.gtmhub.com|curl} "GET /api/v1/okrs HTTP/1.1"`,
			denied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p LineParser
			if tc.f == nil {
				p = w3c.NewLine(&Options{})
				fields := "#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username s-supplier-ip sc-filter-result cs-categories x-exception-id"
				if err := p.ParseLine([]byte(fields), &capture.Observation{}); err != SkipComment {
					t.Fatalf("ParseLine(#Fields) = %v, want SkipComment", err)
				}
			} else {
				p = tc.f.NewLine(&Options{})
			}
			checkLine(t, p, tc.line, tc.want)
		})
	}
}
