package parsers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"go.yaml.in/yaml/v3"
)

// want is what a parser test checks of one observation; empty fields are
// not checked.
type want struct {
	skip    string // the Skip reason expected instead of an observation
	err     string // a substring of the error expected instead
	time    string // RFC 3339
	client  string
	server  string
	host    string
	source  capture.HostSource
	method  string
	path    string
	outcome capture.Outcome
	reason  capture.Reason
	detail  string
}

func checkLine(t *testing.T, p LineParser, line string, w want) {
	t.Helper()
	o := capture.Observation{Input: "test.log", Locator: capture.Line(1)}
	err := p.ParseLine([]byte(line), &o)
	switch {
	case w.skip != "":
		if s, ok := err.(Skip); !ok || string(s) != w.skip {
			t.Fatalf("ParseLine(%q) = %v, want skip %q", line, err, w.skip)
		}
		return
	case w.err != "":
		if err == nil || !strings.Contains(err.Error(), w.err) {
			t.Fatalf("ParseLine(%q) = %v, want error with %q", line, err, w.err)
		}
		return
	case err != nil:
		t.Fatalf("ParseLine(%q) = %v", line, err)
	}
	checkObservation(t, &o, w)
}

func checkObservation(t *testing.T, o *capture.Observation, w want) {
	t.Helper()
	eq := func(what, got, want string) {
		t.Helper()
		if want != "" && got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	if w.time != "" {
		eq("time", o.Time.UTC().Format(time.RFC3339Nano), w.time)
	}
	if w.client != "" {
		eq("client", endpointString(o.Client.Addr().String(), o.Client.Port()), w.client)
	}
	if w.server != "" {
		eq("server", endpointString(o.Server.Addr().String(), o.Server.Port()), w.server)
	}
	eq("host", o.Host, w.host)
	eq("host source", string(o.HostSource), string(w.source))
	eq("method", o.Method, w.method)
	eq("path", o.Path, w.path)
	eq("outcome", string(o.Outcome), string(w.outcome))
	eq("reason", string(o.Reason), string(w.reason))
	if w.detail != "" && !strings.Contains(o.Detail, w.detail) {
		t.Errorf("detail = %q, want it to hold %q", o.Detail, w.detail)
	}
}

func endpointString(addr string, port uint16) string {
	if addr == "invalid IP" {
		addr = ""
	}
	if port == 0 {
		return addr
	}
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + itoa(int(port))
	}
	return addr + ":" + itoa(int(port))
}

func TestSquidNative(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"connect_tunnel", "1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -",
			want{time: "2025-12-03T09:00:10.002Z", client: "192.0.2.10", server: "198.51.100.20:443", host: "app.gtmhub.com", source: capture.SourceConnect, method: "CONNECT", outcome: capture.OutcomeOK, detail: "TCP_TUNNEL/200"}},
		{"denied_403", "1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html",
			want{host: "auth.gtmhub.com", outcome: capture.OutcomeBlocked, reason: capture.ProxyDenied, detail: "TCP_DENIED/403"}},
		{"auth_407", "1140701230.827    781 192.168.1.210 TCP_DENIED/407 1785 GET http://www.ossec.net oahmet NONE/- text/html",
			want{host: "www.ossec.net", source: capture.SourceURL, path: "/", outcome: capture.OutcomeBlocked, reason: capture.ProxyAuthRequired}},
		{"none_none_503", "1764752401.352      0 192.0.2.10 NONE_NONE/503 0 CONNECT app.gtmhub.com:443 - HIER_NONE/- -",
			want{outcome: capture.OutcomeBlocked, reason: capture.ProxyError, detail: "NONE_NONE/503"}},
		{"miss_502", "1570788669.732     95 127.0.0.1 TCP_MISS/502 4006 GET http://www.google.com:443/ - HIER_DIRECT/172.217.20.68 text/html",
			want{server: "172.217.20.68:443", outcome: capture.OutcomeBlocked, reason: capture.ProxyError, detail: "TCP_MISS/502"}},
		{"aborted_000", "1570784681.846  12140 127.0.0.1 TCP_MISS_ABORTED/000 0 GET http://8.8.8.8/ - HIER_DIRECT/8.8.8.8 -",
			want{host: "8.8.8.8", outcome: capture.OutcomeUnknown, detail: "TCP_MISS_ABORTED/000"}},
		{"ipv6_client", "1764752410.002    433 2001:db8::10 TCP_MISS/200 5002 POST https://app.gtmhub.com/api/v1/okrs?limit=5 - HIER_DIRECT/2001:db8::20 application/json",
			want{client: "2001:db8::10", server: "[2001:db8::20]:443", host: "app.gtmhub.com", method: "POST", path: "/api/v1/okrs?limit=5", outcome: capture.OutcomeOK}},
		{"integer_time", "1726124251      0 10.10.10.10 TCP_DENIED/403 3920 CONNECT example.net:443 - HIER_NONE/- text/html",
			want{time: "2024-09-12T06:57:31Z", reason: capture.ProxyDenied}},
		{"parent_peer_name", "1764752410.002 433 192.0.2.10 TCP_MISS/200 5002 GET http://example.com/x - FIRSTUP_PARENT/parent.example.net text/html",
			want{host: "example.com", server: ":80", outcome: capture.OutcomeOK}},
		{"logged_headers", "1570784654.576    111 127.0.0.1 TCP_MISS/301 491 GET http://www.example.com - HIER_DIRECT/192.0.2.89 - [Host: www.example.com] [HTTP/1.1 301]",
			want{host: "www.example.com", outcome: capture.OutcomeOK}},
		{"secret_redacted", "1764752401.352 0 192.0.2.10 TCP_MISS/302 3910 GET https://auth.gtmhub.com/authorize?client_id=jira&code=s3cr3t&state=xyz#tok - HIER_DIRECT/192.0.2.1 -",
			want{path: "/authorize?client_id=jira&code=REDACTED&state=REDACTED"}},
		{"userinfo_dropped", "1764752401.352 0 192.0.2.10 TCP_MISS/200 3910 GET http://user:pw@example.com/ - HIER_DIRECT/192.0.2.1 -",
			want{host: "example.com", path: "/"}},
		{"uppercase_host", "1764752401.352 0 192.0.2.10 TCP_MISS/200 3910 GET http://WWW.Example.COM./ - HIER_DIRECT/192.0.2.1 -",
			want{host: "www.example.com"}},
		{"transaction_end", "1726124255.221      0 10.10.10.10 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -",
			want{skip: string(errNoRequest)}},
		{"relative_url", "1726124258.221      0 10.10.10.10 NONE_NONE/400 3913 GET /favicon.ico - HIER_NONE/- text/html",
			want{skip: string(errNoDestination)}},
		{"cache_log", "2019/10/11 09:14:49 kid1| Accepting HTTP Socket connections at local=[::]:3128 remote=[::] FD 11 flags=9",
			want{skip: string(SkipSquidCacheLog)}},
		{"comment", "# squid access log", want{skip: string(SkipComment)}},
		{"garbage", "this is not a squid line at all but has many words in it ok", want{err: "squid: time"}},
		{"short", "1764752401.352 0 192.0.2.10", want{err: "fields, want 10"}},
		{"bad_client", "1764752401.352 0 not-an-ip TCP_MISS/200 1 GET http://example.com/ - HIER_DIRECT/192.0.2.1 -", want{err: "client"}},
		{"bad_status", "1764752401.352 0 192.0.2.10 TCP_MISS/2x0 1 GET http://example.com/ - HIER_DIRECT/192.0.2.1 -", want{err: "status"}},
		{"bad_host", "1764752401.352 0 192.0.2.10 TCP_MISS/200 1 GET http://exa<mple.com/?code=zzz - HIER_DIRECT/192.0.2.1 -", want{err: "bad host"}},
		{"combined_in_native_file", `10.10.10.10 - testuser2 [12/Sep/2024:12:08:20 +0530] "CONNECT ssl.gstatic.com:443 HTTP/1.1" 200 0 NONE_NONE:HIER_DIRECT`,
			want{time: "2024-09-12T06:38:20Z", host: "ssl.gstatic.com", outcome: capture.OutcomeOK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, squidNative.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestSquidCombined(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"combined_suffix", `10.10.10.10 - - [12/Sep/2024:12:38:20 +0530] "GET http://proxy.squid.local:3128/squid-internal-mgr/counters HTTP/1.1" 407 4235 "-" "Datadog Agent/7.53.0" TCP_DENIED:HIER_NONE`,
			want{time: "2024-09-12T07:08:20Z", client: "10.10.10.10", server: ":3128", host: "proxy.squid.local", method: "GET", path: "/squid-internal-mgr/counters", reason: capture.ProxyAuthRequired, detail: "TCP_DENIED/407"}},
		{"common_suffix", `10.10.10.10 - testuser2 [12/Sep/2024:12:08:20 +0530] "CONNECT ssl.gstatic.com:443 HTTP/1.1" 200 0 NONE_NONE:HIER_DIRECT`,
			want{host: "ssl.gstatic.com", source: capture.SourceConnect, outcome: capture.OutcomeOK}},
		{"nginx_combined", `192.0.2.10 - - [03/Dec/2025:09:00:00 +0000] "GET https://app.gtmhub.com/api/v1/sessions HTTP/1.1" 403 12 "-" "curl/8"`,
			want{time: "2025-12-03T09:00:00Z", host: "app.gtmhub.com", server: ":443", path: "/api/v1/sessions", reason: capture.ProxyDenied, detail: "HTTP 403"}},
		{"ipv6_common", `2001:db8::10 - - [03/Dec/2025:09:00:00 -0100] "CONNECT [2001:db8::80]:8443 HTTP/1.1" 200 0`,
			want{time: "2025-12-03T10:00:00Z", client: "2001:db8::10", host: "2001:db8::80", server: ":8443"}},
		{"no_request", `10.10.10.10 - - [12/Sep/2024:12:38:20 +0530] "- error:transaction-end-before-headers NONE/0.0" 0 0 "-" "-" NONE_NONE:HIER_NONE`,
			want{skip: string(errNoRequest)}},
		{"web_server_line", `192.0.2.1 - - [03/Dec/2025:09:00:00 +0000] "GET /index.html HTTP/1.1" 200 12`,
			want{skip: string(errNoDestination)}},
		{"native_in_combined_file", "1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html",
			want{host: "auth.gtmhub.com", reason: capture.ProxyDenied}},
		{"bad_time", `192.0.2.1 - - [03/Dex/2025:09:00:00 +0000] "GET http://example.com/ HTTP/1.1" 200 12`,
			want{err: "time"}},
		{"garbage", `hello world`, want{err: "does not match"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, squidCombined.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestSquidLogFormatErrors(t *testing.T) {
	tests := []struct {
		name, spec, err string
	}{
		{"adjacent_codes", "%ts%tu %>a %ru", "column 4: codes %ts and %tu need text between them"},
		{"no_destination", "%ts %>a %Ss/%>Hs", "no code names the destination"},
		{"bare_percent", "%ts % %ru", "column 5: % without a code"},
		{"unclosed_arg", "%ts %{Host %ru", "column 5: unclosed {"},
		{"unknown_code", "%ts %zz %ru", "column 5: unknown code %zz"},
		{"unknown_with_direction", "%ts %>a %ru %<zz", "column 13: unknown code %<zz"},
		{"unknown_with_width", "%ts %03zz %ru", "column 5: unknown code %03zz"},
		{"unknown_http_code", "%ts %http::>zz %ru", "column 5: unknown code %http::>zz"},
		{"unknown_in_directive", "logformat x %ts %ru %Zq", `"%ts %ru %Zq": column 9: unknown code %Zq`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSquidLogFormat("x", tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("NewSquidLogFormat(%q) = %v, want error with %q", tc.spec, err, tc.err)
			}
		})
	}
}

// TestSquidLogFormatCodes compiles specifications with the codes Squid
// documents that the tool reads nothing from, and with namespaced codes:
// each must be accepted, and the lines read.
func TestSquidLogFormatCodes(t *testing.T) {
	tests := []struct {
		name, spec, line string
		want             want
	}{
		{"ignored_codes", "%ts.%03tu %>a %<la %>eui %err_code %note %Ss/%>Hs %rm %ru",
			"1764752401.352 192.0.2.10 198.51.100.1 02:00:00:00:00:01 ERR_ACCESS_DENIED - TCP_DENIED/403 CONNECT auth.gtmhub.com:443",
			want{host: "auth.gtmhub.com", reason: capture.ProxyDenied}},
		{"namespaced", "%ts %>a %ssl::bump_mode %icap::tt %adapt::<last_h %Ss/%>Hs %rm %http::>rd",
			"1764752401 192.0.2.10 splice 0 - TCP_TUNNEL/200 CONNECT app.gtmhub.com",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeOK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewSquidLogFormat("x", tc.spec)
			if err != nil {
				t.Fatalf("NewSquidLogFormat(%q) = %v", tc.spec, err)
			}
			checkLine(t, f.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

func TestSquidLogFormatCustom(t *testing.T) {
	f, err := NewSquidLogFormat("sni", `logformat sni %ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %<p %mt "%ssl::>sni" %{Host}>h`)
	if err != nil {
		t.Fatal(err)
	}
	p := f.NewLine(&Options{})
	checkLine(t, p, `1764752410.002     12 2001:db8::10 50123 TCP_TUNNEL/200 5002 CONNECT 198.51.100.20:443 - HIER_DIRECT/198.51.100.20 443 - "app.gtmhub.com" -`,
		want{client: "[2001:db8::10]:50123", host: "198.51.100.20", server: "198.51.100.20:443", source: capture.SourceConnect})
	checkLine(t, p, `1764752410.002     12 192.0.2.10 50124 TCP_MISS/200 5002 GET /api/v1/okrs - HIER_DIRECT/198.51.100.20 80 - "-" app.gtmhub.com`,
		want{client: "192.0.2.10:50124", host: "app.gtmhub.com", path: "/api/v1/okrs", server: "198.51.100.20:80"})
}

// TestSquidCorpus reads the public squid samples and checks the fields
// their sources assert.
func TestSquidCorpus(t *testing.T) {
	dir := corpusDir(t, "squid")
	t.Run("extensive_undeclared", func(t *testing.T) {
		// Without its logformat declared, the file is not read, and the
		// error says what to declare.
		_, err := ReadFile(filepath.Join(dir, "elastic-integrations-squid-test-access-extensive.log"), nil, &Options{}, func(*capture.Observation) {})
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "squid's access.log in a logformat of its own") {
			t.Errorf("ReadFile = %v, want ErrUnknownFormat with the squid logformat hint", err)
		}
	})
	t.Run("extensive_expected", func(t *testing.T) {
		f, err := NewSquidLogFormat("extensive", `%ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %>st %<sh %>sh %<tt %rm %ru %rv %un %Sh/%<a %<p %mt %tS %<pt "%{Referer}>h" "%{User-Agent}>h" "%{Host}>h" "%{X-Forwarded-For}>h"`)
		if err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Expected []map[string]any `json:"expected"`
		}
		readJSON(t, filepath.Join(dir, "elastic-integrations-squid-test-access-extensive.log-expected.subset.json"), &exp)
		obs, res := readFileAll(t, filepath.Join(dir, "elastic-integrations-squid-test-access-extensive.log"), f, nil)
		if len(obs) != len(exp.Expected) || res.Stats.Failed != 0 {
			t.Fatalf("got %d observations and %d failures, want %d and 0: %v", len(obs), res.Stats.Failed, len(exp.Expected), res.Stats.Problems)
		}
		for i, e := range exp.Expected {
			o := obs[i]
			w := want{
				time:   str(e["@timestamp"]),
				method: str(e["http.request.method"]),
				host:   str(e["url.domain"]),
				detail: str(e["squid.result_code"]) + "/" + str(e["squid.status_code"]),
			}
			w.client = str(e["source.ip"]) + ":" + str(e["source.port"])
			if ip := str(e["destination.ip"]); ip != "" {
				w.server = ip + ":" + str(e["destination.port"])
			}
			if w.method == "CONNECT" {
				w.host = strings.Split(str(e["url.original"]), ":")[0]
			}
			if ts, err := time.Parse(time.RFC3339Nano, w.time); err == nil {
				w.time = ts.UTC().Format(time.RFC3339Nano)
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkObservation(t, &o, w) })
		}
	})
	t.Run("datadog_expected", func(t *testing.T) {
		// The test file's last cases are indented wrongly upstream (and
		// have result: null, asserting nothing): decode the valid part.
		b, err := os.ReadFile(filepath.Join(dir, "datadog-squid_tests.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte("\n  - ")); i > 0 {
			b = b[:i]
		}
		var spec struct {
			Tests []struct {
				Sample string
				Result struct {
					Timestamp int64
					Custom    struct {
						HTTP *struct {
							Method     string
							StatusCode int `yaml:"status_code"`
							URLDetails struct {
								Host string
							} `yaml:"url_details"`
						}
						Network struct {
							Client      struct{ IP string }
							Destination struct{ IP string }
						}
						Squid struct{ Status string }
					}
				}
			}
		}
		if err := yaml.Unmarshal(b, &spec); err != nil {
			t.Fatal(err)
		}
		obs, res := readFileAll(t, filepath.Join(dir, "datadog-squid_tests.samples.log"), nil, nil)
		if res.Stats.Format != "squid" || res.Stats.Failed != 0 {
			t.Fatalf("format %s, %d failed (%v); want squid, 0", res.Stats.Format, res.Stats.Failed, res.Stats.Problems)
		}
		atLine := make(map[capture.Locator]*capture.Observation)
		for i := range obs {
			atLine[obs[i].Locator] = &obs[i]
		}
		samples := strings.Split(readText(t, filepath.Join(dir, "datadog-squid_tests.samples.log")), "\n")
		checked := 0
		for i, tc := range spec.Tests {
			t.Run(itoa(i+1), func(t *testing.T) {
				if i >= len(samples) || samples[i] != tc.Sample {
					t.Fatalf("sample %d is not line %d of the samples file", i+1, i+1)
				}
				o := atLine[capture.Line(int64(i+1))]
				c := tc.Result.Custom
				if c.HTTP == nil {
					// A cache.log line: the pipeline finds no request in it.
					if o != nil {
						t.Errorf("line %d gave %+v, want no observation", i+1, *o)
					}
					return
				}
				if o == nil {
					t.Fatalf("line %d gave no observation, want %s %s", i+1, c.HTTP.Method, c.HTTP.URLDetails.Host)
				}
				w := want{
					client: c.Network.Client.IP,
					method: c.HTTP.Method,
					host:   c.HTTP.URLDetails.Host,
					time:   time.UnixMilli(tc.Result.Timestamp).UTC().Format(time.RFC3339Nano),
					detail: "TCP_" + c.Squid.Status + "/",
				}
				if c.HTTP.StatusCode != 0 {
					w.detail += itoa(c.HTTP.StatusCode)
				}
				if d := c.Network.Destination.IP; d != "" && o.Server.Addr().String() != d {
					t.Errorf("server = %s, want %s", o.Server, d)
				}
				checkObservation(t, o, w)
				checked++
			})
		}
		if checked < 10 {
			t.Errorf("checked %d requests, want the 10 the test file asserts", checked)
		}
	})
	for _, name := range []string{"elastic-integrations-squid-test-access.log", "pylogsparser-squid.log", "wazuh-squid_rules.log"} {
		t.Run(name, func(t *testing.T) {
			obs, res := readFileAll(t, filepath.Join(dir, name), nil, nil)
			if res.Stats.Format != "squid" || res.Stats.Failed != 0 || len(obs) == 0 {
				t.Fatalf("format %s, %d observations, %d failed (%v)", res.Stats.Format, len(obs), res.Stats.Failed, res.Stats.Problems)
			}
			for _, o := range obs {
				if o.Host == "" || !o.Client.Addr().IsValid() || o.Time.IsZero() {
					t.Errorf("%s: incomplete observation %+v", o.Where(), o)
				}
			}
		})
	}
	t.Run("pfsense_artefact", func(t *testing.T) {
		// The upstream fixture's time and elapsed fields were turned into
		// markdown ("[ts elapsed](tel:...)"): no squid line, so detection
		// fails, and read as squid the line fails naming its position.
		file := filepath.Join(dir, "elastic-integrations-pfsense-test-pfsense-squid.log")
		if _, err := ReadFile(file, nil, &Options{}, func(*capture.Observation) {}); err == nil || !strings.Contains(err.Error(), "format not recognised") {
			t.Errorf("detection: %v, want format not recognised", err)
		}
		obs, res := readFileAll(t, file, squidNative, nil)
		if len(obs) != 0 || res.Stats.Failed != 1 || len(res.Stats.Problems) != 1 ||
			!strings.Contains(res.Stats.Problems[0].Err, "pfsense-squid.log:1: squid: time \"[1598040493.253\"") {
			t.Errorf("%d observations, %d failed (%v); want the line failed, naming line 1 and its time", len(obs), res.Stats.Failed, res.Stats.Problems)
		}
	})
	t.Run("opnsense_ecs", func(t *testing.T) {
		// Each line carries its fields as ECS JSON: decode them with
		// encoding/json and compare.
		file := filepath.Join(dir, "elastic-integrations-pfsense-test-opnsense-squid.log")
		obs, res := readFileAll(t, file, nil, nil)
		lines := strings.Split(readText(t, file), "\n")
		if res.Stats.Format != "squid" || res.Stats.Failed != 0 || len(obs) != len(lines) {
			t.Fatalf("format %s, %d observations for %d lines, %d failed: %v", res.Stats.Format, len(obs), len(lines), res.Stats.Failed, res.Stats.Problems)
		}
		for i, line := range lines {
			var e struct {
				Timestamp string `json:"@timestamp"`
				HTTP      struct {
					Request  struct{ Method string }
					Response struct {
						Body struct {
							StatusCode int `json:"status_code"`
						}
					}
				}
				Source struct{ IP string }
				URL    struct{ Original string }
				Labels struct {
					RequestStatus string `json:"request_status"`
				}
			}
			if err := json.Unmarshal([]byte(line[strings.IndexByte(line, '{'):]), &e); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			w := want{method: e.HTTP.Request.Method, client: e.Source.IP,
				detail: e.Labels.RequestStatus + "/" + itoa(e.HTTP.Response.Body.StatusCode)}
			if ts, err := time.Parse("2006-01-02T15:04:05-0700", e.Timestamp); err == nil {
				w.time = ts.UTC().Format(time.RFC3339Nano)
			}
			if u, err := url.Parse(e.URL.Original); err == nil && u.Scheme != "" && u.Host != "" {
				w.host, w.path = u.Hostname(), u.EscapedPath()
				if u.RawQuery != "" || u.ForceQuery {
					w.path += "?" + u.RawQuery
				}
			} else {
				w.host, _, _ = strings.Cut(e.URL.Original, ":")
				w.source = capture.SourceConnect
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkObservation(t, &obs[i], w) })
		}
	})
	t.Run("pylogsparser_expected", func(t *testing.T) {
		var exp []map[string]any
		readJSON(t, filepath.Join(dir, "pylogsparser-squid.expected.json"), &exp)
		// The source's tags: source_ip, method, peer_host, event_id, status.
		obs, _ := readFileAll(t, filepath.Join(dir, "pylogsparser-squid.log"), nil, nil)
		if len(obs) != len(exp) {
			t.Fatalf("%d observations, want %d", len(obs), len(exp))
		}
		for i, x := range exp {
			e := x["expectedTags"].(map[string]any)
			w := want{client: str(e["source_ip"]), method: str(e["method"]), detail: str(e["event_id"]) + "/" + str(e["status"])}
			if w.client == "" || w.method == "" {
				t.Fatalf("expected tags %v lack source_ip or method", e)
			}
			if ip := str(e["peer_host"]); ip != "" {
				w.server = ip + ":" + itoa(int(obs[i].Server.Port()))
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkObservation(t, &obs[i], w) })
		}
	})
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return itoa(int(x))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// readText returns a file's text without its final newline.
func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readAll reads an input and returns copies of its observations.
func readFileAll(t *testing.T, path string, f *Format, opts *Options) ([]capture.Observation, *Result) {
	t.Helper()
	var obs []capture.Observation
	res, err := ReadFile(path, f, opts, func(o *capture.Observation) { obs = append(obs, *o) })
	if err != nil {
		t.Fatal(err)
	}
	return obs, res
}

func TestSquidSyslog(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"pfsense_native", "<166>Dec  3 09:00:01 fw (squid-1)[6802]: 1764752401.352      0 192.0.2.10 TCP_DENIED/403 3910 CONNECT auth.gtmhub.com:443 - HIER_NONE/- text/html",
			want{time: "2025-12-03T09:00:01.352Z", host: "auth.gtmhub.com", reason: capture.ProxyDenied}},
		{"opnsense_ecs", `<166>Aug 21 22:08:13 fw (squid-1)[6802]: {"@timestamp":"2026-08-08T19:42:51+0000","http":{"request":{"method":"CONNECT"},"response":{"bytes":0,"body":{"status_code":200}}},"source":{"ip":"192.168.2.2"},"url":{"original":"v10.events.data.microsoft.com:443"},"user_agent":{"original":"x/1"},"labels":{"request_status":"NONE_NONE_ABORTED","hierarchy_status":"HIER_NONE"}}`,
			want{time: "2026-08-08T19:42:51Z", client: "192.168.2.2", host: "v10.events.data.microsoft.com", source: capture.SourceConnect, outcome: capture.OutcomeOK, detail: "NONE_NONE_ABORTED/200"}},
		{"pfsense_artefact", "<166>Aug 21 22:08:13 fw (squid-1)[6802]: [1598040493.253 325](tel:1598040493.253 325) 175.16.199.1 TCP_MISS/304 2912 GET https://github.com/x - HIER_DIRECT/81.2.69.145 -",
			want{err: "squid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, squidNative.NewLine(&Options{}), tc.line, tc.want)
		})
	}
	f, err := Detect([]byte(tests[0].line + "\n" + tests[1].line + "\n"))
	if err != nil || f.Name != "squid" {
		t.Errorf("Detect(syslog squid) = %v, %v; want squid", f, err)
	}
}
