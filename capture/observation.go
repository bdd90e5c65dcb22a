package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Kind says what an [Observation] is evidence of.
type Kind uint8

const (
	// Connection is an attempt to reach a server: a TCP or QUIC flow, a
	// proxy request, a firewall decision.
	Connection Kind = iota
	// Lookup is a DNS question and, when it was answered, its answer. Lookups
	// feed the name table and carry the DNS failure reasons.
	Lookup
)

func (k Kind) String() string {
	if k == Lookup {
		return "lookup"
	}
	return "connection"
}

// Transport is the carrier of a connection.
type Transport string

const (
	TransportUnknown Transport = ""
	TCP              Transport = "tcp"
	UDP              Transport = "udp"
	QUIC             Transport = "quic"
	ICMP             Transport = "icmp"
)

// HostSource says how the host name of an observation was learned.
type HostSource string

const (
	SourceNone    HostSource = ""
	SourceSNI     HostSource = "sni"     // TLS ClientHello server_name over TCP
	SourceQUIC    HostSource = "quic"    // server_name in a decrypted QUIC Initial
	SourceDNS     HostSource = "dns"     // a DNS question, or an answer that named the address
	SourceHTTP    HostSource = "http"    // HTTP/1.x Host header
	SourceConnect HostSource = "connect" // HTTP CONNECT target
	SourceURL     HostSource = "url"     // the host of an absolute URL in a proxy log
	SourceLog     HostSource = "log"     // a host field of a log that is none of the above
)

// Outcome is what happened to an attempt, as far as the evidence shows.
type Outcome string

const (
	// OutcomeUnknown: the evidence names the destination but not whether it
	// was reached (a lone DNS question, a flow the capture caught midway).
	OutcomeUnknown Outcome = "unknown"
	// OutcomeOK: the attempt got through (TCP and TLS handshakes completed,
	// a proxy answered 2xx or 3xx, a firewall accepted it, DNS answered).
	OutcomeOK Outcome = "ok"
	// OutcomeBlocked: the attempt was stopped; the observation's Reason says how.
	OutcomeBlocked Outcome = "blocked"
)

// Reason is why an attempt was blocked. The values form a fixed vocabulary
// that reports and scripts rely on; add to it, never rename.
type Reason string

const (
	ReasonNone              Reason = ""
	NoResponse              Reason = "no-response"         // SYN or Initial never answered
	Reset                   Reason = "reset"               // TCP RST before the handshake or TLS completed
	ICMPProhibited          Reason = "icmp-prohibited"     // ICMP unreachable, administratively prohibited
	ICMPUnreachable         Reason = "icmp-unreachable"    // any other ICMP destination unreachable
	DNSNXDomain             Reason = "dns-nxdomain"        // the name does not exist for the resolver
	DNSServFail             Reason = "dns-servfail"        // the resolver failed
	DNSRefused              Reason = "dns-refused"         // the resolver refused to answer
	DNSTimeout              Reason = "dns-timeout"         // a DNS question was never answered
	ProxyDenied             Reason = "proxy-denied"        // the proxy answered 403
	ProxyAuthRequired       Reason = "proxy-auth-required" // the proxy answered 407
	ProxyError              Reason = "proxy-error"         // the proxy answered 5xx or could not connect
	TLSAlert                Reason = "tls-alert"           // the TLS handshake ended with an alert
	TLSInterception         Reason = "tls-interception"    // a middlebox presented its own certificate
	FirewallDeny            Reason = "firewall-deny"       // a firewall log records a deny or drop
	ClosedEarly             Reason = "closed-early"        // closed before the TLS handshake finished
	ReasonDependencyBlocked Reason = "dependency-blocked"  // missing because a call it needs was blocked
	ReasonNotSeen           Reason = "not-seen"            // missing: no evidence of the call at all
)

// Reasons lists the blocking reasons in the order reports document them.
var Reasons = []Reason{
	NoResponse, Reset, ICMPProhibited, ICMPUnreachable,
	DNSNXDomain, DNSServFail, DNSRefused, DNSTimeout,
	ProxyDenied, ProxyAuthRequired, ProxyError,
	TLSAlert, TLSInterception, FirewallDeny, ClosedEarly,
}

// Locator says where in an input a piece of evidence was found: a packet
// number counted from 1 as Wireshark shows it, or a line number counted
// from 1.
type Locator struct {
	Unit string // "packet" or "line"
	N    int64
}

// Packet returns the locator of the n-th packet of a capture.
func Packet(n int64) Locator { return Locator{Unit: "packet", N: n} }

// Line returns the locator of the n-th line of a log.
func Line(n int64) Locator { return Locator{Unit: "line", N: n} }

// String formats l as "packet 12" or "line 3"; the zero Locator is "".
func (l Locator) String() string {
	if l.Unit == "" {
		return ""
	}
	return l.Unit + " " + strconv.FormatInt(l.N, 10)
}

// Observation is one normalised piece of evidence: who talked to which
// address and name, learned how, with what outcome, found where in which
// input. Parsers and the capture reader produce them; the classifier in
// rules consumes them. Observations hold no references into the buffers
// they were decoded from.
type Observation struct {
	Time    time.Time // zero when the input has no time
	Input   string    // the input's name as the user gave it
	Locator Locator

	Kind      Kind
	Client    netip.AddrPort // zero when unknown; the port may be 0
	Server    netip.AddrPort // for a lookup, the resolver
	Transport Transport

	Host       string // lower case, no trailing dot; "" when unknown
	HostSource HostSource
	Method     string // HTTP method when known
	Path       string // URL path, with secrets already redacted

	Outcome Outcome
	Reason  Reason // set when Outcome is OutcomeBlocked
	Detail  string // free text for humans: status codes, rule names, alerts

	// Answers holds the addresses a lookup's answer gave for Host (CNAME
	// chains followed), and TTL their lifetime. Empty for connections.
	Answers []netip.Addr
	TTL     time.Duration

	// Issuer is the issuer of the server certificate when it was seen in
	// clear, used to recognise TLS interception.
	Issuer string

	// ECH reports that Host came from a ClientHello with Encrypted Client
	// Hello: it is the outer (public) name, not the destination's, so the
	// destination must be named from other evidence (DNS).
	ECH bool
}

// Where formats the input and locator as "access.log line 3".
func (o *Observation) Where() string {
	if o.Locator.Unit == "" {
		return o.Input
	}
	return fmt.Sprintf("%s %s", o.Input, o.Locator)
}
