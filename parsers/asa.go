package parsers

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/egress-audit/egress-audit/capture"
)

// asa reads the syslog messages of Cisco ASA, FTD and PIX firewalls:
//
//	<166>Aug 18 2026 18:24:29 fw : %ASA-6-302013: Built outbound TCP connection 1 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:192.0.2.10/50000 (198.51.100.1/50000)
//
// A TCP or UDP connection is one flow judged by its teardown (302014,
// 302016): "SYN Timeout" is an unanswered SYN, a reset with no bytes a
// refused connection, an end by the firewall's inspection, IPS or URL
// filter ("Flow closed by inspection", "Deny Terminate", "Unauth Deny")
// a denied one, any other end a connection that got through. The
// ASA writes Built (302013, 302015) as soon as it passes the first SYN, so
// a Built message says nothing of the outcome: it is held until its
// teardown, and one still open when the input ends is a flow of unknown
// outcome. ICMP connections (302020-302021) are allowed flows. Deny messages (106001, 106006,
// 106007, 106014, 106015, 106021, 106023, 106100, 419001 ...) give blocked
// ones. In a "Built outbound" message the first endpoint is the foreign
// (server) side, in "Built inbound" the first is the client. Other
// messages are skipped. The message may come without the syslog header or
// without the %ASA tag; the text alone is recognised too. 106001 ("Inbound TCP connection
// denied") is about packets from outside, often the answers of a flow the
// firewall no longer knows, and is skipped as inbound.
var asa = &Format{
	Name:   "asa",
	Title:  "Cisco ASA/FTD/PIX syslog (connection and deny messages)",
	Detect: detectASA,
	NewLine: func(opts *Options) LineParser {
		return &asaParser{
			clock: newClock(opts),
			conns: make(map[string]bool),
			held:  make(heldFlows),
		}
	},
}

func detectASA(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		switch {
		case asaTag(l) >= 0:
			score += 10
		case bytes.Contains(l, []byte("ASA-")) || bytes.Contains(l, []byte("FTD-")):
			score += 5
		case bytes.HasPrefix(l, []byte("Built ")) || bytes.HasPrefix(l, []byte("Teardown ")) ||
			bytes.HasPrefix(l, []byte("Deny ")) || bytes.HasPrefix(l, []byte("access-list ")):
			score += 3
		}
	}
	return score
}

// asaTag returns the offset of "%ASA-", "%FTD-" or "%PIX-" in l, or -1.
func asaTag(l []byte) int {
	for i := bytes.IndexByte(l, '%'); i >= 0 && i+5 <= len(l); {
		t := l[i+1 : i+5]
		if string(t) == "ASA-" || string(t) == "FTD-" || string(t) == "PIX-" {
			return i
		}
		j := bytes.IndexByte(l[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return -1
}

// maxASAConns bounds the connections remembered from Built messages.
const maxASAConns = 1 << 16

type asaParser struct {
	clock clock
	// conns holds the ICMP connections whose Built message was seen, with
	// whether it was outbound, so that their teardown is not counted twice.
	conns map[string]bool
	// held holds the flow of each TCP and UDP connection whose Built
	// message was seen, by connection id, until its teardown judges it.
	held heldFlows
}

// End gives the connections built and not torn down in the input, in the
// order of their Built messages, with an unknown outcome.
func (p *asaParser) End(emit func(*capture.Observation)) {
	p.held.end(emit)
}

var (
	// SkipTeardown is a teardown of a connection already reported built.
	SkipTeardown   Skip = "teardown of a connection already reported"
	skipASAInbound Skip = "inbound: a packet from outside denied (106001)"
	skipASAOther   Skip = "ASA message that is not about a flow"
	skipASAToBox   Skip = "ASA message about traffic to the firewall itself"
	skipASANATOnly Skip = "ASA address translation message"
)

func (p *asaParser) ParseLine(line []byte, o *capture.Observation) error {
	h := p.clock.syslog(line)
	o.Time = h.Time
	body := h.Msg
	id := ""
	if i := asaTag(body); i >= 0 {
		rest := body[i+5:]
		// "%ASA-6-302013: text"
		if len(rest) < 3 || rest[1] != '-' {
			return errASA("tag without severity and id")
		}
		rest = rest[2:]
		j := bytes.IndexByte(rest, ':')
		if j < 0 {
			return errASA("tag without a colon")
		}
		id = string(rest[:j])
		body = trimSpaceLeft(rest[j+1:])
	} else if i := bytes.Index(body, []byte("ASA-")); i >= 0 {
		rest := body[i+4:]
		if j := bytes.IndexByte(rest, ':'); j > 2 {
			id = string(rest[2:j])
			body = trimSpaceLeft(rest[j+1:])
		}
	}
	text := string(bytes.TrimSpace(body))
	switch {
	case strings.HasPrefix(text, "Built ") && strings.Contains(text, "connection for faddr"):
		return p.icmpConn(text, o, true)
	case strings.HasPrefix(text, "Teardown ") && strings.Contains(text, "connection for faddr"):
		return p.icmpConn(text, o, false)
	case strings.HasPrefix(text, "Built ") && strings.Contains(text, " translation "),
		strings.HasPrefix(text, "Teardown ") && strings.Contains(text, " translation "):
		return skipASANATOnly
	case strings.HasPrefix(text, "Built "):
		return p.built(text, o)
	case strings.HasPrefix(text, "Teardown "):
		return p.teardown(text, o)
	case strings.HasPrefix(text, "access-list "):
		return asaAccessList(text, o)
	case strings.HasPrefix(text, "Inbound TCP connection denied"):
		// 106001: a packet from outside that starts no connection the ASA
		// knows, most often the late answer of a flow it already tore
		// down. Its destination is inside; it says nothing of egress.
		return skipASAInbound
	case strings.HasPrefix(text, "Deny "), strings.HasPrefix(text, "Dropping "), strings.Contains(text, "Connection denied"):
		return asaDeny(id, text, o)
	case strings.Contains(text, "access requested from"), strings.HasPrefix(text, "Login "):
		return skipASAToBox
	}
	if id == "" && h.Time.IsZero() && asaTag(line) < 0 {
		return SkipNotFirewall
	}
	return skipASAOther
}

type asaError string

func (e asaError) Error() string { return "asa: " + string(e) }

func errASA(s string) error { return asaError(s) }

// asaEndpoint parses "outside:192.0.2.1/443", "v1:outside:192.0.2.1",
// "outside/192.0.2.1(443)", "192.0.2.1/443" or a configured name in place
// of the address. It returns the address, or the name when there is none.
func asaEndpoint(s string) (addr netip.AddrPort, name string, ok bool) {
	s = strings.TrimRight(s, ",.")
	var port uint16
	if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		p, ok := parsePort([]byte(s[i+1 : len(s)-1]))
		if !ok {
			return addr, "", false
		}
		port, s = p, s[:i]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j+1:] // "outside/192.0.2.1"
		}
	} else if i := strings.LastIndexByte(s, '/'); i >= 0 {
		p, ok := parsePort([]byte(s[i+1:]))
		if ok {
			port = p
		}
		s = s[:i]
	}
	for {
		if a, ok := parseAddr([]byte(s)); ok {
			return netip.AddrPortFrom(a, port), "", true
		}
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	if h := normHost(s); h != "" {
		return netip.AddrPortFrom(netip.Addr{}, port), h, true
	}
	return addr, "", false
}

// isHostName reports whether s can be a DNS name: letters, digits,
// hyphens, underscores and dots, starting and ending with a letter or
// digit, with at least one letter and no empty label.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case isDigit(c) || c == '-' || c == '_':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return letter
}

// setEndpoints sets client and server of o; a server known only by a
// configured name becomes o's host.
func setEndpoints(o *capture.Observation, client, server string) error {
	c, _, ok := asaEndpoint(client)
	if !ok {
		return errASA("endpoint " + quote(client) + " is not an address")
	}
	s, name, ok := asaEndpoint(server)
	if !ok {
		return errASA("endpoint " + quote(server) + " is not an address")
	}
	o.Client, o.Server = c, s
	if name != "" {
		o.Host, o.HostSource = name, capture.SourceLog
	}
	return nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// words splits s at spaces.
func words(s string) []string { return strings.Fields(s) }

// after returns the word after the first occurrence of key in w.
func after(w []string, key string) string {
	for i := 0; i+1 < len(w); i++ {
		if w[i] == key {
			return w[i+1]
		}
	}
	return ""
}

// built reads "Built {inbound|outbound} TCP|UDP connection ID for
// if:addr/port (mapped) to if:addr/port (mapped)".
func (p *asaParser) built(text string, o *capture.Observation) error {
	w := words(text)
	if len(w) < 8 {
		return errASA("short Built message")
	}
	outbound := w[1] == "outbound"
	o.Transport = transportOf([]byte(w[2]))
	first, second := after(w, "for"), after(w, "to")
	if first == "" || second == "" {
		return errASA("Built message without endpoints")
	}
	client, server := first, second
	if outbound {
		client, server = second, first
	}
	if err := setEndpoints(o, client, server); err != nil {
		return err
	}
	o.Outcome, o.Detail = capture.OutcomeUnknown, "connection built, no teardown in the input"
	id := after(w, "connection")
	if id == "for" || id == "" || len(p.held) >= maxASAConns {
		// Without an id no teardown can be matched; past the bound the
		// Built message is all this flow gets, and its teardown, judged
		// alone, counts as a second attempt. 65,536 connections open
		// at once is more than the logs of one audited host hold.
		return nil
	}
	p.held[id] = *o
	return SkipJoined
}

// teardown reads "Teardown TCP connection ID for if:addr/port to
// if:addr/port duration H:MM:SS bytes N reason". It judges the flow its
// Built message opened, which gives the direction and the start time;
// without it, the endpoint with the lower port is taken for the server.
func (p *asaParser) teardown(text string, o *capture.Observation) error {
	w := words(text)
	if len(w) < 7 {
		return errASA("short Teardown message")
	}
	o.Transport = transportOf([]byte(w[1]))
	first, second := after(w, "for"), after(w, "to")
	if first == "" || second == "" {
		return errASA("Teardown message without endpoints")
	}
	id := after(w, "connection")
	built, known := p.held[id]
	delete(p.held, id)
	if err := setEndpoints(o, first, second); err != nil {
		return err
	}
	if known {
		o.Client, o.Server, o.Host, o.HostSource = built.Client, built.Server, built.Host, built.HostSource
		o.Time = built.Time
	} else if o.Client.Port() != 0 && o.Client.Port() < o.Server.Port() {
		o.Client, o.Server = o.Server, o.Client
	}
	bytesSent := after(w, "bytes")
	reason := ""
	if i := strings.Index(text, " bytes "); i >= 0 {
		rest := strings.TrimSpace(text[i+7:])
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			reason = strings.TrimSpace(rest[j+1:])
		}
	}
	switch {
	case asaEndedByFirewall(reason):
		o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.FirewallDeny, "teardown: "+reason
	case strings.Contains(reason, "SYN Timeout"):
		o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.NoResponse, "teardown: "+reason
	case strings.Contains(reason, "Reset") && bytesSent == "0":
		o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.Reset, "teardown: "+reason
	default:
		o.Outcome, o.Detail = capture.OutcomeOK, "teardown: "+reason
	}
	return nil
}

// asaFirewallEnds are the teardown reasons by which the firewall itself,
// its inspection engines, IPS module or URL filter ended a connection. They
// block the call whatever bytes went first: an inspection that closes a
// request after its handshake has cut it as surely as a deny before it.
var asaFirewallEnds = []string{
	"Deny Terminate",
	"Flow closed by inspection",
	"Flow terminated by IPS",
	"Flow reset by IPS",
	"Flow terminated by TCP Intercept",
	"IPS fail-close",
	"Unauth Deny",
	"Invalid SYN", // also "TCP Invalid SYN"
	"SYN Control",
}

func asaEndedByFirewall(reason string) bool {
	for _, r := range asaFirewallEnds {
		if strings.Contains(reason, r) {
			return true
		}
	}
	return false
}

// icmpConn reads "Built {inbound|outbound} ICMP connection for faddr
// a/id gaddr g/0 laddr l/0" and its teardown.
func (p *asaParser) icmpConn(text string, o *capture.Observation, isBuilt bool) error {
	w := words(text)
	faddr, laddr := after(w, "faddr"), after(w, "laddr")
	if faddr == "" || laddr == "" {
		return errASA("ICMP connection message without faddr and laddr")
	}
	// ICMP connections have no id: the addresses and ICMP ids name them.
	id := "icmp " + faddr + " " + after(w, "gaddr") + " " + laddr
	inbound := isBuilt && w[1] == "inbound"
	if !isBuilt {
		_, known := p.conns[id]
		delete(p.conns, id)
		if known {
			return SkipTeardown
		}
		// The Built message was not in this input (an earlier file, or
		// a logging level that keeps only teardowns): the teardown is the
		// only record of the flow. It gives no direction, and for egress
		// the inside address (laddr) is the client.
	}
	client, server := laddr, faddr
	if inbound {
		client, server = faddr, laddr
	}
	if err := setEndpoints(o, client, server); err != nil {
		return err
	}
	o.Client = netip.AddrPortFrom(o.Client.Addr(), 0)
	o.Server = netip.AddrPortFrom(o.Server.Addr(), 0)
	o.Transport = capture.ICMP
	if !isBuilt {
		o.Outcome, o.Detail = capture.OutcomeOK, "teardown without a built message"
		return nil
	}
	if len(p.conns) >= maxASAConns {
		clear(p.conns)
	}
	p.conns[id] = !inbound
	o.Outcome, o.Detail = capture.OutcomeOK, "connection built"
	return nil
}

// asaAccessList reads 106100: "access-list ACL permitted|denied|est-allowed
// proto if/addr(port) -> if/addr(port) hit-cnt ...".
func asaAccessList(text string, o *capture.Observation) error {
	w := words(text)
	if len(w) < 6 {
		return errASA("short access-list message")
	}
	arrow := -1
	for i, x := range w {
		if x == "->" {
			arrow = i
			break
		}
	}
	if arrow < 2 || arrow+1 >= len(w) {
		return errASA("access-list message without ->")
	}
	o.Transport = transportOf([]byte(w[3]))
	if err := setEndpoints(o, w[arrow-1], w[arrow+1]); err != nil {
		return err
	}
	rule := "access-list " + w[1]
	if w[2] == "denied" {
		denied(o, rule)
	} else {
		o.Outcome, o.Detail = capture.OutcomeOK, rule+" "+w[2]
	}
	return nil
}

// asaDeny reads the deny family: "Deny tcp src if:a/p dst if:b/q by
// access-group "acl"" (106023), "Deny inbound UDP from a/p to b/q on
// interface x" (106006), "Inbound TCP connection denied from a/p to b/q"
// (106001), "Deny TCP (no connection) from a/p to b/q" (106015),
// "Dropping TCP packet from if:a/p to if:b/q, reason: ..." (419001).
func asaDeny(id, text string, o *capture.Observation) error {
	w := words(text)
	src, dst := after(w, "src"), after(w, "dst")
	if src == "" || dst == "" {
		src, dst = "", ""
		for i := 0; i+1 < len(w); i++ {
			if w[i] == "from" {
				src = w[i+1]
				dst = after(w[i+1:], "to")
				break
			}
		}
	}
	if src == "" || dst == "" {
		return SkipNoAddresses
	}
	if strings.HasPrefix(text, "Deny inbound icmp") || strings.HasPrefix(text, "Deny icmp") {
		dst = strings.SplitN(dst, "(", 2)[0]
	}
	if err := setEndpoints(o, src, dst); err != nil {
		if strings.Contains(src, "/") || strings.Contains(dst, "/") {
			return err
		}
		return SkipNoAddresses
	}
	for i, x := range w {
		if i > 3 {
			break
		}
		if tr := transportOf([]byte(x)); tr != capture.TransportUnknown {
			o.Transport = tr
			break
		}
	}
	rule := "deny"
	if id != "" {
		rule = id + " deny"
	}
	if g := after(w, "access-group"); g != "" {
		rule += " by access-group " + strings.Trim(g, `"`)
	} else if i := strings.Index(text, "reason:"); i >= 0 {
		rule += ": " + strings.TrimSpace(text[i+7:])
	} else if i := strings.Index(text, "on interface "); i >= 0 {
		rule += " on interface " + strings.TrimRight(strings.TrimSpace(text[i+13:]), ".")
	}
	denied(o, rule)
	return nil
}
