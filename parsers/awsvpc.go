package parsers

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// awsVPC reads Amazon VPC Flow Logs: space-separated records, "-" for an
// absent value. The default (version 2) record is
//
//	version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
//
// Custom formats choose and order their own fields; delivery to S3 writes
// them as a header line ("version srcaddr dstaddr ..."), which names the
// columns for the lines after it. Without a header, the default order is
// assumed for 14-field records starting with 2, and other records are read
// by their shape: the first two addresses are source and destination,
// followed by the ports and protocol when three numbers follow, and the
// word ACCEPT or REJECT is the action.
//
// When pkt-srcaddr and pkt-dstaddr are named and differ from srcaddr and
// dstaddr (a NAT gateway, a transit gateway), the packet's own addresses
// are the client and server.
//
// A flow log has one record per direction of a connection, as the network
// interface saw it. Only the records of packets sent are egress: those of
// flow-direction ingress (version 5 and later) are skipped as inbound,
// whether they are connections from outside or the answers of an egress
// flow, whose egress record already gives it. Without flow-direction, a
// record from a port below 1024 to a port of 1024 or above is the answer
// of a connection to that service port and is skipped as a reply; other
// records of both directions stay.
//
// One answer record still matters: a REJECT of the answers of a connection
// its egress record shows ACCEPTed. Security groups are stateful, so that
// is a network ACL that lets the requests out but not the answers back in
// (the ephemeral ports), and the connection never worked. So the ACCEPT
// records of TCP and UDP connections are held for the next vpcWindow
// records and joined with the REJECTs of their answers, found by the
// reversed addresses and ports; a REJECT of answers whose egress record is
// not held stands for the connection on its own.
var awsVPC = &Format{
	Name:   "aws-vpc",
	Title:  "Amazon VPC Flow Logs (default or custom fields)",
	Detect: detectAWSVPC,
	NewLine: func(opts *Options) LineParser {
		return &awsVPCParser{}
	},
}

func detectAWSVPC(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		var f [64][]byte
		n := splitFields(l, f[:])
		if n > len(f) {
			n = len(f)
		}
		if isVPCHeader(f[:n]) {
			score += 20
			continue
		}
		addrs, action, status, eni := 0, false, false, false
		for _, x := range f[:n] {
			switch string(x) {
			case "ACCEPT", "REJECT":
				action = true
			case "OK", "NODATA", "SKIPDATA":
				status = true
			default:
				if bytes.HasPrefix(x, []byte("eni-")) {
					eni = true
				} else if _, ok := parseAddr(x); ok {
					addrs++
				}
			}
		}
		switch {
		case status && (action || eni):
			score += 10
		case eni && addrs >= 2:
			score += 6
		}
	}
	return score
}

// vpcColumns are the column indexes of the fields the parser reads; -1
// when absent.
type vpcColumns struct {
	src, dst, sport, dport, proto, start, action, status int
	pktSrc, pktDst, reason, direction                    int
}

var vpcDefault = vpcColumns{
	src: 3, dst: 4, sport: 5, dport: 6, proto: 7, start: 10, action: 12, status: 13,
	pktSrc: -1, pktDst: -1, reason: -1, direction: -1,
}

type awsVPCParser struct {
	cols    vpcColumns
	hasCols bool
	// held is a ring of the connections whose outcome a record of the
	// other direction may still change, oldest at next once it is full;
	// heldBy finds one by the egress direction's addresses.
	held   []vpcHeld
	next   int
	heldBy map[vpcKey]int32
	input  string // the name of the input, for the observations held
}

// vpcWindow is how many records of connections are held, about 100 bytes
// each: the records of both directions of a connection's aggregation
// interval are written close together, and a record held this long is
// given with the line that pushes it out.
const vpcWindow = 1 << 14

// vpcKey is a connection by its egress direction: addresses, ports and
// protocol, without pointers so that it hashes fast.
type vpcKey struct {
	client, server [16]byte
	cport, sport   uint16
	udp            bool
}

func keyOf(client, server netip.AddrPort, t capture.Transport) vpcKey {
	return vpcKey{client.Addr().As16(), server.Addr().As16(), client.Port(), server.Port(), t == capture.UDP}
}

// vpcHeld is a connection held: what its observation is made of, as the
// egress direction's key, and how its records judged it.
type vpcHeld struct {
	key      vpcKey
	time     time.Time
	line     int64
	accept   string // the detail of its ACCEPT record
	accepted bool   // an egress ACCEPT record of it was read
	rejected bool   // a REJECT record of its answers was read
}

// observation makes the observation of h in o.
func (p *awsVPCParser) observation(h *vpcHeld, o *capture.Observation) {
	tr := capture.TCP
	if h.key.udp {
		tr = capture.UDP
	}
	*o = capture.Observation{
		Input:     p.input,
		Locator:   capture.Line(h.line),
		Time:      h.time,
		Client:    netip.AddrPortFrom(netip.AddrFrom16(h.key.client).Unmap(), h.key.cport),
		Server:    netip.AddrPortFrom(netip.AddrFrom16(h.key.server).Unmap(), h.key.sport),
		Transport: tr,
	}
	switch {
	case h.rejected && h.accepted:
		denied(o, vpcAnswersRejected)
	case h.rejected:
		denied(o, vpcAnswersRejectedAlone)
	default:
		o.Outcome, o.Detail = capture.OutcomeOK, h.accept
	}
}

// End gives the connections held, in the order of their first records.
func (p *awsVPCParser) End(emit func(*capture.Observation)) {
	n := len(p.held)
	var o capture.Observation
	for i := range n {
		p.observation(&p.held[(p.next+i)%n], &o)
		emit(&o)
	}
	p.held, p.next = p.held[:0], 0
	clear(p.heldBy)
}

func (p *awsVPCParser) heldSkip() Skip { return vpcSkipHeld }

// hold holds h, read from the record of o. When the ring is full, the
// oldest connection held goes to o and hold returns nil: the line gives
// that record now. Otherwise it returns vpcSkipHeld.
func (p *awsVPCParser) hold(h vpcHeld, o *capture.Observation) error {
	if p.heldBy == nil {
		p.heldBy = make(map[vpcKey]int32)
		p.input = o.Input
	}
	if len(p.held) < vpcWindow {
		p.heldBy[h.key] = int32(len(p.held))
		p.held = append(p.held, h)
		return vpcSkipHeld
	}
	old := &p.held[p.next]
	delete(p.heldBy, old.key)
	p.observation(old, o)
	*old = h
	p.heldBy[h.key] = int32(p.next)
	p.next = (p.next + 1) % vpcWindow
	return nil
}

// find returns the connection held by k, or nil.
func (p *awsVPCParser) find(k vpcKey) *vpcHeld {
	if i, ok := p.heldBy[k]; ok {
		return &p.held[i]
	}
	return nil
}

// acceptOut holds the egress ACCEPT record in o, or joins it to the
// connection held.
func (p *awsVPCParser) acceptOut(o *capture.Observation) error {
	k := keyOf(o.Client, o.Server, o.Transport)
	if h := p.find(k); h != nil {
		if !h.accepted {
			h.time = o.Time
		}
		h.accepted = true
		return vpcSkipJoined
	}
	return p.hold(vpcHeld{key: k, time: o.Time, line: o.Locator.N, accept: o.Detail, accepted: true}, o)
}

// rejectIn joins the REJECT record of answers in o to the connection it
// answers, or holds the connection when the answers came from a service
// port (below 1024) to an ephemeral one. It returns inbound for any other
// REJECT.
func (p *awsVPCParser) rejectIn(o *capture.Observation, inbound Skip) error {
	k := keyOf(o.Server, o.Client, o.Transport)
	if h := p.find(k); h != nil {
		h.rejected = true
		return vpcSkipJoined
	}
	from, to := o.Client.Port(), o.Server.Port()
	if from == 0 || from >= 1024 || to < 1024 || notEgress(o.Client.Addr()) {
		return inbound
	}
	return p.hold(vpcHeld{key: k, time: o.Time, line: o.Locator.N, rejected: true}, o)
}

// isVPCHeader reports whether f is a header line naming the fields.
func isVPCHeader(f [][]byte) bool {
	hasSrc, hasDst := false, false
	for _, x := range f {
		switch string(x) {
		case "srcaddr":
			hasSrc = true
		case "dstaddr":
			hasDst = true
		}
	}
	return hasSrc && hasDst
}

// Details of the common records, kept as constants so that they cost no
// allocation per record.
const (
	vpcAccept               = "VPC flow log: ACCEPT"
	vpcReject               = "VPC flow log: REJECT by a security group or network ACL"
	vpcAnswersRejected      = "VPC flow log: ACCEPT out, its answers REJECTed in by a network ACL (the ephemeral ports)"
	vpcAnswersRejectedAlone = "VPC flow log: answers REJECTed in by a network ACL (the ephemeral ports); the connection's egress record is not near them in the input"
)

// Skip reasons of the records that are not egress data.
const (
	vpcSkipNoData  Skip = "flow log record without traffic data (NODATA or SKIPDATA)"
	vpcSkipInbound Skip = "inbound: flow-direction ingress"
	vpcSkipReply   Skip = "reply: from a port below 1024 to a port of 1024 or above"
	vpcSkipHeld    Skip = "connection held to join the records of both its directions"
	vpcSkipJoined  Skip = "another record of a connection already counted (its answers, or a later interval)"
)

var errVPCAddr = errors.New("aws-vpc: srcaddr or dstaddr is not an address")

func (p *awsVPCParser) ParseLine(line []byte, o *capture.Observation) error {
	var f [96][]byte
	n := splitFields(line, f[:])
	if n > len(f) {
		return errors.New("aws-vpc: more than 96 fields")
	}
	fs := f[:n]
	if isVPCHeader(fs) {
		p.cols = vpcColumns{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
		for i, x := range fs {
			// S3 headers write "log-status", the API "log_status".
			switch string(bytes.ReplaceAll(x, []byte("-"), []byte("_"))) {
			case "srcaddr":
				p.cols.src = i
			case "dstaddr":
				p.cols.dst = i
			case "srcport":
				p.cols.sport = i
			case "dstport":
				p.cols.dport = i
			case "protocol":
				p.cols.proto = i
			case "start":
				p.cols.start = i
			case "action":
				p.cols.action = i
			case "log_status":
				p.cols.status = i
			case "pkt_srcaddr":
				p.cols.pktSrc = i
			case "pkt_dstaddr":
				p.cols.pktDst = i
			case "reject_reason":
				p.cols.reason = i
			case "flow_direction":
				p.cols.direction = i
			}
		}
		p.hasCols = true
		return SkipComment
	}
	cols := p.cols
	switch {
	case p.hasCols:
	case n == 14 && string(fs[0]) == "2":
		cols = vpcDefault
	default:
		cols = vpcGuess(fs)
	}
	get := func(i int) []byte {
		if i < 0 || i >= n || string(fs[i]) == "-" {
			return nil
		}
		return fs[i]
	}
	if st := string(get(cols.status)); st == "NODATA" || st == "SKIPDATA" {
		return vpcSkipNoData
	}
	srcB, dstB := get(cols.src), get(cols.dst)
	if srcB == nil || dstB == nil {
		return SkipNoAddresses
	}
	src, ok1 := parseAddr(srcB)
	dst, ok2 := parseAddr(dstB)
	if !ok1 || !ok2 {
		return errVPCAddr
	}
	if a, ok := parseAddr(get(cols.pktSrc)); ok {
		src = a
	}
	if a, ok := parseAddr(get(cols.pktDst)); ok {
		dst = a
	}
	sport, _ := parsePort(get(cols.sport))
	dport, _ := parsePort(get(cols.dport))
	o.Client = netip.AddrPortFrom(src, sport)
	o.Server = netip.AddrPortFrom(dst, dport)
	o.Transport = transportOf(get(cols.proto))
	if t, ok := epochTime(get(cols.start)); ok && len(get(cols.start)) > 0 {
		o.Time = t
	}
	dir := get(cols.direction)
	action := string(get(cols.action))
	joinable := (o.Transport == capture.TCP || o.Transport == capture.UDP) && sport != 0 && dport != 0
	var inbound Skip
	switch {
	case string(dir) == "ingress":
		inbound = vpcSkipInbound
	case dir == nil && sport != 0 && sport < 1024 && dport >= 1024:
		inbound = vpcSkipReply
	}
	if inbound != "" {
		if action == "REJECT" && joinable {
			return p.rejectIn(o, inbound)
		}
		return inbound
	}
	switch action {
	case "ACCEPT":
		o.Outcome, o.Detail = capture.OutcomeOK, vpcAccept
		if dir != nil {
			o.Detail = "VPC flow log " + string(dir) + ": ACCEPT"
		}
		if joinable && !notEgress(dst) {
			return p.acceptOut(o)
		}
	case "REJECT":
		detail := vpcReject
		if dir != nil {
			detail = "VPC flow log " + string(dir) + ": REJECT by a security group or network ACL"
		}
		if r := get(cols.reason); r != nil {
			detail += " (" + string(r) + ")"
		}
		denied(o, detail)
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, "VPC flow log"
		if dir != nil {
			o.Detail += " " + string(dir)
		}
	}
	if notEgress(dst) {
		return SkipMulticast
	}
	return nil
}

// vpcGuess finds the columns of a record without header by its shape.
func vpcGuess(f [][]byte) vpcColumns {
	c := vpcColumns{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
	for i, x := range f {
		switch string(x) {
		case "ACCEPT", "REJECT":
			if c.action < 0 {
				c.action = i
			}
			continue
		case "OK", "NODATA", "SKIPDATA":
			if c.status < 0 {
				c.status = i
			}
			continue
		}
		if c.dst < 0 {
			if _, ok := parseAddr(x); ok {
				if c.src < 0 {
					c.src = i
				} else {
					c.dst = i
				}
			}
			continue
		}
		if c.start < 0 && len(x) == 10 && x[0] == '1' {
			if _, n := atoiN(x, 10); n == 10 {
				c.start = i
			}
		}
	}
	if c.dst >= 0 && c.dst+3 < len(f) {
		ok := true
		for _, x := range f[c.dst+1 : c.dst+4] {
			if _, n := atoiN(x, 5); n == 0 || n != len(x) {
				ok = false
			}
		}
		if ok {
			c.sport, c.dport, c.proto = c.dst+1, c.dst+2, c.dst+3
		}
	}
	return c
}
