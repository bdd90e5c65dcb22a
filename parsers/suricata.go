package parsers

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// suricata reads Suricata's eve.json: one JSON event per line. flow events
// give a connection's outcome; tls, quic, http, alert, anomaly and drop
// events of the same flow_id add its name and details; they are joined
// and the connection is emitted once, at its flow event line (or at its
// first event's line when flow events are not logged, at the end of the
// run). dns events become lookups, the query joined with its answer by
// flow_id and DNS id; the three layouts of dns events are read (version
// 1: one event per answer record; version 2: an answers array or grouped
// answers; version 3: queries and answers arrays).
var suricata = &Format{
	Name:   "suricata",
	Title:  "Suricata eve.json (flow, tls, quic, http, dns, alert, anomaly events)",
	Detect: detectEve,
	Read:   readEve,
	Flush:  flushEve,
}

// BUG(suricata): Suricata does not validate certificates, so an
// intercepted TLS connection shows only the middlebox's issuer (kept in
// the evidence), not tls-interception; Zeek's ssl.log says more.

// eveJoinKey keys the run-wide join state in [Options].
var eveJoinKey = new(Format)

// eveRR is one DNS resource record of an answer.
type eveRR struct {
	name, typ, data []byte
	ttl             []byte
}

// suricataEvent is one eve.json line reduced to the keys the reader uses.
// Values alias the line or the scratch buffer and live until the next line.
type suricataEvent struct {
	timestamp, flowID, eventType     []byte
	srcIP, srcPort, destIP, destPort []byte
	proto, appProto                  []byte

	flowState, flowReason, flowAction []byte
	pktsToClient                      []byte
	tcpFlagsTC                        []byte

	tlsSNI, tlsVersion, tlsIssuer []byte
	quicSNI                       []byte
	httpHost, httpURL, httpMethod []byte
	httpStatus                    []byte

	dnsVersion, dnsType, dnsID []byte
	dnsRRName, dnsRRType       []byte
	dnsRcode, dnsRData, dnsTTL []byte
	dnsQueries                 [][]byte
	dnsAnswers                 []eveRR
	dnsGrouped                 [][]byte // addresses of grouped.A and grouped.AAAA

	alertAction, alertSignature, alertSID []byte
	anomalyType, anomalyEvent             []byte

	scratch []byte
}

func (r *suricataEvent) reset(lineLen int) {
	queries, answers, grouped, scratch := r.dnsQueries[:0], r.dnsAnswers[:0], r.dnsGrouped[:0], r.scratch
	*r = suricataEvent{dnsQueries: queries, dnsAnswers: answers, dnsGrouped: grouped}
	if cap(scratch) < lineLen {
		scratch = make([]byte, 0, lineLen+lineLen/2)
	}
	r.scratch = scratch[:0]
}

// decode fills r from one eve.json line.
func (r *suricataEvent) decode(js *visitScanner, line []byte) error {
	r.reset(len(line))
	return js.scan(line, func(path []byte, kind jsonKind, raw []byte, esc bool) {
		if kind == jsonNull {
			return
		}
		v := raw
		if esc {
			start := len(r.scratch)
			r.scratch = jsonUnquote(r.scratch, raw)
			v = r.scratch[start:]
		}
		switch string(path) {
		case "timestamp":
			r.timestamp = v
		case "flow_id":
			r.flowID = v
		case "event_type":
			r.eventType = v
		case "src_ip":
			r.srcIP = v
		case "src_port":
			r.srcPort = v
		case "dest_ip":
			r.destIP = v
		case "dest_port":
			r.destPort = v
		case "proto":
			r.proto = v
		case "app_proto":
			r.appProto = v
		case "flow.state":
			r.flowState = v
		case "flow.reason":
			r.flowReason = v
		case "flow.action":
			r.flowAction = v
		case "flow.pkts_toclient":
			r.pktsToClient = v
		case "tcp.tcp_flags_tc":
			r.tcpFlagsTC = v
		case "tls.sni":
			r.tlsSNI = v
		case "tls.version":
			r.tlsVersion = v
		case "tls.issuerdn":
			r.tlsIssuer = v
		case "quic.sni":
			r.quicSNI = v
		case "http.hostname":
			r.httpHost = v
		case "http.url":
			r.httpURL = v
		case "http.http_method":
			r.httpMethod = v
		case "http.status":
			r.httpStatus = v
		case "dns.version":
			r.dnsVersion = v
		case "dns.type":
			r.dnsType = v
		case "dns.id":
			r.dnsID = v
		case "dns.rrname":
			r.dnsRRName = v
		case "dns.rrtype":
			r.dnsRRType = v
		case "dns.rcode":
			r.dnsRcode = v
		case "dns.rdata":
			r.dnsRData = v
		case "dns.ttl":
			r.dnsTTL = v
		case "dns.queries[].rrname":
			r.dnsQueries = append(r.dnsQueries, v)
		case "dns.answers[]":
			if kind == jsonElem {
				r.dnsAnswers = append(r.dnsAnswers, eveRR{})
			}
		case "dns.answers[].rrname":
			if n := len(r.dnsAnswers); n > 0 {
				r.dnsAnswers[n-1].name = v
			}
		case "dns.answers[].rrtype":
			if n := len(r.dnsAnswers); n > 0 {
				r.dnsAnswers[n-1].typ = v
			}
		case "dns.answers[].rdata":
			if n := len(r.dnsAnswers); n > 0 {
				r.dnsAnswers[n-1].data = v
			}
		case "dns.answers[].ttl":
			if n := len(r.dnsAnswers); n > 0 {
				r.dnsAnswers[n-1].ttl = v
			}
		case "dns.grouped.A[]", "dns.grouped.AAAA[]":
			r.dnsGrouped = append(r.dnsGrouped, v)
		case "alert.action":
			r.alertAction = v
		case "alert.signature":
			r.alertSignature = v
		case "alert.signature_id":
			r.alertSID = v
		case "anomaly.type":
			r.anomalyType = v
		case "anomaly.event":
			r.anomalyEvent = v
		}
	})
}

// eveReader reads one input.
type eveReader struct {
	name string
	rec  suricataEvent
	js   visitScanner
	obs  capture.Observation
	join *eveJoin
	emit func(*capture.Observation)
}

func readEve(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
	join := opts.State(eveJoinKey, func() any { return newEveJoin() }).(*eveJoin)
	er := &eveReader{name: name, join: join, emit: emit}
	before := join.overflow
	err := eachLine(bufioReader(r), name, st, er.parseLine)
	if n := join.overflow - before; n > 0 {
		st.Problems = append(st.Problems, capture.Problem{Err: fmt.Sprintf(
			"%s: %d events emitted without the events they join with: more than %d flows or %d DNS transactions were waiting",
			name, n, maxEveFlows, maxEveLookups)})
	}
	return err
}

func flushEve(opts *Options, emit func(*capture.Observation)) {
	opts.State(eveJoinKey, func() any { return newEveJoin() }).(*eveJoin).flush(emit)
}

// Skip reasons of eve.json.
const (
	skipEveOther    Skip = "suricata: an event type that names no destination (stats, fileinfo, netflow...)"
	skipEveDNSLocal Skip = "suricata dns: multicast or NetBIOS name resolution"
	skipEveNoName   Skip = "suricata dns: event without a name"
)

func (er *eveReader) parseLine(line []byte, at capture.Locator) error {
	r := &er.rec
	if err := r.decode(&er.js, line); err != nil {
		return fmt.Errorf("suricata: %w", err)
	}
	if len(r.eventType) == 0 {
		return errors.New("suricata: no event_type")
	}
	switch string(r.eventType) {
	case "flow", "tls", "quic", "http", "alert", "anomaly", "drop":
	case "dns":
		return er.dns(at)
	default:
		return skipEveOther
	}
	// o is reused line after line: emit and the join copy what they keep.
	o := &er.obs
	*o = capture.Observation{Input: er.name, Locator: at, Kind: capture.Connection}
	if err := er.endpoints(o, false); err != nil {
		return err
	}
	id, _ := strconv.ParseUint(string(r.flowID), 10, 64)
	return er.join.add(id, string(r.eventType), r, o, er.emit)
}

// endpoints reads the time, addresses and transport of an event. For a
// DNS answer (reversed) the source is the server.
func (er *eveReader) endpoints(o *capture.Observation, reversed bool) error {
	r := &er.rec
	if len(r.timestamp) > 0 {
		t, err := parseEveTime(r.timestamp)
		if err != nil {
			return err
		}
		o.Time = t
	}
	src, err := addrPortBytes(r.srcIP, r.srcPort)
	if err != nil {
		return fmt.Errorf("suricata: src_ip: %w", err)
	}
	dst, err := addrPortBytes(r.destIP, r.destPort)
	if err != nil {
		return fmt.Errorf("suricata: dest_ip: %w", err)
	}
	o.Client, o.Server = src, dst
	if reversed {
		o.Client, o.Server = dst, src
	}
	switch string(r.proto) {
	case "TCP", "tcp", "006", "6":
		o.Transport = capture.TCP
	case "UDP", "udp", "017", "17":
		o.Transport = capture.UDP
		if string(r.appProto) == "quic" || len(r.quicSNI) > 0 {
			o.Transport = capture.QUIC
		}
	case "ICMP", "IPv6-ICMP", "icmp", "001", "1", "058", "58":
		o.Transport = capture.ICMP
	}
	return nil
}

// parseEveTime parses Suricata's time stamps: RFC 3339 with the zone
// written without a colon (2022-07-12T06:22:33.415742+0000).
func parseEveTime(b []byte) (time.Time, error) {
	s := string(b)
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("suricata: timestamp %q: not a time", b)
}

// dns reads a dns event: a query is held until its answer comes (or the
// run ends); an answer becomes a lookup.
func (er *eveReader) dns(at capture.Locator) error {
	r := &er.rec
	typ := string(r.dnsType)
	answer := typ == "answer" || typ == "response"
	o := &er.obs
	*o = capture.Observation{Input: er.name, Locator: at, Kind: capture.Lookup, HostSource: capture.SourceDNS}
	if err := er.endpoints(o, answer); err != nil {
		return err
	}
	if a := o.Server.Addr(); a.IsMulticast() || o.Server.Port() == 5353 || o.Server.Port() == 5355 || o.Server.Port() == 137 {
		return skipEveDNSLocal
	}
	q := r.dnsRRName
	if len(r.dnsQueries) > 0 {
		q = r.dnsQueries[0]
	}
	key := eveDNSKey{client: o.Client, id: string(r.dnsID)}
	switch {
	case typ == "query" || typ == "request":
		if o.Host = normalHost(q); o.Host == "" {
			return skipEveNoName
		}
		o.Outcome = capture.OutcomeUnknown
		er.join.addQuery(key, o, er.emit)
		return nil
	case !answer:
		return Skip("suricata dns: event of type " + strconv.Quote(typ))
	}
	d := &eveDNS{o: *o, rcode: string(r.dnsRcode)}
	if len(q) > 0 {
		d.question = normalHost(q)
	}
	perRecord := len(r.dnsAnswers) == 0 && len(r.dnsGrouped) == 0 && len(r.dnsQueries) == 0 &&
		(len(r.dnsRData) > 0 || len(r.dnsTTL) > 0) && len(r.dnsVersion) == 0
	if perRecord {
		// Version 1: this event is one record; its rrname is the record's
		// owner, not necessarily the question.
		d.question = ""
		d.rrs = append(d.rrs, eveDNSRR{name: normalHost(r.dnsRRName), typ: string(r.dnsRRType), data: string(r.dnsRData), ttl: ttlOf(r.dnsTTL)})
	}
	for _, a := range r.dnsAnswers {
		d.rrs = append(d.rrs, eveDNSRR{name: normalHost(a.name), typ: string(a.typ), data: string(a.data), ttl: ttlOf(a.ttl)})
	}
	for _, g := range r.dnsGrouped {
		if len(r.dnsAnswers) == 0 {
			d.rrs = append(d.rrs, eveDNSRR{typ: "A", data: string(g)})
		}
	}
	if d.question == "" && !perRecord {
		if len(d.rrs) == 0 {
			return skipEveNoName
		}
		d.question = d.rrs[0].name
	}
	er.join.addAnswer(key, d, perRecord, er.emit)
	return nil
}

func ttlOf(b []byte) time.Duration {
	d, _ := parseSeconds(b)
	return d
}

// detectEve recognises eve.json lines: JSON objects with a top-level
// event_type and timestamp, and the flow_id or src_ip of a network event.
// Events wrapped in another document (a cloud firewall's "event" member)
// are not eve.json at the top level and score nothing.
func detectEve(_ []byte, lines [][]byte) int {
	score := 0
	var js visitScanner
	for _, l := range lines {
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		var typ, ts, flow bool
		err := js.scan(l, func(path []byte, _ jsonKind, _ []byte, _ bool) {
			switch string(path) {
			case "event_type":
				typ = true
			case "timestamp":
				ts = true
			case "flow_id", "src_ip":
				flow = true
			}
		})
		if err == nil && typ && (ts || flow) {
			score += 20
		}
	}
	return score
}

// flagsOf parses a hex TCP flags string ("1b").
func flagsOf(b string) (byte, bool) {
	if len(b) == 0 || len(b) > 2 {
		return 0, false
	}
	n, err := strconv.ParseUint(b, 16, 8)
	return byte(n), err == nil
}
