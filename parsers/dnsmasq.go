package parsers

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// dnsmasq reads the lines dnsmasq writes with log-queries, to syslog or to
// its own log-facility file:
//
//	Dec  3 09:00:01 dnsmasq[811]: query[A] app.gtmhub.com from 192.0.2.10
//	Dec  3 09:00:01 dnsmasq[811]: forwarded app.gtmhub.com to 192.0.2.53
//	Dec  3 09:00:01 dnsmasq[811]: reply app.gtmhub.com is <CNAME>
//	Dec  3 09:00:01 dnsmasq[811]: reply gtmhub.azurefd.net is 198.51.100.20
//	Dec  3 09:00:02 dnsmasq[811]: config tracker.example is NXDOMAIN
//
// One lookup is spread over several lines. The parser remembers the client
// of each question and the name a CNAME chain started from, and gives one
// observation per answer line, attributed to the name the client asked
// for. With log-queries=extra each line starts with a serial number and
// the client's address and port, which are used when present.
var dnsmasq = &Format{
	Name:   "dnsmasq",
	Title:  "dnsmasq log-queries lines",
	Detect: detectDnsmasq,
	NewLine: func(opts *Options) LineParser {
		return &dnsmasqParser{loc: opts.location(), now: opts.ref, clk: newClock(opts)}
	},
}

func detectDnsmasq(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		_, msg, ok := programMessage(l, "dnsmasq")
		if !ok {
			continue
		}
		score += 5
		if bytes.HasPrefix(skipExtra(msg), []byte("query[")) || bytes.Contains(msg, []byte(" is ")) {
			score += 5
		}
	}
	return score
}

// dnsmasqMaxPending bounds the questions waiting for their answer lines;
// past it the oldest are forgotten (their answers then lack the client).
const dnsmasqMaxPending = 4096

type dnsmasqQuestion struct {
	client netip.AddrPort
}

type dnsmasqParser struct {
	loc   *time.Location
	now   func() time.Time
	clk   clock // records when a time was read in loc
	cache recordCache

	pending map[string]dnsmasqQuestion
	order   []string // names of pending, oldest first
	// chain is the name the current CNAME chain started from.
	chain string
}

func (p *dnsmasqParser) ParseLine(line []byte, o *capture.Observation) error {
	ts, msg, ok := programMessage(line, "dnsmasq")
	if !ok {
		if bytes.Contains(line, []byte("dnsmasq-")) {
			return SkipDNSOther // dnsmasq-dhcp, dnsmasq-tftp
		}
		return fmt.Errorf("dnsmasq: no dnsmasq[pid]: tag")
	}
	if !ts.IsZero() {
		if ts.Year() == 0 {
			p.clk.zoneUsed()
		}
		o.Time = fixYear(ts, p.loc, p.now)
	}
	var extraClient netip.AddrPort
	if rest := skipExtra(msg); len(rest) != len(msg) {
		// "1234 192.0.2.10/41234 query[A] ...": serial, client/port
		f := bytes.Fields(msg[:len(msg)-len(rest)])
		if len(f) == 2 {
			if a, p, ok := bytes.Cut(f[1], []byte("/")); ok {
				if addr, err := netip.ParseAddr(string(a)); err == nil {
					n, _ := atoi(p)
					extraClient = netip.AddrPortFrom(addr, uint16(n))
				}
			}
		}
		msg = rest
	}

	verb, rest, _ := bytes.Cut(msg, []byte(" "))
	if bytes.HasPrefix(verb, []byte("query[")) {
		// query[A] name from client
		name, from, ok := bytes.Cut(rest, []byte(" from "))
		if !ok {
			return fmt.Errorf("dnsmasq: query line without \"from\"")
		}
		client := extraClient
		if a, err := netip.ParseAddr(string(bytes.TrimSpace(from))); err == nil && !client.IsValid() {
			client = netip.AddrPortFrom(a, 0)
		}
		name = trimDot(name)
		if !validHost(name) {
			return fmt.Errorf("dnsmasq: name %q: not a host name", field(name))
		}
		p.remember(p.cache.host(name), client)
		p.chain = ""
		return SkipDNSQuestion
	}
	name, answer, ok := bytes.Cut(rest, []byte(" is "))
	if !ok {
		return SkipDNSOther
	}
	source := ""
	switch string(verb) {
	case "reply", "cached":
	case "config":
		source = "answered by dnsmasq's configuration"
	default:
		if len(verb) > 0 && verb[0] == '/' {
			source = "answered from " + string(verb)
		} else if bytes.HasSuffix(verb, []byte("blocked")) || bytes.HasSuffix(verb, []byte("blacklisted")) || bytes.HasSuffix(verb, []byte("denied")) {
			source = "blocked by a block list"
			name, answer, ok = cutLastIs(msg)
			if !ok {
				return SkipDNSOther
			}
		} else {
			return SkipDNSOther
		}
	}
	host := trimDot(name)
	o.Kind = capture.Lookup
	o.Transport = capture.UDP
	o.HostSource = capture.SourceDNS
	switch string(verb) {
	case "reply":
		o.Detail = "reply"
	case "cached":
		o.Detail = "cached"
	default:
		o.Detail = string(verb)
	}
	if _, err := parseAddrMaybePort(answer); err != nil {
		o.Detail += " " + string(answer)
	}
	if source != "" {
		o.Detail += " (" + source + ")"
	}

	// A PTR answer names the address that was asked about.
	if addr, err := parseAddrMaybePort(host); err == nil && addr.Port() == 0 {
		target := bytes.ToLower(trimDot(answer))
		if !validHost(target) {
			return SkipDNSOther
		}
		o.Host = string(target)
		o.Answers = []netip.Addr{addr.Addr()}
		o.Outcome = capture.OutcomeOK
		if addr.Addr().Is4() {
			b := addr.Addr().As4()
			arpa := fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0])
			o.Client = p.pending[arpa].client
		}
		return nil
	}
	if !validHost(host) {
		return fmt.Errorf("dnsmasq: name %q: not a host name", field(host))
	}
	asked := p.cache.host(host)
	q, known := p.pending[asked]
	if !known && p.chain != "" {
		asked = p.chain
		q = p.pending[asked]
	}
	o.Host = asked
	o.Client = q.client
	if extraClient.IsValid() {
		o.Client = extraClient
	}

	switch a := answer; {
	case string(a) == "<CNAME>":
		if known {
			p.chain = asked
		}
		return SkipDNSCNAME
	case string(a) == "NXDOMAIN":
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSNXDomain
	case string(a) == "SERVFAIL":
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSServFail
	case string(a) == "REFUSED":
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSRefused
	case bytes.HasPrefix(answer, []byte("NODATA")):
		o.Outcome = capture.OutcomeOK // the name exists, without that type
	default:
		ap, err := parseAddrMaybePort(answer)
		addr := ap.Addr()
		if err != nil || ap.Port() != 0 {
			// Other record types (<MX>, <SRV>, text) say nothing of addresses.
			o.Outcome = capture.OutcomeOK
			return nil
		}
		if addr.IsUnspecified() {
			// A sinkhole: the name is blocked by answering 0.0.0.0 or ::.
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSNXDomain
			o.Detail += ", a sinkhole address"
			return nil
		}
		o.Outcome = capture.OutcomeOK
		o.Answers = []netip.Addr{addr}
	}
	return nil
}

// remember records the client of a question, forgetting the oldest past
// dnsmasqMaxPending.
func (p *dnsmasqParser) remember(name string, client netip.AddrPort) {
	if p.pending == nil {
		p.pending = make(map[string]dnsmasqQuestion)
	}
	if _, ok := p.pending[name]; !ok {
		if len(p.order) >= dnsmasqMaxPending {
			delete(p.pending, p.order[0])
			p.order = p.order[1:]
		}
		p.order = append(p.order, name)
	}
	p.pending[name] = dnsmasqQuestion{client: client}
}

// Skip reasons of DNS logs.
const (
	SkipDNSQuestion Skip = "dns question (its answer is on a later line)"
	SkipDNSCNAME    Skip = "dns CNAME step (the address is on a later line)"
	SkipDNSOther    Skip = "dns log line that is not a lookup"
)

// skipExtra returns msg after the "serial client/port " prefix that
// log-queries=extra adds, or msg unchanged.
func skipExtra(msg []byte) []byte {
	i := 0
	for i < len(msg) && msg[i] >= '0' && msg[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(msg) || msg[i] != ' ' {
		return msg
	}
	j := bytes.IndexByte(msg[i+1:], ' ')
	if j < 0 || bytes.IndexByte(msg[i+1:i+1+j], '/') < 0 {
		return msg
	}
	return msg[i+2+j:]
}

// cutLastIs splits "<words> name is answer" at the last " is ".
func cutLastIs(msg []byte) (name, answer []byte, ok bool) {
	i := bytes.LastIndex(msg, []byte(" is "))
	if i < 0 {
		return nil, nil, false
	}
	head := msg[:i]
	if j := bytes.LastIndexByte(head, ' '); j >= 0 {
		head = head[j+1:]
	}
	return head, msg[i+4:], true
}

func trimDot(b []byte) []byte {
	b = bytes.TrimSpace(b)
	for len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// programMessage finds the message of program prog in a syslog line
// ("Dec  3 09:00:01 host prog[pid]: msg", with or without the host or a
// <PRI>) or in a line of prog's own log file. It returns the header's time
// (year 0 when the header has none) or the zero time.
func programMessage(line []byte, prog string) (time.Time, []byte, bool) {
	i := bytes.Index(line, []byte(prog))
	for i >= 0 {
		rest := line[i+len(prog):]
		if len(rest) > 0 && rest[0] == '[' {
			if j := bytes.IndexByte(rest, ']'); j > 0 {
				rest = rest[j+1:]
			}
		}
		if bytes.HasPrefix(rest, []byte(": ")) && (i == 0 || line[i-1] == ' ' || line[i-1] == '(' || line[i-1] == '>') {
			return syslogTime(line[:i]), rest[2:], true
		}
		next := bytes.Index(line[i+1:], []byte(prog))
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return time.Time{}, nil, false
}

// syslogTime parses the BSD syslog time at the start of head
// ("<30>Dec  3 09:00:01 host "), or RFC 3339; it returns year 0 for the
// former and the zero time when there is none.
func syslogTime(head []byte) time.Time {
	if len(head) > 0 && head[0] == '<' {
		if j := bytes.IndexByte(head, '>'); j > 0 && j < 5 {
			head = head[j+1:]
		}
	}
	if len(head) >= 15 && head[3] == ' ' && head[9] == ':' && head[12] == ':' {
		mon, ok := monthOf(head[0:3])
		day, err := atoi(bytes.TrimLeft(head[4:6], " "))
		hh, err2 := atoi(head[7:9])
		mm, err3 := atoi(head[10:12])
		ss, err4 := atoi(head[13:15])
		if ok && err == nil && err2 == nil && err3 == nil && err4 == nil {
			return time.Date(0, mon, day, hh, mm, ss, 0, time.UTC)
		}
	}
	if sp := bytes.IndexByte(head, ' '); sp > 0 {
		if t, err := time.Parse(time.RFC3339Nano, string(head[:sp])); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// fixYear gives a year-less syslog time (year 0, wall clock in UTC) the
// zone loc and the most recent year that does not put it more than a day
// in the future.
func fixYear(t time.Time, loc *time.Location, now func() time.Time) time.Time {
	if t.Year() != 0 {
		return t
	}
	n := now().In(loc)
	y := time.Date(n.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	if y.After(n.Add(24 * time.Hour)) {
		y = y.AddDate(-1, 0, 0)
	}
	return y.UTC()
}
