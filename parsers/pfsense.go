package parsers

import (
	"bytes"
	"errors"
	"net/netip"

	"github.com/egress-audit/egress-audit/capture"
)

// pfsense reads the packet filter log of pfSense and OPNsense: CSV written
// by filterlog behind a BSD or RFC 5424 syslog header.
//
//	rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,
//	  IPv4: tos,ecn,ttl,id,offset,flags,protoid,protoname,length,src,dst,
//	  IPv6: class,flowlabel,hoplimit,protoname,protoid,length,src,dst,
//	then for TCP and UDP: srcport,dstport,datalength,...
//
// action is pass, block or reject; pf answers a rejected TCP packet with a
// reset, and other rejected packets with an ICMP unreachable.
// A blocked connect is logged once per packet, so its resent SYNs are
// counted as repeats of one attempt, as in the netfilter format.
var pfsense = &Format{
	Name:   "pfsense",
	Title:  "pfSense/OPNsense filterlog CSV",
	Detect: detectPfsense,
	NewLine: func(opts *Options) LineParser {
		return &pfsenseParser{clock: newClock(opts), repeats: newPacketRepeats()}
	},
}

func detectPfsense(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		h := ParseSyslog(l, nil, detectRef)
		var f [32][]byte
		n := splitComma(h.Msg, f[:])
		if n >= 17 && isFilterAction(f[6]) && (string(f[8]) == "4" || string(f[8]) == "6") {
			score += 10
			if string(h.Program) == "filterlog" {
				score += 2
			}
		}
	}
	return score
}

type pfsenseParser struct {
	clock   clock
	repeats packetRepeats
}

var errPfShort = errors.New("filterlog: too few fields for the IP version")

func isFilterAction(b []byte) bool {
	return string(b) == "pass" || string(b) == "block" || string(b) == "reject"
}

func (p *pfsenseParser) ParseLine(line []byte, o *capture.Observation) error {
	h := p.clock.syslog(line)
	if len(h.Program) > 0 && string(h.Program) != "filterlog" {
		return SkipNotFirewall
	}
	var f [48][]byte
	n := splitComma(h.Msg, f[:])
	if n < 9 || !isFilterAction(f[6]) {
		if len(h.Program) > 0 {
			return errors.New("filterlog: not a filter record")
		}
		return SkipNotFirewall
	}
	o.Time = h.Time
	var proto, src, dst []byte
	rest := 0
	switch string(f[8]) {
	case "4":
		if n < 20 {
			return errPfShort
		}
		proto, src, dst, rest = f[16], f[18], f[19], 20
	case "6":
		if n < 17 {
			return errPfShort
		}
		proto, src, dst, rest = f[12], f[15], f[16], 17
	default:
		return errors.New("filterlog: IP version " + string(f[8]) + " is neither 4 nor 6")
	}
	sa, ok1 := parseAddr(src)
	da, ok2 := parseAddr(dst)
	if !ok1 || !ok2 {
		return errors.New("filterlog: source or destination is not an address")
	}
	o.Transport = transportOf(proto)
	var sport, dport uint16
	if (o.Transport == capture.TCP || o.Transport == capture.UDP) && n >= rest+2 {
		sport, _ = parsePort(f[rest])
		dport, _ = parsePort(f[rest+1])
	}
	o.Client = netip.AddrPortFrom(sa, sport)
	o.Server = netip.AddrPortFrom(da, dport)

	detail := make([]byte, 0, 64)
	detail = append(detail, "rule "...)
	detail = append(detail, f[0]...)
	if len(f[3]) > 0 {
		detail = append(detail, " tracker "...)
		detail = append(detail, f[3]...)
	}
	detail = append(detail, " on "...)
	detail = append(detail, f[4]...)
	detail = append(detail, ' ')
	detail = append(detail, f[7]...)
	detail = append(detail, ": "...)
	detail = append(detail, f[6]...)
	switch string(f[6]) {
	case "pass":
		o.Outcome, o.Detail = capture.OutcomeOK, string(detail)
	case "reject":
		if o.Transport == capture.TCP {
			reset(o, string(detail))
		} else {
			denied(o, string(detail))
		}
	default:
		denied(o, string(detail))
	}
	if notEgress(da) {
		return SkipMulticast
	}
	if da.IsLoopback() {
		return SkipLoopback
	}
	if p.repeats.repeat(o) {
		return SkipRepeat
	}
	return nil
}

// splitComma splits b at commas into f and returns the number of fields;
// past len(f) the last field holds the rest. Fields alias b.
func splitComma(b []byte, f [][]byte) int {
	if len(b) == 0 {
		return 0
	}
	n := 0
	for n < len(f)-1 {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			break
		}
		f[n] = b[:i]
		b = b[i+1:]
		n++
	}
	f[n] = b
	return n + 1
}
