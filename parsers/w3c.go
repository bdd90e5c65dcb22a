package parsers

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// w3c reads W3C extended log files, whose "#Fields:" directive names the
// columns: Symantec/Blue Coat ProxySG access logs (ELFF), other proxies
// writing that form, and the Windows Firewall log. Columns are found by
// name, so any order and any extra columns are fine; a directive that
// reappears midway (a restart, a changed format) takes effect from there.
// Values holding spaces are quoted; "-" is an empty value. Times are UTC
// unless a "#Time Format: Local" directive says otherwise.
var w3c = &Format{
	Name:    "w3c",
	Title:   "W3C extended log (#Fields:): ProxySG ELFF, Windows Firewall",
	Detect:  detectW3C,
	NewLine: func(opts *Options) LineParser { return &w3cParser{opts: opts, keep: opts.KeepSecrets} },
}

func detectW3C(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		switch {
		case bytes.HasPrefix(l, []byte("#Fields:")):
			score += 50
		case bytes.HasPrefix(l, []byte("#Software:")), bytes.HasPrefix(l, []byte("#Version:")):
			score += 5
		}
	}
	return score
}

// w3cColumn is what a column means for an observation.
type w3cColumn uint8

const (
	wIgnore w3cColumn = iota
	wDate
	wTime
	wClient
	wClientPort
	wMethod
	wURL
	wScheme
	wHost
	wPort
	wPath
	wQuery
	wStatus
	wAction
	wFilter
	wException
	wServer
	wServerPort
	wProtocol
	wFwAction
	wSrc
	wDst
	wSrcPort
	wDstPort
	wDirection
	wColumns // the number of meanings
)

// w3cNames maps column names to their meaning. Later names in a row of
// synonyms win only when the earlier is absent (see w3cParser.header).
var w3cNames = map[string]w3cColumn{
	"date": wDate, "time": wTime,
	"c-ip": wClient, "c-port": wClientPort, "x-c-port": wClientPort,
	"cs-method": wMethod,
	"cs-uri":    wURL, "cs-url": wURL,
	"cs-uri-scheme": wScheme,
	"cs-host":       wHost, "cs(host)": wHost, "r-host": wHost, "x-cs-host": wHost,
	"cs-uri-port": wPort, "r-port": wPort,
	"cs-uri-path": wPath, "cs-uri-stem": wPath,
	"cs-uri-query":     wQuery,
	"sc-status":        wStatus,
	"s-action":         wAction,
	"sc-filter-result": wFilter,
	"x-exception-id":   wException,
	"s-supplier-ip":    wServer, "r-ip": wServer, "s-supplier-name": wIgnore,
	"protocol": wProtocol, "action": wFwAction,
	"src-ip": wSrc, "dst-ip": wDst, "src-port": wSrcPort, "dst-port": wDstPort,
	"path": wDirection,
}

type w3cParser struct {
	opts *Options
	keep bool
	loc  *time.Location
	cols [wColumns]int // column index of each meaning, -1 when absent
	n    int           // columns named by #Fields; 0 before the directive
	vals [][]byte
	rec  proxyRecord
}

func (p *w3cParser) ParseLine(line []byte, o *capture.Observation) error {
	if len(line) == 0 {
		return SkipBlank
	}
	if line[0] == '#' {
		p.directive(line)
		return SkipComment
	}
	if p.n == 0 {
		return fmt.Errorf("w3c: record before any #Fields: directive")
	}
	p.vals = splitDelimited(line, ' ', p.vals[:0])
	get := func(c w3cColumn) []byte {
		if i := p.cols[c]; i >= 0 && i < len(p.vals) {
			return dash(p.vals[i])
		}
		return nil
	}

	t, err := w3cTime(get(wDate), get(wTime), p.loc)
	if err != nil {
		return fmt.Errorf("w3c: %w", err)
	}
	if act := get(wFwAction); len(act) > 0 || p.cols[wSrc] >= 0 {
		return p.firewall(o, t, get)
	}

	r := &p.rec
	r.reset()
	r.time = t
	r.client, r.clientPort = get(wClient), get(wClientPort)
	r.method, r.url, r.scheme = get(wMethod), get(wURL), get(wScheme)
	r.host, r.port, r.path, r.query = get(wHost), get(wPort), get(wPath), get(wQuery)
	r.status, r.code, r.server = get(wStatus), get(wAction), get(wServer)
	if len(r.url) > 0 && len(r.host) > 0 && r.url[0] == '/' {
		r.path, r.url = r.url, nil
	}
	if r.url == nil && len(r.path) == 0 && len(r.host) > 0 {
		r.path = []byte("/")
	}
	if bytes.EqualFold(r.method, []byte("unknown")) && (bytes.EqualFold(r.scheme, []byte("ssl")) || bytes.EqualFold(r.scheme, []byte("tcp"))) {
		r.method = []byte("CONNECT") // an intercepted or tunnelled TLS connection
	}
	if bytes.EqualFold(r.scheme, []byte("tcp")) && bytes.Equal(r.method, []byte("CONNECT")) {
		r.url = nil
	}
	// ProxySG logs the supplier it fetched from, and "-" when it answered
	// itself, so a supplier means the status is the server's.
	r.origin = len(r.server) > 0 && !bytes.Equal(r.server, []byte("0.0.0.0"))
	if bytes.EqualFold(get(wFilter), []byte("DENIED")) {
		r.denied = true
	}
	if ex := get(wException); len(ex) > 0 {
		r.rule = ex
		if bytes.HasPrefix(ex, []byte("policy_")) || bytes.Contains(ex, []byte("denied")) {
			r.denied = true
		}
	}
	if err := r.fill(o, p.keep); err != nil {
		if _, ok := err.(Skip); ok {
			return err
		}
		return fmt.Errorf("w3c: %w", err)
	}
	if o.Outcome == capture.OutcomeUnknown && (bytes.Equal(r.code, []byte("TUNNELED")) || bytes.EqualFold(get(wFilter), []byte("OBSERVED"))) {
		o.Outcome = capture.OutcomeOK // a tunnel logs status 0 when it closes
		o.Detail = strings.TrimSuffix(o.Detail, " (aborted before an answer)")
	}
	return nil
}

// firewall reads a Windows Firewall record.
func (p *w3cParser) firewall(o *capture.Observation, t time.Time, get func(w3cColumn) []byte) error {
	if dir := get(wDirection); bytes.EqualFold(dir, []byte("RECEIVE")) {
		return SkipInboundTraffic
	}
	src, err := netip.ParseAddr(string(get(wSrc)))
	if err != nil {
		return fmt.Errorf("w3c: src-ip %q: not an address", field(get(wSrc)))
	}
	dst, err := netip.ParseAddr(string(get(wDst)))
	if err != nil {
		return fmt.Errorf("w3c: dst-ip %q: not an address", field(get(wDst)))
	}
	sp, _ := atoi(get(wSrcPort))
	dp, _ := atoi(get(wDstPort))
	o.Time = t
	o.Client = netip.AddrPortFrom(src, uint16(sp))
	o.Server = netip.AddrPortFrom(dst, uint16(dp))
	switch proto := string(get(wProtocol)); proto {
	case "TCP":
		o.Transport = capture.TCP
	case "UDP":
		o.Transport = capture.UDP
	case "ICMP", "ICMPv6":
		o.Transport = capture.ICMP
	}
	act := get(wFwAction)
	o.Detail = "windows firewall " + string(act)
	switch {
	case bytes.EqualFold(act, []byte("DROP")):
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.FirewallDeny
	case bytes.EqualFold(act, []byte("ALLOW")):
		o.Outcome = capture.OutcomeOK
	default:
		return Skip("windows firewall record that is neither ALLOW nor DROP")
	}
	return nil
}

// SkipInboundTraffic is the skip of a record of traffic coming in, which says
// nothing about egress.
const SkipInboundTraffic Skip = "inbound traffic"

// directive applies a "#Fields:" or "#Time Format:" line.
func (p *w3cParser) directive(line []byte) {
	switch {
	case bytes.HasPrefix(line, []byte("#Fields:")):
		for i := range p.cols {
			p.cols[i] = -1
		}
		names := strings.Fields(string(line[len("#Fields:"):]))
		p.n = len(names)
		for i, n := range names {
			c, ok := w3cNames[strings.ToLower(n)]
			if ok && c != wIgnore && p.cols[c] < 0 {
				p.cols[c] = i
			}
		}
		if p.loc == nil {
			p.loc = time.UTC
		}
	case bytes.HasPrefix(line, []byte("#Time Format:")):
		if bytes.Contains(bytes.ToLower(line), []byte("local")) {
			p.loc = p.opts.location()
		} else {
			p.loc = time.UTC
		}
	}
}

// w3cTime parses "2024-03-22" and "16:16:01" (seconds may have a fraction).
func w3cTime(date, clock []byte, loc *time.Location) (time.Time, error) {
	if len(date) == 0 && len(clock) == 0 {
		return time.Time{}, nil
	}
	if len(date) != 10 || date[4] != '-' || date[7] != '-' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, fmt.Errorf("date and time %q %q: want YYYY-MM-DD hh:mm:ss", field(date), field(clock))
	}
	y, e1 := atoi(date[0:4])
	mo, e2 := atoi(date[5:7])
	d, e3 := atoi(date[8:10])
	h, e4 := atoi(clock[0:2])
	mi, e5 := atoi(clock[3:5])
	s, e6 := atoi(clock[6:8])
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil || e5 != nil || e6 != nil || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, fmt.Errorf("date and time %q %q: want YYYY-MM-DD hh:mm:ss", field(date), field(clock))
	}
	ns := 0
	if len(clock) > 9 && clock[8] == '.' {
		scale := 100000000
		for _, c := range clock[9:] {
			if c < '0' || c > '9' || scale == 0 {
				break
			}
			ns += int(c-'0') * scale
			scale /= 10
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc).UTC(), nil
}
