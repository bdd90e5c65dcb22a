package parsers

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// unbound reads the lines Unbound writes with log-queries and log-replies:
//
//	Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN
//	Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.012000 0 93
//	[1764752401] unbound[811:0] info: 192.0.2.10 nosuch.gtmhub.com. A IN NXDOMAIN 0.030000 0 110
//
// A question says which name a client asked for; a reply adds the rcode
// (Unbound does not log the addresses it answered).
var unbound = &Format{
	Name:      "unbound",
	Title:     "Unbound log-queries and log-replies lines",
	Detect:    detectUnbound,
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		return &unboundParser{loc: opts.location(), now: opts.ref, clk: newClock(opts)}
	},
}

func detectUnbound(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		if i := bytes.Index(l, []byte("unbound[")); i >= 0 && bytes.Contains(l[i:], []byte("] info: ")) {
			score += 10
		}
	}
	return score
}

type unboundParser struct {
	loc   *time.Location
	now   func() time.Time
	clk   clock // records when a time was read in loc
	cache recordCache
	tbuf  []byte // "TYPE RCODE", apart from the cache's own buffer
}

func (p *unboundParser) ParseLine(line []byte, o *capture.Observation) error {
	i := bytes.Index(line, []byte("unbound["))
	if i < 0 {
		return fmt.Errorf("unbound: no unbound[pid:thread] tag")
	}
	head := line[:i]
	_, msg, ok := bytes.Cut(line[i:], []byte("] "))
	if !ok {
		return fmt.Errorf("unbound: no unbound[pid:thread] tag")
	}
	msg, ok = bytes.CutPrefix(msg, []byte("info: "))
	if !ok {
		return SkipDNSOther
	}
	var fa [8][]byte
	n := splitFields(msg, fa[:])
	if n > len(fa) {
		n = len(fa)
	}
	f := fa[:n]
	if len(f) < 4 || !bytes.Equal(f[3], []byte("IN")) {
		return SkipDNSOther
	}
	ca, err := parseAddrMaybePort(f[0])
	if err != nil {
		return SkipDNSOther // resolver progress messages start with words
	}
	client := ca.Addr()
	name := trimDot(f[1])
	if !validHost(name) {
		return fmt.Errorf("unbound: name %q: not a host name", field(bytes.ToLower(name)))
	}
	if len(head) > 2 && head[0] == '[' {
		if j := bytes.IndexByte(head, ']'); j > 0 {
			if t, err := parseEpoch(head[1:j]); err == nil {
				o.Time = t
			}
		}
	} else if t := syslogTime(head); !t.IsZero() {
		if t.Year() == 0 {
			p.clk.zoneUsed()
		}
		o.Time = fixYear(t, p.loc, p.now)
	}
	o.Kind = capture.Lookup
	o.Transport = capture.UDP
	o.HostSource = capture.SourceDNS
	o.Client = netip.AddrPortFrom(client, 0)
	o.Host = p.cache.host(name)
	o.Outcome = capture.OutcomeUnknown
	if len(f) > 4 {
		p.tbuf = append(append(append(p.tbuf[:0], f[2]...), ' '), f[4]...)
		o.Detail = queryDetail(&p.cache, p.tbuf)
	} else {
		o.Detail = queryDetail(&p.cache, f[2])
	}
	if len(f) > 4 {
		switch string(f[4]) {
		case "NOERROR":
			o.Outcome = capture.OutcomeOK
		case "NXDOMAIN":
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSNXDomain
		case "SERVFAIL":
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSServFail
		case "REFUSED":
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSRefused
		}
	}
	return nil
}
