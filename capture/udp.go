package capture

import "net/netip"

// udp handles one UDP datagram: DNS on port 53, QUIC (read by the
// [QUICTracker] on any port), other UDP/443 as QUIC attempts.
func (d *decoder) udp(p *packet) {
	d.tick(p.t)
	switch {
	case p.dport == 53 || p.sport == 53:
		src := netip.AddrPortFrom(p.src, p.sport)
		dst := netip.AddrPortFrom(p.dst, p.dport)
		if p.dport == 53 && (p.sport != 53 || len(p.payload) > 2 && p.payload[2]&0x80 == 0) {
			d.dnsMessage(p, p.payload, true, false, src, dst)
		} else {
			d.dnsMessage(p, p.payload, false, false, dst, src)
		}
	default:
		src := netip.AddrPortFrom(p.src, p.sport)
		dst := netip.AddrPortFrom(p.dst, p.dport)
		// TODO(quic): a datagram the tracker could not read is passed over
		// silently; its error could be counted once per connection.
		if r, _ := d.quic.Datagram(src, dst, p.payload, p.t, Packet(p.n)); r != QUICNone {
			return
		}
		if p.dport != 443 && p.sport != 443 {
			return
		}
		f, fromClient := d.lookupFlow(p, true)
		if fromClient {
			f.clientPkts++
		} else {
			f.serverPkts++
		}
		d.quicDatagram(f, fromClient, p)
	}
}

// quicDatagram sees the datagrams of a UDP/443 flow that the QUIC tracker
// did not read (Google QUIC, unknown versions, other protocols); such a
// flow is judged by its datagram counts alone.
func (d *decoder) quicDatagram(f *flow, fromClient bool, p *packet) {}

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
	d.nameFromDNS(o)
	d.emitFlow(o)
}
