package capture

import "net/netip"

// udp handles one UDP datagram: DNS on port 53, QUIC on port 443.
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
	case p.dport == 443 || p.sport == 443:
		f, fromClient := d.lookupFlow(p, true)
		if fromClient {
			f.clientPkts++
		} else {
			f.serverPkts++
		}
		d.quicDatagram(f, fromClient, p)
	}
}

// quicDatagram is where QUIC decoding plugs in: it sees every datagram of
// a UDP flow to or from port 443, in capture order, with its direction. A
// decoder that finds the server name in a client Initial sets f.app.tls.sni
// (and helloN, the packet number); endUDP then reports it with source quic.
//
// Until a QUIC decoder is plugged in, UDP/443 flows are judged by their
// datagram counts alone.
func (d *decoder) quicDatagram(f *flow, fromClient bool, p *packet) {}

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
