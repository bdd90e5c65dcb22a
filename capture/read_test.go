package capture

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// want is the part of an observation a test case checks.
type want struct {
	kind    Kind
	host    string
	source  HostSource
	outcome Outcome
	reason  Reason
	packet  int64  // 0: not checked
	detail  string // a substring of Detail; "" not checked
	issuer  string
}

func (w want) String() string {
	return fmt.Sprintf("%s %q/%s %s %s packet %d", w.kind, w.host, w.source, w.outcome, w.reason, w.packet)
}

func summary(o Observation) want {
	return want{kind: o.Kind, host: o.Host, source: o.HostSource, outcome: o.Outcome, reason: o.Reason, packet: o.Locator.N, detail: o.Detail, issuer: o.Issuer}
}

func matches(got Observation, w want) bool {
	s := summary(got)
	return s.kind == w.kind && s.host == w.host && s.source == w.source &&
		s.outcome == w.outcome && s.reason == w.reason &&
		(w.packet == 0 || s.packet == w.packet) &&
		strings.Contains(s.detail, w.detail) && (w.issuer == "" || s.issuer == w.issuer)
}

const apiHost = "app.gtmhub.com"

// transcripts returns what Go's TLS client and server wrote in real
// handshakes: TLS 1.3 and 1.2 with a trusted certificate, and both with a
// certificate from a CA the client does not trust (an intercepting proxy).
// Go's ClientHello carries a post-quantum key share, so at 1400 bytes a
// segment it takes two.
func transcripts(tb testing.TB) map[string][]chunk {
	good := newPKI(tb, "Test Public CA", apiHost)
	proxy := newPKI(tb, "Corporate Inspection CA", apiHost)
	server := func(p testPKI, max uint16) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{p.cert}, MaxVersion: max}
	}
	client := func(max uint16) *tls.Config {
		return &tls.Config{ServerName: apiHost, RootCAs: good.pool, MaxVersion: max}
	}
	return map[string][]chunk{
		"tls13_ok":        tlsTranscript(tb, client(tls.VersionTLS13), server(good, tls.VersionTLS13)),
		"tls12_ok":        tlsTranscript(tb, client(tls.VersionTLS12), server(good, tls.VersionTLS12)),
		"tls12_intercept": tlsTranscript(tb, client(tls.VersionTLS12), server(proxy, tls.VersionTLS12)),
		"tls13_intercept": tlsTranscript(tb, client(tls.VersionTLS13), server(proxy, tls.VersionTLS13)),
	}
}

// splitRecords re-frames a TLS record into records of at most n bytes of
// payload each.
func splitRecords(rec []byte, n int) []byte {
	var out []byte
	body := rec[5:]
	for len(body) > 0 {
		k := min(n, len(body))
		out = append(out, rec[0], rec[1], rec[2], byte(k>>8), byte(k))
		out = append(out, body[:k]...)
		body = body[k:]
	}
	return out
}

func TestReadFlows(t *testing.T) {
	tr := transcripts(t)
	hello := tr["tls13_ok"][0].data // the ClientHello record
	// A server that accepts TLS 1.3 only refuses a TLS 1.2 client with a
	// protocol_version alert (RFC 8446, Section 6.2).
	good := newPKI(t, "Test Public CA", apiHost)
	refused := tlsTranscript(t,
		&tls.Config{ServerName: apiHost, RootCAs: good.pool, MaxVersion: tls.VersionTLS12},
		&tls.Config{Certificates: []tls.Certificate{good.cert}, MinVersion: tls.VersionTLS13})
	cases := []struct {
		name  string
		build func(c *capBuilder)
		cfg   *Config
		want  []want
	}{
		{"tls13_sni_ok", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls13_ok"], 1400)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeOK, packet: 5}}},
		{"tls12_sni_ok_issuer", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_ok"], 1400)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeOK, issuer: "Test Public CA"}}},
		{"tls12_issuer_not_expected", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_ok"], 1400)
		}, &Config{TLSIssuers: []string{"DigiCert"}}, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: TLSInterception, detail: "not an issuer the catalog expects"}}},
		{"tls12_interception_unknown_ca", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_intercept"], 1400)
			k.clientFIN()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: TLSInterception, detail: "bad_certificate", issuer: "Corporate Inspection CA"}}},
		{"tls12_certificate_unknown_java", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_intercept"][:2], 1400)
			k.client([]byte{
				21,   // content type: alert
				3, 3, // legacy record version: TLS 1.2
				0, 2, // length
				2,  // level: fatal
				46, // description: certificate_unknown, as Java sends for an untrusted issuer
			})
			k.clientFIN()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: TLSInterception, packet: 6,
			detail: `client alert fatal certificate_unknown (46); certificate issued by "Corporate Inspection CA"`, issuer: "Corporate Inspection CA"}}},
		{"tls12_certificate_unknown_expected_issuer", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_ok"][:2], 1400)
			k.client([]byte{21, 3, 3, 0, 2, 2, 46}) // alert: fatal certificate_unknown
			k.clientFIN()
		}, &Config{TLSIssuers: []string{"Test Public CA"}}, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: TLSAlert,
			detail: "client alert fatal certificate_unknown (46)", issuer: "Test Public CA"}}},
		{"tls13_abandoned", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls13_intercept"], 1400)
			k.clientRST()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: TLSAlert, detail: "encrypted"}}},
		{"server_alert_protocol_version", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(refused, 1400)
			k.serverFIN()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked,
			reason: TLSAlert, detail: "server alert fatal protocol_version (70)"}}},
		{"server_alert_after_server_hello", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_ok"][:2], 1400)
			k.server([]byte{
				21,   // content type: alert
				3, 3, // legacy record version: TLS 1.2
				0, 2, // length
				2,  // level: fatal
				40, // description: handshake_failure
			})
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked,
			reason: TLSAlert, packet: 6, detail: "server alert fatal handshake_failure (40)"}}},
		{"tls13_server_hello_not_finished", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls13_ok"][:2], 1400)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeUnknown,
			detail: "ServerHello (TLS 1.3) seen at packet 6, handshake not finished"}}},
		{"tls12_server_hello_not_finished", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.replay(tr["tls12_ok"][:2], 1400)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeUnknown,
			detail: "ServerHello (TLS 1.2) seen at packet 5, handshake not finished"}}},
		{"client_hello_two_segments_swapped", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			first, second := hello[:100], hello[100:]
			k.cseq += 100
			k.client(second)
			k.cseq -= uint32(len(hello))
			k.client(first)
			k.cseq += uint32(len(second))
			k.server(tr["tls13_ok"][1].data)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeUnknown, packet: 5}}},
		{"client_hello_retransmitted", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello[:50])
			k.cseq -= 50
			k.client(hello[:50])
			k.client(hello[50:])
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: NoResponse, packet: 6,
			detail: "no ServerHello: ClientHello sent 2 times, never answered"}}},
		{"client_hello_dropped", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			for i := range 4 {
				k.client(hello)
				k.cseq -= uint32(len(hello))
				c.wait(time.Duration(1<<i) * time.Second)
			}
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: NoResponse, packet: 4,
			detail: "no ServerHello: ClientHello sent 4 times, never answered"}}},
		{"client_hello_acked_unanswered", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
			c.tcp(k.srv, k.cli, "A", k.sseq, k.cseq, nil)
			c.wait(5 * time.Second)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeUnknown, packet: 4,
			detail: "no ServerHello: the server acknowledged the ClientHello but never answered it"}}},
		{"client_hello_sent_once", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeUnknown, packet: 4,
			detail: "no ServerHello: ClientHello sent once"}}},
		{"client_hello_split_records", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(splitRecords(hello, 64))
			k.serverRST()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: Reset, packet: 5}}},
		{"closed_early", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
			k.serverFIN()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeBlocked, reason: ClosedEarly, packet: 5}}},
		{"server_rst_after_handshake", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.serverRST()
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: Reset, packet: 4,
			detail: "reset by the server before the server sent any data"}}},
		{"server_fin_after_handshake", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.serverFIN()
			k.clientFIN()
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: ClosedEarly, packet: 4,
			detail: "closed by the server before it sent any data"}}},
		{"http_server_fin_no_answer", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 80))
			k.handshake()
			k.client([]byte("GET / HTTP/1.1\r\nHost: app.gtmhub.com\r\n\r\n"))
			k.serverFIN()
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceHTTP, outcome: OutcomeBlocked, reason: ClosedEarly, packet: 5}}},
		{"client_fin_first_no_data", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.clientFIN()
			k.serverFIN()
		}, nil, []want{{kind: Connection, outcome: OutcomeOK}}},
		{"client_fin_then_server_rst", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.clientFIN()
			k.serverRST()
		}, nil, []want{{kind: Connection, outcome: OutcomeOK}}},
		{"client_rst_no_data", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.clientRST()
		}, nil, []want{{kind: Connection, outcome: OutcomeOK}}},
		{"syn_unanswered_named_by_dns", func(c *capBuilder) {
			c.udp(labClient, labResolver, dnsQueryMsg(1, apiHost))
			c.udp(labResolver, labClient, dnsAnswerMsg(1, apiHost, layers.DNSResponseCodeNoErr, "cname:edge.gtmhub.net", "203.0.113.5"))
			k := c.conn(labClient, labServer)
			k.syn()
			c.wait(time.Second)
			k.syn()
			c.wait(2 * time.Second)
			k.syn()
		}, nil, []want{
			{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 2},
			{kind: Connection, host: apiHost, source: SourceDNS, outcome: OutcomeBlocked, reason: NoResponse, packet: 3, detail: "SYN sent 3 times"},
		}},
		{"reset_answering_syn", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.syn()
			c.tcp(labServer, labClient, "RA", 0, k.cseq+1, nil)
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: Reset, packet: 2}}},
		{"icmp_prohibited", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			syn := k.c.tcp(k.cli, k.srv, "S", k.cseq, 0, nil)
			icmpReply(c, syn[14:], 13)
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: ICMPProhibited, packet: 2, detail: "code 13"}}},
		{"icmp_unreachable", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			syn := k.c.tcp(k.cli, k.srv, "S", k.cseq, 0, nil)
			icmpReply(c, syn[14:], 1)
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: ICMPUnreachable, packet: 2}}},
		{"icmpv6_prohibited", func(c *capBuilder) {
			k := c.conn(labClient6, labServer6)
			syn := k.c.tcp(k.cli, k.srv, "S", k.cseq, 0, nil)
			icmp6Reply(c, syn[14:], 1)
		}, nil, []want{{kind: Connection, outcome: OutcomeBlocked, reason: ICMPProhibited, packet: 2}}},
		{"ipv6_tls", func(c *capBuilder) {
			k := c.conn(labClient6, labServer6)
			k.handshake()
			k.replay(tr["tls13_ok"], 1200)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeOK}}},
		{"dns_failures", func(c *capBuilder) {
			for i, rc := range []layers.DNSResponseCode{layers.DNSResponseCodeNXDomain, layers.DNSResponseCodeServFail, layers.DNSResponseCodeRefused} {
				name := fmt.Sprintf("n%d.example.com", i)
				c.udp(labClient, labResolver, dnsQueryMsg(uint16(i), name))
				c.udp(labResolver, labClient, dnsAnswerMsg(uint16(i), name, rc))
			}
			c.udp(labClient, labResolver, dnsQueryMsg(9, "lost.example.com"))
		}, nil, []want{
			{kind: Lookup, host: "n0.example.com", source: SourceDNS, outcome: OutcomeBlocked, reason: DNSNXDomain, packet: 2},
			{kind: Lookup, host: "n1.example.com", source: SourceDNS, outcome: OutcomeBlocked, reason: DNSServFail, packet: 4},
			{kind: Lookup, host: "n2.example.com", source: SourceDNS, outcome: OutcomeBlocked, reason: DNSRefused, packet: 6},
			{kind: Lookup, host: "lost.example.com", source: SourceDNS, outcome: OutcomeBlocked, reason: DNSTimeout, packet: 7},
		}},
		{"dns_over_tcp", func(c *capBuilder) {
			k := c.conn(labClient, labResolver)
			k.handshake()
			q := dnsQueryMsg(3, apiHost)
			a := dnsAnswerMsg(3, apiHost, layers.DNSResponseCodeNoErr, "203.0.113.5")
			k.client(append([]byte{0, byte(len(q))}, q...))
			k.server(append([]byte{0, byte(len(a))}, a...))
		}, nil, []want{
			{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 5},
			{kind: Connection, outcome: OutcomeOK},
		}},
		{"http_host", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 80))
			k.handshake()
			k.client([]byte("GET /rest/api?token=secret HTTP/1.1\r\nHost: App.Gtmhub.com:80\r\nUser-Agent: t\r\n\r\n"))
			k.server([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceHTTP, outcome: OutcomeOK, packet: 4, detail: "HTTP status 200"}}},
		{"proxy_get_denied", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 3128))
			k.handshake()
			k.client([]byte("GET http://app.gtmhub.com/api/v1/okrs?key=1 HTTP/1.1\r\nHost: app.gtmhub.com\r\n\r\n"))
			k.server([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceHTTP, outcome: OutcomeBlocked, reason: ProxyDenied, packet: 5}}},
		{"connect_denied", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 3128))
			k.handshake()
			k.client([]byte("CONNECT auth.gtmhub.com:443 HTTP/1.1\r\nHost: auth.gtmhub.com:443\r\n\r\n"))
			k.server([]byte("HTTP/1.1 403 Forbidden\r\n\r\n"))
		}, nil, []want{{kind: Connection, host: "auth.gtmhub.com", source: SourceConnect, outcome: OutcomeBlocked, reason: ProxyDenied, packet: 5}}},
		{"connect_auth_required", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 3128))
			k.handshake()
			k.client([]byte("CONNECT auth.gtmhub.com:443 HTTP/1.1\r\n\r\n"))
			k.server([]byte("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"))
		}, nil, []want{{kind: Connection, host: "auth.gtmhub.com", source: SourceConnect, outcome: OutcomeBlocked, reason: ProxyAuthRequired}}},
		{"connect_error", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 3128))
			k.handshake()
			k.client([]byte("CONNECT auth.gtmhub.com:443 HTTP/1.1\r\n\r\n"))
			k.server([]byte("HTTP/1.1 503 Service Unavailable\r\n\r\n"))
		}, nil, []want{{kind: Connection, host: "auth.gtmhub.com", source: SourceConnect, outcome: OutcomeBlocked, reason: ProxyError}}},
		{"connect_ok_tunnel", func(c *capBuilder) {
			k := c.conn(labClient, netipPort(labServer, 3128))
			k.handshake()
			k.client([]byte("CONNECT app.gtmhub.com:443 HTTP/1.1\r\n\r\n"))
			k.server([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
			k.replay(tr["tls13_ok"], 1400)
		}, nil, []want{
			{kind: Connection, host: apiHost, source: SourceConnect, outcome: OutcomeOK, packet: 4},
			{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeOK, packet: 7},
		}},
		{"snaplen_hid_sni", func(c *capBuilder) {
			c.udp(labClient, labResolver, dnsQueryMsg(1, apiHost))
			c.udp(labResolver, labClient, dnsAnswerMsg(1, apiHost, layers.DNSResponseCodeNoErr, "203.0.113.5"))
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
			c.frames[len(c.frames)-1].capLen = 96
			k.server(tr["tls13_ok"][1].data)
		}, nil, []want{
			{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK},
			{kind: Connection, host: apiHost, source: SourceDNS, outcome: OutcomeOK,
				// 96 bytes kept: 54 of headers, 5 of the record header.
				detail: fmt.Sprintf("packet 6 was cut by the capture's snaplen after %d of the ClientHello's %d bytes, before its extensions", 96-54-5, len(hello)-5)},
		}},
		{"snaplen_cut_after_server_name", func(c *capBuilder) {
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
			// Ethernet, IPv4 and TCP headers, then the record up to a few
			// bytes past the end of the host_name.
			c.frames[len(c.frames)-1].capLen = 54 + bytes.Index(hello, []byte(apiHost)) + len(apiHost) + 3
			k.server(tr["tls13_ok"][1].data)
		}, nil, []want{{kind: Connection, host: apiHost, source: SourceSNI, outcome: OutcomeOK, packet: 4,
			detail: "packet 4 was cut by the capture's snaplen: the server name was read from the first"}}},
		{"snaplen_cut_inside_server_name", func(c *capBuilder) {
			c.udp(labClient, labResolver, dnsQueryMsg(1, apiHost))
			c.udp(labResolver, labClient, dnsAnswerMsg(1, apiHost, layers.DNSResponseCodeNoErr, "203.0.113.5"))
			k := c.conn(labClient, labServer)
			k.handshake()
			k.client(hello)
			c.frames[len(c.frames)-1].capLen = 54 + bytes.Index(hello, []byte(apiHost)) + 4
			k.server(tr["tls13_ok"][1].data)
		}, nil, []want{
			{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK},
			{kind: Connection, host: apiHost, source: SourceDNS, outcome: OutcomeOK,
				detail: ", before any server_name extension"},
		}},
		{"ipv4_fragmented_dns_answer", func(c *capBuilder) {
			c.udp(labClient, labResolver, dnsQueryMsg(5, apiHost))
			addrs := []string{}
			for i := 1; i <= 120; i++ {
				addrs = append(addrs, fmt.Sprintf("203.0.113.%d", i))
			}
			fragmentedUDP(c, labResolver, labClient, dnsAnswerMsg(5, apiHost, layers.DNSResponseCodeNoErr, addrs...), 512)
		}, nil, []want{{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 9}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCap(t)
			tc.build(c)
			obs, st := readAll(t, c.pcap(), tc.cfg)
			if st.Failed > 0 {
				t.Errorf("failed records: %v", st.Problems)
			}
			if got := st.Records + st.SkippedTotal() + st.Failed; got != int64(len(c.frames)) {
				t.Errorf("counted %d packets, wrote %d", got, len(c.frames))
			}
			if len(obs) != len(tc.want) {
				for _, o := range obs {
					t.Logf("got %v detail=%q", summary(o), o.Detail)
				}
				t.Fatalf("got %d observations, want %d", len(obs), len(tc.want))
			}
			for i, w := range tc.want {
				if !matches(obs[i], w) {
					t.Errorf("observation %d = %v detail=%q issuer=%q, want %v detail~%q", i, summary(obs[i]), obs[i].Detail, obs[i].Issuer, w, w.detail)
				}
			}
		})
	}
}

// icmpReply adds an ICMP destination unreachable with the given code,
// quoting the IPv4 packet ip.
func icmpReply(c *capBuilder, ip []byte, code uint8) {
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, code)}
	src, dst := labRouter4, labClient.Addr()
	l, _, et := ipLayers(src, dst, layers.IPProtocolICMPv4)
	c.add(c.ether(et, l, ic, gopacket.Payload(ip[:28])), 0)
}

// icmp6Reply adds an ICMPv6 destination unreachable quoting ip.
func icmp6Reply(c *capBuilder, ip []byte, code uint8) {
	l, nl, et := ipLayers(labRouter6, labClient6.Addr(), layers.IPProtocolICMPv6)
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, code)}
	ic.SetNetworkLayerForChecksum(nl)
	c.add(c.ether(et, l, ic, gopacket.Payload(append([]byte{0, 0, 0, 0}, ip[:48]...))), 0)
}

// fragmentedUDP adds one UDP datagram as IPv4 fragments of at most mtu
// bytes of payload, the last fragment first.
func fragmentedUDP(c *capBuilder, src, dst netipAddrPort, payload []byte, mtu int) {
	l, nl, _ := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	u.SetNetworkLayerForChecksum(nl)
	whole := c.serialize(l, u, gopacket.Payload(payload))
	body := whole[20:]
	var frags [][]byte
	for off := 0; off < len(body); off += mtu {
		end := min(off+mtu, len(body))
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Id: 99, FragOffset: uint16(off / 8)}
		if end < len(body) {
			ip.Flags = layers.IPv4MoreFragments
		}
		frags = append(frags, c.ether(layers.EthernetTypeIPv4, ip, gopacket.Payload(body[off:end])))
	}
	c.add(frags[len(frags)-1], 0)
	for _, f := range frags[:len(frags)-1] {
		c.add(f, 0)
	}
}
