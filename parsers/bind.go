package parsers

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// bind reads BIND's query log (category queries), its response log
// (category responses, BIND 9.20's responselog), and the failures and
// refusals it logs per client:
//
//	03-Dec-2025 09:00:01.123 queries: info: client @0x7f65100ee4d8 192.0.2.10#53124 (app.gtmhub.com): query: app.gtmhub.com IN A +E(0)K (192.0.2.53)
//	03-Dec-2025 09:00:01.135 responses: info: client @0x7f65100ee4d8 192.0.2.10#53124 (app.gtmhub.com): response: app.gtmhub.com IN A NXDOMAIN 0 1 0 +E(0)K (192.0.2.53)
//	client @0x7f65100ee4d8 192.0.2.10#3076 (example.com): query (cache) 'example.com/A/IN' denied
//	client @0x7f65100ee4d8 192.0.2.10#3076 (example.com): query failed (SERVFAIL) for example.com/IN/A at query.c:7375
//
// with or without BIND's own time stamp and a syslog header. A query line
// is a question without its answer, so it names the destination with an
// unknown outcome. A response line gives the rcode (NOERROR ok; NXDOMAIN,
// SERVFAIL and REFUSED blocked) and the counts of the answer, authority
// and additional sections, but not the records themselves, so neither
// feeds an address to the name table. Denied and failed queries carry
// dns-refused, dns-servfail or dns-nxdomain.
var bind = &Format{
	Name:      "bind",
	Title:     "BIND (named) query log",
	Detect:    detectBIND,
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		return &bindParser{loc: opts.location(), now: opts.ref, clk: newClock(opts)}
	},
}

func detectBIND(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		i := bytes.Index(l, []byte("client "))
		if i < 0 {
			continue
		}
		rest := l[i:]
		switch {
		case bytes.Contains(rest, []byte(": query: ")), bytes.Contains(rest, []byte(": response: ")),
			bytes.Contains(rest, []byte("query failed (")):
			score += 10
		case bytes.Contains(rest, []byte("#")) && (bytes.Contains(rest, []byte(" denied")) || bytes.Contains(rest, []byte("zone transfer"))):
			score += 6
		}
	}
	return score
}

type bindParser struct {
	loc   *time.Location
	now   func() time.Time
	clk   clock // records when a time was read in loc
	cache recordCache
}

func (p *bindParser) ParseLine(line []byte, o *capture.Observation) error {
	ci := bytes.Index(line, []byte("client "))
	if ci < 0 {
		return SkipDNSOther
	}
	head, rest := line[:ci], line[ci+len("client "):]
	var zoneless bool
	o.Time, zoneless = bindTime(head, p.loc, p.now)
	if zoneless {
		p.clk.zoneUsed()
	}

	// client [@0x...] addr#port [(name)]: [view v: ]message
	if bytes.HasPrefix(rest, []byte("@0x")) {
		_, rest, _ = bytes.Cut(rest, []byte(" "))
	}
	addr, rest, _ := bytes.Cut(rest, []byte(" "))
	addr = bytes.TrimSuffix(addr, []byte(":"))
	client, err := parseAddrMaybePort(addr)
	if err != nil {
		return fmt.Errorf("bind: client %q: not an address#port", field(addr))
	}
	o.Client = client
	if bytes.HasPrefix(rest, []byte("(")) {
		_, rest, _ = bytes.Cut(rest, []byte(")"))
	} else {
		rest = bytes.TrimPrefix(rest, []byte(" "))
	}
	rest = bytes.TrimPrefix(bytes.TrimPrefix(rest, []byte(":")), []byte(" "))
	if bytes.HasPrefix(rest, []byte("view ")) {
		if _, r, ok := bytes.Cut(rest, []byte(": ")); ok {
			rest = r
		}
	}
	o.Kind = capture.Lookup
	o.Transport = capture.UDP
	o.HostSource = capture.SourceDNS

	switch {
	case bytes.HasPrefix(rest, []byte("query: ")):
		// query: name IN TYPE +flags (server)
		var fa [8][]byte
		n := splitFields(rest[len("query: "):], fa[:])
		if n < 3 {
			return fmt.Errorf("bind: query line with %d fields, want name, class and type", n)
		}
		if n > len(fa) {
			n = len(fa)
		}
		f := fa[:n]
		if err := p.setName(o, f[0]); err != nil {
			return err
		}
		o.Outcome = capture.OutcomeUnknown
		o.Detail = queryDetail(&p.cache, f[2])
		if len(f) > 3 && bytes.IndexByte(f[3], 'T') >= 0 {
			o.Transport = capture.TCP
		}
		if n > 4 {
			s := bytes.Trim(f[n-1], "()")
			if a, err := parseAddrMaybePort(s); err == nil && a.Port() == 0 {
				o.Server = netip.AddrPortFrom(a.Addr(), 53)
			}
		}
		return nil
	case bytes.HasPrefix(rest, []byte("response: ")):
		return p.response(rest[len("response: "):], o)
	case bytes.HasPrefix(rest, []byte("query failed (")):
		// query failed (SERVFAIL) for name/IN/TYPE at query.c:N
		rc, after, _ := bytes.Cut(rest[len("query failed ("):], []byte(")"))
		_, q, _ := bytes.Cut(after, []byte(" for "))
		name, _, _ := bytes.Cut(q, []byte("/"))
		if err := p.setName(o, name); err != nil {
			return err
		}
		o.Outcome = capture.OutcomeBlocked
		o.Detail = "query failed (" + string(rc) + ")"
		switch string(rc) {
		case "NXDOMAIN":
			o.Reason = capture.DNSNXDomain
		case "REFUSED":
			o.Reason = capture.DNSRefused
		case "timed out":
			o.Reason = capture.DNSTimeout
		default:
			o.Reason = capture.DNSServFail
		}
		return nil
	case bytes.HasPrefix(rest, []byte("query")):
		// query [(cache)] 'name/TYPE/IN' denied [(allow-query did not match)]
		spec, why, ok := bindDenial(rest)
		if !ok {
			return SkipDNSOther
		}
		if spec == nil {
			return SkipDNSNoName
		}
		name, _, _ := bytes.Cut(spec, []byte("/"))
		if err := p.setName(o, name); err != nil {
			return err
		}
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSRefused
		o.Detail = "query denied"
		if why != nil && len(why) <= maxBINDCause {
			// The access list that refused it is the rule to change.
			b := append(append(append(p.cache.buf[:0], "query denied ("...), why...), ')')
			p.cache.buf = b
			o.Detail = p.cache.internDetail(b)
		}
		return nil
	}
	return SkipDNSOther
}

// response reads the rest of a response line:
//
//	name class type rcode answers authority additional flags (server)
//
// Lines cut after the type (no rcode) keep an unknown outcome; the counts,
// flags and server are optional.
func (p *bindParser) response(rest []byte, o *capture.Observation) error {
	var fa [10][]byte
	n := splitFields(rest, fa[:])
	if n < 3 {
		return fmt.Errorf("bind: response line with %d fields, want name, class and type", n)
	}
	if n > len(fa) {
		n = len(fa)
	}
	f := fa[:n]
	if err := p.setName(o, f[0]); err != nil {
		return err
	}
	b := append(p.cache.buf[:0], "response "...)
	b = append(b, f[2]...)
	o.Outcome, o.Reason = capture.OutcomeUnknown, capture.ReasonNone
	if n > 3 {
		rcode := f[3]
		if !isRcode(rcode) {
			return fmt.Errorf("bind: response rcode %q: not an rcode", field(rcode))
		}
		o.Outcome, o.Reason = dnsRcodeOutcome(rcode)
		b = append(append(b, ' '), rcode...)
		if n > 4 {
			if _, err := atoi(f[4]); err != nil {
				return fmt.Errorf("bind: response answer count %q: not a number", field(f[4]))
			}
			b = append(append(append(b, ", "...), f[4]...), " answers"...)
		}
	}
	for _, x := range f[3:] {
		if len(x) > 0 && (x[0] == '+' || x[0] == '-') && bytes.IndexByte(x, 'T') >= 0 {
			o.Transport = capture.TCP
		}
	}
	if n > 4 && len(f[n-1]) > 0 && f[n-1][0] == '(' {
		s := bytes.Trim(f[n-1], "()")
		if a, err := parseAddrMaybePort(s); err == nil && a.Port() == 0 {
			o.Server = netip.AddrPortFrom(a.Addr(), 53)
		}
	}
	p.cache.buf = b
	o.Detail = p.cache.internDetail(b)
	return nil
}

// isRcode reports whether b reads as an rcode mnemonic (NOERROR, NXDOMAIN,
// BADVERS...) or, for one BIND has no name for, a number.
func isRcode(b []byte) bool {
	if len(b) == 0 || len(b) > 12 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// bindDenial reads a refusal, "query (cache) 'name/TYPE/IN' denied", which
// BIND 9.18 and later end with the access list that did not match:
// "denied (allow-query-cache did not match)". spec is the quoted question,
// nil when the line names none; why is the parenthesised cause, nil when
// there is none.
func bindDenial(rest []byte) (spec, why []byte, ok bool) {
	s := bytes.TrimRight(rest, " \r")
	if i := bytes.LastIndex(s, []byte(" denied (")); i >= 0 && s[len(s)-1] == ')' {
		why = s[i+len(" denied (") : len(s)-1]
		s = s[:i]
	} else if bytes.HasSuffix(s, []byte(" denied")) {
		s = s[:len(s)-len(" denied")]
	} else {
		return nil, nil, false
	}
	if len(s) < 2 || s[len(s)-1] != '\'' {
		return nil, why, true
	}
	s = s[:len(s)-1]
	i := bytes.LastIndexByte(s, '\'')
	if i < 0 {
		return nil, why, true
	}
	return s[i+1:], why, true
}

// maxBINDCause bounds the cause of a refusal kept in its detail: BIND's
// are an option name and "did not match"; a longer one is not BIND's.
const maxBINDCause = 128

// SkipDNSNoName is the skip of a refusal BIND logged without the name.
const SkipDNSNoName Skip = "dns refusal without the name asked"

func (p *bindParser) setName(o *capture.Observation, name []byte) error {
	name = trimDot(name)
	if !validHost(name) {
		return fmt.Errorf("bind: name %q: not a host name", field(bytes.ToLower(name)))
	}
	o.Host = p.cache.host(name)
	return nil
}

// queryDetail returns "query TYPE", kept in cache.
func queryDetail(c *recordCache, qtype []byte) string {
	b := append(c.buf[:0], "query "...)
	b = append(b, qtype...)
	c.buf = b
	return c.internDetail(b)
}

// bindTime returns the time of a BIND line: its own "03-Dec-2025
// 09:00:01.123" stamp when the head holds one, else the syslog header's;
// zoneless reports whether it was read in loc for want of a zone.
func bindTime(head []byte, loc *time.Location, now func() time.Time) (t time.Time, zoneless bool) {
	for i := 0; i+20 <= len(head); i++ {
		b := head[i:]
		if b[2] != '-' || b[6] != '-' || b[11] != ' ' || b[14] != ':' || b[17] != ':' {
			continue
		}
		day, e1 := atoi(b[0:2])
		mon, ok := monthOf(b[3:6])
		year, e2 := atoi(b[7:11])
		hh, e3 := atoi(b[12:14])
		mm, e4 := atoi(b[15:17])
		ss, e5 := atoi(b[18:20])
		if e1 != nil || !ok || e2 != nil || e3 != nil || e4 != nil || e5 != nil {
			continue
		}
		ns := 0
		if len(b) > 24 && b[20] == '.' {
			if ms, err := atoi(b[21:24]); err == nil {
				ns = ms * 1e6
			}
		}
		return time.Date(year, mon, day, hh, mm, ss, ns, loc).UTC(), true
	}
	if t := syslogTime(head); !t.IsZero() {
		return fixYear(t, loc, now), t.Year() == 0
	}
	return time.Time{}, false
}
