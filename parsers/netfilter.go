package parsers

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// netfilter reads the packet logs of the Linux kernel's iptables LOG target
// and nftables "log" statement, as syslog, kern.log, "journalctl -k" and
// ulogd's LOGEMU write them:
//
//	May  1 10:00:00 host kernel: [ 12.5] egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 ... PROTO=TCP SPT=50000 DPT=443 ... SYN URGP=0
//
// The free-text prefix before "IN=" is the only carrier of the rule, so it
// becomes the observation's detail, and words in it (DROP, REJECT, BLOCK,
// ACCEPT, ALLOW, an EdgeOS "[RULESET-RULE-D]" suffix) give the verdict.
//
// A line is a packet, not a connection: a dropped SYN the client sends
// again is logged again. A TCP or UDP line with the same addresses, ports
// and outcome as one read less than [nfRepeatGap] before it is counted as
// a repeat of the same attempt, so that the attempts of a log match those
// of a capture of the same traffic.
var netfilter = &Format{
	Name:   "netfilter",
	Title:  "iptables/nftables packet log (syslog, kern.log, journalctl -k, ulogd)",
	Detect: detectNetfilter,
	NewLine: func(opts *Options) LineParser {
		return &netfilterParser{clock: newClock(opts), flows: make(map[nfFlow]time.Time)}
	},
}

func detectNetfilter(head []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte("SRC=")) && bytes.Contains(l, []byte("DST=")) {
			if bytes.Contains(l, []byte("IN=")) && bytes.Contains(l, []byte("OUT=")) {
				score += 10
			} else if bytes.Contains(l, []byte("PROTO=")) {
				score += 3
			}
		}
	}
	if score == 0 && bytes.Contains(head, []byte(" OUT=")) && bytes.Contains(head, []byte(" SRC=")) &&
		bytes.Contains(head, []byte(" PROTO=")) {
		// A JSON export whose message fields hold netfilter lines.
		score = 5
	}
	return score
}

type netfilterParser struct {
	clock clock
	// flows holds the time of the last line of each recent flow, to tell
	// a retransmitted packet from a new attempt.
	flows map[nfFlow]time.Time
}

// nfFlow identifies the packets of one attempt: one client socket to one
// server socket, with one outcome.
type nfFlow struct {
	client, server netip.AddrPort
	transport      capture.Transport
	outcome        capture.Outcome
	reason         capture.Reason
}

// nfRepeatGap is the longest gap between two lines of one attempt. Linux
// resends an unanswered SYN after 1, 2, 4, 8, 16 and 32 seconds
// (tcp_syn_retries 6, RTO doubling from 1 s), so 35 s keeps every resend
// of a connect in one attempt; a new connect uses a new source port.
const nfRepeatGap = 35 * time.Second

// maxNFFlows bounds the flows remembered for spotting repeats; past it
// they are forgotten and a repeat counts as an attempt again.
const maxNFFlows = 1 << 14

// SkipRepeat is the skip reason of a packet that repeats an attempt the
// log already holds: a retransmission of the same flow.
const SkipRepeat Skip = "repeat of a packet of an attempt already counted (same addresses, ports and outcome)"

func (p *netfilterParser) ParseLine(line []byte, o *capture.Observation) error {
	if err := p.parseLine(line, o); err != nil {
		return err
	}
	if o.Time.IsZero() || o.Client.Port() == 0 || o.Server.Port() == 0 ||
		o.Transport != capture.TCP && o.Transport != capture.UDP {
		return nil
	}
	k := nfFlow{o.Client, o.Server, o.Transport, o.Outcome, o.Reason}
	last, seen := p.flows[k]
	if !seen && len(p.flows) >= maxNFFlows {
		clear(p.flows)
	}
	p.flows[k] = o.Time
	if d := o.Time.Sub(last); seen && d < nfRepeatGap && d > -nfRepeatGap {
		return SkipRepeat
	}
	return nil
}

// nfPacket is the decoded key=value part of one netfilter log line.
type nfPacket struct {
	in, out        []byte
	hasIn, hasOut  bool
	src, dst       netip.Addr
	spt, dpt       uint16
	hasPorts       bool
	proto          []byte
	icmpType       int
	icmpCode       int
	syn, ack, rst  bool
	badSrc, badDst bool
}

var (
	errNoSrc     = errors.New("netfilter: no SRC= field (truncated line?)")
	errBadSrcDst = errors.New("netfilter: SRC= or DST= is not an address")
)

func (p *netfilterParser) parseLine(line []byte, o *capture.Observation) error {
	msg := line
	if t := trimSpaceLeft(line); len(t) > 0 && (t[0] == '"' || t[0] == '{') {
		// A JSON export (journald via a log shipper) holding the line in
		// its "message" field.
		m, ok := jsonMessage(t)
		if !ok {
			return SkipNotFirewall
		}
		msg = m
		o.Time = jsonTime(t)
	} else {
		h := p.clock.syslog(line)
		o.Time = h.Time
		msg = h.Msg
		if len(h.Program) > 0 && !isKernelTag(h.Program) {
			// "Jan  8 03:37:09 DROP: IN=..." or ulogd's "host PREFIX: IN=":
			// what the header took for a tag is the log prefix.
			msg = line[offsetIn(line, h.Program):]
		}
	}
	at := netfilterStart(msg)
	if at < 0 {
		if bytes.Contains(msg, []byte("PROTO=")) {
			return errNoSrc
		}
		return SkipNotFirewall
	}
	prefix := bytes.TrimSpace(msg[:at])
	var outer, inner nfPacket
	hasInner := decodeNetfilter(msg[at:], &outer, &inner)
	if !outer.src.IsValid() {
		if outer.badSrc || outer.badDst {
			return errBadSrcDst
		}
		return errNoSrc
	}
	if !outer.dst.IsValid() {
		return errBadSrcDst
	}

	rule := string(bytes.TrimRight(prefix, ": "))
	if rule == "" {
		rule = "netfilter log without prefix"
	}
	if isICMPError(&outer) && hasInner && inner.src.IsValid() && inner.dst.IsValid() {
		// An ICMP error names the flow it quotes: the inner packet went
		// from the client to the server, and the error answered it.
		o.Client = netip.AddrPortFrom(inner.src, inner.spt)
		o.Server = netip.AddrPortFrom(inner.dst, inner.dpt)
		o.Transport = transportOf(inner.proto)
		code := "ICMP unreachable code " + itoa(outer.icmpCode)
		if !outer.hasIn || len(outer.in) == 0 {
			// Generated by this host: the firewall rejected the flow.
			denied(o, rule+": rejected with "+code)
			return nil
		}
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ICMPUnreachable
		if adminProhibited(&outer) {
			o.Reason = capture.ICMPProhibited
		}
		o.Detail = rule + ": " + code + " from " + outer.src.String()
		return nil
	}
	o.Client = netip.AddrPortFrom(outer.src, outer.spt)
	o.Server = netip.AddrPortFrom(outer.dst, outer.dpt)
	o.Transport = transportOf(outer.proto)
	switch prefixVerdict(prefix) {
	case verdictBlock:
		denied(o, rule)
	case verdictReset:
		reset(o, rule)
	case verdictAllow:
		o.Outcome, o.Detail = capture.OutcomeOK, rule
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, rule
	}
	// The skips come last, so that o holds what the line said either way.
	switch {
	case outer.hasOut && len(outer.out) == 0 && outer.hasIn && len(outer.in) > 0:
		return SkipInbound
	case outer.dst.IsLoopback() || string(outer.out) == "lo":
		return SkipLoopback
	case notEgress(outer.dst):
		return SkipMulticast
	}
	return nil
}

func isKernelTag(p []byte) bool {
	return string(p) == "kernel" || bytes.HasPrefix(p, []byte("ulogd"))
}

// netfilterStart returns the offset of the "IN=" that starts the packet
// fields, or -1. The prefix before it may end in any character but a
// letter or digit ("[UFW BLOCK] IN=", "Shorewall:net2fw:DROP:IN=").
func netfilterStart(msg []byte) int {
	from := 0
	for {
		i := bytes.Index(msg[from:], []byte("IN="))
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || !isAlnum(msg[i-1]) && msg[i-1] != '_' && msg[i-1] != '=' {
			if bytes.Contains(msg[i:], []byte("SRC=")) {
				return i
			}
		}
		from = i + 3
	}
}

// decodeNetfilter reads the key=value fields of b into outer, and the
// fields of a bracketed quoted packet (ICMP errors) into inner, so that
// they never overwrite the outer ones. It reports whether there was one.
func decodeNetfilter(b []byte, outer, inner *nfPacket) bool {
	outer.icmpType, outer.icmpCode = -1, -1
	inner.icmpType, inner.icmpCode = -1, -1
	cur := outer
	hasInner := false
	for len(b) > 0 {
		b = trimSpaceLeft(b)
		if len(b) == 0 {
			break
		}
		if b[0] == '[' {
			cur = inner
			hasInner = true
			b = b[1:]
			continue
		}
		if b[0] == ']' {
			cur = outer
			b = b[1:]
			continue
		}
		end := 0
		for end < len(b) && b[end] != ' ' && b[end] != ']' {
			end++
		}
		tok := b[:end]
		b = b[end:]
		switch tok[0] {
		case 'I', 'O', 'S', 'D', 'P', 'T', 'C', 'A', 'R':
		default:
			// MAC=, LEN=, TTL=, ID=, WINDOW=, URGP= and the like: not
			// needed, and most of the line.
			continue
		}
		eq := bytes.IndexByte(tok, '=')
		if eq < 0 {
			switch string(tok) {
			case "SYN":
				cur.syn = true
			case "ACK":
				cur.ack = true
			case "RST":
				cur.rst = true
			}
			continue
		}
		key, val := tok[:eq], tok[eq+1:]
		switch string(key) {
		case "IN":
			cur.in, cur.hasIn = val, true
		case "OUT":
			cur.out, cur.hasOut = val, true
		case "SRC":
			if a, ok := parseAddr(val); ok {
				cur.src = a
			} else {
				cur.badSrc = true
			}
		case "DST":
			if a, ok := parseAddr(val); ok {
				cur.dst = a
			} else {
				cur.badDst = true
			}
		case "PROTO":
			cur.proto = val
		case "SPT":
			cur.spt, _ = parsePort(val)
			cur.hasPorts = true
		case "DPT":
			cur.dpt, _ = parsePort(val)
		case "TYPE":
			if cur.icmpType < 0 {
				cur.icmpType, _ = atoiN(val, 3)
			}
		case "CODE":
			if cur.icmpCode < 0 {
				cur.icmpCode, _ = atoiN(val, 3)
			}
		}
	}
	return hasInner
}

// isICMPError reports whether p is an ICMP or ICMPv6 destination
// unreachable message.
func isICMPError(p *nfPacket) bool {
	switch {
	case string(p.proto) == "ICMP":
		return p.icmpType == 3
	case string(p.proto) == "ICMPv6":
		return p.icmpType == 1
	}
	return false
}

// adminProhibited reports whether an unreachable says a filter refused
// the packet: ICMP codes 9, 10, 13 (RFC 1812, Section 5.2.7.1) or
// ICMPv6 code 1 (RFC 4443, Section 3.1).
func adminProhibited(p *nfPacket) bool {
	if string(p.proto) == "ICMPv6" {
		return p.icmpCode == 1
	}
	return p.icmpCode == 9 || p.icmpCode == 10 || p.icmpCode == 13
}

type verdict uint8

const (
	verdictNone verdict = iota
	verdictAllow
	verdictBlock
	verdictReset
)

// prefixVerdict reads the verdict from the words of a log prefix: DROP,
// DENY, REJECT, BLOCK (and their -ED forms) block; RESET or RST reset;
// ACCEPT, ACC, ALLOW, PASS, PERMIT allow. EdgeOS and UniFi prefixes
// "[RULESET-RULE-A]" end in A (accept), D (drop) or R (reject).
func prefixVerdict(prefix []byte) verdict {
	v := verdictNone
	words := 0
	last := []byte(nil)
	for i := 0; i < len(prefix); {
		for i < len(prefix) && !isAlnum(prefix[i]) {
			i++
		}
		j := i
		for j < len(prefix) && isAlnum(prefix[j]) {
			j++
		}
		if j == i {
			break
		}
		w := prefix[i:j]
		words++
		last = w
		i = j
		if len(w) > 9 {
			continue // longer than any verdict word
		}
		var low [9]byte
		for k, c := range w {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[k] = c
		}
		switch string(low[:len(w)]) {
		case "drop", "dropped", "deny", "denied", "reject", "rejected",
			"block", "blocked", "blk", "discard":
			v = verdictBlock
		case "reset", "rst":
			return verdictReset
		case "accept", "accepted", "acc", "allow", "allowed", "pass", "passed",
			"permit", "permitted":
			if v == verdictNone {
				v = verdictAllow
			}
		}
	}
	if v == verdictNone && words > 1 && len(prefix) > 2 && prefix[0] == '[' &&
		bytes.HasSuffix(bytes.TrimSpace(prefix), []byte("]")) && len(last) == 1 {
		switch last[0] {
		case 'A':
			v = verdictAllow
		case 'D', 'R':
			v = verdictBlock
		}
	}
	return v
}

// jsonMessage returns the string value of a line `"message": "..."` (or a
// one-line JSON object holding such a member; journalctl -o json names it
// MESSAGE), unescaping the escapes JSON allows in it. ok is false when the
// line holds no message member.
func jsonMessage(line []byte) (msg []byte, ok bool) {
	if m, ok := jsonField(line, `"message"`); ok {
		return m, true
	}
	return jsonField(line, `"MESSAGE"`)
}

// jsonTime returns the time a one-line JSON export gives its record:
// journald's __REALTIME_TIMESTAMP (microseconds since the epoch) or a log
// shipper's @timestamp (RFC 3339); the zero time when there is neither.
func jsonTime(line []byte) time.Time {
	if v, ok := jsonField(line, `"__REALTIME_TIMESTAMP"`); ok {
		if us, err := strconv.ParseInt(string(v), 10, 64); err == nil && us > 0 {
			return time.UnixMicro(us).UTC()
		}
	}
	if v, ok := jsonField(line, `"@timestamp"`); ok {
		if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// jsonField returns the string value of member key (quoted) in line.
func jsonField(line []byte, key string) (msg []byte, ok bool) {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := trimSpaceLeft(line[i+len(key):])
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = trimSpaceLeft(rest[1:])
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	end := -1
	esc := false
	for j := 0; j < len(rest); j++ {
		if rest[j] == '\\' {
			esc = true
			j++
			continue
		}
		if rest[j] == '"' {
			end = j
			break
		}
	}
	if end < 0 {
		return nil, false
	}
	if !esc {
		return rest[:end], true
	}
	s := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\/`, `/`, `\t`, " ", `\n`, " ").
		Replace(string(rest[:end]))
	return []byte(s), true
}
