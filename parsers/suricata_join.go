package parsers

import (
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// maxEveFlows bounds the flows held until the end of the run, and
// maxEveLookups the DNS queries and version 1 answers waiting for the rest
// of their transaction. Past maxEveFlows the oldest flow whose flow event
// was read is emitted to make room; when none was, and past
// maxEveLookups, events are emitted at once, unjoined, and counted in the
// input's problems.
const (
	maxEveFlows   = 1 << 19
	maxEveLookups = 1 << 18
)

// eveHTTP is one HTTP request of a flow.
type eveHTTP struct {
	input  string
	at     capture.Locator
	t      time.Time
	host   string
	url    string
	method string
	status int
}

// eveFlow is what the events of one flow_id say. It is held to the end of
// the run, not emitted at its flow event: rotated and split outputs put a
// flow's flow event in a file read before its tls or http event
// (eve.json sorts before eve.json-20251203.gz, eve-flow.json before
// eve-tls.json).
type eveFlow struct {
	seq  uint64
	base capture.Observation // the flow event's position and endpoints, else the first event's

	ended bool       // the flow event was read
	end   eveFlowEnd // what it said

	tlsSNI, tlsVersion, issuer string
	tlsInput                   string
	tlsAt                      capture.Locator
	quicSNI                    string
	http                       []*eveHTTP
	alertHTTP                  *eveHTTP // from an alert, used when no http event came

	blocked   string // why the sensor blocked the flow (IPS drop), if it did
	alert     string // the first alert's signature
	alerts    int
	anomaly   string
	anomalies int
}

// eveFlowEnd is what a flow event says of how the flow ended, copied out
// of the line.
type eveFlowEnd struct {
	state, reason string
	tcpFlagsTC    string
	pktsToClient  string
}

func newEveFlowEnd(r *suricataEvent) eveFlowEnd {
	return eveFlowEnd{
		state: string(r.flowState), reason: string(r.flowReason),
		tcpFlagsTC: string(r.tcpFlagsTC), pktsToClient: string(r.pktsToClient),
	}
}

// eveDNSRR is one answer record.
type eveDNSRR struct {
	name, typ, data string
	ttl             time.Duration
}

// eveDNS is a DNS transaction: its query, its answer records, or both.
type eveDNS struct {
	seq      uint64
	o        capture.Observation
	question string
	rcode    string
	rrs      []eveDNSRR
	answered bool
}

// eveDNSKey matches a DNS answer to its query: the client's address and
// port and the DNS id (flow_id is not used: it is missing from some
// exports, and the answer's own flow is the query's anyway).
type eveDNSKey struct {
	client netip.AddrPort
	id     string
}

// eveJoin is the run-wide state of the eve.json reader. It is not safe for
// concurrent use.
type eveJoin struct {
	flows    map[uint64]*eveFlow
	dns      map[eveDNSKey]*eveDNS
	seq      uint64
	overflow int64
	limit    int // maxEveFlows; smaller in tests
	// answers reports whether any DNS answer was seen: only then is an
	// unanswered query a timeout rather than a log without answers.
	answers bool
	// ended lists the held flows whose flow event was read, oldest first
	// from endedAt: when the limit is reached the oldest of them is
	// emitted to make room, as it is the least likely to get more events.
	ended   []uint64
	endedAt int
	// done remembers the last maxEveDone flows emitted before the end of
	// the run, so that a late event of one does not count the connection
	// twice; ring holds them oldest first.
	done map[uint64]struct{}
	ring []uint64
	next int
}

// maxEveDone bounds the finished flows remembered.
const maxEveDone = 1 << 16

// skipEveLate is the skip reason of an event that came after its flow
// was emitted to make room for others.
const skipEveLate Skip = "suricata: event of a flow already emitted to make room for others"

func newEveJoin() *eveJoin {
	return &eveJoin{
		flows: make(map[uint64]*eveFlow), dns: make(map[eveDNSKey]*eveDNS),
		done: make(map[uint64]struct{}), limit: maxEveFlows,
	}
}

// finished records that the flow of id was emitted before the end of the
// run.
func (j *eveJoin) finished(id uint64) {
	if _, ok := j.done[id]; ok {
		return
	}
	if len(j.ring) < maxEveDone {
		j.ring = append(j.ring, id)
	} else {
		delete(j.done, j.ring[j.next])
		j.ring[j.next] = id
		j.next = (j.next + 1) % maxEveDone
	}
	j.done[id] = struct{}{}
}

// add takes one non-DNS event. Events are gathered by flow_id whatever
// their order, the flow event included, and the flow is emitted at the end
// of the run. When the limit is reached the oldest flow whose flow event
// was read is emitted to make room; when every held flow still waits for
// its flow event, an event without room, like one without a flow_id, is
// emitted at once.
func (j *eveJoin) add(id uint64, typ string, r *suricataEvent, o *capture.Observation, emit func(*capture.Observation)) error {
	f := j.flows[id]
	if f == nil {
		if _, late := j.done[id]; late && id != 0 {
			return skipEveLate
		}
		if id != 0 && len(j.flows) >= j.limit {
			j.evict(emit)
		}
		if id == 0 || len(j.flows) >= j.limit {
			if id != 0 {
				j.overflow++
			}
			f = &eveFlow{base: *o}
			f.take(typ, r, o)
			if typ == "flow" {
				f.ended, f.end = true, newEveFlowEnd(r)
			}
			f.emit(emit)
			if typ == "flow" && id != 0 {
				j.finished(id)
			}
			return nil
		}
		j.seq++
		f = &eveFlow{seq: j.seq, base: *o}
		j.flows[id] = f
	}
	f.take(typ, r, o)
	if typ == "flow" && !f.ended {
		f.base = *o
		f.ended, f.end = true, newEveFlowEnd(r)
		j.ended = append(j.ended, id)
	}
	return nil
}

// evict emits the oldest held flow whose flow event was read, if any, and
// forgets it.
func (j *eveJoin) evict(emit func(*capture.Observation)) {
	for j.endedAt < len(j.ended) {
		id := j.ended[j.endedAt]
		j.endedAt++
		if j.endedAt > len(j.ended)/2 && j.endedAt > 1024 {
			// Drop the consumed half so that the list stays as long as
			// the flows it names.
			j.ended = append(j.ended[:0], j.ended[j.endedAt:]...)
			j.endedAt = 0
		}
		f := j.flows[id]
		if f == nil || !f.ended {
			continue
		}
		f.emit(emit)
		delete(j.flows, id)
		j.finished(id)
		return
	}
}

// take adds what one event says to the flow.
func (f *eveFlow) take(typ string, r *suricataEvent, o *capture.Observation) {
	if len(r.tlsSNI) > 0 && f.tlsSNI == "" {
		f.tlsSNI = normalHost(r.tlsSNI)
	}
	if len(r.tlsVersion) > 0 && f.tlsVersion == "" {
		f.tlsVersion = string(r.tlsVersion)
	}
	if len(r.tlsIssuer) > 0 && f.issuer == "" {
		f.issuer = string(r.tlsIssuer)
	}
	if typ == "tls" && f.tlsInput == "" {
		f.tlsInput, f.tlsAt = o.Input, o.Locator
	}
	if len(r.quicSNI) > 0 && f.quicSNI == "" {
		f.quicSNI = normalHost(r.quicSNI)
	}
	if len(r.httpHost) > 0 || len(r.httpURL) > 0 {
		h := &eveHTTP{
			input: o.Input, at: o.Locator, t: o.Time,
			host: string(r.httpHost), url: string(r.httpURL), method: string(r.httpMethod),
		}
		h.status, _ = strconv.Atoi(string(r.httpStatus))
		switch {
		case typ == "http" && len(f.http) < maxZeekRequests:
			f.http = append(f.http, h)
		case typ != "http" && f.alertHTTP == nil:
			f.alertHTTP = h
		}
	}
	switch typ {
	case "alert":
		f.alerts++
		if f.alert == "" {
			f.alert = "alert " + string(r.alertSID) + " " + string(r.alertSignature)
		}
		if string(r.alertAction) == "blocked" && f.blocked == "" {
			f.blocked = "blocked by the sensor: " + f.alert
		}
	case "drop":
		if f.blocked == "" {
			f.blocked = "dropped by the sensor"
		}
	case "anomaly":
		f.anomalies++
		if f.anomaly == "" {
			f.anomaly = strings.TrimSpace("anomaly " + string(r.anomalyType) + " " + string(r.anomalyEvent))
		}
	case "flow":
		if string(r.flowAction) == "drop" && f.blocked == "" {
			f.blocked = "flow dropped by the sensor"
		}
	}
}

// emit builds the flow's observation, with its outcome when its flow
// event was read. The first HTTP request rides on it, each further one is
// its own observation, as a proxy log would give it.
func (f *eveFlow) emit(emit func(*capture.Observation)) {
	o := f.base
	o.Kind = capture.Connection
	var detail []string
	flowSeen := f.ended
	if flowSeen {
		e := &f.end
		o.Outcome, o.Reason = eveFlowOutcome(o.Transport, o.Server.Port(), e, f.tlsVersion != "" || f.hasResponse())
		d := "flow"
		if e.state != "" {
			d += " " + e.state
		}
		if e.reason != "" {
			d += " (" + e.reason + ")"
		}
		if e.tcpFlagsTC != "" {
			d += ", server tcp flags " + e.tcpFlagsTC
		}
		detail = append(detail, d)
	} else {
		o.Outcome, o.Reason = capture.OutcomeUnknown, capture.ReasonNone
	}
	switch {
	case f.quicSNI != "":
		o.Host, o.HostSource = f.quicSNI, capture.SourceQUIC
		o.Transport = capture.QUIC
	case f.tlsSNI != "":
		o.Host, o.HostSource = f.tlsSNI, capture.SourceSNI
		if o.Transport == capture.QUIC {
			o.HostSource = capture.SourceQUIC
		}
	}
	o.Issuer = f.issuer
	if f.tlsSNI != "" || f.tlsVersion != "" {
		d := "tls"
		if f.tlsVersion != "" {
			d += " " + f.tlsVersion
		}
		if flowSeen && f.tlsInput != "" {
			d += " (" + filepath.Base(f.tlsInput) + " " + f.tlsAt.String() + ")"
		}
		detail = append(detail, d)
	}
	reqs := f.http
	if len(reqs) == 0 && f.alertHTTP != nil {
		reqs = []*eveHTTP{f.alertHTTP}
	}
	base := o
	if len(reqs) > 0 {
		detail = append(detail, applyEveHTTP(&o, reqs[0]))
	}
	if f.blocked != "" {
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.FirewallDeny
		detail = append(detail, f.blocked)
	} else if f.alert != "" {
		detail = append(detail, f.alert+andMore(f.alerts))
	}
	if f.anomaly != "" {
		detail = append(detail, f.anomaly+andMore(f.anomalies))
	}
	o.Detail = strings.Join(detail, "; ")
	emit(&o)
	for _, h := range reqs[min(1, len(reqs)):] {
		x := base
		x.Input, x.Locator, x.Time = h.input, h.at, h.t
		x.Detail = applyEveHTTP(&x, h)
		emit(&x)
	}
}

func (f *eveFlow) hasResponse() bool {
	for _, h := range f.http {
		if h.status > 0 {
			return true
		}
	}
	return false
}

// eveFlowOutcome maps a flow event to an outcome:
//
//	TCP, no packet to the client                       blocked no-response
//	TCP, the server's flags hold RST but no SYN        blocked reset (the SYN was refused)
//	TCP, SYN-ACK and RST from the server, and neither  blocked reset
//	a TLS handshake nor an HTTP response was logged
//	TCP, any other answer                              ok
//	UDP to port 443 (QUIC), no packet to the client    blocked no-response
//	other UDP without an answer                        unknown
//	UDP with an answer                                 ok
func eveFlowOutcome(tr capture.Transport, port uint16, e *eveFlowEnd, appDone bool) (capture.Outcome, capture.Reason) {
	toClient, err := strconv.ParseInt(e.pktsToClient, 10, 64)
	if err != nil {
		toClient = -1
	}
	switch tr {
	case capture.TCP:
		if flags, ok := flagsOf(e.tcpFlagsTC); ok {
			const syn, rst = 0x02, 0x04
			switch {
			case flags == 0:
				return capture.OutcomeBlocked, capture.NoResponse
			case flags&rst != 0 && flags&syn == 0:
				return capture.OutcomeBlocked, capture.Reset
			case flags&rst != 0 && !appDone:
				return capture.OutcomeBlocked, capture.Reset
			}
			return capture.OutcomeOK, capture.ReasonNone
		}
		if toClient == 0 {
			return capture.OutcomeBlocked, capture.NoResponse
		}
		if toClient > 0 {
			return capture.OutcomeOK, capture.ReasonNone
		}
	case capture.UDP, capture.QUIC:
		switch {
		case toClient == 0 && port == 443:
			return capture.OutcomeBlocked, capture.NoResponse
		case toClient > 0:
			return capture.OutcomeOK, capture.ReasonNone
		}
	}
	return capture.OutcomeUnknown, capture.ReasonNone
}

// applyEveHTTP takes the host, method and path of an HTTP request. A
// CONNECT names its target; an absolute URL was sent to a proxy, whose
// status then says whether it let the request through.
func applyEveHTTP(o *capture.Observation, h *eveHTTP) string {
	o.Method = h.method
	d := "http " + h.method
	proxied := false
	switch {
	case h.method == "CONNECT":
		target := h.url
		if target == "" {
			target = h.host
		}
		if host, port, err := splitHostPort(target, 443); err == nil {
			o.Host, o.HostSource = host, capture.SourceConnect
			o.Server = netip.AddrPortFrom(netip.Addr{}, port)
		}
		o.Path = ""
		proxied = true
	case strings.Contains(h.url, "://"):
		if u, err := parseURL(h.url); err == nil {
			o.Host, o.HostSource, o.Path = u.host, capture.SourceURL, RedactPath(u.path)
			o.Server = netip.AddrPortFrom(netip.Addr{}, u.port)
		}
		proxied = true
	default:
		o.Path = RedactPath(h.url)
		if o.Host == "" && h.host != "" {
			if host, _, err := splitHostPort(h.host, o.Server.Port()); err == nil && !isAddr(host) {
				o.Host, o.HostSource = host, capture.SourceHTTP
			}
		}
	}
	switch s := h.status; {
	case s == 0:
		d += ", no response logged"
		return d
	case proxied && s == 407:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyAuthRequired
	case proxied && s == 403:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyDenied
	case proxied && s >= 500:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyError
	case o.Outcome != capture.OutcomeBlocked:
		o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
	}
	return d + ", status " + strconv.Itoa(h.status)
}

// addQuery holds a DNS query until its answer.
func (j *eveJoin) addQuery(key eveDNSKey, o *capture.Observation, emit func(*capture.Observation)) {
	if d := j.dns[key]; d != nil {
		if d.question == "" {
			d.question = o.Host
		}
		return
	}
	if len(j.dns) >= maxEveLookups {
		j.overflow++
		emit(o)
		return
	}
	j.seq++
	j.dns[key] = &eveDNS{seq: j.seq, o: *o, question: o.Host}
}

// addAnswer takes a DNS answer. A whole answer (version 2 or 3) is emitted
// at once with its query's name; the records of a version 1 answer, one
// event each, are gathered and emitted at the end of the run.
func (j *eveJoin) addAnswer(key eveDNSKey, d *eveDNS, perRecord bool, emit func(*capture.Observation)) {
	j.answers = true
	q := j.dns[key]
	if !perRecord {
		if q != nil {
			if q.question != "" {
				d.question = q.question
			}
			delete(j.dns, key)
		}
		d.finish(emit)
		return
	}
	if q == nil {
		if len(j.dns) >= maxEveLookups {
			j.overflow++
			d.finish(emit)
			return
		}
		j.seq++
		d.seq = j.seq
		d.answered = true
		j.dns[key] = d
		return
	}
	if !q.answered {
		// The first record: the lookup is located at the answer.
		q.answered = true
		question := q.question
		q.o, q.rcode, q.question = d.o, d.rcode, question
	}
	q.rrs = append(q.rrs, d.rrs...)
}

// finish emits the transaction as one lookup.
func (d *eveDNS) finish(emit func(*capture.Observation)) {
	o := d.o
	o.Kind = capture.Lookup
	o.HostSource = capture.SourceDNS
	o.Host = dnsQuestion(d.question, d.rrs)
	if o.Host == "" {
		return
	}
	o.Outcome, o.Reason = dnsRcodeOutcome([]byte(d.rcode))
	if d.rcode == "" && len(d.rrs) > 0 {
		o.Outcome = capture.OutcomeOK
	}
	o.Detail = d.rcode
	for _, rr := range d.rrs {
		a, ok := parseAddrBytes([]byte(rr.data))
		if !ok || (rr.typ != "A" && rr.typ != "AAAA") {
			continue
		}
		o.Answers = append(o.Answers, a)
		if rr.ttl > o.TTL {
			o.TTL = rr.ttl
		}
	}
	emit(&o)
}

// dnsQuestion returns the name a lookup asked for: q, or when q is the
// target of a CNAME among the records (some exports name the last name of
// the chain), the head of the chain; with no q, the owner of the first
// record that no CNAME points to.
func dnsQuestion(q string, rrs []eveDNSRR) string {
	target := make(map[string]string)
	for _, rr := range rrs {
		if rr.typ == "CNAME" {
			target[normalHost([]byte(rr.data))] = rr.name
		}
	}
	if q == "" {
		for _, rr := range rrs {
			if _, pointed := target[rr.name]; !pointed {
				return rr.name
			}
		}
		if len(rrs) > 0 {
			return rrs[0].name
		}
		return ""
	}
	for i := 0; i < len(rrs); i++ {
		from, ok := target[q]
		if !ok || from == q {
			break
		}
		q = from
	}
	return q
}

// flush emits what waits: gathered version 1 answers, queries that got no
// answer (a timeout when answers are logged at all), and the held flows,
// in the order their first event was read.
func (j *eveJoin) flush(emit func(*capture.Observation)) {
	lookups := make([]*eveDNS, 0, len(j.dns))
	for _, d := range j.dns {
		lookups = append(lookups, d)
	}
	sort.Slice(lookups, func(a, b int) bool { return lookups[a].seq < lookups[b].seq })
	for _, d := range lookups {
		if d.answered {
			d.finish(emit)
			continue
		}
		o := d.o
		o.Kind = capture.Lookup
		if j.answers {
			o.Outcome, o.Reason = capture.OutcomeBlocked, capture.DNSTimeout
			o.Detail = "no answer logged"
		} else {
			o.Outcome = capture.OutcomeUnknown
			o.Detail = "query only: the log holds no DNS answers"
		}
		emit(&o)
	}
	clear(j.dns)

	flows := make([]*eveFlow, 0, len(j.flows))
	for _, f := range j.flows {
		flows = append(flows, f)
	}
	sort.Slice(flows, func(a, b int) bool { return flows[a].seq < flows[b].seq })
	for _, f := range flows {
		f.emit(emit)
	}
	clear(j.flows)
	j.ended, j.endedAt = j.ended[:0], 0
}

// andMore says how many more events of a kind a flow had than the one
// its detail names.
func andMore(n int) string {
	if n <= 1 {
		return ""
	}
	return " (and " + strconv.Itoa(n-1) + " more)"
}
