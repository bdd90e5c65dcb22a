package parsers

import (
	"bytes"
	"sync/atomic"
	"time"
)

// SyslogHeader is what the syslog framing in front of a log message said.
// Its byte slices alias the line it was parsed from.
type SyslogHeader struct {
	// Time is when the message was logged; zero when the header has none
	// (or only a kernel uptime stamp, which is not a wall-clock time).
	Time time.Time
	// Zoned reports whether the header's time carried its own zone; when
	// false, Time was read in the location given to [ParseSyslog].
	Zoned bool
	// Host is the sending host; nil when the header names none.
	Host []byte
	// Program is the tag ("kernel", "filterlog") without "[pid]" and
	// the colon; nil when the header has none.
	Program []byte
	// Msg is the message after the header and after a kernel
	// "[12345.678]" uptime stamp. It is the whole line when no header was
	// recognised.
	Msg []byte
}

// syslogSlack is how far ahead of the reference time a year-less syslog
// time may be before it is taken to belong to the year before: clocks of
// the logging host and of the reader disagree by minutes, and time zones
// by up to a day.
const syslogSlack = 26 * time.Hour

// ParseSyslog splits line into its syslog header and message. It knows
//
//   - an optional "<PRI>" in front of every form below;
//   - RFC 5424: "<PRI>1 2024-05-01T10:00:00.1Z host app procid msgid [sd] msg";
//   - RFC 3339 stamps without version, as rsyslog and "journalctl -o
//     short-iso" write them ("2024-05-01T10:00:00+0200 host tag: msg");
//   - BSD RFC 3164 stamps, with or without a year and fraction, as syslog,
//     kern.log, "journalctl -k" and Cisco devices write them ("May  1
//     10:00:00 host tag[pid]: msg", "May 01 2024 10:00:00.123 host : msg"),
//     with or without a host, and with a "facility.level" word before the
//     tag;
//   - "journalctl -o short-full" stamps, with the weekday and the zone's
//     abbreviation ("Tue 2024-12-03 19:01:02 CET host tag: msg");
//   - a leading kernel uptime stamp ("[ 1234.567890]", dmesg and
//     "journalctl -o short-monotonic"), and one at the start of the message.
//
// Times without a zone are read in loc (nil means UTC). A BSD stamp without
// a year gets the year that puts it at most a day after ref, so that a log
// read on 2 January still dates its 31 December lines to the year before;
// a zero ref means the current time.
//
// A line without a recognised header comes back with Msg set to the whole
// line and every other field zero. ParseSyslog never fails, does not
// allocate, and is safe for concurrent use.
func ParseSyslog(line []byte, loc *time.Location, ref time.Time) SyslogHeader {
	h := SyslogHeader{Msg: line}
	if loc == nil {
		loc = time.UTC
	}
	rest := line
	if len(rest) > 2 && rest[0] == '<' {
		i := 1
		for i < len(rest) && i <= 4 && isDigit(rest[i]) {
			i++
		}
		if i > 1 && i < len(rest) && rest[i] == '>' {
			rest = rest[i+1:]
		}
	}

	switch {
	case len(rest) > 2 && isDigit(rest[0]) && rest[1] == ' ':
		// RFC 5424, Section 6: VERSION SP TIMESTAMP SP HOSTNAME SP
		// APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG].
		return parse5424(line, rest[2:], h)
	case len(rest) > 10 && isDigit(rest[0]) && rest[4] == '-':
		t, zoned, n, ok := parseRFC3339(rest, loc)
		if !ok {
			return h
		}
		h.Time, h.Zoned = t, zoned
		rest = rest[n:]
	case len(rest) > 23 && isUpper(rest[0]) && rest[3] == ' ' && rest[8] == '-':
		t, zoned, n, ok := parseWeekdayTime(rest, loc)
		if !ok {
			return h
		}
		h.Time, h.Zoned = t, zoned
		rest = rest[n:]
	case len(rest) > 15 && isUpper(rest[0]):
		t, n, ok := parseBSDTime(rest, loc, ref)
		if !ok {
			return h
		}
		h.Time = t
		rest = rest[n:]
	case len(rest) > 3 && rest[0] == '[':
		n := kernelStamp(rest)
		if n == 0 {
			return h
		}
		rest = rest[n:]
	default:
		return h
	}
	rest = trimSpaceLeft(rest)
	if len(rest) > 0 && rest[0] == ':' {
		// Cisco IOS writes "10:00:00.123: %FACILITY-...".
		rest = trimSpaceLeft(rest[1:])
	}
	if h.Time.IsZero() {
		// "0001-01-01T00:00:00Z" cannot be told from no time at all.
		h.Zoned = false
	}
	rest = bsdHostTag(&h, rest)
	h.Msg = rest
	if n := kernelStamp(h.Msg); n > 0 {
		h.Msg = trimSpaceLeft(h.Msg[n:])
	}
	return h
}

// bsdHostTag reads the host and tag after a BSD or RFC 3339 stamp into h
// and returns the message after them.
func bsdHostTag(h *SyslogHeader, rest []byte) []byte {
	tok, after := nextToken(rest)
	switch {
	case len(tok) == 0:
		return rest
	case len(tok) == 1 && tok[0] == ':':
		return after
	}
	if p, ok := syslogTag(tok); ok {
		h.Program = p
		return after
	}
	h.Host = tok
	rest = after
	tok, after = nextToken(rest)
	if len(tok) == 1 && tok[0] == ':' {
		return after
	}
	if isFacilityLevel(tok) {
		rest = after
		tok, after = nextToken(rest)
	}
	if p, ok := syslogTag(tok); ok {
		h.Program = p
		return after
	}
	// No tag: the message follows the host (ulogd's LOGEMU, some
	// appliances).
	return rest
}

func parse5424(line, rest []byte, h SyslogHeader) SyslogHeader {
	stamp, rest := nextToken(rest)
	var t time.Time
	zoned := false
	if !(len(stamp) == 1 && stamp[0] == '-') {
		var ok bool
		t, zoned, _, ok = parseRFC3339(stamp, time.UTC)
		if !ok {
			return SyslogHeader{Msg: line}
		}
	}
	host, rest := nextToken(rest)
	app, rest := nextToken(rest)
	_, rest = nextToken(rest) // PROCID
	_, rest = nextToken(rest) // MSGID
	if len(app) == 0 {
		return SyslogHeader{Msg: line}
	}
	// STRUCTURED-DATA: "-" or one or more "[id param="value"...]", where
	// a value may hold escaped '"', '\' and ']' (RFC 5424, Section 6.3).
	switch {
	case len(rest) > 0 && rest[0] == '-':
		rest = rest[1:]
	case len(rest) > 0 && rest[0] == '[':
		rest = skipStructuredData(rest)
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	rest = bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf")) // BOM, Section 6.4
	h.Time, h.Zoned = t, zoned && !t.IsZero()
	if !(len(host) == 1 && host[0] == '-') {
		h.Host = host
	}
	if !(len(app) == 1 && app[0] == '-') {
		h.Program = app
	}
	h.Msg = rest
	if n := kernelStamp(h.Msg); n > 0 {
		h.Msg = trimSpaceLeft(h.Msg[n:])
	}
	return h
}

func skipStructuredData(b []byte) []byte {
	for len(b) > 0 && b[0] == '[' {
		inQuote := false
		i := 1
		for ; i < len(b); i++ {
			c := b[i]
			if inQuote {
				if c == '\\' {
					i++
				} else if c == '"' {
					inQuote = false
				}
				continue
			}
			if c == '"' {
				inQuote = true
			} else if c == ']' {
				break
			}
		}
		if i >= len(b) {
			return nil
		}
		b = b[i+1:]
	}
	return b
}

// syslogTag reports whether tok is a tag such as "kernel:" or
// "filterlog[123]:", and returns it without pid and colon.
func syslogTag(tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[len(tok)-1] != ':' {
		return nil, false
	}
	name := tok[:len(tok)-1]
	if name[len(name)-1] == ']' {
		i := bytes.LastIndexByte(name, '[')
		if i <= 0 {
			return nil, false
		}
		name = name[:i]
	}
	for _, c := range name {
		if !(isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') {
			return nil, false
		}
	}
	return name, len(name) > 0
}

// isFacilityLevel reports whether tok is a "user.info" word some devices
// write between host and tag.
func isFacilityLevel(tok []byte) bool {
	dot := bytes.IndexByte(tok, '.')
	if dot <= 0 || dot == len(tok)-1 {
		return false
	}
	for i, c := range tok {
		if i != dot && !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// kernelStamp returns the length of a "[ 1234.567890]" kernel uptime stamp
// at the start of b, or 0.
func kernelStamp(b []byte) int {
	if len(b) < 4 || b[0] != '[' {
		return 0
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	digits := 0
	for i < len(b) && isDigit(b[i]) {
		i++
		digits++
	}
	if digits == 0 || i >= len(b) || b[i] != '.' {
		return 0
	}
	i++
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != ']' {
		return 0
	}
	return i + 1
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseBSDTime parses "Mmm dd hh:mm:ss", "Mmm  d hh:mm:ss" or
// "Mmm dd yyyy hh:mm:ss", each with an optional fraction, and returns the
// time and the bytes used.
func parseBSDTime(b []byte, loc *time.Location, ref time.Time) (time.Time, int, bool) {
	if len(b) < 15 || b[3] != ' ' {
		return time.Time{}, 0, false
	}
	month := 0
	for i, m := range months {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			month = i + 1
			break
		}
	}
	if month == 0 {
		return time.Time{}, 0, false
	}
	i := 4
	if b[i] == ' ' {
		i++
	}
	day, n := atoiN(b[i:], 2)
	if n == 0 || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	i += n
	if i >= len(b) || b[i] != ' ' {
		return time.Time{}, 0, false
	}
	i++
	year := -1
	if y, n := atoiN(b[i:], 4); n == 4 && i+n < len(b) && b[i+n] == ' ' {
		year = y
		i += 5
	}
	hh, mm, ss, ns, n, ok := parseClock(b[i:])
	if !ok {
		return time.Time{}, 0, false
	}
	i += n
	if year < 0 {
		if ref.IsZero() {
			ref = time.Now()
		}
		year = ref.In(loc).Year()
		t := time.Date(year, time.Month(month), day, hh, mm, ss, ns, loc)
		if t.After(ref.Add(syslogSlack)) {
			t = time.Date(year-1, time.Month(month), day, hh, mm, ss, ns, loc)
		}
		return t, i, true
	}
	return time.Date(year, time.Month(month), day, hh, mm, ss, ns, loc), i, true
}

// parseClock parses "hh:mm:ss" with an optional ".fraction".
func parseClock(b []byte) (hh, mm, ss, ns, n int, ok bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return
	}
	var n1, n2, n3 int
	hh, n1 = atoiN(b[0:2], 2)
	mm, n2 = atoiN(b[3:5], 2)
	ss, n3 = atoiN(b[6:8], 2)
	if n1 != 2 || n2 != 2 || n3 != 2 || hh > 23 || mm > 59 || ss > 60 {
		return
	}
	n = 8
	if n < len(b) && (b[n] == '.' || b[n] == ',') {
		n++
		scale := 100000000
		for n < len(b) && isDigit(b[n]) {
			ns += int(b[n]-'0') * scale
			scale /= 10
			n++
		}
	}
	return hh, mm, ss, ns, n, true
}

// parseRFC3339 parses "2024-05-01T10:00:00[.frac][Z|+hh:mm|+hhmm]" (a
// space may replace the T) at the start of b and returns the time, whether
// it carried a zone, and the bytes used. Without a zone, loc applies (nil
// means UTC).
func parseRFC3339(b []byte, loc *time.Location) (time.Time, bool, int, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') {
		return time.Time{}, false, 0, false
	}
	year, n1 := atoiN(b[0:4], 4)
	month, n2 := atoiN(b[5:7], 2)
	day, n3 := atoiN(b[8:10], 2)
	if n1 != 4 || n2 != 2 || n3 != 2 || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false, 0, false
	}
	hh, mm, ss, ns, n, ok := parseClock(b[11:])
	if !ok {
		return time.Time{}, false, 0, false
	}
	i := 11 + n
	zoned := false
	switch {
	case i < len(b) && (b[i] == 'Z' || b[i] == 'z'):
		loc, zoned = time.UTC, true
		i++
	case i+4 < len(b) && (b[i] == '+' || b[i] == '-'):
		oh, k1 := atoiN(b[i+1:i+3], 2)
		j := i + 3
		if b[j] == ':' {
			j++
		}
		om, k2 := atoiN(b[j:min(j+2, len(b))], 2)
		if k1 != 2 || k2 != 2 || oh > 23 || om > 59 {
			return time.Time{}, false, 0, false
		}
		off := oh*3600 + om*60
		if b[i] == '-' {
			off = -off
		}
		loc, zoned = fixedZone(off), true
		i = j + 2
	}
	if i < len(b) && b[i] != ' ' {
		return time.Time{}, false, 0, false
	}
	return time.Date(year, time.Month(month), day, hh, mm, ss, ns, loc), zoned, i, true
}

var weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// parseWeekdayTime parses the stamp of "journalctl -o short-full", "Tue
// 2024-12-03 19:01:02 CET", and returns the time, whether its zone is
// known, and the bytes used. journalctl writes the abbreviation of the
// logging host's zone, which does not name one zone the world over (IST,
// CST), so it is trusted only when it is UTC or GMT, a numeric offset
// ("+03", as tzdata writes zones without a name), or the abbreviation loc
// itself has at that time; any other is read in loc like a stamp without a
// zone.
func parseWeekdayTime(b []byte, loc *time.Location) (time.Time, bool, int, bool) {
	known := false
	for _, d := range weekdays {
		if b[0] == d[0] && b[1] == d[1] && b[2] == d[2] {
			known = true
			break
		}
	}
	if !known {
		return time.Time{}, false, 0, false
	}
	t, zoned, n, ok := parseRFC3339(b[4:], loc)
	if !ok {
		return time.Time{}, false, 0, false
	}
	n += 4
	if zoned {
		return t, true, n, true
	}
	zone, _ := nextToken(b[n:])
	if !isZoneAbbrev(zone) {
		return t, false, n, true
	}
	n = offsetIn(b, zone) + len(zone)
	switch {
	case string(zone) == "UTC" || string(zone) == "GMT":
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true, n, true
	case zone[0] == '+' || zone[0] == '-':
		h, _ := atoiN(zone[1:], 2)
		m, _ := atoiN(zone[min(3, len(zone)):], 2)
		off := h*3600 + m*60
		if zone[0] == '-' {
			off = -off
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), fixedZone(off)), true, n, true
	}
	name, _ := t.Zone()
	return t, name == string(zone), n, true
}

// isZoneAbbrev reports whether tok looks like a zone as journalctl writes
// it: two to five capital letters ("CET", "AEDT"), or "+hh" or "+hhmm".
func isZoneAbbrev(tok []byte) bool {
	if len(tok) >= 3 && (tok[0] == '+' || tok[0] == '-') {
		_, n := atoiN(tok[1:], 4)
		return n == len(tok)-1 && (n == 2 || n == 4)
	}
	if len(tok) < 2 || len(tok) > 5 {
		return false
	}
	for _, c := range tok {
		if !isUpper(c) {
			return false
		}
	}
	return true
}

// fixedZone returns a zone at off seconds east of UTC; UTC itself and the
// last zone asked for are reused, so that a log in one zone does not
// allocate per line.
func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if z := lastZone.Load(); z != nil && z.off == off {
		return z.loc
	}
	z := &zoneCache{off: off, loc: time.FixedZone("", off)}
	lastZone.Store(z)
	return z.loc
}

// atoiN parses up to max leading decimal digits of b and returns the value
// and the number of digits read.
func atoiN(b []byte, max int) (int, int) {
	v, n := 0, 0
	for n < len(b) && n < max && isDigit(b[n]) {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

// nextToken returns the text up to the next space and what follows the
// spaces after it.
func nextToken(b []byte) (tok, rest []byte) {
	b = trimSpaceLeft(b)
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil
	}
	return b[:i], trimSpaceLeft(b[i+1:])
}

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// offsetIn returns where sub, a slice of line such as a field of a
// [SyslogHeader], starts in line.
func offsetIn(line, sub []byte) int {
	return cap(line) - cap(sub)
}

// zoneCache is the last fixed zone [fixedZone] made.
type zoneCache struct {
	off int
	loc *time.Location
}

var lastZone atomic.Pointer[zoneCache]
