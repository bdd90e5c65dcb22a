package parsers

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// Skip reasons shared by the firewall and flow log formats.
const (
	SkipNotFirewall Skip = "not a firewall record of this format"
	SkipInbound     Skip = "inbound to the firewall host"
	SkipMulticast   Skip = "multicast or broadcast destination"
	SkipLoopback    Skip = "loopback traffic"
	SkipNoAddresses Skip = "record without addresses"
	SkipNotTraffic  Skip = "event that is not about traffic"
)

// packetRepeats tells the resent packets of one attempt from new attempts
// in the formats that log a line per packet rather than per connection:
// a dropped SYN the client sends again is logged again.
type packetRepeats struct {
	// last holds the time of the last line of each recent flow.
	last map[packetFlow]time.Time
}

// packetFlow identifies the packets of one attempt: one client socket to
// one server socket, with one outcome.
type packetFlow struct {
	client, server netip.AddrPort
	transport      capture.Transport
	outcome        capture.Outcome
	reason         capture.Reason
}

// repeatGap is the longest gap between two lines of one attempt. Linux
// resends an unanswered SYN after 1, 2, 4, 8, 16 and 32 seconds
// (tcp_syn_retries 6, RTO doubling from 1 s), so 35 s keeps every resend
// of a connect in one attempt; a new connect uses a new source port.
const repeatGap = 35 * time.Second

// maxRepeatFlows bounds the flows remembered for spotting repeats; past it
// they are forgotten and a repeat counts as an attempt again.
const maxRepeatFlows = 1 << 14

// SkipRepeat is the skip reason of a packet that repeats an attempt the
// log already holds: a retransmission of the same flow.
const SkipRepeat Skip = "repeat of a packet of an attempt already counted (same addresses, ports and outcome)"

func newPacketRepeats() packetRepeats {
	return packetRepeats{last: make(map[packetFlow]time.Time)}
}

// repeat records o and reports whether it repeats a TCP or UDP packet of
// the same flow and outcome read less than [repeatGap] before or after it.
func (r *packetRepeats) repeat(o *capture.Observation) bool {
	if o.Time.IsZero() || o.Client.Port() == 0 || o.Server.Port() == 0 ||
		o.Transport != capture.TCP && o.Transport != capture.UDP {
		return false
	}
	k := packetFlow{o.Client, o.Server, o.Transport, o.Outcome, o.Reason}
	last, seen := r.last[k]
	if !seen && len(r.last) >= maxRepeatFlows {
		clear(r.last)
	}
	r.last[k] = o.Time
	d := o.Time.Sub(last)
	return seen && d < repeatGap && d > -repeatGap
}

// detectRef is the reference time of syslog stamps read during detection,
// which needs no year.
var detectRef = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// clock reads the times of one input: zone-less times in the run's
// location, year-less syslog stamps against one reference time, and it
// records in the run's options when a zone had to be assumed.
type clock struct {
	opts *Options
	loc  *time.Location
	ref  time.Time
}

func newClock(opts *Options) clock {
	return clock{opts: opts, loc: opts.location(), ref: opts.ref()}
}

// syslog is [ParseSyslog] with the input's location and reference time.
func (c *clock) syslog(line []byte) SyslogHeader {
	h := ParseSyslog(line, c.loc, c.ref)
	if !h.Time.IsZero() && !h.Zoned {
		c.zoneUsed()
	}
	return h
}

func (c *clock) zoneUsed() {
	if c.opts != nil {
		c.opts.ZoneUsed = true
	}
}

// parseAddr parses an IPv4 or IPv6 address; IPv4 is parsed without
// allocating.
func parseAddr(b []byte) (netip.Addr, bool) {
	var a [4]byte
	n, v, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || n == 4 {
				goto slow
			}
			a[n] = byte(v)
			n++
			v, digits = 0, 0
			continue
		}
		c := b[i]
		if !isDigit(c) || digits == 3 || (digits > 0 && v == 0) {
			goto slow
		}
		v = v*10 + int(c-'0')
		digits++
		if v > 255 {
			return netip.Addr{}, false
		}
	}
	if n == 4 {
		return netip.AddrFrom4(a), true
	}
slow:
	if bytes.IndexByte(b, ':') < 0 {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// parsePort parses a decimal port number.
func parsePort(b []byte) (uint16, bool) {
	v, n := atoiN(b, 5)
	if n == 0 || n != len(b) || v > 65535 {
		return 0, false
	}
	return uint16(v), true
}

// transportOf maps a protocol name or IANA number to a transport.
func transportOf(p []byte) capture.Transport {
	switch {
	case len(p) == 0:
		return capture.TransportUnknown
	case equalFold(p, "tcp") || string(p) == "6":
		return capture.TCP
	case equalFold(p, "udp") || string(p) == "17":
		return capture.UDP
	case equalFold(p, "icmp") || string(p) == "1" || equalFold(p, "icmpv6") ||
		equalFold(p, "ipv6-icmp") || equalFold(p, "icmp6") || string(p) == "58":
		return capture.ICMP
	}
	return capture.TransportUnknown
}

// equalFold reports whether b equals the lower-case ASCII s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// notEgress reports whether dst cannot be the destination of an egress
// flow: multicast, broadcast, unspecified or link-local multicast.
func notEgress(dst netip.Addr) bool {
	if dst.IsMulticast() || dst.IsUnspecified() {
		return true
	}
	if dst.Is4() {
		a := dst.As4()
		return a == [4]byte{255, 255, 255, 255} || a[3] == 255 && dst.IsPrivate()
	}
	return false
}

// setURL sets o's host, port-less source and redacted path from a URL a
// firewall logged. A URL whose host is an address or no host name leaves
// o's host empty: a name must be a name.
func setURL(o *capture.Observation, rawURL string) {
	u, err := parseURL(rawURL)
	if err != nil {
		return
	}
	h := normHost(u.host)
	if h == "" {
		return
	}
	o.Host, o.HostSource = h, capture.SourceURL
	if u.path != "/" || strings.Contains(rawURL, "://") {
		o.Path = RedactPath(u.path)
	}
}

// denied marks o as stopped by a firewall rule; rule names it for humans.
func denied(o *capture.Observation, rule string) {
	o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.FirewallDeny, rule
}

// reset marks o as reset by the firewall.
func reset(o *capture.Observation, rule string) {
	o.Outcome, o.Reason, o.Detail = capture.OutcomeBlocked, capture.Reset, rule
}

// itoa formats n without the strconv import at every call site.
func itoa(n int) string { return strconv.Itoa(n) }

// epochTime parses seconds since the epoch, with an optional fraction, or
// milliseconds, microseconds or nanoseconds when the number is too large
// to be seconds.
func epochTime(b []byte) (time.Time, bool) {
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		t, err := parseEpoch(b)
		return t, err == nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return time.Time{}, false
	}
	switch {
	case v < 1e11:
		return time.Unix(v, 0).UTC(), true
	case v < 1e14:
		return time.UnixMilli(v).UTC(), true
	case v < 1e17:
		return time.UnixMicro(v).UTC(), true
	}
	return time.Unix(0, v).UTC(), true
}
