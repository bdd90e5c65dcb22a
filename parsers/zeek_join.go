package parsers

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// maxZeekFlows bounds the connections a run holds back for a join by uid.
// Past it a new connection is emitted at once, without what ssl.log and
// http.log would add, and counted in its input's problems. At about 400
// bytes a connection this is some 200 MB.
const maxZeekFlows = 1 << 19

// maxZeekCerts bounds the certificate issuers kept from x509.log.
const maxZeekCerts = 1 << 16

// maxZeekRequests bounds the HTTP requests kept per connection; later
// requests of a connection are emitted at once.
const maxZeekRequests = 64

// zeekTLS is an ssl.log record.
type zeekTLS struct {
	input          string
	at             capture.Locator
	t              time.Time
	client, server netip.AddrPort
	sni            string
	version        string
	established    bool
	alert          string
	validation     string
	issuer         string
	cert           string // first certificate's fingerprint or file id
}

// zeekHTTPRequest is an http.log record.
type zeekHTTPRequest struct {
	input          string
	at             capture.Locator
	t              time.Time
	client, server netip.AddrPort
	method         string
	host           string
	uri            string
	status         int // 0 when no response was logged
}

// zeekFlow is what the logs say of one uid.
type zeekFlow struct {
	seq     uint64
	server  netip.AddrPort
	hasConn bool
	conn    capture.Observation
	tls     *zeekTLS
	http    []*zeekHTTPRequest
}

// zeekJoin is the run-wide state of the Zeek reader: the connections
// waiting for their ssl.log and http.log records, and the certificate
// issuers of x509.log. It is not safe for concurrent use.
type zeekJoin struct {
	flows    map[string]*zeekFlow
	order    []*zeekFlow // flows in the order their first record was read
	certs    map[string]string
	seq      uint64
	overflow int64
	limit    int // maxZeekFlows; smaller in tests
}

func newZeekJoin() *zeekJoin {
	return &zeekJoin{flows: make(map[string]*zeekFlow), certs: make(map[string]string), limit: maxZeekFlows}
}

// flow returns the held flow of uid, creating it when there is room. A
// record whose server differs from the flow's is not the same connection
// (uids are unique per sensor, not across sensors): it gets nil.
//
// uid aliases the line: the map is indexed with string(uid), which does not
// allocate, and only a new flow copies it.
func (j *zeekJoin) flow(uid []byte, server netip.AddrPort) *zeekFlow {
	if len(uid) == 0 {
		return nil
	}
	if f := j.flows[string(uid)]; f != nil {
		if f.server != server {
			return nil
		}
		return f
	}
	if len(j.flows) >= j.limit {
		j.overflow++
		return nil
	}
	j.seq++
	f := &zeekFlow{seq: j.seq, server: server}
	j.flows[string(uid)] = f
	j.order = append(j.order, f)
	return f
}

// addConn takes a conn.log connection. One that cannot have ssl or http
// records (needsJoin false) and has none waiting is emitted at once.
func (j *zeekJoin) addConn(uid []byte, o *capture.Observation, needsJoin bool, emit func(*capture.Observation)) {
	var f *zeekFlow
	if g := j.flows[string(uid)]; g != nil || needsJoin {
		f = j.flow(uid, o.Server)
	}
	if f == nil || f.hasConn {
		// Nothing to join, no room, or a second conn record of the uid.
		emit(o)
		return
	}
	f.conn, f.hasConn = *o, true
}

func (j *zeekJoin) addTLS(uid []byte, s *zeekTLS, emit func(*capture.Observation)) {
	f := j.flow(uid, s.server)
	if f == nil {
		o := zeekFlow{tls: s}
		o.emit(j, emit)
		return
	}
	if f.tls == nil {
		f.tls = s
	}
}

func (j *zeekJoin) addHTTP(uid []byte, h *zeekHTTPRequest, emit func(*capture.Observation)) {
	f := j.flow(uid, h.server)
	if f == nil || len(f.http) >= maxZeekRequests {
		o := zeekFlow{http: []*zeekHTTPRequest{h}}
		o.emit(j, emit)
		return
	}
	f.http = append(f.http, h)
}

func (j *zeekJoin) addCert(key, issuer string) {
	if _, ok := j.certs[key]; !ok && len(j.certs) >= maxZeekCerts {
		return
	}
	j.certs[key] = issuer
}

// flush emits every held flow in the order its first record was read, and
// empties the table.
func (j *zeekJoin) flush(emit func(*capture.Observation)) {
	for _, f := range j.order {
		f.emit(j, emit)
	}
	clear(j.flows)
	clear(j.order)
	j.order = j.order[:0]
}

// emit builds the observation of one flow: at its conn.log line when there
// is one, else at its ssl.log line, else at its first http.log line. The
// first HTTP request rides on it; each further request of the connection
// is an observation of its own, as a proxy log would give it.
func (f *zeekFlow) emit(j *zeekJoin, emit func(*capture.Observation)) {
	var o capture.Observation
	var first *zeekHTTPRequest
	var rest []*zeekHTTPRequest
	var connect *zeekHTTPRequest
	for _, h := range f.http {
		switch {
		case h.method == "CONNECT" && connect == nil:
			connect = h
		case first == nil:
			first = h
		default:
			rest = append(rest, h)
		}
	}
	switch {
	case f.hasConn:
		o = f.conn
	case f.tls != nil:
		o = capture.Observation{
			Time: f.tls.t, Input: f.tls.input, Locator: f.tls.at, Kind: capture.Connection,
			Client: f.tls.client, Server: f.tls.server, Transport: capture.TCP,
			Outcome: capture.OutcomeUnknown,
		}
	default:
		h := first
		if connect != nil {
			h = connect
		}
		if h == nil {
			return
		}
		o = capture.Observation{
			Time: h.t, Input: h.input, Locator: h.at, Kind: capture.Connection,
			Client: h.client, Server: h.server, Transport: capture.TCP,
			Outcome: capture.OutcomeUnknown,
		}
	}
	// Most flows have one or two parts of detail: keep them on the stack.
	var parts [4]string
	detail := parts[:0]
	if o.Detail != "" {
		detail = append(detail, o.Detail)
	}
	if connect != nil {
		detail = append(detail, applyZeekConnect(&o, connect))
	}
	if f.tls != nil {
		detail = append(detail, applyZeekTLS(&o, f.tls, j.certs, f.hasConn))
	}
	base := o
	if first != nil {
		detail = append(detail, applyZeekHTTP(&o, first, o.Host != ""))
	}
	if len(detail) == 1 {
		o.Detail = detail[0]
	} else {
		o.Detail = strings.Join(detail, "; ")
	}
	emit(&o)

	for _, h := range rest {
		r := base
		r.Input, r.Locator, r.Time = h.input, h.at, h.t
		r.Detail = applyZeekHTTP(&r, h, base.Host != "")
		emit(&r)
	}
}

// applyZeekConnect takes the target and the proxy's answer of a CONNECT.
func applyZeekConnect(o *capture.Observation, h *zeekHTTPRequest) string {
	target := h.uri
	if target == "" {
		target = h.host
	}
	proxy := o.Server
	if host, port, err := splitHostPort(target, 443); err == nil {
		o.Host, o.HostSource = host, capture.SourceConnect
		o.Server = netip.AddrPortFrom(netip.Addr{}, port)
	}
	o.Method = "CONNECT"
	detail := "CONNECT via proxy " + proxy.String()
	switch s := h.status; {
	case s == 0:
		o.Outcome, o.Reason = capture.OutcomeUnknown, capture.ReasonNone
		return detail + ", no answer logged"
	case s == 407:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyAuthRequired
	case s == 403:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyDenied
	case s >= 500:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyError
	case s >= 200 && s < 300:
		o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
	default:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyError
	}
	return detail + ", status " + strconv.Itoa(h.status)
}

// interceptionStatuses are validation_status texts (OpenSSL's wording, as
// Zeek logs them) that mean the chain does not lead to a trusted root: what
// a middlebox presenting its own certificate causes.
var interceptionStatuses = []string{
	"unable to get local issuer certificate",
	"self signed certificate",
	"self-signed certificate",
	"unable to get issuer certificate",
	"certificate signature failure",
}

// interceptionAlerts are TLS alerts a client sends when it does not trust
// the certificate it was shown (RFC 8446, Section 6.2).
var interceptionAlerts = map[string]bool{
	"unknown_ca": true, "bad_certificate": true, "certificate_unknown": true,
}

// applyZeekTLS takes the server name and the handshake result of ssl.log:
//
//	established                                 ok (the client accepted the server)
//	not established, a certificate alert        blocked tls-interception
//	(unknown_ca, bad_certificate, certificate_unknown) or a validation_status
//	that says the chain has no trusted root
//	not established, another alert              blocked tls-alert
//	not established, no alert, conn reset       blocked reset (kept from conn.log)
//	not established, no alert                   blocked closed-early
func applyZeekTLS(o *capture.Observation, s *zeekTLS, certs map[string]string, joined bool) string {
	if s.sni != "" && o.HostSource != capture.SourceConnect {
		o.Host, o.HostSource = s.sni, capture.SourceSNI
		if o.Transport == capture.QUIC {
			o.HostSource = capture.SourceQUIC
		}
	}
	o.Issuer = s.issuer
	if o.Issuer == "" && s.cert != "" {
		o.Issuer = certs[s.cert]
	}
	var b strings.Builder
	b.WriteString("tls")
	if s.version != "" {
		b.WriteString(" " + s.version)
	}
	untrusted := false
	for _, v := range interceptionStatuses {
		if strings.Contains(s.validation, v) {
			untrusted = true
		}
	}
	switch {
	case s.established:
		if o.Reason != capture.ProxyDenied && o.Reason != capture.ProxyAuthRequired && o.Reason != capture.ProxyError {
			o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
		}
		b.WriteString(" established")
	case interceptionAlerts[s.alert] || untrusted:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.TLSInterception
		b.WriteString(" not established")
	case s.alert != "":
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.TLSAlert
		b.WriteString(" not established")
	case o.Outcome == capture.OutcomeBlocked:
		b.WriteString(" not established")
	default:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ClosedEarly
		b.WriteString(" not established")
	}
	if s.alert != "" {
		b.WriteString(", alert " + s.alert)
	}
	if s.validation != "" {
		b.WriteString(", certificate " + s.validation)
	}
	if joined {
		b.WriteString(" (" + filepath.Base(s.input) + " " + s.at.String() + ")")
	}
	return b.String()
}

// applyZeekHTTP takes the method, path and host of an http.log request. A
// request with an absolute URI was made to a proxy, whose status then
// tells whether it let the request through; any other status is the
// server's own answer, so the request got through.
func applyZeekHTTP(o *capture.Observation, h *zeekHTTPRequest, named bool) string {
	o.Method = h.method
	detail := "http " + h.method
	if strings.Contains(h.uri, "://") {
		if u, err := parseURL(h.uri); err == nil {
			o.Host, o.HostSource, o.Path = u.host, capture.SourceURL, RedactPath(u.path)
			o.Server = netip.AddrPortFrom(netip.Addr{}, u.port)
		}
		switch s := h.status; {
		case s == 407:
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyAuthRequired
		case s == 403:
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyDenied
		case s >= 500:
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyError
		case s > 0:
			o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
		}
	} else {
		o.Path = RedactPath(h.uri)
		if !named && h.host != "" {
			if host, _, err := splitHostPort(h.host, o.Server.Port()); err == nil && !isAddr(host) {
				o.Host, o.HostSource = host, capture.SourceHTTP
			}
		}
		if h.status > 0 && o.Outcome == capture.OutcomeUnknown {
			o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
		}
	}
	if h.status > 0 {
		detail += " status " + strconv.Itoa(h.status)
	} else {
		detail += " no response logged"
	}
	return detail
}
