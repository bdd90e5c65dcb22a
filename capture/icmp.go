package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// icmp matches an ICMP or ICMPv6 destination unreachable to the flow whose
// packet it quotes (RFC 792, RFC 4443 Section 3.1).
func (d *decoder) icmp(p *packet) {
	d.tick(p.t)
	b := p.payload
	if len(b) < 8 {
		return
	}
	typ, code := b[0], b[1]
	var reason Reason
	if p.prot == protoICMP {
		if typ != 3 || code == 4 { // 4: fragmentation needed, not a block
			return
		}
		reason = ICMPUnreachable
		if code == 9 || code == 10 || code == 13 {
			reason = ICMPProhibited
		}
	} else {
		if typ != 1 {
			return
		}
		reason = ICMPUnreachable
		if code == 1 {
			reason = ICMPProhibited
		}
	}
	// The quoted packet: its IP header and at least 8 bytes after it.
	q := packet{n: p.n, t: p.t}
	inner := b[8:]
	var proto uint8
	var rest []byte
	switch {
	case len(inner) >= 20 && inner[0]>>4 == 4:
		ihl := int(inner[0]&0x0f) * 4
		if ihl < 20 || len(inner) < ihl+4 {
			return
		}
		q.src = netip.AddrFrom4([4]byte(inner[12:16]))
		q.dst = netip.AddrFrom4([4]byte(inner[16:20]))
		proto, rest = inner[9], inner[ihl:]
	case len(inner) >= 44 && inner[0]>>4 == 6:
		q.src = netip.AddrFrom16([16]byte(inner[8:24]))
		q.dst = netip.AddrFrom16([16]byte(inner[24:40]))
		proto, rest = inner[6], inner[40:]
	default:
		return
	}
	if proto != protoTCP && proto != protoUDP {
		return
	}
	q.prot = proto
	q.sport = binary.BigEndian.Uint16(rest)
	q.dport = binary.BigEndian.Uint16(rest[2:])
	detail := fmt.Sprintf("ICMP type %d code %d from %s", typ, code, p.src)
	if p.prot == protoICMPv6 {
		detail = fmt.Sprintf("ICMPv6 type %d code %d from %s", typ, code, p.src)
	}
	if proto == protoUDP && q.dport == 53 {
		d.dnsUnreachable(&q, reason, detail)
		return
	}
	if proto == protoUDP && d.quic != nil && d.quic.ICMP(netip.AddrPortFrom(q.src, q.sport), netip.AddrPortFrom(q.dst, q.dport), reason == ICMPProhibited, Packet(p.n)) {
		return
	}
	if proto == protoUDP && q.dport != 443 {
		return
	}
	f, _ := d.lookupFlow(&q, true)
	if f.icmpReason == "" {
		f.icmpReason, f.icmpN, f.icmpDetail = reason, p.n, detail
	}
}

// dnsUnreachable ends a DNS question that an ICMP error answered.
func (d *decoder) dnsUnreachable(q *packet, reason Reason, detail string) {
	client := netip.AddrPortFrom(q.src, q.sport)
	server := netip.AddrPortFrom(q.dst, q.dport)
	for k, pq := range d.dns.pending {
		if k.client != client || k.server != server || k.tcp {
			continue
		}
		delete(d.dns.pending, k)
		o := &d.obs
		*o = Observation{
			Time: pq.t, Input: d.name, Locator: Packet(pq.n), Kind: Lookup,
			Client: client, Server: server, Transport: UDP,
			Host: pq.name, HostSource: SourceDNS,
		}
		o.block(reason, q.n, detail)
		d.emit(o)
		return
	}
}
