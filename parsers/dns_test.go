package parsers

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// dnsmasqSession is written after dnsmasq's log_query wording: a lookup
// followed through a CNAME chain, a cached answer, an NXDOMAIN, a
// configured block, a sinkhole, a SERVFAIL and log-queries=extra lines.
const dnsmasqSession = `Dec  3 09:00:01 dnsmasq[811]: query[A] app.gtmhub.com from 192.0.2.10
Dec  3 09:00:01 dnsmasq[811]: forwarded app.gtmhub.com to 192.0.2.53
Dec  3 09:00:01 dnsmasq[811]: reply app.gtmhub.com is <CNAME>
Dec  3 09:00:01 dnsmasq[811]: reply gtmhub.azurefd.net is <CNAME>
Dec  3 09:00:01 dnsmasq[811]: reply edge.t-msedge.net is 198.51.100.20
Dec  3 09:00:01 dnsmasq[811]: reply edge.t-msedge.net is 198.51.100.21
Dec  3 09:00:02 dnsmasq[811]: query[A] auth.gtmhub.com from 192.0.2.11
Dec  3 09:00:02 dnsmasq[811]: cached auth.gtmhub.com is 198.51.100.30
Dec  3 09:00:03 dnsmasq[811]: query[AAAA] nosuch.gtmhub.com from 192.0.2.10
Dec  3 09:00:03 dnsmasq[811]: reply nosuch.gtmhub.com is NXDOMAIN
Dec  3 09:00:04 dnsmasq[811]: query[A] tracker.example from 192.0.2.10
Dec  3 09:00:04 dnsmasq[811]: config tracker.example is NXDOMAIN
Dec  3 09:00:05 dnsmasq[811]: query[A] ads.example from 192.0.2.10
Dec  3 09:00:05 dnsmasq[811]: config ads.example is 0.0.0.0
Dec  3 09:00:06 dnsmasq[811]: query[A] broken.example from 192.0.2.10
Dec  3 09:00:06 dnsmasq[811]: reply broken.example is SERVFAIL
Dec  3 09:00:07 dnsmasq[811]: 17 192.0.2.12/41234 query[A] app.gtmhub.us from 192.0.2.12
Dec  3 09:00:07 dnsmasq[811]: 17 192.0.2.12/41234 reply app.gtmhub.us is 203.0.113.7
Dec  3 09:00:08 dnsmasq[811]: query[AAAA] app.gtmhub.com from 2001:db8::10
Dec  3 09:00:08 dnsmasq[811]: reply app.gtmhub.com is NODATA-IPv6
Dec  3 09:00:09 dnsmasq[811]: /etc/hosts jira.internal is 192.0.2.10
Dec  3 09:00:09 dnsmasq-dhcp[811]: DHCPACK(eth0) 192.0.2.10 00:11:22:33:44:55 jira
Dec  3 09:00:10 dnsmasq[811]: query[PTR] 20.100.51.198.in-addr.arpa from 192.0.2.10
Dec  3 09:00:10 dnsmasq[811]: reply 198.51.100.20 is edge.t-msedge.net
Dec  3 09:00:11 dnsmasq[811]: read /etc/hosts - 2 names
`

func TestDnsmasq(t *testing.T) {
	var got []capture.Observation
	st := &capture.Stats{}
	p := dnsmasq.NewLine(&Options{})
	p.(*dnsmasqParser).now = func() time.Time { return time.Date(2025, 12, 24, 0, 0, 0, 0, time.UTC) }
	for i, l := range strings.Split(strings.TrimSpace(dnsmasqSession), "\n") {
		o := capture.Observation{Locator: capture.Line(int64(i + 1))}
		switch err := p.ParseLine([]byte(l), &o); err.(type) {
		case nil:
			got = append(got, o)
		case Skip:
			st.Skip(err.Error())
		default:
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	a := netip.MustParseAddr
	tests := []struct {
		host    string
		client  string
		answers []netip.Addr
		outcome capture.Outcome
		reason  capture.Reason
		line    int64
	}{
		{"app.gtmhub.com", "192.0.2.10", []netip.Addr{a("198.51.100.20")}, capture.OutcomeOK, "", 5},
		{"app.gtmhub.com", "192.0.2.10", []netip.Addr{a("198.51.100.21")}, capture.OutcomeOK, "", 6},
		{"auth.gtmhub.com", "192.0.2.11", []netip.Addr{a("198.51.100.30")}, capture.OutcomeOK, "", 8},
		{"nosuch.gtmhub.com", "192.0.2.10", nil, capture.OutcomeBlocked, capture.DNSNXDomain, 10},
		{"tracker.example", "192.0.2.10", nil, capture.OutcomeBlocked, capture.DNSNXDomain, 12},
		{"ads.example", "192.0.2.10", nil, capture.OutcomeBlocked, capture.DNSNXDomain, 14},
		{"broken.example", "192.0.2.10", nil, capture.OutcomeBlocked, capture.DNSServFail, 16},
		{"app.gtmhub.us", "192.0.2.12:41234", []netip.Addr{a("203.0.113.7")}, capture.OutcomeOK, "", 18},
		{"app.gtmhub.com", "2001:db8::10", nil, capture.OutcomeOK, "", 20},
		{"jira.internal", "", []netip.Addr{a("192.0.2.10")}, capture.OutcomeOK, "", 21},
		{"edge.t-msedge.net", "192.0.2.10", []netip.Addr{a("198.51.100.20")}, capture.OutcomeOK, "", 24},
	}
	if len(got) != len(tests) {
		for _, o := range got {
			t.Logf("%s %s %v", o.Locator, o.Host, o.Answers)
		}
		t.Fatalf("%d observations, want %d", len(got), len(tests))
	}
	for i, w := range tests {
		o := got[i]
		client := ""
		if o.Client.IsValid() {
			client = endpointString(o.Client.Addr().String(), o.Client.Port())
		}
		if o.Kind != capture.Lookup || o.Host != w.host || client != w.client || o.Outcome != w.outcome || o.Reason != w.reason || o.Locator.N != w.line || !equalAddrs(o.Answers, w.answers) {
			t.Errorf("observation %d = %s host %q client %q answers %v %s %s, want line %d host %q client %q answers %v %s %s",
				i, o.Locator, o.Host, client, o.Answers, o.Outcome, o.Reason, w.line, w.host, w.client, w.answers, w.outcome, w.reason)
		}
	}
	if want := time.Date(2025, 12, 3, 9, 0, 1, 0, time.UTC); !got[0].Time.Equal(want) {
		t.Errorf("time = %v, want %v", got[0].Time, want)
	}
	if st.Skipped[string(SkipDNSQuestion)] != 9 || st.Skipped[string(SkipDNSCNAME)] != 2 || st.Skipped[string(SkipDNSOther)] != 3 {
		t.Errorf("skipped = %v", st.Skipped)
	}
}

func equalAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDnsmasqPendingBound checks that questions never answered do not
// grow the parser's memory past its bound.
func TestDnsmasqPendingBound(t *testing.T) {
	p := dnsmasq.NewLine(&Options{}).(*dnsmasqParser)
	var o capture.Observation
	for i := 0; i < 3*dnsmasqMaxPending; i++ {
		p.ParseLine([]byte("Dec  3 09:00:01 dnsmasq[811]: query[A] n"+itoa(i)+".example from 192.0.2.10"), &o)
	}
	if len(p.pending) != dnsmasqMaxPending || len(p.order) != dnsmasqMaxPending {
		t.Errorf("pending = %d, order = %d, want %d", len(p.pending), len(p.order), dnsmasqMaxPending)
	}
}

func TestBIND(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"query_with_server", "client @0x7f85b4026ed0 127.0.0.1#42520 (ci.elastic.co): query: ci.elastic.co IN A +E(0)K (35.193.103.164)",
			want{client: "127.0.0.1:42520", server: "35.193.103.164:53", host: "ci.elastic.co", source: capture.SourceDNS, outcome: capture.OutcomeUnknown, detail: "query A"}},
		{"query_time_category", "03-Dec-2025 09:00:01.123 queries: info: client @0x7f6 192.0.2.10#53124 (App.Gtmhub.com.): query: App.Gtmhub.com. IN AAAA +T (192.0.2.53)",
			want{time: "2025-12-03T09:00:01.123Z", host: "app.gtmhub.com", detail: "query AAAA"}},
		{"view", "client 10.10.4.4#39583: view external: query: tpf.qa.ifr.lan IN SOA +", want{client: "10.10.4.4:39583", host: "tpf.qa.ifr.lan"}},
		{"denied", "Nov 13 10:59:46 keira named[2075772]: 19-Oct-2022 05:34:02.425 client @0x7f65100ee4d8 104.219.136.31#3076 (example.com): query (cache) 'example.com/ANY/IN' denied",
			want{time: "2022-10-19T05:34:02.425Z", client: "104.219.136.31:3076", host: "example.com", outcome: capture.OutcomeBlocked, reason: capture.DNSRefused}},
		{"servfail", "client @0x1 192.0.2.10#5353 (app.gtmhub.com): query failed (SERVFAIL) for app.gtmhub.com/IN/A at query.c:7375",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeBlocked, reason: capture.DNSServFail, detail: "SERVFAIL"}},
		// BIND 9.18 names the access list that refused a query, and logs a
		// forwarder that refused or never answered as "failure" and
		// "timed out".
		{"denied_acl", "04-Dec-2026 08:04:45.179 security: info: client @0x7facca6e7098 192.0.2.11#46370 (telemetry.example.net): query (cache) 'telemetry.example.net/A/IN' denied (allow-query-cache did not match)",
			want{client: "192.0.2.11:46370", host: "telemetry.example.net", outcome: capture.OutcomeBlocked, reason: capture.DNSRefused,
				detail: "query denied (allow-query-cache did not match)"}},
		{"denied_long_cause", "client @0x1 192.0.2.11#46370 (a.example): query 'a.example/A/IN' denied (" + strings.Repeat("x", 129) + ")",
			want{host: "a.example", reason: capture.DNSRefused, detail: "query denied"}},
		{"denied_no_acl", "client @0x7faccb66d098 198.51.100.12#34602 (auth.gtmhub.com): query 'auth.gtmhub.com/A/IN' denied",
			want{host: "auth.gtmhub.com", reason: capture.DNSRefused, detail: "query denied"}},
		{"failed_failure", "04-Dec-2026 08:04:45.139 query-errors: info: client @0x7faccb66d098 192.0.2.10#51058 (updates.example.com): query failed (failure) for updates.example.com/IN/A at query.c:7916",
			want{host: "updates.example.com", outcome: capture.OutcomeBlocked, reason: capture.DNSServFail, detail: "query failed (failure)"}},
		{"failed_timed_out", "04-Dec-2026 08:05:52.875 query-errors: info: client @0x7faccb66d098 192.0.2.10#44152 (timeout5.example.org): query failed (timed out) for timeout5.example.org/IN/A at query.c:7916",
			want{host: "timeout5.example.org", outcome: capture.OutcomeBlocked, reason: capture.DNSTimeout, detail: "query failed (timed out)"}},
		{"query_tcp", "04-Dec-2026 08:05:19.619 queries: info: client @0x7facca6ea898 192.0.2.10#37695 (app.gtmhub.com): query: app.gtmhub.com IN A +E(0)TK (198.51.100.53)",
			want{host: "app.gtmhub.com", server: "198.51.100.53:53", detail: "query A"}},
		{"lame_server", "04-Dec-2026 08:05:31.347 lame-servers: info: permission denied resolving 'timeout3.example.org/A/IN': 203.0.113.250#53",
			want{skip: string(SkipDNSOther)}},
		// The responses category (BIND 9.20 responselog): name, class,
		// type, rcode, then the answer, authority and additional counts,
		// the query's flags and the address it was sent to.
		{"response_nxdomain", "03-Dec-2025 09:00:01.135 responses: info: client @0x7f6 192.0.2.10#53124 (nosuch.gtmhub.com): response: nosuch.gtmhub.com IN A NXDOMAIN 0 1 0 +E(0)K (192.0.2.53)",
			want{time: "2025-12-03T09:00:01.135Z", client: "192.0.2.10:53124", server: "192.0.2.53:53", host: "nosuch.gtmhub.com", source: capture.SourceDNS,
				outcome: capture.OutcomeBlocked, reason: capture.DNSNXDomain, detail: "response A NXDOMAIN, 0 answers"}},
		{"response_noerror_view", "client @0x7f83 10.1.2.3#50001 (App.Gtmhub.com): view internal: response: App.Gtmhub.com IN AAAA NOERROR 2 0 1 +E(0)K (127.0.0.1)",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeOK, detail: "response AAAA NOERROR, 2 answers"}},
		{"response_servfail_tcp", "client 192.0.2.10#53125: response: app.gtmhub.com IN A SERVFAIL 0 0 0 +T (192.0.2.53)",
			want{host: "app.gtmhub.com", reason: capture.DNSServFail}},
		{"response_refused", "client 192.0.2.10#53126: response: app.gtmhub.com IN A REFUSED 0 0 0 -",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeBlocked, reason: capture.DNSRefused}},
		// Cut after the type: a response without its rcode says nothing
		// of the outcome.
		{"response_no_rcode", "21-Sep-2026 23:37:38.921 responses: info: client @0x7b61bf23bc00 192.0.2.10#33513 (app.gtmhub.com): response: app.gtmhub.com IN A",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeUnknown, detail: "response A"}},
		{"response_bad_rcode", "client 192.0.2.10#1: response: app.gtmhub.com IN A no-such 0 0 0", want{err: "bind: response rcode"}},
		{"response_bad_count", "client 192.0.2.10#1: response: app.gtmhub.com IN A NOERROR x 0 0", want{err: "bind: response answer count"}},
		{"response_short", "client 192.0.2.10#1: response: app.gtmhub.com IN", want{err: "bind: response line with 2 fields"}},
		{"denied_no_name", "client 127.0.0.1#1126: query (cache) denied", want{skip: string(SkipDNSNoName)}},
		{"denied_no_name_acl", "client 127.0.0.1#1126: query (cache) denied (allow-recursion did not match)", want{skip: string(SkipDNSNoName)}},
		{"approved", "client @0x1 192.0.2.10#1126 (a.example): query (cache) 'a.example/A/IN' approved", want{skip: string(SkipDNSOther)}},
		{"zone_transfer", "client 219.135.228.103#17635: zone transfer 'somedomain.com/IN' denied", want{skip: string(SkipDNSOther)}},
		{"not_client", "zone localdomain/IN: transferred serial 2006070304", want{skip: string(SkipDNSOther)}},
		{"bad_client", "client nobody: query: x.example IN A +", want{err: "bind: client"}},
		{"bad_name", "client 192.0.2.1#53: query: bad<name IN A +", want{err: "not a host name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, bind.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

// TestDetectBINDResponses checks that a log of the responses category
// alone is taken for BIND.
func TestDetectBINDResponses(t *testing.T) {
	head := "03-Dec-2025 09:00:01.135 responses: info: client @0x7f6 192.0.2.10#53124 (a.example): response: a.example IN A NOERROR 1 0 0 +E(0)K (192.0.2.53)\n" +
		"03-Dec-2025 09:00:01.140 responses: info: client @0x7f7 192.0.2.10#53125 (b.example): response: b.example IN A NXDOMAIN 0 1 0 +E(0)K (192.0.2.53)\n"
	f, err := Detect([]byte(head))
	if err != nil || f != bind {
		t.Errorf("Detect = %v, %v, want bind", f, err)
	}
}

func TestDNSCorpus(t *testing.T) {
	dir := corpusDir(t, "dns-query")
	t.Run("crowdsec_bind9", func(t *testing.T) {
		// The CrowdSec test gives each line's client address, port and
		// BIND time stamp. The query refusals are lookups refused; zone
		// transfers are not lookups.
		file := filepath.Join(dir, "crowdsec-bind9-syslog.log")
		asserted := crowdsecParsed(t, filepath.Join(dir, "crowdsec-bind9-syslog.parser-assert.expected.txt"), "s01-parse")
		lines := strings.Split(readText(t, file), "\n")
		if len(asserted) != len(lines) {
			t.Fatalf("%d lines asserted, want all %d", len(asserted), len(lines))
		}
		p := bind.NewLine(&Options{})
		for i, line := range lines {
			e := asserted[i]
			w := want{skip: string(SkipDNSOther)}
			if strings.Contains(line, ": query ") {
				w = want{client: endpointString(e["remote_addr"], uint16(atoiOr(e["remote_port"]))), reason: capture.DNSRefused}
				if ts, err := time.Parse("02-Jan-2006 15:04:05.000", e["timestamp"]); err == nil {
					w.time = ts.UTC().Format(time.RFC3339Nano)
				}
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkLine(t, p, line, w) })
		}
		_, res := readFileAll(t, file, nil, nil)
		if res.Stats.Format != "bind" || res.Stats.Failed != 0 {
			t.Errorf("format %s, %d failed: %v", res.Stats.Format, res.Stats.Failed, res.Stats.Problems)
		}
	})
	t.Run("pylogsparser_named", func(t *testing.T) {
		// The source gives each line's event, domain, client and type.
		var exp []struct {
			Text         string            `json:"text"`
			ExpectedTags map[string]string `json:"expectedTags"`
		}
		readJSON(t, filepath.Join(dir, "pylogsparser-named.expected.json"), &exp)
		lines := strings.Split(readText(t, filepath.Join(dir, "pylogsparser-named.log")), "\n")
		if len(exp) != len(lines) {
			t.Fatalf("%d expectations for %d lines", len(exp), len(lines))
		}
		p := bind.NewLine(&Options{})
		lookups := 0
		for i, x := range exp {
			e := x.ExpectedTags
			if x.Text != lines[i] {
				t.Fatalf("expectation %d is not line %d", i+1, i+1)
			}
			var w want
			switch {
			case e["event_id"] == "client_query":
				w = want{host: e["domain"], client: e["source_ip"] + ":" + e["source_port"], detail: "query " + e["type"], outcome: capture.OutcomeUnknown}
				lookups++
			case e["event_id"] == "client_query_denied" && e["domain"] != "":
				w = want{host: e["domain"], client: e["source_ip"] + ":" + e["source_port"], reason: capture.DNSRefused}
				lookups++
			case e["event_id"] == "client_query_denied":
				w = want{skip: string(SkipDNSNoName)}
			default:
				// Fetches, zone transfers and updates are not lookups
				// of a client.
				w = want{skip: string(SkipDNSOther)}
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkLine(t, p, x.Text, w) })
		}
		if lookups == 0 {
			t.Error("no lookup among the expectations")
		}
	})
	t.Run("wazuh_named", func(t *testing.T) {
		// The source asserts only that these are named's "query (cache)
		// denied" refusals; none names the domain asked, so none is a
		// destination. The last line is cut before "denied".
		file := filepath.Join(dir, "wazuh-named.log")
		lines := strings.Split(strings.TrimRight(readText(t, file), "\n"), "\n")
		p := bind.NewLine(&Options{})
		for i, line := range lines {
			w := want{skip: string(SkipDNSOther)}
			if strings.Contains(line, "query (cache) denied") {
				w.skip = string(SkipDNSNoName)
			}
			t.Run(itoa(i+1), func(t *testing.T) { checkLine(t, p, line, w) })
		}
		obs, res := readFileAll(t, file, nil, nil)
		if res.Stats.Format != "bind" || len(obs) != 0 || res.Stats.SkippedTotal() != int64(len(lines)) {
			t.Errorf("format %s, %d observations, skipped %v; want bind, none, all %d lines skipped",
				res.Stats.Format, len(obs), res.Stats.Skipped, len(lines))
		}
	})
	t.Run("logstash_bind", func(t *testing.T) {
		obs, _ := readFileAll(t, filepath.Join(dir, "logstash-bind_spec.log"), nil, nil)
		if len(obs) != 1 {
			t.Fatalf("%d observations, want 1", len(obs))
		}
		checkObservation(t, &obs[0], want{host: "ci.elastic.co", client: "127.0.0.1:42520", server: "35.193.103.164:53"})
	})
}

func TestUnbound(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"question", "<30>Aug 15 16:19:02 unbound[26931]: [26931:0] info: 192.168.1.1 api.opensubtitles.org. A IN",
			want{client: "192.168.1.1", host: "api.opensubtitles.org", outcome: capture.OutcomeUnknown, detail: "query A"}},
		{"reply_ok", "Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 App.Gtmhub.com. AAAA IN NOERROR 0.012000 0 93",
			want{host: "app.gtmhub.com", outcome: capture.OutcomeOK, detail: "query AAAA NOERROR"}},
		{"reply_nxdomain", "[1764752401] unbound[811:0] info: 192.0.2.10 nosuch.gtmhub.com. A IN NXDOMAIN 0.030000 0 110",
			want{time: "2025-12-03T09:00:01Z", outcome: capture.OutcomeBlocked, reason: capture.DNSNXDomain}},
		{"progress", "Dec  3 09:00:01 unbound[811:0] info: start of service (unbound 1.17.1).", want{skip: string(SkipDNSOther)}},
		{"notice", "Dec  3 09:00:01 unbound[811:0] notice: init module 0: validator", want{skip: string(SkipDNSOther)}},
		{"no_tag", "something else", want{err: "unbound: no"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLine(t, unbound.NewLine(&Options{}), tc.line, tc.want)
		})
	}
}

// TestDNSTimeZone checks that the resolver formats read zone-less times in
// the run's location and say so, and that a zoned time does not.
func TestDNSTimeZone(t *testing.T) {
	loc := time.FixedZone("X", -5*3600)
	tests := []struct {
		name     string
		f        *Format
		line     string
		want     time.Time // zero: no time
		zoneUsed bool
	}{
		{"dnsmasq_bsd", dnsmasq, "Dec  3 09:00:01 dnsmasq[811]: reply app.gtmhub.com is 198.51.100.20",
			time.Date(0, 12, 3, 14, 0, 1, 0, time.UTC), true},
		{"dnsmasq_rfc3339", dnsmasq, "2025-12-03T09:00:01Z host dnsmasq[811]: reply app.gtmhub.com is 198.51.100.20",
			time.Date(2025, 12, 3, 9, 0, 1, 0, time.UTC), false},
		{"bind_own_stamp", bind, "03-Dec-2025 09:00:01.123 client @0x7f 192.0.2.10#41234 (app.gtmhub.com): query: app.gtmhub.com IN A + (192.0.2.53)",
			time.Date(2025, 12, 3, 14, 0, 1, 123e6, time.UTC), true},
		{"bind_bsd", bind, "Dec  3 09:00:01 ns named[1]: client @0x7f 192.0.2.10#41234 (app.gtmhub.com): query: app.gtmhub.com IN A + (192.0.2.53)",
			time.Date(0, 12, 3, 14, 0, 1, 0, time.UTC), true},
		{"unbound_bsd", unbound, "Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.012000 0 93",
			time.Date(0, 12, 3, 14, 0, 1, 0, time.UTC), true},
		{"unbound_epoch", unbound, "[1764752401] unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.012000 0 93",
			time.Unix(1764752401, 0).UTC(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := &Options{Location: loc}
			var o capture.Observation
			if err := tc.f.NewLine(opts).ParseLine([]byte(tc.line), &o); err != nil {
				t.Fatal(err)
			}
			got := o.Time.UTC()
			if tc.want.Year() == 0 {
				// A year-less stamp gets the year of the time it is read.
				got = got.AddDate(-got.Year(), 0, 0)
			}
			if !got.Equal(tc.want) || opts.ZoneUsed != tc.zoneUsed {
				t.Errorf("ParseLine(%q): time %v, zone used %v; want %v, %v", tc.line, o.Time.UTC(), opts.ZoneUsed, tc.want, tc.zoneUsed)
			}
		})
	}
}
