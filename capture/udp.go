package capture

import (
	"errors"
	"fmt"
	"net/netip"
)

// Skip reasons of QUIC client Initials the tracker could not read; their
// flow is still judged by its datagram counts.
const (
	skipQUICCut    = "QUIC Initial cut by snaplen"
	skipQUICUnread = "QUIC Initial that does not decrypt"
)

// udp handles one UDP datagram: DNS on port 53, QUIC (read by the
// [QUICTracker] on any port), other UDP/443 as QUIC attempts. It returns a
// skip reason, or "" when the datagram was used.
func (d *decoder) udp(p *packet) string {
	d.tick(p.t)
	src := netip.AddrPortFrom(p.src, p.sport)
	dst := netip.AddrPortFrom(p.dst, p.dport)
	if p.dport == 53 || p.sport == 53 {
		if p.dport == 53 && (p.sport != 53 || len(p.payload) > 2 && p.payload[2]&0x80 == 0) {
			d.dnsMessage(p, p.payload, true, false, src, dst)
		} else {
			d.dnsMessage(p, p.payload, false, false, dst, src)
		}
		return ""
	}
	if d.quic != nil {
		r, err := d.quic.Datagram(src, dst, p.payload, p.t, Packet(p.n))
		switch {
		case r == QUICUsed:
			return ""
		case r == QUICUnmatched && !errors.Is(err, errQUICTableFull):
			return d.quicUnread(p)
		}
		// A connection the full table could not follow is judged by its
		// datagram counts, as below.
	}
	// Google QUIC, unknown versions, short headers of connections the
	// tracker does not follow, other protocols: on port 443, or on a flow
	// already started, such a datagram counts for its direction.
	f, fromClient := d.lookupFlow(p, p.dport == 443 || p.sport == 443)
	if f != nil {
		f.count(fromClient)
	}
	return ""
}

// count notes one packet of the flow in its direction.
func (f *flow) count(fromClient bool) {
	if fromClient {
		f.clientPkts++
	} else {
		f.serverPkts++
	}
}

// quicUnread handles a QUIC datagram the tracker could not match to a
// connection. A client's Initial that the tracker could not read (cut by
// the snaplen, or not decrypting with the keys of its connection ID) is
// skipped with its reason, and starts a flow that notes it, so that the
// attempt is still reported with the server's answer; later datagrams of
// that flow count on it. Anything else (the server's side of a connection
// whose start the capture missed) is used as before: it names nothing.
func (d *decoder) quicUnread(p *packet) string {
	f, fromClient := d.lookupFlow(p, false)
	if f != nil && !fromClient {
		f.count(false)
		return ""
	}
	// RFC 9000, Section 14.1: a client pads every datagram carrying an
	// Initial to 1200 bytes; the server's short ones are acknowledgements.
	if !isQUICInitial(p.payload) || len(p.payload)+p.cut < 1200 ||
		serverPort(p.sport) && !serverPort(p.dport) {
		if f != nil {
			f.count(fromClient)
		}
		return ""
	}
	if f == nil {
		f, _ = d.lookupFlow(p, true) // oriented from the sender, as checked above
	}
	f.count(true)
	if p.cut > 0 {
		if f.snapN == 0 {
			f.snapN = p.n
		}
		return skipQUICCut
	}
	if f.quicUnreadN == 0 {
		f.quicUnreadN = p.n
	}
	return skipQUICUnread
}

// isQUICInitial reports whether b starts with the long header of an
// Initial packet of a version the tracker reads.
func isQUICInitial(b []byte) bool {
	h, err := parseLongHeader(b)
	return !errors.Is(err, ErrNotQUIC) && h.version != 0 && h.typ == quicInitial
}

// quicDone reports one QUIC connection the tracker finished.
func (d *decoder) quicDone(c *QUICConn) {
	o := &d.obs
	*o = c.Observation()
	o.Input = d.name
	d.nameFromDNS(o)
	d.emit(o)
}

// endUDP judges a UDP/443 flow: a QUIC connection attempt.
func (d *decoder) endUDP(f *flow) {
	o := d.newObservation(f, QUIC)
	t := &f.app.tls
	if t.sni != "" {
		o.Host, o.HostSource = t.sni, SourceQUIC
		o.Locator = Packet(t.helloN)
	}
	switch {
	case f.icmpReason != "" && f.serverPkts == 0:
		o.block(f.icmpReason, f.icmpN, f.icmpDetail)
	case f.serverPkts == 0:
		o.block(NoResponse, f.firstN, "no datagram came back from the server")
	default:
		o.Outcome = OutcomeOK
	}
	switch {
	case f.snapN != 0:
		o.Detail = appendDetail(o.Detail, fmt.Sprintf("packet %d, the client's QUIC Initial, was cut by the capture's snaplen: its server name is not in the capture", f.snapN))
	case f.quicUnreadN != 0:
		o.Detail = appendDetail(o.Detail, fmt.Sprintf("packet %d, the client's QUIC Initial, does not decrypt: no server name", f.quicUnreadN))
	}
	d.nameFromDNS(o)
	d.emitFlow(o)
}
