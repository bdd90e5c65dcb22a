package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// A logFormat is a compiled Squid logformat specification: literal text
// and % codes, as squid.conf declares them, e.g.
//
//	logformat custom %ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %mt
//
// Matching a line against it yields one field per code. Codes the
// observation does not use are read and ignored, so any logformat can be
// declared as long as each code is followed by literal text.
type logFormat struct {
	src  string
	toks []lfToken
}

type lfToken struct {
	lit  []byte // literal text; nil for a code
	ws   bool   // the literal is only white space
	code lfCode
	name string // the code as written, for messages
}

// lfCode is the meaning of a % code for an observation.
type lfCode uint8

const (
	lfIgnored      lfCode = iota
	lfEpoch               // %ts: seconds since the epoch, maybe with a fraction
	lfMillis              // %tu: the milliseconds of %ts
	lfTimeLocal           // %tl, %tg: dd/Mon/yyyy:hh:mm:ss zone
	lfClient              // %>a
	lfClientPort          // %>p
	lfResult              // %Ss: the result code
	lfStatus              // %>Hs, %Hs
	lfStatusServer        // %<Hs: the server's status, used when %>Hs is absent
	lfMethod              // %rm, %>rm
	lfURL                 // %ru, %>ru
	lfPath                // %rp, %>rp
	lfScheme              // %>rs, %rs
	lfDomain              // %>rd, %rd
	lfHostHeader          // %{Host}>h
	lfSNI                 // %ssl::>sni
	lfServer              // %<a
	lfServerPort          // %<p
	lfHierarchy           // %Sh
	lfRequestLine         // %r: "METHOD URL PROTOCOL" (Apache and nginx style)
)

var errLogFormat = errors.New("logformat")

// compileLogFormat compiles a logformat specification. A leading
// "logformat NAME " (the squid.conf directive) is dropped. Errors give the
// column (counted from 1) of the offending code.
func compileLogFormat(spec string) (*logFormat, error) {
	s := strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(s, "logformat "); ok {
		rest = strings.TrimSpace(rest)
		if i := strings.IndexAny(rest, " \t"); i > 0 {
			s = strings.TrimSpace(rest[i:])
		}
	}
	lf := &logFormat{src: s}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			lf.toks = append(lf.toks, lfToken{lit: lit, ws: len(bytes.TrimSpace(lit)) == 0})
			lit = nil
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			lit = append(lit, c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit = append(lit, '%')
			i += 2
			continue
		}
		start := i
		i++
		// Flags, quoting, width and precision: %[-]["'#/[][0-9][.0-9]
		for i < len(s) && strings.IndexByte("-\"'#/[0123456789.", s[i]) >= 0 {
			i++
		}
		arg := ""
		if i < len(s) && s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w %q: column %d: unclosed {", errLogFormat, s, start+1)
			}
			arg = s[i+1 : i+end]
			i += end + 1
		}
		j := i
		if ns := lfNamespace(s[j:]); ns != "" {
			j += len(ns) + 2
		}
		for m := j; j < len(s) && (s[j] == '<' || s[j] == '>') && j-m < 2; {
			j++
		}
		k := j
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] == '_') {
			k++
		}
		if k == j {
			return nil, fmt.Errorf("%w %q: column %d: %% without a code", errLogFormat, s, start+1)
		}
		name := s[i:k]
		i = k
		if i < len(s) && s[i] == '{' { // %>h{Host}, an older spelling
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				arg = s[i+1 : i+end]
				i += end + 1
			}
		}
		if !knownCode(name) {
			return nil, fmt.Errorf("%w %q: column %d: unknown code %s", errLogFormat, s, start+1, s[start:i])
		}
		flush()
		if n := len(lf.toks); n > 0 && lf.toks[n-1].lit == nil {
			return nil, fmt.Errorf("%w %q: column %d: codes %s and %s need text between them", errLogFormat, s, start+1, lf.toks[n-1].name, s[start:i])
		}
		lf.toks = append(lf.toks, lfToken{code: codeMeaning(strings.TrimPrefix(name, "http::"), arg), name: s[start:i]})
	}
	flush()
	has := func(c lfCode) bool {
		for _, t := range lf.toks {
			if t.lit == nil && t.code == c {
				return true
			}
		}
		return false
	}
	if !has(lfURL) && !has(lfRequestLine) && !has(lfDomain) && !has(lfHostHeader) && !has(lfSNI) {
		return nil, fmt.Errorf("%w %q: no code names the destination: want %%ru, %%>rd, %%{Host}>h or %%ssl::>sni", errLogFormat, s)
	}
	return lf, nil
}

// lfNamespaces are the prefixes of Squid's namespaced codes (ssl::>sni,
// icap::tt, adapt::<last_h); the codes of a namespace other than http are
// accepted whatever their name, since Squid adds to them from release to
// release.
var lfNamespaces = map[string]bool{
	"http": true, "ssl": true, "tls": true, "icap": true, "adapt": true,
	"proxy_protocol": true, "transport": true,
}

// lfNamespace returns the namespace s starts with ("ssl" for "ssl::>sni"),
// or "".
func lfNamespace(s string) string {
	i := strings.Index(s, "::")
	if i <= 0 || !lfNamespaces[s[:i]] {
		return ""
	}
	return s[:i]
}

// lfCodes are the logformat codes squid.conf documents (squid 6, "logformat"
// in cf.data.pre), with the Apache and nginx spellings the common and
// combined formats use (a, h, r, s).
var lfCodes = map[string]bool{
	// Connection.
	">a": true, ">A": true, ">p": true, "<a": true, "<A": true, "<p": true,
	"<la": true, "<lp": true, ">la": true, ">lp": true, "la": true, "lp": true,
	"sn": true, ">eui": true, ">qos": true, "<qos": true, ">nfmark": true,
	"<nfmark": true, ">handshake": true,
	// Time.
	"ts": true, "tu": true, "tl": true, "tg": true, "tr": true, "dt": true,
	"tS": true, "busy_time": true, "<tt": true, "<pt": true,
	// Access control and authentication.
	"et": true, "ea": true, "un": true, "ul": true, "ue": true, "ui": true,
	"us": true, "credentials": true,
	// HTTP.
	">h": true, ">ha": true, "<h": true, ">Hs": true, "<Hs": true, "Hs": true,
	"<bs": true, "mt": true, "rm": true, ">rm": true, "<rm": true,
	"ru": true, ">ru": true, "<ru": true, "rs": true, ">rs": true, "<rs": true,
	"rd": true, ">rd": true, "<rd": true, ">rP": true, "<rP": true,
	"rp": true, ">rp": true, "<rp": true, "rv": true, ">rv": true, "<rv": true,
	"st": true, ">st": true, "<st": true, ">sh": true, "<sh": true,
	"Ss": true, "Sh": true,
	// Errors, annotations, transactions.
	"err_code": true, "err_detail": true, "note": true, "master_xaction": true,
	// Apache and nginx spellings.
	"a": true, "h": true, "r": true, "s": true,
}

// knownCode reports whether name, as the tokenizer cut it (with its
// namespace and direction), is a logformat code.
func knownCode(name string) bool {
	if ns := lfNamespace(name); ns != "" {
		if ns != "http" {
			return len(name) > len(ns)+2
		}
		name = name[len(ns)+2:]
	}
	return lfCodes[name]
}

func codeMeaning(name, arg string) lfCode {
	switch name {
	case "ts":
		return lfEpoch
	case "tu":
		return lfMillis
	case "tl", "tg":
		return lfTimeLocal
	case ">a", "a":
		return lfClient
	case ">p":
		return lfClientPort
	case "Ss":
		return lfResult
	case ">Hs", "Hs", "s":
		return lfStatus
	case "<Hs":
		return lfStatusServer
	case "rm", ">rm":
		return lfMethod
	case "ru", ">ru":
		return lfURL
	case "rp", ">rp":
		return lfPath
	case "rs", ">rs":
		return lfScheme
	case "rd", ">rd":
		return lfDomain
	case ">h", "h":
		if strings.EqualFold(arg, "Host") {
			return lfHostHeader
		}
	case "ssl::>sni":
		return lfSNI
	case "<a":
		return lfServer
	case "<p":
		return lfServerPort
	case "Sh":
		return lfHierarchy
	case "r":
		return lfRequestLine
	}
	return lfIgnored
}

// lfMaxTokens bounds the tokens of a logformat, so that a parser keeps its
// fields in a fixed array.
const lfMaxTokens = 128

// match splits line along lf into fields (one per token, literals empty)
// and reports whether the whole format matched.
func (lf *logFormat) match(line []byte, fields *[lfMaxTokens][]byte) bool {
	if len(lf.toks) > lfMaxTokens {
		return false
	}
	pos := 0
	for i, t := range lf.toks {
		if t.lit != nil {
			np, ok := matchLiteral(line, pos, t.lit)
			if !ok {
				return false
			}
			pos = np
			continue
		}
		rest := line[pos:]
		end := len(rest)
		if i+1 < len(lf.toks) {
			next := lf.toks[i+1].lit
			switch {
			case next[0] == ' ' || next[0] == '\t':
				end = indexSpace(rest)
			case next[0] == '"':
				end = indexQuote(rest)
			default:
				end = bytes.IndexByte(rest, next[0])
			}
			if end < 0 {
				return false
			}
		} else if e := indexSpace(rest); e >= 0 {
			end = e
		}
		fields[i] = rest[:end]
		pos += end
	}
	return true
}

// matchLiteral matches lit at line[pos:]; a space in lit matches any run of
// spaces and tabs.
func matchLiteral(line []byte, pos int, lit []byte) (int, bool) {
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if c == ' ' || c == '\t' {
			if pos >= len(line) || (line[pos] != ' ' && line[pos] != '\t') {
				return 0, false
			}
			for pos < len(line) && (line[pos] == ' ' || line[pos] == '\t') {
				pos++
			}
			for i+1 < len(lit) && (lit[i+1] == ' ' || lit[i+1] == '\t') {
				i++
			}
			continue
		}
		if pos >= len(line) || line[pos] != c {
			return 0, false
		}
		pos++
	}
	return pos, true
}

func indexSpace(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return -1
}

// indexQuote returns the index of the first '"' in b not escaped by a
// backslash.
func indexQuote(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// record fills r from the fields of a matched line.
func (lf *logFormat) record(fields *[lfMaxTokens][]byte, r *proxyRecord, loc *time.Location) error {
	var epoch, millis, local, statusServer, domain, hostHeader, sni []byte
	for i, t := range lf.toks {
		if t.lit != nil {
			continue
		}
		v := fields[i]
		switch t.code {
		case lfEpoch:
			epoch = v
		case lfMillis:
			millis = v
		case lfTimeLocal:
			local = v
		case lfClient:
			r.client = v
		case lfClientPort:
			r.clientPort = v
		case lfResult:
			r.code = v
		case lfStatus:
			r.status = v
		case lfStatusServer:
			statusServer = v
		case lfMethod:
			r.method = v
		case lfURL:
			r.url = v
		case lfPath:
			r.path = v
		case lfScheme:
			r.scheme = v
		case lfDomain:
			domain = v
		case lfHostHeader:
			hostHeader = v
		case lfSNI:
			sni = v
		case lfServer:
			r.server = v
		case lfServerPort:
			r.serverPort = v
		case lfRequestLine:
			m, rest, _ := bytes.Cut(bytes.TrimSpace(v), []byte(" "))
			u, _, _ := bytes.Cut(rest, []byte(" "))
			r.method, r.url = m, u
		}
	}
	if len(dash(r.status)) == 0 {
		r.status = statusServer
	}
	// A server address (%<a) is logged once the request was passed on;
	// with a Squid result code, or none, the status is then the server's.
	r.origin = len(dash(r.server)) > 0 &&
		(len(dash(r.code)) == 0 || bytes.HasPrefix(r.code, []byte("TCP_")))
	for _, h := range [][]byte{hostHeader, domain, sni} {
		if h = dash(h); len(h) > 0 {
			r.host = h
			break
		}
	}
	if len(r.url) == 0 && len(r.path) > 0 {
		r.url = r.path
	}
	switch {
	case len(epoch) > 0:
		t, err := parseEpoch(epoch)
		if err != nil {
			return fmt.Errorf("time %q: %w", field(epoch), err)
		}
		if ms, err := atoi(millis); err == nil && ms < 1000 && !bytes.ContainsRune(epoch, '.') {
			t = t.Add(time.Duration(ms) * time.Millisecond)
		}
		r.time = t
	case len(local) > 0:
		t, err := parseCLFTime(local)
		if err != nil {
			rt, rerr := time.Parse(time.RFC3339Nano, string(local))
			if rerr != nil {
				return fmt.Errorf("time %q: %w", field(local), err)
			}
			t = rt.UTC()
		}
		r.time = t
	}
	return nil
}

// monthOf returns the month named by a three-letter English abbreviation.
func monthOf(b []byte) (time.Month, bool) {
	for i, m := range months {
		if len(b) == 3 && b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

var errCLFTime = errors.New("want dd/Mon/yyyy:hh:mm:ss +zone")

// parseCLFTime parses the time of the common log format,
// "12/Sep/2024:12:38:20 +0530", optionally with a fraction after the
// seconds, without allocating. A time without a zone is UTC.
func parseCLFTime(b []byte) (time.Time, error) { return parseCLFTimeIn(b, time.UTC) }

// parseCLFTimeIn is [parseCLFTime] reading a time without a zone in loc.
func parseCLFTimeIn(b []byte, loc *time.Location) (time.Time, error) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, errCLFTime
	}
	day, err1 := atoi(b[0:2])
	mon, ok := monthOf(b[3:6])
	year, err2 := atoi(b[7:11])
	hh, err3 := atoi(b[12:14])
	mm, err4 := atoi(b[15:17])
	ss, err5 := atoi(b[18:20])
	if err1 != nil || !ok || err2 != nil || err3 != nil || err4 != nil || err5 != nil || hh > 23 || mm > 59 || ss > 60 || day < 1 || day > 31 {
		return time.Time{}, errCLFTime
	}
	rest := b[20:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		scale := 100000000
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			ns += int(rest[j]-'0') * scale
			scale /= 10
			j++
		}
		rest = rest[j:]
	}
	off := 0
	rest = bytes.TrimLeft(rest, " ")
	if len(rest) == 5 && (rest[0] == '+' || rest[0] == '-') {
		zh, e1 := atoi(rest[1:3])
		zm, e2 := atoi(rest[3:5])
		if e1 != nil || e2 != nil {
			return time.Time{}, errCLFTime
		}
		off = zh*3600 + zm*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.UTC
	} else if len(rest) != 0 {
		return time.Time{}, errCLFTime
	}
	t := time.Date(year, mon, day, hh, mm, ss, ns, loc)
	return t.Add(-time.Duration(off) * time.Second).UTC(), nil
}

// logFormatParser reads lines of one or more logformats, trying each in
// turn and the last one that matched first.
type logFormatParser struct {
	name    string
	formats []*logFormat
	last    int
	keep    bool
	loc     *time.Location
	fields  [lfMaxTokens][]byte
	rec     proxyRecord
	// native reads native Squid lines mixed among combined ones; only the
	// built-in common and combined formats have it.
	native *squidNativeParser
}

func newLogFormatParser(name string, opts *Options, formats ...*logFormat) *logFormatParser {
	return &logFormatParser{name: name, formats: formats, keep: opts.KeepSecrets, loc: opts.location()}
}

func (p *logFormatParser) ParseLine(line []byte, o *capture.Observation) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return SkipBlank
	}
	if line[0] == '#' {
		return SkipComment
	}
	lf := p.matching(line)
	if lf == nil {
		if isSquidCacheLog(line) {
			return SkipSquidCacheLog
		}
		if p.native != nil {
			var f [squidMaxFields][]byte
			if n := splitFields(line, f[:]); n >= 9 {
				if _, err := parseEpoch(f[0]); err == nil {
					return p.native.ParseLine(line, o)
				}
			}
		}
		return fmt.Errorf("%s: line does not match the logformat %q", p.name, p.formats[0].src)
	}
	r := &p.rec
	r.reset()
	if err := lf.record(&p.fields, r, p.loc); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	if err := r.fill(o, p.keep); err != nil {
		var skip Skip
		if errors.As(err, &skip) {
			return err
		}
		return fmt.Errorf("%s: %w", p.name, err)
	}
	return nil
}

func (p *logFormatParser) matching(line []byte) *logFormat {
	if p.formats[p.last].match(line, &p.fields) {
		return p.formats[p.last]
	}
	for i, lf := range p.formats {
		if i != p.last && lf.match(line, &p.fields) {
			p.last = i
			return lf
		}
	}
	return nil
}

// detectLogFormats scores lines by how many match one of formats and give a
// destination.
func detectLogFormats(lines [][]byte, formats ...*logFormat) int {
	p := &logFormatParser{formats: formats, loc: time.UTC}
	score := 0
	for _, l := range lines {
		var o capture.Observation
		if len(l) == 0 {
			continue
		}
		err := p.ParseLine(l, &o)
		var skip Skip
		switch {
		case err == nil:
			score += 10
		case errors.As(err, &skip) && skip != SkipComment && skip != SkipSquidCacheLog:
			score += 5
		}
	}
	return score
}

func mustLogFormat(spec string) *logFormat {
	lf, err := compileLogFormat(spec)
	if err != nil {
		panic(err)
	}
	return lf
}

// The common and combined logformats of squid.conf, with the result and
// hierarchy codes Squid appends, and without them as Apache and nginx write
// them. The request's protocol is read as one code, so that a request
// Squid never received ("- error:... NONE/0.0") still matches.
var combinedFormats = []*logFormat{
	mustLogFormat(`%>a %[ui %[un [%tl] "%rm %ru %rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh`),
	mustLogFormat(`%>a %[ui %[un [%tl] "%rm %ru %rv" %>Hs %<st %Ss:%Sh`),
	mustLogFormat(`%>a %[ui %[un [%tl] "%rm %ru %rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h"`),
	mustLogFormat(`%>a %[ui %[un [%tl] "%rm %ru %rv" %>Hs %<st`),
}

// squidCombined reads the common and combined log formats, as Squid writes
// them (logformat common or combined, ending with %Ss:%Sh) and as nginx and
// Apache write them when used as forward proxies.
var squidCombined = &Format{
	Name:  "squid-combined",
	Title: "Squid, nginx or Apache common/combined log of a forward proxy",
	Detect: func(_ []byte, lines [][]byte) int {
		return detectLogFormats(lines, combinedFormats...)
	},
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		p := newLogFormatParser("combined", opts, combinedFormats...)
		p.native = &squidNativeParser{opts: opts, keep: opts.KeepSecrets}
		return p
	},
}

// NewSquidLogFormat returns a format reading lines written by the Squid
// logformat spec (squid.conf syntax, with or without the leading
// "logformat NAME"). The error names the offending code and its column.
func NewSquidLogFormat(name, spec string) (*Format, error) {
	lf, err := compileLogFormat(spec)
	if err != nil {
		return nil, err
	}
	return &Format{
		Name:  name,
		Title: "Squid logformat " + lf.src,
		Detect: func(_ []byte, lines [][]byte) int {
			return detectLogFormats(lines, lf)
		},
		Stateless: true,
		NewLine:   func(opts *Options) LineParser { return newLogFormatParser(name, opts, lf) },
	}, nil
}
