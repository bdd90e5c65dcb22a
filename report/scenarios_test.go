package report

import (
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// scenario is a report built from observations like the ones the lab
// produces: the Jira server 192.0.2.10 behind a proxy or a
// firewall, reaching the vendor at 203.0.113.0/24.
type scenario struct {
	name string
	opts rules.Options
	obs  []capture.Observation
	// skips gives inputs skip reasons, by input name.
	skips map[string]map[string]int64
}

var (
	jira     = netip.MustParseAddrPort("192.0.2.10:51514")
	resolver = netip.MustParseAddrPort("198.51.100.53:53")
	authAddr = netip.MustParseAddrPort("203.0.113.10:443")
	appAddr  = netip.MustParseAddrPort("203.0.113.20:443")
	t0       = time.Date(2026, 11, 30, 9, 14, 2, 0, time.UTC)
)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// proxyLog is one line of a Squid access.log: a request with a URL.
func proxyLog(line int64, sec int, method, host, path string, outcome capture.Outcome, reason capture.Reason, detail string) capture.Observation {
	o := capture.Observation{
		Time: at(sec), Input: "access.log", Locator: capture.Line(line),
		Kind: capture.Connection, Client: netip.AddrPortFrom(jira.Addr(), 0),
		Server: netip.AddrPortFrom(netip.Addr{}, 443), Transport: capture.TCP,
		Host: host, HostSource: capture.SourceURL, Method: method, Path: path,
		Outcome: outcome, Reason: reason, Detail: detail,
	}
	if method == "CONNECT" {
		o.HostSource = capture.SourceConnect
	}
	return o
}

// lookup is a DNS answer seen in a capture.
func lookup(packet int64, sec int, host string, answers ...string) capture.Observation {
	o := capture.Observation{
		Time: at(sec), Input: "jira.pcapng", Locator: capture.Packet(packet),
		Kind: capture.Lookup, Client: jira, Server: resolver, Transport: capture.UDP,
		Host: host, HostSource: capture.SourceDNS, Outcome: capture.OutcomeOK,
		TTL: 300 * time.Second,
	}
	for _, a := range answers {
		o.Answers = append(o.Answers, netip.MustParseAddr(a))
	}
	return o
}

// flow is a TCP flow seen in a capture; host is its SNI, or "" when the
// ClientHello was never sent.
func flow(packet int64, sec int, server netip.AddrPort, host string, outcome capture.Outcome, reason capture.Reason, detail string) capture.Observation {
	o := capture.Observation{
		Time: at(sec), Input: "jira.pcapng", Locator: capture.Packet(packet),
		Kind: capture.Connection, Client: jira, Server: server, Transport: capture.TCP,
		Host: host, Outcome: outcome, Reason: reason, Detail: detail,
	}
	if host != "" {
		o.HostSource = capture.SourceSNI
	}
	return o
}

const ok, blocked = capture.OutcomeOK, capture.OutcomeBlocked

// hostile values: markup, terminal escapes, a spreadsheet formula and a
// bearer token that a parser failed to redact.
const (
	hostileScript  = `<script>alert(1)</script>.example`
	hostileANSI    = "\x1b[31mred\x1b[0m.example"
	hostileFormula = `=HYPERLINK("http://198.51.100.66/x","click")`
	hostileToken   = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLWJ5dGVz"
)

var scenarios = []scenario{
	{
		name: "all_ok",
		obs: []capture.Observation{
			proxyLog(1, 0, "CONNECT", "auth.gtmhub.com", "", ok, "", "TCP_TUNNEL/200"),
			proxyLog(2, 1, "POST", "auth.gtmhub.com", "/oauth/token", ok, "", "TCP_MISS/200"),
			proxyLog(3, 2, "GET", "app.gtmhub.com", "/api/v2/sessions", ok, "", "TCP_MISS/200"),
			proxyLog(4, 3, "GET", "app.gtmhub.com", "/api/v1/goals?sessionIds=REDACTED", ok, "", "TCP_MISS/200"),
			proxyLog(5, 5, "POST", "app.gtmhub.com", "/api/v1/tasks", ok, "", "TCP_MISS/201"),
			proxyLog(6, 9, "GET", "app.gtmhub.com", "/api/v1/search?q=launch", ok, "", "TCP_MISS/200"),
		},
	},
	{
		name: "token_no_response",
		obs: []capture.Observation{
			lookup(1, 0, "auth.gtmhub.com", "203.0.113.10"),
			flow(3, 0, authAddr, "", blocked, capture.NoResponse, "3 SYNs, no answer"),
			flow(9, 3, authAddr, "", blocked, capture.NoResponse, "3 SYNs, no answer"),
		},
	},
	{
		name: "proxy_denied",
		obs: []capture.Observation{
			proxyLog(1, 0, "CONNECT", "auth.gtmhub.com", "", blocked, capture.ProxyDenied, "TCP_DENIED/403"),
			proxyLog(2, 4, "CONNECT", "auth.gtmhub.com", "", blocked, capture.ProxyDenied, "TCP_DENIED/403"),
		},
	},
	{
		name: "tls_interception",
		obs: []capture.Observation{
			lookup(1, 0, "auth.gtmhub.com", "203.0.113.10"),
			flow(4, 0, authAddr, "auth.gtmhub.com", ok, "", "TLS 1.3"),
			lookup(20, 1, "app.gtmhub.com", "203.0.113.20"),
			func() capture.Observation {
				o := flow(23, 1, appAddr, "app.gtmhub.com", blocked, capture.TLSInterception, "certificate issued by Example Corp Inspection CA")
				o.Issuer = "CN=Example Corp Inspection CA"
				return o
			}(),
		},
	},
	{
		name: "other_datacenter",
		opts: rules.Options{Datacenter: "eu"},
		obs: []capture.Observation{
			lookup(1, 0, "auth.us.gtmhub.com", "203.0.113.110"),
			flow(4, 0, netip.MustParseAddrPort("203.0.113.110:443"), "auth.us.gtmhub.com", ok, "", "TLS 1.3"),
			lookup(10, 1, "app.us.gtmhub.com", "203.0.113.120"),
			flow(13, 1, netip.MustParseAddrPort("203.0.113.120:443"), "app.us.gtmhub.com", ok, "", "TLS 1.3"),
		},
	},
	{
		name: "unexpected",
		obs: []capture.Observation{
			lookup(1, 0, "auth.gtmhub.com", "203.0.113.10"),
			flow(4, 0, authAddr, "auth.gtmhub.com", ok, "", "TLS 1.3"),
			lookup(10, 1, "app.gtmhub.com", "203.0.113.20"),
			flow(13, 1, appAddr, "app.gtmhub.com", ok, "", "TLS 1.3"),
			lookup(30, 4, "telemetry.example.net", "198.51.100.80"),
			flow(33, 4, netip.MustParseAddrPort("198.51.100.80:443"), "telemetry.example.net", ok, "", "TLS 1.2"),
			flow(40, 6, netip.MustParseAddrPort("198.51.100.77:8443"), "", blocked, capture.Reset, "RST after SYN"),
		},
	},
	{
		name: "hostile",
		obs: []capture.Observation{
			flow(1, 0, netip.MustParseAddrPort("198.51.100.91:443"), hostileScript, ok, "", "TLS 1.3"),
			flow(2, 1, netip.MustParseAddrPort("198.51.100.92:443"), hostileANSI, blocked, capture.Reset, "\x1b]0;owned\x07title"),
			flow(3, 2, netip.MustParseAddrPort("198.51.100.93:443"), hostileFormula, ok, "", "-2+3"),
			proxyLog(4, 3, "POST", "auth.gtmhub.com", "/oauth/token", blocked, capture.ProxyDenied,
				"TCP_DENIED/403 Authorization: Bearer "+hostileToken),
			func() capture.Observation {
				o := proxyLog(5, 4, "GET", "app.gtmhub.com", "/api/v1/goals?access_token="+hostileToken, blocked, capture.ProxyDenied, "403 <b>denied</b> | @SUM(1)")
				o.Input = "<img src=x onerror=alert(2)>.log"
				return o
			}(),
		},
		skips: map[string]map[string]int64{
			"<img src=x onerror=alert(2)>.log": {"<b>odd</b> \x1b[2Jline": 2, "comment": 1},
		},
	},
}

// build classifies a scenario's observations into a report, with one
// input per input name seen.
func (s *scenario) build() *rules.Report {
	cl := rules.NewClassifier(rules.DefaultCatalog(), s.opts)
	count := map[string]int64{}
	var names []string
	for i := range s.obs {
		o := s.obs[i]
		if count[o.Input] == 0 {
			names = append(names, o.Input)
		}
		count[o.Input]++
		cl.Add(&o)
	}
	var inputs []rules.InputReport
	for _, n := range names {
		format := "pcapng"
		if n != "jira.pcapng" {
			format = "squid"
		}
		in := rules.InputReport{
			Path:    n,
			Format:  format,
			SHA256:  "9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
			Records: count[n],
			Reasons: s.skips[n],
		}
		for _, c := range in.Reasons {
			in.Skipped += c
		}
		inputs = append(inputs, in)
	}
	return cl.Report(inputs)
}

// scenarioReport returns the report of the named scenario.
func scenarioReport(name string) *rules.Report {
	for i := range scenarios {
		if scenarios[i].name == name {
			return scenarios[i].build()
		}
	}
	panic("no scenario " + name)
}
