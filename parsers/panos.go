package parsers

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// panos reads Palo Alto Networks PAN-OS syslog in its CSV form: TRAFFIC
// logs (subtypes start, end, drop, deny) and THREAT logs, of which the URL
// filtering subtype carries the host and URL. Columns, counted from the
// leading FUTURE_USE field as 0:
//
//	1 receive time, 2 serial number, 3 type, 4 subtype, 6 generated time,
//	7 source, 8 destination, 11 rule, 14 application, 22 session ID,
//	24 source port,
//	25 destination port, 29 protocol, 30 action,
//	TRAFFIC: 45 packets received, 46 session end reason;
//	THREAT: 31 URL or file name, 33 category.
//
// A TRAFFIC start record (written when a rule allows the first packets,
// with "Log at Session Start") says nothing of the outcome: a SYN never
// answered is allowed at start too. It is held until the end, drop or deny
// record of the same session judges the flow; a session whose end is not
// in the input is a flow of unknown outcome.
//
// Times are device-local without zone. Fields holding commas are quoted.
// Some exports drop the leading FUTURE_USE field; the columns are found from
// the type field either way.
var panos = &Format{
	Name:   "panos",
	Title:  "Palo Alto Networks PAN-OS traffic and threat/URL log (CSV syslog)",
	Detect: detectPanos,
	NewLine: func(opts *Options) LineParser {
		return &panosParser{clock: newClock(opts), held: make(heldFlows)}
	},
}

func detectPanos(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		var f [64][]byte
		n := splitCSV(l, f[:])
		if panosBase(f[:n]) != panosNoBase {
			score += 10
		}
	}
	return score
}

const panosNoBase = -100

// panosBase finds the type column (TRAFFIC, THREAT, ...) among the first
// fields and returns the index column 0 would have (it may be -1 when the
// leading field is missing), or panosNoBase.
func panosBase(f [][]byte) int {
	for i := 2; i < len(f) && i < 12; i++ {
		switch string(f[i]) {
		case "TRAFFIC", "THREAT", "SYSTEM", "CONFIG", "HIPMATCH", "GLOBALPROTECT",
			"USERID", "AUTH", "DECRYPTION", "TUNNEL", "SCTP", "CORRELATION":
			if isPanTime(f[i-2]) && len(f)-i >= 4 {
				return i - 3
			}
		}
	}
	return panosNoBase
}

// isPanTime reports whether b looks like "2018/11/30 16:09:07".
func isPanTime(b []byte) bool {
	return len(b) == 19 && b[4] == '/' && b[7] == '/' && b[10] == ' ' && b[13] == ':'
}

// maxPanosSessions bounds the sessions held from start records.
const maxPanosSessions = 1 << 16

type panosParser struct {
	clock clock
	// held holds the flow of each session whose start record was read,
	// by serial number and session ID, until a later record ends it.
	held heldFlows
}

// End gives the sessions started and not ended in the input, in the order
// of their start records, with an unknown outcome.
func (p *panosParser) End(emit func(*capture.Observation)) {
	p.held.end(emit)
}

var errPanosShort = errors.New("panos: too few columns for a traffic or threat log")

func (p *panosParser) ParseLine(line []byte, o *capture.Observation) error {
	h := p.clock.syslog(line)
	// Columns past 63 (PAN-OS 10 has over 100) are not read.
	var f [64][]byte
	n := splitCSV(h.Msg, f[:])
	base := panosBase(f[:n])
	if base == panosNoBase {
		// Not even the start of a PAN-OS record.
		return SkipNotFirewall
	}
	col := func(i int) []byte {
		if base+i < 0 || base+i >= n {
			return nil
		}
		return f[base+i]
	}
	typ := string(col(3))
	if typ != "TRAFFIC" && typ != "THREAT" {
		return SkipNotTraffic
	}
	if n-base <= 30 {
		return errPanosShort
	}
	if t, ok := panTime(col(6), p.clock.loc); ok {
		o.Time = t
		p.clock.zoneUsed()
	}
	src, ok1 := parseAddr(col(7))
	dst, ok2 := parseAddr(col(8))
	if !ok1 || !ok2 {
		return errors.New("panos: source or destination is not an address")
	}
	sport, _ := parsePort(col(24))
	dport, _ := parsePort(col(25))
	o.Client = netip.AddrPortFrom(src, sport)
	o.Server = netip.AddrPortFrom(dst, dport)
	o.Transport = transportOf(col(29))

	action := col(30)
	detail := make([]byte, 0, 96)
	detail = append(detail, typ...)
	detail = append(detail, '/')
	detail = append(detail, col(4)...)
	if r := col(11); len(r) > 0 {
		detail = append(detail, " rule "...)
		detail = append(detail, r...)
	}
	if a := col(14); len(a) > 0 {
		detail = append(detail, " app "...)
		detail = append(detail, a...)
	}
	if typ == "THREAT" && string(col(4)) == "url" {
		if u := col(31); len(u) > 0 {
			setURL(o, string(u))
		}
		if c := col(33); len(c) > 0 {
			detail = append(detail, " category "...)
			detail = append(detail, c...)
		}
	}
	detail = append(detail, ": "...)
	detail = append(detail, action...)
	d := string(detail)
	sub := string(col(4))
	switch {
	case typ == "TRAFFIC" && (sub == "drop" || sub == "deny") && !bytes.HasPrefix(action, []byte("reset-")):
		// The subtype says the session was refused, whatever the action.
		denied(o, d)
	case bytes.HasPrefix(action, []byte("reset-")):
		reset(o, d)
	case string(action) == "allow" || string(action) == "alert" || string(action) == "continue" ||
		string(action) == "override":
		o.Outcome, o.Detail = capture.OutcomeOK, d
		if typ == "TRAFFIC" && o.Transport == capture.TCP && string(col(46)) == "aged-out" &&
			string(col(45)) == "0" {
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.NoResponse
			o.Detail = d + ", aged out without a reply"
		}
	case bytes.HasPrefix(action, []byte("deny")), bytes.HasPrefix(action, []byte("drop")),
		bytes.HasPrefix(action, []byte("block")), string(action) == "sinkhole":
		denied(o, d)
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, d
	}
	if notEgress(dst) {
		return SkipMulticast
	}
	start := sub == "start" && o.Outcome != capture.OutcomeBlocked
	if typ != "TRAFFIC" || len(col(22)) == 0 || !start && len(p.held) == 0 {
		return nil
	}
	key := string(col(2)) + "/" + string(col(22))
	if start {
		o.Outcome, o.Reason = capture.OutcomeUnknown, ""
		o.Detail = d + ", session start without its end in the input"
		if len(p.held) >= maxPanosSessions {
			// Past the bound the start record is all this flow gets, and
			// its end, judged alone, counts as a second attempt.
			return nil
		}
		p.held[key] = *o
		return SkipJoined
	}
	if opened, ok := p.held[key]; ok {
		delete(p.held, key)
		o.Time = opened.Time
	}
	return nil
}

// panTime parses "2018/11/30 16:09:07" in loc.
func panTime(b []byte, loc *time.Location) (t time.Time, ok bool) {
	if !isPanTime(b) {
		return t, false
	}
	var d [19]byte
	copy(d[:], b)
	d[4], d[7], d[10] = '-', '-', 'T'
	t, _, _, ok = parseRFC3339(d[:], loc)
	return t, ok
}

// splitCSV splits a CSV record into f, removing the quotes around quoted
// fields (a doubled quote inside stays doubled), and returns the number of
// fields; past len(f) the rest is dropped. Fields alias b.
func splitCSV(b []byte, f [][]byte) int {
	n := 0
	for n < len(f) {
		if len(b) > 0 && b[0] == '"' {
			i := 1
			for i < len(b) {
				if b[i] == '"' {
					if i+1 < len(b) && b[i+1] == '"' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			f[n] = b[1:min(i, len(b))]
			n++
			b = b[min(i+1, len(b)):]
			if len(b) == 0 {
				return n
			}
			if b[0] == ',' {
				b = b[1:]
			}
			continue
		}
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			f[n] = b
			return n + 1
		}
		f[n] = b[:i]
		n++
		b = b[i+1:]
	}
	return n
}
