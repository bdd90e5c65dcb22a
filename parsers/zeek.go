package parsers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// zeek reads the logs of the Zeek network monitor: conn.log, ssl.log,
// dns.log, http.log and x509.log, in the tab-separated form its ASCII
// writer produces (described by the #separator, #fields and #types
// header lines) or as JSON lines. Rotated and gzipped files
// (conn.2024-01-01-00-00-00.log.gz) read the same; concatenated logs with
// several header blocks too.
//
// Records of one connection share its uid across the logs. conn.log gives
// the outcome, ssl.log the TLS server name and handshake result, http.log
// the Host, method and path; they are joined by uid and the connection is
// emitted once, at its conn.log line, when the run ends ([Format.Flush]).
// dns.log records become lookups at once, and x509.log gives the issuer
// of the certificates ssl.log names.
var zeek = &Format{
	Name:   "zeek",
	Title:  "Zeek conn, ssl, dns, http and x509 logs (TSV or JSON lines)",
	Detect: detectZeek,
	Read:   readZeek,
	Flush:  flushZeek,
}

// BUG(zeek): a conn.log record that cannot have TLS or HTTP (an unanswered
// or refused SYN, UDP other than QUIC) is emitted at once; should ssl.log
// or http.log still name its uid, that record becomes a second observation
// of the connection. Zeek writes no such records for these states.

// zeekKind is which Zeek log a record comes from.
type zeekKind uint8

const (
	zeekUnknown zeekKind = iota
	zeekConn
	zeekSSL
	zeekDNS
	zeekHTTP
	zeekX509
	zeekOther // a log this reader does not use (files, weird, notice...)
)

func zeekKindOf(path []byte) zeekKind {
	switch string(path) {
	case "conn":
		return zeekConn
	case "ssl":
		return zeekSSL
	case "dns":
		return zeekDNS
	case "http":
		return zeekHTTP
	case "x509":
		return zeekX509
	case "":
		return zeekUnknown
	}
	return zeekOther
}

// zeekField names the columns the reader uses.
type zeekField uint8

const (
	zfTS zeekField = iota
	zfUID
	zfOrigH
	zfOrigP
	zfRespH
	zfRespP
	zfProto
	zfService
	zfConnState
	zfHistory
	zfRespBytes
	zfVersion
	zfServerName
	zfEstablished
	zfLastAlert
	zfValidation
	zfIssuer
	zfCertFPs
	zfCertFUIDs
	zfQuery
	zfQtypeName
	zfRcodeName
	zfRejected
	zfAnswers
	zfTTLs
	zfMethod
	zfHost
	zfURI
	zfStatusCode
	zfFileID
	zfFingerprint
	zfCertIssuer
	zfPath
	numZeekFields
)

// zeekFieldOf maps a column name to its field; ok is false for columns the
// reader does not use.
func zeekFieldOf(name []byte) (zeekField, bool) {
	switch string(name) {
	case "ts":
		return zfTS, true
	case "uid":
		return zfUID, true
	case "id.orig_h":
		return zfOrigH, true
	case "id.orig_p":
		return zfOrigP, true
	case "id.resp_h":
		return zfRespH, true
	case "id.resp_p":
		return zfRespP, true
	case "proto":
		return zfProto, true
	case "service":
		return zfService, true
	case "conn_state":
		return zfConnState, true
	case "history":
		return zfHistory, true
	case "resp_bytes":
		return zfRespBytes, true
	case "version":
		return zfVersion, true
	case "server_name":
		return zfServerName, true
	case "established":
		return zfEstablished, true
	case "last_alert":
		return zfLastAlert, true
	case "validation_status":
		return zfValidation, true
	case "issuer":
		return zfIssuer, true
	case "cert_chain_fps", "cert_chain_fps[]":
		return zfCertFPs, true
	case "cert_chain_fuids", "cert_chain_fuids[]":
		return zfCertFUIDs, true
	case "query":
		return zfQuery, true
	case "qtype_name":
		return zfQtypeName, true
	case "rcode_name":
		return zfRcodeName, true
	case "rejected":
		return zfRejected, true
	case "answers", "answers[]":
		return zfAnswers, true
	case "TTLs", "TTLs[]":
		return zfTTLs, true
	case "method":
		return zfMethod, true
	case "host":
		return zfHost, true
	case "uri":
		return zfURI, true
	case "status_code":
		return zfStatusCode, true
	case "id":
		return zfFileID, true
	case "fingerprint":
		return zfFingerprint, true
	case "certificate.issuer":
		return zfCertIssuer, true
	case "_path":
		return zfPath, true
	}
	return 0, false
}

// isZeekList reports whether a field holds a Zeek set or vector.
func isZeekList(f zeekField) bool {
	return f == zfAnswers || f == zfTTLs || f == zfCertFPs || f == zfCertFUIDs
}

// emptyValue is a set, non-nil value with no bytes: Zeek's "(empty)".
var emptyValue = []byte{}

// zeekRecord is one log line split into the fields the reader uses. A nil
// value is unset ("-" in TSV, absent in JSON). Values alias the line or the
// reader's scratch buffer and live until the next line.
type zeekRecord struct {
	kind zeekKind
	v    [numZeekFields][]byte

	// lists holds the items of a set or vector read from JSON; TSV keeps
	// the joined text in v and splits it with setSep on demand.
	lists   [numZeekFields][][]byte
	fromJS  bool
	setSep  byte
	scratch []byte
	items   [][]byte
}

func (r *zeekRecord) reset(kind zeekKind, setSep byte, lineLen int) {
	r.kind = kind
	r.v = [numZeekFields][]byte{}
	for i := range r.lists {
		r.lists[i] = r.lists[i][:0]
	}
	r.fromJS = false
	r.setSep = setSep
	// Decoded values are never longer than their escaped form, so one
	// buffer the size of the line never grows and never moves.
	if cap(r.scratch) < lineLen {
		r.scratch = make([]byte, 0, lineLen+lineLen/2)
	}
	r.scratch = r.scratch[:0]
}

// list returns the items of a set or vector field.
func (r *zeekRecord) list(f zeekField) [][]byte {
	if r.fromJS {
		return r.lists[f]
	}
	v := r.v[f]
	r.items = r.items[:0]
	if len(v) == 0 {
		return r.items
	}
	for {
		i := bytes.IndexByte(v, r.setSep)
		item := v
		if i >= 0 {
			item = v[:i]
		}
		if bytes.IndexByte(item, '\\') >= 0 {
			start := len(r.scratch)
			r.scratch = zeekUnescape(r.scratch, item)
			item = r.scratch[start:]
		}
		r.items = append(r.items, item)
		if i < 0 {
			return r.items
		}
		v = v[i+1:]
	}
}

func (r *zeekRecord) str(f zeekField) string { return string(r.v[f]) }

// zeekHeader is the state a TSV header block sets.
type zeekHeader struct {
	sep    byte
	setSep byte
	unset  []byte
	empty  []byte
	path   []byte
	kind   zeekKind
	// col maps a column number to a field, or -1; last is the last
	// column that maps to a field.
	col    []int16
	last   int
	fields bool // a #fields line was read
}

func (h *zeekHeader) init() {
	h.sep, h.setSep = '\t', ','
	h.unset = append(h.unset[:0], '-')
	h.empty = append(h.empty[:0], "(empty)"...)
	h.path = h.path[:0]
	h.kind = zeekUnknown
	h.col = h.col[:0]
	h.fields = false
}

// zeekReader reads one input.
type zeekReader struct {
	name string
	hint zeekKind // from the file name, for JSON lines without _path
	hdr  zeekHeader
	rec  zeekRecord
	js   visitScanner
	obs  capture.Observation
	join *zeekJoin
	emit func(*capture.Observation)
}

// zeekJoinKey keys the run-wide join state in [Options].
var zeekJoinKey = new(Format)

func readZeek(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
	join := opts.State(zeekJoinKey, func() any { return newZeekJoin() }).(*zeekJoin)
	zr := &zeekReader{name: name, hint: zeekHintFromName(name), join: join, emit: emit}
	zr.hdr.init()
	before := join.overflow
	err := eachLine(bufioReader(r), name, st, zr.parseLine)
	if n := join.overflow - before; n > 0 {
		st.Problems = append(st.Problems, capture.Problem{Err: fmt.Sprintf(
			"%s: %d connections emitted without their ssl/http records: more than %d were waiting for a join",
			name, n, join.limit)})
	}
	return err
}

func flushZeek(opts *Options, emit func(*capture.Observation)) {
	if s := opts.State(zeekJoinKey, func() any { return newZeekJoin() }).(*zeekJoin); s != nil {
		s.flush(emit)
	}
}

// bufioReader returns r as a *bufio.Reader, wrapping it only if needed.
func bufioReader(r io.Reader) *bufio.Reader {
	if br, ok := r.(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(r, 256<<10)
}

// eachLine feeds parse the lines of r and counts each in st as
// [LineParser] results are counted: nil is a record, a [Skip] is skipped,
// another error failed. Lines longer than [MaxLineLength] fail without
// stopping the rest.
func eachLine(r *bufio.Reader, name string, st *capture.Stats, parse func(line []byte, at capture.Locator) error) error {
	lr := lineReader{r: r}
	for lr.scan() {
		if lr.cut() {
			st.Skip(string(SkipCutOff))
			continue
		}
		at := capture.Line(lr.n)
		line := bytes.TrimSuffix(lr.line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case lr.size > MaxLineLength:
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: fmt.Errorf("line of %d bytes exceeds the limit of %d", lr.size, MaxLineLength)})
		case len(bytes.TrimSpace(line)) == 0:
			st.Skip(string(SkipBlank))
		default:
			perr := parse(line, at)
			var skip Skip
			switch {
			case perr == nil:
				st.Records++
			case errors.As(perr, &skip):
				st.Skip(string(skip))
			default:
				st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: perr})
			}
		}
	}
	return lr.err()
}

// zeekHintFromName guesses the log from a file name such as
// "conn.2024-01-01-00-00-00.log.gz" or "ssl.log", for JSON lines that do
// not carry a _path.
func zeekHintFromName(name string) zeekKind {
	base := name
	if i := lastSlash(base); i >= 0 {
		base = base[i+1:]
	}
	for i := 0; i < len(base); i++ {
		if base[i] == '.' || base[i] == '_' || base[i] == '-' {
			base = base[:i]
			break
		}
	}
	switch k := zeekKindOf([]byte(base)); k {
	case zeekOther:
		return zeekUnknown
	default:
		return k
	}
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' || s[i] == '\\' {
			return i
		}
	}
	return -1
}

// Skip reasons of Zeek logs.
const (
	skipZeekOtherLog   Skip = "zeek: a log other than conn, ssl, dns, http or x509"
	skipZeekDNSNoQuery Skip = "zeek dns: record without a query name"
	skipZeekDNSLocal   Skip = "zeek dns: multicast or NetBIOS name resolution"
)

func (zr *zeekReader) parseLine(line []byte, at capture.Locator) error {
	if len(line) == 0 {
		return SkipBlank
	}
	switch line[0] {
	case '#':
		return zr.header(line)
	case '{':
		if err := zr.decodeJSON(line); err != nil {
			return err
		}
	default:
		if !zr.hdr.fields {
			return errors.New("zeek: data line before a #fields header")
		}
		zr.decodeTSV(line)
	}
	return zr.record(at)
}

// header reads one line of a TSV header block. A #separator line starts a
// new block (logs are often concatenated).
func (zr *zeekReader) header(line []byte) error {
	h := &zr.hdr
	if bytes.HasPrefix(line, []byte("#separator ")) {
		h.init()
		v := zeekUnescape(nil, bytes.TrimSpace(line[len("#separator "):]))
		if len(v) != 1 {
			return fmt.Errorf("zeek: #separator %q: want a single byte", line[len("#separator "):])
		}
		h.sep = v[0]
		return SkipComment
	}
	key, val, _ := bytes.Cut(line, []byte{h.sep})
	switch string(key) {
	case "#set_separator":
		v := zeekUnescape(nil, val)
		if len(v) != 1 {
			return fmt.Errorf("zeek: #set_separator %q: want a single byte", val)
		}
		h.setSep = v[0]
	case "#empty_field":
		h.empty = append(h.empty[:0], val...)
	case "#unset_field":
		h.unset = append(h.unset[:0], val...)
	case "#path":
		h.path = append(h.path[:0], val...)
		h.kind = zeekKindOf(h.path)
	case "#fields":
		h.col = h.col[:0]
		h.fields = true
		var seen [numZeekFields]bool
		for i := 0; ; i++ {
			name, rest, more := bytes.Cut(val, []byte{h.sep})
			f, ok := zeekFieldOf(name)
			if ok && !seen[f] {
				seen[f] = true
				h.col = append(h.col, int16(f))
			} else {
				h.col = append(h.col, -1)
			}
			if !more {
				break
			}
			val = rest
		}
		h.last = -1
		for i, f := range h.col {
			if f >= 0 {
				h.last = i
			}
		}
		if h.kind == zeekUnknown {
			h.kind = inferZeekKind(&seen)
		}
		if h.sep == '\t' && bytes.Contains(line, []byte(`\t`)) {
			// The header was typed or converted with the separator written
			// out: its records cannot be split into the fields it names.
			return errors.New(`zeek: #fields: names separated by a written-out backslash and t, not by the tab #separator declares`)
		}
	}
	return SkipComment
}

// inferZeekKind names the log from the fields it has, for TSV without a
// #path line and JSON without _path.
func inferZeekKind(has *[numZeekFields]bool) zeekKind {
	switch {
	case has[zfConnState]:
		return zeekConn
	case has[zfQuery] || has[zfRcodeName]:
		return zeekDNS
	case has[zfServerName] || has[zfEstablished] || has[zfValidation]:
		return zeekSSL
	case has[zfMethod] || has[zfStatusCode]:
		return zeekHTTP
	case has[zfCertIssuer] || has[zfFingerprint] && !has[zfUID]:
		return zeekX509
	}
	return zeekUnknown
}

// decodeTSV splits a data line by the header's columns, in one pass over
// its bytes, and stops after the last column the reader uses.
func (zr *zeekReader) decodeTSV(line []byte) {
	h := &zr.hdr
	r := &zr.rec
	r.reset(h.kind, h.setSep, len(line))
	sep := h.sep
	col, start, escaped := 0, 0, false
	last := h.last
	for i := 0; i <= len(line); i++ {
		if i < len(line) {
			c := line[i]
			if c == '\\' {
				escaped = true
			}
			if c != sep {
				continue
			}
		}
		if f := h.col[col]; f >= 0 {
			v := line[start:i]
			switch {
			case len(v) == len(h.unset) && string(v) == string(h.unset):
				// unset: leave nil
			case len(v) == len(h.empty) && string(v) == string(h.empty):
				r.v[f] = emptyValue
			case escaped && !isZeekList(zeekField(f)):
				n := len(r.scratch)
				r.scratch = zeekUnescape(r.scratch, v)
				r.v[f] = r.scratch[n:]
			default:
				r.v[f] = v // lists are split and unescaped by list
			}
		}
		col++
		if col > last {
			return
		}
		start, escaped = i+1, false
	}
}

// decodeJSON reads a JSON line into zr.rec; the log is its _path, else
// the file name's, else the one its fields suggest.
func (zr *zeekReader) decodeJSON(line []byte) error {
	r := &zr.rec
	r.reset(zeekUnknown, ',', len(line))
	r.fromJS = true
	var has [numZeekFields]bool
	err := zr.js.scan(line, func(path []byte, kind jsonKind, raw []byte, esc bool) {
		f, ok := zeekFieldOf(path)
		if !ok || kind == jsonElem || kind == jsonNull {
			return
		}
		v := raw
		if esc {
			start := len(r.scratch)
			r.scratch = jsonUnquote(r.scratch, raw)
			v = r.scratch[start:]
		}
		if kind == jsonTrue {
			v = zeekTrue
		} else if kind == jsonFalse {
			v = zeekFalse
		}
		has[f] = true
		if isZeekList(f) {
			if len(path) > 2 && path[len(path)-1] == ']' {
				r.lists[f] = append(r.lists[f], v)
			}
			return
		}
		if len(v) == 0 {
			v = emptyValue
		}
		r.v[f] = v
	})
	if err != nil {
		return fmt.Errorf("zeek json: %w", err)
	}
	switch {
	case r.v[zfPath] != nil:
		r.kind = zeekKindOf(r.v[zfPath])
	default:
		// The fields decide before the file name: a file named ssl.json
		// may well hold conn.log records.
		if r.kind = inferZeekKind(&has); r.kind == zeekUnknown {
			r.kind = zr.hint
		}
	}
	if r.kind == zeekUnknown {
		// A line of a log that is not named and not recognised.
		r.kind = zeekOther
	}
	return nil
}

var (
	zeekTrue  = []byte("T")
	zeekFalse = []byte("F")
)

// record turns the decoded line into evidence.
func (zr *zeekReader) record(at capture.Locator) error {
	r := &zr.rec
	switch r.kind {
	case zeekConn:
		return zr.conn(at)
	case zeekSSL:
		return zr.ssl(at)
	case zeekDNS:
		return zr.dns(at)
	case zeekHTTP:
		return zr.http(at)
	case zeekX509:
		return zr.x509()
	case zeekUnknown:
		return errors.New("zeek: cannot tell which log the line belongs to (no #path, no known fields)")
	}
	return skipZeekOtherLog
}

// endpoints reads the time and the connection's addresses.
func (zr *zeekReader) endpoints(o *capture.Observation) error {
	r := &zr.rec
	t, err := parseZeekTime(r.v[zfTS])
	if err != nil {
		return err
	}
	o.Time = t
	if r.v[zfRespH] == nil {
		// Without the responder there is no destination to report; a
		// #fields header that names none of the columns gets here.
		if r.v[zfOrigH] == nil {
			return errors.New("no id.orig_h or id.resp_h: the record names no endpoint")
		}
		return errors.New("no id.resp_h: the record names no destination")
	}
	if o.Client, err = addrPortBytes(r.v[zfOrigH], r.v[zfOrigP]); err != nil {
		return fmt.Errorf("id.orig_h: %w", err)
	}
	if o.Server, err = addrPortBytes(r.v[zfRespH], r.v[zfRespP]); err != nil {
		return fmt.Errorf("id.resp_h: %w", err)
	}
	switch string(r.v[zfProto]) {
	case "tcp":
		o.Transport = capture.TCP
	case "udp":
		o.Transport = capture.UDP
	case "icmp":
		o.Transport = capture.ICMP
	}
	return nil
}

// addrPortBytes parses an address and a port given apart, as Zeek and
// Suricata log them; a missing address gives the zero AddrPort.
func addrPortBytes(h, p []byte) (netip.AddrPort, error) {
	if h == nil {
		return netip.AddrPort{}, nil
	}
	a, ok := parseAddrBytes(h)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", h)
	}
	port, ok := parsePort(p)
	if !ok && p != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q is not a number", p)
	}
	return netip.AddrPortFrom(a, port), nil
}

// conn reads a conn.log record.
func (zr *zeekReader) conn(at capture.Locator) error {
	r := &zr.rec
	// o is reused line after line: emit and the join copy what they keep.
	o := &zr.obs
	*o = capture.Observation{Input: zr.name, Locator: at, Kind: capture.Connection}
	if err := zr.endpoints(o); err != nil {
		return fmt.Errorf("zeek conn: %w", err)
	}
	state := r.v[zfConnState]
	history := r.v[zfHistory]
	o.Outcome, o.Reason = zeekConnOutcome(o.Transport, state, history, o.Server.Port())
	if len(history) > 0 {
		o.Detail = "conn_state " + string(state) + " history " + string(history)
	} else {
		o.Detail = "conn_state " + string(state)
	}
	if o.Transport == capture.UDP && o.Server.Port() == 443 || bytes.Contains(r.v[zfService], []byte("quic")) {
		o.Transport = capture.QUIC
	}
	zr.join.addConn(r.v[zfUID], o, zeekNeedsJoin(o.Transport, state, r.v[zfService]), zr.emit)
	return nil
}

// zeekConnOutcome maps a conn.log conn_state to an outcome. The states are
// those of Zeek's conn.log documentation; history letters in upper case are
// the originator's, in lower case the responder's (d: payload data).
//
//	state   Zeek's meaning                                  outcome
//	S0      attempt seen, no reply                          blocked no-response
//	REJ     attempt rejected (RST answered the SYN)         blocked reset
//	RSTOS0  originator sent SYN then RST, no SYN-ACK        blocked no-response
//	SH      originator sent SYN then FIN, no SYN-ACK        blocked no-response
//	RSTRH   responder sent SYN-ACK then RST, no SYN seen    blocked reset
//	RSTR    established, responder aborted                  blocked reset if the responder
//	                                                        sent no data, else ok
//	RSTO    established, originator aborted                 ok (ssl.log may say more)
//	S1      established, not terminated                     ok
//	S2, S3  established, one side's close seen              ok
//	SF      normal establishment and termination            ok
//	SHR     responder sent SYN-ACK then FIN, no SYN seen    unknown (seen midway)
//	OTH     no SYN seen, midstream traffic                  unknown (seen midway)
//
// For UDP, S0 (no reply) to port 443 is an unanswered QUIC Initial: blocked
// no-response; other unanswered UDP is unknown, as many UDP protocols never
// answer. ICMP flows are unknown.
func zeekConnOutcome(tr capture.Transport, state, history []byte, port uint16) (capture.Outcome, capture.Reason) {
	switch tr {
	case capture.UDP:
		switch string(state) {
		case "S0":
			if port == 443 {
				return capture.OutcomeBlocked, capture.NoResponse
			}
			return capture.OutcomeUnknown, capture.ReasonNone
		case "":
			return capture.OutcomeUnknown, capture.ReasonNone
		}
		return capture.OutcomeOK, capture.ReasonNone
	case capture.TCP:
	default:
		return capture.OutcomeUnknown, capture.ReasonNone
	}
	switch string(state) {
	case "S0", "RSTOS0", "SH":
		return capture.OutcomeBlocked, capture.NoResponse
	case "REJ", "RSTRH":
		return capture.OutcomeBlocked, capture.Reset
	case "RSTR":
		if bytes.IndexByte(history, 'd') < 0 {
			return capture.OutcomeBlocked, capture.Reset
		}
		return capture.OutcomeOK, capture.ReasonNone
	case "RSTO", "S1", "S2", "S3", "SF":
		return capture.OutcomeOK, capture.ReasonNone
	}
	return capture.OutcomeUnknown, capture.ReasonNone
}

// zeekNeedsJoin reports whether a conn.log record may have ssl.log or
// http.log records: a TCP connection that was established (or seen
// midway), a QUIC flow, or one whose service names TLS or HTTP. The others
// (an unanswered SYN, a rejected one) are emitted at once.
func zeekNeedsJoin(tr capture.Transport, state, service []byte) bool {
	if bytes.Contains(service, []byte("ssl")) || bytes.Contains(service, []byte("http")) || bytes.Contains(service, []byte("quic")) {
		return true
	}
	switch tr {
	case capture.QUIC:
		return true
	case capture.TCP:
		switch string(state) {
		case "S1", "S2", "S3", "SF", "RSTO", "RSTR", "OTH", "":
			return true
		}
	}
	return false
}

// ssl reads an ssl.log record.
func (zr *zeekReader) ssl(at capture.Locator) error {
	r := &zr.rec
	s := &zeekTLS{input: zr.name, at: at}
	var o capture.Observation
	if err := zr.endpoints(&o); err != nil {
		return fmt.Errorf("zeek ssl: %w", err)
	}
	s.t, s.client, s.server = o.Time, o.Client, o.Server
	s.sni = normalHost(r.v[zfServerName])
	s.version = r.str(zfVersion)
	s.established = bytes.Equal(r.v[zfEstablished], zeekTrue) || bytes.Equal(r.v[zfEstablished], []byte("true"))
	s.alert = r.str(zfLastAlert)
	s.validation = r.str(zfValidation)
	s.issuer = r.str(zfIssuer)
	if l := r.list(zfCertFPs); len(l) > 0 {
		s.cert = string(l[0])
	} else if l := r.list(zfCertFUIDs); len(l) > 0 {
		s.cert = string(l[0])
	}
	zr.join.addTLS(r.v[zfUID], s, zr.emit)
	return nil
}

// http reads an http.log record.
func (zr *zeekReader) http(at capture.Locator) error {
	r := &zr.rec
	h := &zeekHTTPRequest{input: zr.name, at: at}
	var o capture.Observation
	if err := zr.endpoints(&o); err != nil {
		return fmt.Errorf("zeek http: %w", err)
	}
	h.t, h.client, h.server = o.Time, o.Client, o.Server
	h.method = r.str(zfMethod)
	h.host = string(r.v[zfHost])
	h.uri = string(r.v[zfURI])
	if v := r.v[zfStatusCode]; v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 0 || n > 999 {
			return fmt.Errorf("zeek http: status_code %q: not a status", v)
		}
		h.status = n
	}
	if h.method == "" && h.host == "" && h.uri == "" {
		return Skip("zeek http: record without a request")
	}
	zr.join.addHTTP(r.v[zfUID], h, zr.emit)
	return nil
}

// x509 reads an x509.log record: the issuer of a certificate that ssl.log
// names by fingerprint (Zeek 4 and later) or by file id (before).
func (zr *zeekReader) x509() error {
	r := &zr.rec
	issuer := r.v[zfCertIssuer]
	if issuer == nil {
		return Skip("zeek x509: record without certificate.issuer")
	}
	key := r.v[zfFingerprint]
	if key == nil {
		key = r.v[zfFileID]
	}
	if key == nil {
		return Skip("zeek x509: record without fingerprint or id")
	}
	zr.join.addCert(string(key), string(issuer))
	return nil
}

// dns reads a dns.log record into a lookup, emitted at once.
func (zr *zeekReader) dns(at capture.Locator) error {
	r := &zr.rec
	o := &zr.obs
	*o = capture.Observation{Input: zr.name, Locator: at, Kind: capture.Lookup}
	if err := zr.endpoints(o); err != nil {
		return fmt.Errorf("zeek dns: %w", err)
	}
	q := r.v[zfQuery]
	if o.Host = normalHost(q); o.Host == "" {
		return skipZeekDNSNoQuery
	}
	if a := o.Server.Addr(); a.IsMulticast() || o.Server.Port() == 5353 || o.Server.Port() == 5355 || o.Server.Port() == 137 {
		return skipZeekDNSLocal
	}
	o.HostSource = capture.SourceDNS
	rcode := r.v[zfRcodeName]
	o.Outcome, o.Reason = dnsRcodeOutcome(rcode)
	switch {
	case rcode == nil && bytes.Equal(r.v[zfRejected], zeekTrue):
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSRefused
		o.Detail = "rejected"
	case rcode == nil:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSTimeout
		o.Detail = "no response logged"
	default:
		o.Detail = string(rcode)
	}
	if qt := r.v[zfQtypeName]; len(qt) > 0 {
		o.Detail = string(qt) + " " + o.Detail
	}
	answers := r.list(zfAnswers)
	var ttls [][]byte
	if len(answers) > 0 {
		// list reuses one buffer; keep the answers apart from the TTLs.
		answers = append([][]byte(nil), answers...)
		ttls = r.list(zfTTLs)
	}
	for i, a := range answers {
		addr, ok := parseAddrBytes(a)
		if !ok {
			continue // a CNAME target, TXT or other non-address answer
		}
		o.Answers = append(o.Answers, addr)
		if i < len(ttls) {
			if d, ok := parseSeconds(ttls[i]); ok && d > o.TTL {
				o.TTL = d
			}
		}
	}
	zr.emit(o)
	return nil
}

// dnsRcodeOutcome maps a DNS response code name to an outcome.
func dnsRcodeOutcome(rcode []byte) (capture.Outcome, capture.Reason) {
	switch string(rcode) {
	case "NOERROR":
		return capture.OutcomeOK, capture.ReasonNone
	case "NXDOMAIN":
		return capture.OutcomeBlocked, capture.DNSNXDomain
	case "SERVFAIL":
		return capture.OutcomeBlocked, capture.DNSServFail
	case "REFUSED":
		return capture.OutcomeBlocked, capture.DNSRefused
	}
	return capture.OutcomeUnknown, capture.ReasonNone
}

// normalHost lower-cases a host name and drops its trailing dots: the root's
// one, and any a damaged or hostile log adds after it.
func normalHost(b []byte) string {
	b = bytes.TrimRight(b, ".")
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return string(bytes.ToLower(b))
		}
	}
	return string(b)
}

// parseZeekTime parses a Zeek time: seconds since the epoch with a
// fraction (TSV and default JSON), or RFC 3339 (JSON written with ISO 8601
// time stamps). A time masked with X's, as test baselines write it, is
// unknown: the zero time.
func parseZeekTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, nil
	}
	if isMasked(b) {
		return time.Time{}, nil
	}
	if t, ok := parseEpochBytes(b); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("ts %q: not a time", b)
	}
	return t.UTC(), nil
}

func isMasked(b []byte) bool {
	for _, c := range b {
		if c != 'X' && c != '.' && c != '-' && c != ':' && c != 'T' {
			return false
		}
	}
	return true
}

// parseEpochBytes parses seconds since the epoch with an optional
// fraction, without allocating.
func parseEpochBytes(b []byte) (time.Time, bool) {
	var sec, ns int64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		c := b[i]
		if c < '0' || c > '9' || i >= 12 {
			return time.Time{}, false
		}
		sec = sec*10 + int64(c-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	if i < len(b) {
		digits := 0
		for i++; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if digits < 9 {
				ns = ns*10 + int64(c-'0')
				digits++
			}
		}
		for ; digits < 9; digits++ {
			ns *= 10
		}
	}
	return time.Unix(sec, ns).UTC(), true
}

// parseSeconds parses an interval in seconds ("124.000000", "3600").
func parseSeconds(b []byte) (time.Duration, bool) {
	t, ok := parseEpochBytes(b)
	if !ok {
		return 0, false
	}
	return time.Duration(t.UnixNano()), true
}

// parseAddrBytes parses an IPv4 or IPv6 address; dotted IPv4 without
// allocating.
func parseAddrBytes(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(b))
	return a, err == nil
}

// zeekUnescape appends b to dst with Zeek's \xHH escapes decoded.
func zeekUnescape(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if hi, ok := unhex(b[i+2]); ok {
				if lo, ok := unhex(b[i+3]); ok {
					dst = append(dst, hi<<4|lo)
					i += 3
					continue
				}
			}
		}
		dst = append(dst, b[i])
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// detectZeek recognises a TSV header block or JSON lines with Zeek's
// connection fields (ts, uid, id.orig_h).
func detectZeek(_ []byte, lines [][]byte) int {
	score := 0
	var js visitScanner
	for _, l := range lines {
		switch {
		case bytes.HasPrefix(l, []byte("#separator ")):
			score += 50
		case bytes.HasPrefix(l, []byte("#fields")) && bytes.Contains(l, []byte("ts")):
			score += 50
		case len(l) > 0 && l[0] == '{':
			var ts, uid, orig, fp bool
			err := js.scan(l, func(path []byte, _ jsonKind, _ []byte, _ bool) {
				switch string(path) {
				case "ts":
					ts = true
				case "uid":
					uid = true
				case "id.orig_h":
					orig = true
				case "fingerprint", "certificate.issuer":
					fp = true
				}
			})
			if err == nil && ts && (uid && orig || fp) {
				score += 20
			}
		}
	}
	return score
}

// isAddr reports whether host is an IP address literal rather than a name:
// such a host names nothing the address does not already say.
func isAddr(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
