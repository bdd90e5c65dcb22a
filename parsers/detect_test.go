package parsers

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// TestDetect checks that each format's own lines are recognised as that
// format and as no other.
func TestDetect(t *testing.T) {
	tests := []struct {
		name, want, head string
	}{
		{"squid_native", "squid", "1764752400.101    212 192.0.2.10 TCP_TUNNEL/200 6120 CONNECT marketplace.atlassian.com:443 - HIER_DIRECT/203.0.113.80 -\n"},
		{"squid_combined", "squid-combined", `192.0.2.10 - - [12/Sep/2024:12:38:20 +0530] "GET http://example.com/ HTTP/1.1" 407 4235 "-" "curl" TCP_DENIED:HIER_NONE` + "\n"},
		{"nginx_common", "squid-combined", `192.0.2.10 - - [12/Sep/2024:12:38:20 +0530] "CONNECT example.com:443 HTTP/1.1" 200 0` + "\n"},
		{"dnsmasq", "dnsmasq", dnsmasqSession},
		{"bind", "bind", "client @0x7f85b4026ed0 127.0.0.1#42520 (ci.elastic.co): query: ci.elastic.co IN A +E(0)K (35.193.103.164)\n"},
		{"unbound", "unbound", "Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.012000 0 93\n"},
		{"w3c", "w3c", proxySGLog},
		{"zscaler", "zscaler", `{"sourcetype":"zscalernss-web","event":{"cip":"192.0.2.10","eurl":"a.example"}}` + "\n"},
		{"envoy_text", "envoy", `[2025-12-03T09:00:01.000Z] "CONNECT app.gtmhub.com:443 HTTP/1.1" 200 - 0 0 52 - "192.0.2.10" "curl/8" "id-1" "app.gtmhub.com:443" "198.51.100.20:443"` + "\n"},
		{"envoy_json", "envoy", `{":authority":"a.example","method":"GET","response_code":200,"upstream_host":"192.0.2.1:80"}` + "\n"},
		{"haproxy", "haproxy", `192.0.2.10:50123 [03/Dec/2025:09:00:01.123] egress egress/proxy 0/0/1/30/31 200 512 - - ---- 1/1/0/0/0 0/0 "CONNECT app.gtmhub.com:443 HTTP/1.1"` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Detect([]byte(tc.head))
			if err != nil || f.Name != tc.want {
				name := ""
				if f != nil {
					name = f.Name
				}
				t.Fatalf("Detect = %q, %v; want %q", name, err, tc.want)
			}
		})
	}
	if _, err := Detect([]byte("hello world\nnothing to see\n")); err != ErrUnknownFormat {
		t.Errorf("Detect(prose) = %v, want ErrUnknownFormat", err)
	}
}

// TestFieldRedacts checks that error messages, which need no exact value,
// redact more than reports do: any long mix of letters and digits.
func TestFieldRedacts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hunter2passhunter2passhunter2pass", Redacted},
		{"Zk3pQ9x7Lm2vR8tY4wB6nC1dF5gH0jKs", Redacted},
		{"TCP_MISS/200", "TCP_MISS/200"},
		{"3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
		{"https://a.example/x?code=abc", "https://a.example/x"},
	}
	for _, tc := range tests {
		if got := field([]byte(tc.in)); got != tc.want {
			t.Errorf("field(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/authorize?client_id=jira&code=abc&state=xyz", "/authorize?client_id=jira&code=REDACTED&state=REDACTED"},
		{"/cb?id_token=x&access_token=y&client_secret=z&password=p", "/cb?id_token=REDACTED&access_token=REDACTED&client_secret=REDACTED&password=REDACTED"},
		{"/x?Code=abc", "/x?Code=REDACTED"},
		{"/x?c%6fde=abc", "/x?c%6fde=REDACTED"},
		{"/x?q=" + strings.Repeat("aB3", 10), "/x?q=REDACTED"},
		{"/x?q=hello&page=2", "/x?q=hello&page=2"},
		{"/x#access_token=abc", "/x"},
		{"/api/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl/okrs", "/api/REDACTED/okrs"},
		{"/api/v1/tasks/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/api/v1/tasks/3fa85f64-5717-4562-b3fc-2c963f66afa6"},
		{"/x?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "/x?REDACTED"},
		// File names from the public samples (Zeek's http.log of a
		// Wikipedia visit, squid access logs) are not secrets.
		{"/wikipedia/commons/thumb/b/bb/Wikipedia_wordmark.svg/174px-Wikipedia_wordmark.svg.png", "/wikipedia/commons/thumb/b/bb/Wikipedia_wordmark.svg/174px-Wikipedia_wordmark.svg.png"},
		{"/wikipedia/commons/thumb/f/fa/Wikibooks-logo.svg/35px-Wikibooks-logo.svg.png", "/wikipedia/commons/thumb/f/fa/Wikibooks-logo.svg/35px-Wikibooks-logo.svg.png"},
		{"/pki/certs/MicRooCerAut2011_2011_03_22.crt", "/pki/certs/MicRooCerAut2011_2011_03_22.crt"},
		{"/download/Quarterly_Report_2025_Q3_final_v2.pdf", "/download/Quarterly_Report_2025_Q3_final_v2.pdf"},
		{"/x?file=174px-Wikipedia_wordmark.svg.png", "/x?file=174px-Wikipedia_wordmark.svg.png"},
		// Secrets: random base64url in the path or a query, known key
		// prefixes, presigned-URL signatures.
		{"/hooks/Zk3pQ9x7Lm2vR8tY4wB6nC1dF5gH0jKs/run", "/hooks/REDACTED/run"},
		{"/x?t=Zk3pQ9x7Lm2vR8tY4wB6nC1d", "/x?t=REDACTED"},
		{"/x?k=ghp_abcdefghijklmnopqrst", "/x?k=REDACTED"},
		{"/b/o.png?X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0", "/b/o.png?X-Amz-Signature=REDACTED"},
	}
	for _, tc := range tests {
		if got := RedactPath(tc.in); got != tc.want {
			t.Errorf("RedactPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := redactPath("/x?code=abc#f", true); got != "/x?code=abc#f" {
		t.Errorf("redactPath(keep) = %q, want it unchanged", got)
	}
}

func TestCustomFormat(t *testing.T) {
	re, err := NewCustomFormat(CustomSpec{Name: "edge", Regex: `^(?P<time>\S+) (?P<client>\S+) (?P<action>\w+) (?P<method>\S+) (?P<url>\S+) (?P<status>\d+|-)$`})
	if err != nil {
		t.Fatal(err)
	}
	p := re.NewLine(&Options{})
	checkLine(t, p, "2025-12-03T09:00:01Z 192.0.2.10 allow GET https://app.gtmhub.com/api/v1/okrs?code=x 200",
		want{time: "2025-12-03T09:00:01Z", client: "192.0.2.10", host: "app.gtmhub.com", server: ":443", path: "/api/v1/okrs?code=REDACTED", outcome: "ok"})
	checkLine(t, p, "1764752401 192.0.2.10 deny CONNECT auth.gtmhub.com:443 -", want{time: "2025-12-03T09:00:01Z", host: "auth.gtmhub.com", reason: "proxy-denied"})
	checkLine(t, p, "1764752401000 192.0.2.10 deny CONNECT auth.gtmhub.com:443 -", want{time: "2025-12-03T09:00:01Z"})
	checkLine(t, p, "junk", want{err: "does not match the regex"})
	checkLine(t, p, "# comment", want{skip: string(SkipComment)})

	tsv, err := NewCustomFormat(CustomSpec{Name: "tsv", Delimiter: "tab", Columns: []string{"time", "-", "client", "host", "port", "status", "x_ua"}, TimeLayout: "02.01.2006 15:04:05"})
	if err != nil {
		t.Fatal(err)
	}
	checkLine(t, tsv.NewLine(&Options{}), "03.12.2025 09:00:01\tx\t192.0.2.10\tauth.gtmhub.com\t443\t407\t\"curl 8\"",
		want{time: "2025-12-03T09:00:01Z", host: "auth.gtmhub.com", server: ":443", method: "CONNECT", reason: "proxy-auth-required"})
	csv, err := NewCustomFormat(CustomSpec{Name: "csv", Delimiter: ",", Columns: []string{"client", "url", "rule", "action"}})
	if err != nil {
		t.Fatal(err)
	}
	checkLine(t, csv.NewLine(&Options{}), `192.0.2.10,"http://a.example/x,y",block-saas,Blocked`,
		want{host: "a.example", path: "/x,y", reason: "proxy-denied", detail: "rule block-saas"})

	errs := []struct {
		spec CustomSpec
		err  string
	}{
		{CustomSpec{Name: "a", Regex: `(?P<url>\S+`}, `format "a": regex: error parsing regexp: missing closing ): `},
		{CustomSpec{Name: "a", Regex: `(?P<url>\S+) (?P<dest>\S+)`}, `group 2 "dest": want one of time,`},
		{CustomSpec{Name: "a", Delimiter: ",", Columns: []string{"client", "status"}}, "no url or host field"},
		{CustomSpec{Name: "a", Delimiter: "::", Columns: []string{"url"}}, `delimiter "::": want one character`},
		{CustomSpec{Name: "a", Regex: "(?P<url>x)", LogFormat: "%ru"}, "want exactly one of"},
		{CustomSpec{Name: "squid", Regex: "(?P<url>x)"}, "the name of a built-in format"},
		{CustomSpec{Name: "a", LogFormat: "%ts%tu %ru"}, "column 4: codes %ts and %tu need text between them"},
		{CustomSpec{Name: "a", Delimiter: ",", Columns: []string{"url", "url"}}, `field "url" named twice`},
	}
	for _, e := range errs {
		if _, err := NewCustomFormat(e.spec); err == nil || !strings.Contains(err.Error(), e.err) {
			t.Errorf("NewCustomFormat(%+v) = %v, want error with %q", e.spec, err, e.err)
		}
	}
}

// TestDetectAfterJunk checks that a log opening with lines of no format is
// still recognised from the lines after them, that each junk line is
// failed with its line number and the log's own lines are read, and that
// the look-ahead is bounded.
func TestDetectAfterJunk(t *testing.T) {
	const squidLine = "1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n"
	log := func(junk int) string {
		var b strings.Builder
		for i := 0; i < junk; i++ {
			fmt.Fprintf(&b, "panic: runtime error in worker %d, see the dump below\n", i+1)
		}
		for i := 0; i < 5; i++ {
			b.WriteString(squidLine)
		}
		return b.String()
	}
	tests := []struct {
		name string
		junk int
	}{
		{"junk_30", 30},
		{"junk_500", 500}, // past the first 16 KiB looked at
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			res, err := Read(strings.NewReader(log(tc.junk)), "access.log", nil, &Options{}, func(*capture.Observation) { n++ })
			if err != nil {
				t.Fatalf("Read = %v", err)
			}
			if res.Stats.Format != "squid" || res.Stats.Records != 5 || n != 5 || res.Stats.Failed != int64(tc.junk) {
				t.Fatalf("Read = format %q, %d records (%d emitted), %d failed; want squid, 5, %d failed",
					res.Stats.Format, res.Stats.Records, n, res.Stats.Failed, tc.junk)
			}
			if p := res.Stats.Problems; len(p) == 0 || p[0].Locator != capture.Line(1) || p[len(p)-1].Locator.N != int64(min(tc.junk, capture.MaxProblems)) {
				t.Errorf("problems = %v, want lines 1 to %d", p, min(tc.junk, capture.MaxProblems))
			}
		})
	}

	// Past 1000 lines of junk, detection gives up rather than read on.
	_, err := Read(strings.NewReader(log(detectDeepLines)), "access.log", nil, &Options{}, func(*capture.Observation) {})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Read(%d junk lines) = %v, want ErrUnknownFormat", detectDeepLines, err)
	}
}

// TestUnknownFormatHint checks that an input no format recognises, but
// whose lines hold squid result codes, is told to be a squid logformat of
// its own, and that other unknown inputs get no such hint.
func TestUnknownFormatHint(t *testing.T) {
	// squid's logformat with the client port and the bytes in both
	// directions before the method: no built-in layout.
	custom := "1764752410.002    433 192.0.2.10 58938 TCP_TUNNEL/200 5002 123 - CONNECT app.gtmhub.com:443 1.1 - HIER_DIRECT/198.51.100.20 443 -\n"
	tests := []struct {
		name, in, hint string
	}{
		{"squid_custom", strings.Repeat(custom, 3), "its lines hold squid result codes (TCP_TUNNEL/200), so it may be squid's access.log in a logformat of its own"},
		{"none_code", "x y NONE_NONE/000 z\n", "(NONE_NONE/000)"},
		{"not_a_code", "x TCP_miss/200 TCP_MISS/20 TCP_MISS/abc TCPX/200\n", ""},
		{"prose", "hello world\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "access.log", nil, &Options{}, func(*capture.Observation) {})
			if !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("Read = %v, want ErrUnknownFormat", err)
			}
			msg := err.Error()
			if tc.hint == "" && msg != "access.log: "+ErrUnknownFormat.Error() {
				t.Errorf("error %q, want no hint", msg)
			}
			if tc.hint != "" && (!strings.Contains(msg, tc.hint) || !strings.HasSuffix(msg, "declare that logformat under formats: in the configuration")) {
				t.Errorf("error %q, want the hint %q", msg, tc.hint)
			}
		})
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"auth.gtmhub.com":  true,
		"App_1.example":    true,
		"2001:db8::10":     true,
		"::ffff:192.0.2.1": true,
		"fe80::1%eth0":     false, // a zone names the logging host's interface
		"::0%\x8e":         false,
		"a..example":       false,
		".example":         false,
		"bad<name":         false,
		"":                 false,
	} {
		if got := validHost([]byte(h)); got != want {
			t.Errorf("validHost(%q) = %v, want %v", h, got, want)
		}
	}
}
