package parsers

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// fortigate reads FortiOS logs: key=value pairs, values quoted when they
// hold text, with or without a syslog header in front.
//
//	date=2024-05-01 time=10:00:00 logid="0000000013" type="traffic" subtype="forward" srcip=192.0.2.1 srcport=50000 dstip=203.0.113.5 dstport=443 proto=6 action="deny" policyid=7 ...
//
// Traffic logs give the verdict in action (accept, close, timeout,
// client-rst, server-rst, deny); UTM logs (webfilter, ssl, app-ctrl, ips)
// name the server in hostname or sni and give blocked, reset or
// passthrough. date and time are read in tz when the record has it;
// otherwise eventtime (seconds to nanoseconds since the epoch) gives the
// time, and without it date and time are read in the run's zone.
var fortigate = &Format{
	Name:   "fortigate",
	Title:  "Fortinet FortiGate traffic and UTM log (key=value)",
	Detect: detectFortigate,
	NewLine: func(opts *Options) LineParser {
		return &fortigateParser{clock: newClock(opts)}
	},
}

func detectFortigate(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte("logid=")) && bytes.Contains(l, []byte(" type=")) &&
			bytes.Contains(l, []byte(" subtype=")) {
			score += 10
			if bytes.Contains(l, []byte("date=")) {
				score++
			}
		}
	}
	return score
}

type fortigateParser struct {
	clock clock
}

// fgRecord holds the fields of one FortiOS record that matter; they alias
// the line.
type fgRecord struct {
	date, time, tz, eventtime     []byte
	typ, subtype, eventtype       []byte
	srcip, srcport, dstip, dstprt []byte
	proto, service, action        []byte
	policyid, policyname          []byte
	hostname, sni, url, msg       []byte
	catdesc, rcvdpkt, rcvdbyte    []byte
	hasKV                         bool
}

// forEachKV calls fn for each key=value pair of b; quoted values come
// without their quotes.
func forEachKV(b []byte, fn func(k, v []byte)) {
	for len(b) > 0 {
		b = trimSpaceLeft(b)
		eq := bytes.IndexByte(b, '=')
		if eq <= 0 {
			return
		}
		key := b[:eq]
		if sp := bytes.IndexByte(key, ' '); sp >= 0 {
			// Text without '=' before the key: skip it.
			b = b[sp+1:]
			continue
		}
		b = b[eq+1:]
		var val []byte
		if len(b) > 0 && b[0] == '"' {
			end := 1
			for end < len(b) && b[end] != '"' {
				if b[end] == '\\' {
					end++
				}
				end++
			}
			val = b[1:min(end, len(b))]
			b = b[min(end+1, len(b)):]
		} else {
			end := bytes.IndexByte(b, ' ')
			if end < 0 {
				end = len(b)
			}
			val = b[:end]
			b = b[end:]
		}
		fn(key, val)
	}
}

func (r *fgRecord) set(k, v []byte) {
	r.hasKV = true
	switch string(k) {
	case "date":
		r.date = v
	case "time":
		r.time = v
	case "tz":
		r.tz = v
	case "eventtime":
		r.eventtime = v
	case "type":
		r.typ = v
	case "subtype":
		r.subtype = v
	case "eventtype":
		r.eventtype = v
	case "srcip":
		r.srcip = v
	case "srcport":
		r.srcport = v
	case "dstip":
		r.dstip = v
	case "dstport":
		r.dstprt = v
	case "proto":
		r.proto = v
	case "service":
		r.service = v
	case "action":
		r.action = v
	case "policyid":
		r.policyid = v
	case "policyname":
		r.policyname = v
	case "hostname":
		r.hostname = v
	case "sni":
		r.sni = v
	case "url":
		r.url = v
	case "msg":
		r.msg = v
	case "catdesc":
		r.catdesc = v
	case "rcvdpkt":
		r.rcvdpkt = v
	case "rcvdbyte":
		r.rcvdbyte = v
	}
}

var errFortiAddr = errors.New("fortigate: srcip or dstip is not an address")

func (p *fortigateParser) ParseLine(line []byte, o *capture.Observation) error {
	msg := line
	if i := bytes.Index(line, []byte("date=")); i > 0 {
		msg = line[i:]
	}
	var r fgRecord
	forEachKV(msg, r.set)
	if len(r.typ) == 0 {
		return SkipNotFirewall
	}
	typ := string(r.typ)
	if typ != "traffic" && typ != "utm" {
		return SkipNotTraffic
	}
	if len(r.srcip) == 0 || len(r.dstip) == 0 {
		return SkipNoAddresses
	}
	src, ok1 := parseAddr(r.srcip)
	dst, ok2 := parseAddr(r.dstip)
	if !ok1 || !ok2 {
		return errFortiAddr
	}
	sport, _ := parsePort(r.srcport)
	dport, _ := parsePort(r.dstprt)
	o.Client = netip.AddrPortFrom(src, sport)
	o.Server = netip.AddrPortFrom(dst, dport)
	o.Transport = transportOf(r.proto)
	o.Time = p.recordTime(&r)

	host := r.hostname
	if len(host) == 0 {
		host = r.sni
	}
	if h := bytes.TrimSuffix(bytes.ToLower(host), []byte(".")); len(h) > 0 && isHostName(string(h)) {
		o.Host, o.HostSource = string(h), capture.SourceLog
		if len(r.url) > 0 && r.url[0] == '/' {
			o.Path = RedactPath(string(r.url))
		}
	}

	detail := make([]byte, 0, 96)
	detail = append(detail, r.typ...)
	detail = append(detail, '/')
	detail = append(detail, r.subtype...)
	if len(r.policyid) > 0 {
		detail = append(detail, " policy "...)
		detail = append(detail, r.policyid...)
	}
	if len(r.policyname) > 0 {
		detail = append(detail, ' ', '(')
		detail = append(detail, r.policyname...)
		detail = append(detail, ')')
	}
	detail = append(detail, ": "...)
	detail = append(detail, r.action...)
	if len(r.catdesc) > 0 {
		detail = append(detail, ", "...)
		detail = append(detail, r.catdesc...)
	} else if len(r.msg) > 0 && typ == "utm" {
		detail = append(detail, ", "...)
		detail = append(detail, r.msg...)
	}
	d := string(detail)
	switch string(r.action) {
	case "deny", "blocked", "block", "dropped", "drop":
		denied(o, d)
	case "reset":
		reset(o, d)
	case "timeout":
		if o.Transport == capture.TCP && (len(r.rcvdpkt) == 0 || string(r.rcvdpkt) == "0") {
			o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.NoResponse, d+", no reply"
		} else {
			o.Outcome, o.Detail = capture.OutcomeOK, d
		}
	case "server-rst":
		if string(r.rcvdbyte) == "0" {
			o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.Reset, d
		} else {
			o.Outcome, o.Detail = capture.OutcomeOK, d
		}
	case "accept", "close", "client-rst", "passthrough", "pass", "allowed", "allow", "monitored", "detected":
		o.Outcome, o.Detail = capture.OutcomeOK, d
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, d
	}
	if notEgress(dst) {
		return SkipMulticast
	}
	return nil
}

// recordTime returns the record's time: date and time in tz when the
// record has tz, else eventtime, else date and time in the run's zone.
func (p *fortigateParser) recordTime(r *fgRecord) time.Time {
	if len(r.eventtime) > 0 && len(r.tz) == 0 {
		if t, ok := epochTime(r.eventtime); ok {
			return t
		}
	}
	if len(r.date) != 10 || len(r.time) < 8 {
		return time.Time{}
	}
	var b [25]byte
	n := copy(b[:], r.date)
	b[n] = 'T'
	n++
	n += copy(b[n:n+8], r.time)
	zoned := false
	if len(r.tz) == 5 && (r.tz[0] == '+' || r.tz[0] == '-') {
		n += copy(b[n:], r.tz)
		zoned = true
	}
	t, _, _, ok := parseRFC3339(b[:n], p.clock.loc)
	if !ok {
		return time.Time{}
	}
	if !zoned {
		p.clock.zoneUsed()
	}
	return t
}
