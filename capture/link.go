package capture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers.
const (
	protoICMP   = 1
	protoIPIP   = 4
	protoTCP    = 6
	protoUDP    = 17
	protoIPv6   = 41
	protoGRE    = 47
	protoICMPv6 = 58
)

// Skip reasons of packets that carry nothing egress-audit reads.
const (
	skipNotIP       = "not IP"
	skipLinkType    = "link type not supported"
	skipTransport   = "IP protocol other than TCP, UDP, ICMP"
	skipSnaplen     = "cut by snaplen before the transport header"
	skipFragment    = "IP fragment waiting for the rest of its datagram"
	skipFragDropped = "IP fragment dropped (reassembly table full)"
)

// packet is the decoded headers of one packet. It lives on the stack and
// its slices alias the reader's buffer, so nothing in it survives the
// packet.
type packet struct {
	n    int64
	t    time.Time
	src  netip.Addr
	dst  netip.Addr
	prot uint8

	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	payload      []byte
	// cut is how many bytes of the transport payload the snaplen removed.
	cut int
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// maxEncap bounds nested encapsulations (VLAN stacks, IP in IP, GRE).
const maxEncap = 8

// packet decodes one captured packet of the given link type.
func (d *decoder) packet(lt layers.LinkType, data []byte, capLen, wireLen int, t time.Time) {
	d.n++
	p := packet{n: d.n, t: t}
	missing := wireLen - capLen
	if missing < 0 {
		missing = 0
	}
	d.missing = missing
	reason := d.link(&p, lt, data, 0)
	if reason != "" {
		d.st.Skip(reason)
		return
	}
	d.st.Records++
}

// link strips the link layer and goes on with the network layer. It returns
// a skip reason, or "" when the packet was used.
func (d *decoder) link(p *packet, lt layers.LinkType, b []byte, depth int) string {
	switch lt {
	case layers.LinkTypeEthernet:
		return d.ethernet(p, b, depth)
	case layers.LinkTypeLinuxSLL:
		// Linux cooked capture v1: 16 bytes, protocol type last.
		if len(b) < 16 {
			return skipSnaplen
		}
		return d.etherType(p, binary.BigEndian.Uint16(b[14:]), b[16:], depth)
	case layers.LinkTypeLinuxSLL2:
		// Linux cooked capture v2: 20 bytes, protocol type first.
		if len(b) < 20 {
			return skipSnaplen
		}
		return d.etherType(p, binary.BigEndian.Uint16(b[0:]), b[20:], depth)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return d.ip(p, b, depth)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// BSD loopback: a 4-byte address family, in the writer's byte
		// order for NULL and big endian for LOOP. IPv4 is 2 everywhere;
		// IPv6 is 24, 28 or 30 depending on the BSD.
		if len(b) < 4 {
			return skipSnaplen
		}
		return d.ip(p, b[4:], depth)
	case layers.LinkTypeIEEE80211Radio:
		return d.radiotap(p, b, depth)
	case layers.LinkTypeIEEE802_11:
		return d.dot11(p, b, depth)
	case 239: // LINKTYPE_NFLOG
		return d.nflog(p, b, depth)
	case layers.LinkTypePPP:
		if len(b) >= 4 && b[0] == 0xff && b[1] == 0x03 {
			b = b[2:]
		}
		if len(b) < 2 {
			return skipSnaplen
		}
		if b[0]&1 == 1 {
			return d.ppp(p, uint16(b[0]), b[1:], depth)
		}
		return d.ppp(p, binary.BigEndian.Uint16(b), b[2:], depth)
	}
	return skipLinkType
}

func (d *decoder) ethernet(p *packet, b []byte, depth int) string {
	if len(b) < 14 {
		return skipSnaplen
	}
	et := binary.BigEndian.Uint16(b[12:])
	if et < 0x0600 {
		// IEEE 802.3 length field: an LLC header follows.
		return d.llc(p, b[14:], depth)
	}
	return d.etherType(p, et, b[14:], depth)
}

// llc goes on after an IEEE 802.2 LLC header with a SNAP extension
// (AA AA 03, an OUI, then an EtherType).
func (d *decoder) llc(p *packet, b []byte, depth int) string {
	if len(b) < 8 {
		return skipSnaplen
	}
	if b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 {
		return skipNotIP
	}
	return d.etherType(p, binary.BigEndian.Uint16(b[6:]), b[8:], depth)
}

// radiotap strips a radiotap header and an IEEE 802.11 data frame header.
func (d *decoder) radiotap(p *packet, b []byte, depth int) string {
	if len(b) < 4 {
		return skipSnaplen
	}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	if len(b) < n {
		return skipSnaplen
	}
	return d.dot11(p, b[n:], depth)
}

// dot11 strips an IEEE 802.11 data frame header; management and control
// frames carry no IP.
func (d *decoder) dot11(p *packet, b []byte, depth int) string {
	if len(b) < 24 {
		return skipSnaplen
	}
	fc0, fc1 := b[0], b[1]
	if fc0>>2&0x03 != 2 { // not a data frame
		return skipNotIP
	}
	if fc1&0x40 != 0 { // protected: encrypted payload
		return skipNotIP
	}
	n := 24
	if fc1&0x03 == 0x03 { // to DS and from DS: a fourth address
		n += 6
	}
	if fc0&0x80 != 0 { // QoS data
		n += 2
		if fc1&0x80 != 0 { // HT control
			n += 4
		}
	}
	if fc0&0x40 != 0 { // null data
		return skipNotIP
	}
	if len(b) < n {
		return skipSnaplen
	}
	return d.llc(p, b[n:], depth)
}

// nflog reads a Linux NFLOG record: a 4-byte header, then TLVs whose type
// 9 is the packet (netfilter's nfnetlink_log).
func (d *decoder) nflog(p *packet, b []byte, depth int) string {
	if len(b) < 4 {
		return skipSnaplen
	}
	b = b[4:]
	for len(b) >= 4 {
		l := int(binary.LittleEndian.Uint16(b))
		typ := binary.LittleEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			return skipSnaplen
		}
		if typ == 9 {
			return d.ip(p, b[4:l], depth)
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return skipNotIP
}

// etherType goes on after a link header that named the next protocol.
func (d *decoder) etherType(p *packet, et uint16, b []byte, depth int) string {
	if depth > maxEncap {
		return skipNotIP
	}
	switch et {
	case 0x0800, 0x86dd:
		return d.ip(p, b, depth+1)
	case 0x8100, 0x88a8, 0x9100:
		// 802.1Q / 802.1ad tag: TCI, then the inner type.
		if len(b) < 4 {
			return skipSnaplen
		}
		return d.etherType(p, binary.BigEndian.Uint16(b[2:]), b[4:], depth+1)
	case 0x8864:
		// PPPoE session: 6-byte header, then a PPP protocol number.
		if len(b) < 8 {
			return skipSnaplen
		}
		if b[6]&1 == 1 { // protocol field compressed to one byte
			return d.ppp(p, uint16(b[6]), b[7:], depth+1)
		}
		return d.ppp(p, binary.BigEndian.Uint16(b[6:]), b[8:], depth+1)
	case 0x8847, 0x8848:
		// MPLS: pop labels up to the bottom of the stack; guess IP from
		// the version nibble.
		for len(b) >= 4 {
			bottom := b[2]&1 == 1
			b = b[4:]
			if bottom {
				return d.ip(p, b, depth+1)
			}
		}
		return skipSnaplen
	}
	return skipNotIP
}

func (d *decoder) ppp(p *packet, proto uint16, b []byte, depth int) string {
	switch proto {
	case 0x0021, 0x0057:
		return d.ip(p, b, depth+1)
	}
	return skipNotIP
}

// ip decodes an IPv4 or IPv6 header, chosen by the version nibble.
func (d *decoder) ip(p *packet, b []byte, depth int) string {
	if len(b) < 1 {
		return skipSnaplen
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(p, b, depth)
	case 6:
		return d.ipv6(p, b, depth)
	}
	return skipNotIP
}

func (d *decoder) ipv4(p *packet, b []byte, depth int) string {
	if len(b) < 20 {
		return skipSnaplen
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < 20 || len(b) < ihl {
		return skipSnaplen
	}
	if total < ihl {
		// Some capture offloads write 0: trust the captured length.
		total = len(b) + d.missing
	}
	cut := 0
	if total > len(b) {
		cut = total - len(b)
	} else {
		b = b[:total] // drop link padding
	}
	p.src = netip.AddrFrom4([4]byte(b[12:16]))
	p.dst = netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	frag := binary.BigEndian.Uint16(b[6:])
	payload := b[ihl:]
	switch {
	case frag&0x3fff == 0: // not a fragment
	case cut > 0 && frag&0x1fff == 0:
		// A first fragment cut short can never be reassembled, but it
		// holds the transport header and the first bytes: read it as a
		// packet cut by the snaplen.
	case cut > 0:
		return skipSnaplen
	default:
		whole, reason := d.frags.add4(p, b[:ihl], proto, frag, payload)
		if whole == nil {
			return reason
		}
		payload = whole
	}
	return d.transport(p, proto, payload, cut, depth)
}

func (d *decoder) ipv6(p *packet, b []byte, depth int) string {
	if len(b) < 40 {
		return skipSnaplen
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	p.src = netip.AddrFrom16([16]byte(b[8:24]))
	p.dst = netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	b = b[40:]
	cut := 0
	if plen > len(b) {
		cut = plen - len(b)
	} else if plen > 0 {
		b = b[:plen]
	}
	// RFC 8200, Section 4: walk the extension headers to the upper layer.
	for i := 0; i < 8; i++ {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 8 {
				return skipSnaplen
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return skipSnaplen
			}
			next, b = b[0], b[n:]
			continue
		case 44: // fragment
			if len(b) < 8 {
				return skipSnaplen
			}
			off := binary.BigEndian.Uint16(b[2:])
			if off&0xfff9 == 0 || cut > 0 && off&0xfff8 == 0 {
				// An atomic fragment (RFC 6946), the whole packet; or a
				// first fragment cut short, read as a packet cut by the
				// snaplen since its rest can never be reassembled.
				next, b = b[0], b[8:]
				continue
			}
			if cut > 0 {
				return skipSnaplen
			}
			whole, proto, reason := d.frags.add6(p, b[:8], b[8:])
			if whole == nil {
				return reason
			}
			// The reassembled part may start with more extension headers.
			next, b = proto, whole
			continue
		case 51: // authentication header
			if len(b) < 8 {
				return skipSnaplen
			}
			n := (int(b[1]) + 2) * 4
			if len(b) < n {
				return skipSnaplen
			}
			next, b = b[0], b[n:]
			continue
		}
		break
	}
	return d.transport(p, next, b, cut, depth)
}

// transport decodes the TCP, UDP or ICMP header and hands the packet to the
// flow code. Tunnels (IP in IP, GRE, VXLAN) go round again.
func (d *decoder) transport(p *packet, proto uint8, b []byte, cut, depth int) string {
	p.prot = proto
	switch proto {
	case protoTCP:
		if len(b) < 20 {
			return skipSnaplen
		}
		off := int(b[12]>>4) * 4
		if off < 20 || len(b) < off {
			return skipSnaplen
		}
		p.sport = binary.BigEndian.Uint16(b[0:])
		p.dport = binary.BigEndian.Uint16(b[2:])
		p.seq = binary.BigEndian.Uint32(b[4:])
		p.ack = binary.BigEndian.Uint32(b[8:])
		p.flags = b[13]
		p.payload = b[off:]
		p.cut = cut
		d.tcp(p)
	case protoUDP:
		if len(b) < 8 {
			return skipSnaplen
		}
		p.sport = binary.BigEndian.Uint16(b[0:])
		p.dport = binary.BigEndian.Uint16(b[2:])
		ulen := int(binary.BigEndian.Uint16(b[4:]))
		pl := b[8:]
		if ulen >= 8 && ulen-8 < len(pl) {
			pl = pl[:ulen-8]
		}
		p.payload = pl
		p.cut = cut
		if depth < maxEncap && (p.dport == 4789 || p.sport == 4789) && len(pl) >= 8 && pl[0]&0x08 != 0 {
			// VXLAN: an 8-byte header, then an Ethernet frame.
			inner := packet{n: p.n, t: p.t}
			return d.ethernet(&inner, pl[8:], depth+1)
		}
		if depth < maxEncap && (p.dport == 2152 || p.sport == 2152) && len(pl) >= 8 && pl[0]>>5 == 1 && pl[1] == 0xff {
			// GTP-U (3GPP TS 29.281): a T-PDU carries an IP packet.
			n := 8
			if pl[0]&0x07 != 0 { // sequence, N-PDU or extension flag
				n = 12
				for next := pl[11]; next != 0 && n < len(pl); {
					l := int(pl[n]) * 4
					if l == 0 || n+l > len(pl) {
						return skipNotIP
					}
					next = pl[n+l-1]
					n += l
				}
			}
			if n <= len(pl) {
				inner := packet{n: p.n, t: p.t}
				return d.ip(&inner, pl[n:], depth+1)
			}
		}
		if depth < maxEncap && (p.dport == 6081 || p.sport == 6081) && len(pl) >= 8 {
			// Geneve (RFC 8926): options, then the inner protocol.
			n := 8 + int(pl[0]&0x3f)*4
			if len(pl) >= n {
				inner := packet{n: p.n, t: p.t}
				et := binary.BigEndian.Uint16(pl[2:])
				if et == 0x6558 {
					return d.ethernet(&inner, pl[n:], depth+1)
				}
				return d.etherType(&inner, et, pl[n:], depth+1)
			}
		}
		return d.udp(p)
	case protoICMP, protoICMPv6:
		p.payload = b
		d.icmp(p)
	case protoIPIP, protoIPv6:
		if depth >= maxEncap {
			return skipTransport
		}
		inner := packet{n: p.n, t: p.t}
		return d.ip(&inner, b, depth+1)
	case protoGRE:
		// RFC 2784/2890: flags and version, protocol type, then the
		// optional checksum, key and sequence number words.
		if depth >= maxEncap || len(b) < 4 {
			return skipTransport
		}
		flags := b[0]
		n := 4
		if flags&0x80 != 0 {
			n += 4
		}
		if flags&0x20 != 0 {
			n += 4
		}
		if flags&0x10 != 0 {
			n += 4
		}
		if len(b) < n || b[1]&0x07 != 0 {
			return skipTransport
		}
		et := binary.BigEndian.Uint16(b[2:])
		inner := packet{n: p.n, t: p.t}
		if et == 0x6558 {
			return d.ethernet(&inner, b[n:], depth+1)
		}
		return d.etherType(&inner, et, b[n:], depth+1)
	default:
		return skipTransport
	}
	return ""
}
