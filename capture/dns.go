package capture

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// DNS bounds: questions waiting for their answer, and how long they wait.
const (
	maxPendingDNS = 1 << 15
	dnsTimeout    = 10 * time.Second
)

// RFC 1035, Section 3.2.2: the record types read.
const (
	typeA     = 1
	typeCNAME = 5
	typeAAAA  = 28
	typeSVCB  = 64 // RFC 9460, Section 14.1
	typeHTTPS = 65
)

var errDNSShort = errors.New("dns: message truncated")

// dnsMessage is the part of a DNS message egress-audit reads. Names are
// lower case without the trailing dot; the root is ".".
type dnsMessage struct {
	id       uint16
	response bool
	rcode    uint8
	question string
	qtype    uint16
	answers  []netip.Addr
	ttl      uint32
	ech      bool // an HTTPS or SVCB answer for the name carries an ECH configuration

	// ancount is the header's answer count; records is how many answer
	// records were whole, fewer than ancount in a message cut short.
	ancount, records int
}

// parseDNS decodes the header, the first question and the answer section
// of a DNS message (RFC 1035, Section 4.1), following the CNAME chain from
// the question to its addresses. The result does not alias b.
//
// A message cut short returns [errDNSShort] with m holding what came before
// the cut: the header once its 12 bytes are there, the question name once
// it is whole, and the addresses of the whole answer records (counted in
// m.records). A capture's snaplen cuts answers this way, and their ID and
// rcode still tell what the resolver said.
func parseDNS(b []byte, m *dnsMessage) error {
	*m = dnsMessage{answers: m.answers[:0]}
	if len(b) < 12 {
		return errDNSShort
	}
	m.id = binary.BigEndian.Uint16(b)
	m.response = b[2]&0x80 != 0
	m.rcode = b[3] & 0x0f
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	m.ancount = an
	off := 12
	var name [256]byte
	if qd == 0 {
		return errors.New("dns: no question")
	}
	for i := 0; i < qd; i++ {
		n, next, err := readName(b, off, name[:0])
		if err != nil {
			return err
		}
		if i == 0 {
			m.question = string(n)
		}
		if next+4 > len(b) {
			return errDNSShort
		}
		if i == 0 {
			m.qtype = binary.BigEndian.Uint16(b[next:])
		}
		off = next + 4
	}
	if !m.response || an == 0 {
		return nil
	}
	// The chain: the name whose records answer the question, followed
	// through CNAMEs. Answers usually come in chain order; a second pass
	// catches the others.
	target := append(make([]byte, 0, 256), m.question...)
	var owner [256]byte
	start := off
	ttl := uint32(0)
	var short error // errDNSShort once a record is found cut
	m.records = an
	for pass := 0; pass < 2; pass++ {
		off = start
		for i := 0; i < m.records; i++ {
			o, next, err := readName(b, off, owner[:0])
			if errors.Is(err, errDNSShort) || err == nil && next+10 > len(b) {
				// The records before this one are whole: keep them.
				m.records, short = i, errDNSShort
				break
			}
			if err != nil {
				return err
			}
			typ := binary.BigEndian.Uint16(b[next:])
			rttl := binary.BigEndian.Uint32(b[next+4:])
			rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
			rdata := next + 10
			if rdata+rdlen > len(b) {
				m.records, short = i, errDNSShort
				break
			}
			off = rdata + rdlen
			if string(o) != string(target) {
				continue
			}
			switch typ {
			case typeSVCB, typeHTTPS:
				if ech, err := SVCBHasECH(b[rdata : rdata+rdlen]); err == nil && ech {
					m.ech = true
				}
			case typeCNAME:
				c, _, err := readName(b, rdata, name[:0])
				if err != nil {
					return err
				}
				target = append(target[:0], c...)
				if ttl == 0 || rttl < ttl {
					ttl = rttl
				}
			case typeA:
				if rdlen == 4 && pass == 0 || rdlen == 4 && !hasAddr(m.answers, netip.AddrFrom4([4]byte(b[rdata:rdata+4]))) {
					m.answers = append(m.answers, netip.AddrFrom4([4]byte(b[rdata:rdata+4])))
					if ttl == 0 || rttl < ttl {
						ttl = rttl
					}
				}
			case typeAAAA:
				if rdlen == 16 && (pass == 0 || !hasAddr(m.answers, netip.AddrFrom16([16]byte(b[rdata:rdata+16])))) {
					m.answers = append(m.answers, netip.AddrFrom16([16]byte(b[rdata:rdata+16])))
					if ttl == 0 || rttl < ttl {
						ttl = rttl
					}
				}
			}
		}
		if len(m.answers) > 0 {
			break
		}
	}
	m.ttl = ttl
	return short
}

func hasAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// readName decodes the domain name at off (RFC 1035, Section 4.1.4),
// following compression pointers, into dst in lower case. It returns the
// name, the offset after it where it began, and an error for a malformed
// name.
func readName(b []byte, off int, dst []byte) ([]byte, int, error) {
	next := -1
	for hops := 0; ; {
		if off >= len(b) {
			return nil, 0, errDNSShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			if len(dst) == 0 {
				dst = append(dst, '.')
			}
			return dst, next, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return nil, 0, errDNSShort
			}
			if next < 0 {
				next = off + 2
			}
			hops++
			if hops > 32 {
				return nil, 0, errors.New("dns: compression loop")
			}
			off = int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return nil, 0, fmt.Errorf("dns: label type 0x%02x", l&0xc0)
		default:
			if off+1+l > len(b) {
				return nil, 0, errDNSShort
			}
			if len(dst)+l+1 > 255 {
				return nil, 0, errors.New("dns: name longer than 255 bytes")
			}
			if len(dst) > 0 {
				dst = append(dst, '.')
			}
			for _, c := range b[off+1 : off+1+l] {
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				dst = append(dst, c)
			}
			off += 1 + l
		}
	}
}

type dnsKey struct {
	client, server netip.AddrPort
	id             uint16
	tcp            bool
}

type dnsQuery struct {
	name  string
	n     int64
	t     time.Time
	qtype uint16
}

// dnsTable pairs questions with their answers.
type dnsTable struct {
	pending map[dnsKey]dnsQuery
	msg     dnsMessage
	expired []dnsKey
}

func (t *dnsTable) init() { t.pending = make(map[dnsKey]dnsQuery) }

// dnsMessage handles one DNS message from a client (query) or a server.
func (d *decoder) dnsMessage(p *packet, b []byte, fromClient, tcp bool, client, server netip.AddrPort) {
	m := &d.dns.msg
	cut := false
	if err := parseDNS(b, m); err != nil {
		if !errors.Is(err, errDNSShort) || p.cut == 0 {
			d.st.Fail(Packet(p.n), &ProblemError{Input: d.name, Locator: Packet(p.n), Err: err})
			return
		}
		// Cut by the snaplen: the header is enough to pair an answer with
		// its question, a question needs its name.
		if len(b) < 12 || !m.response && m.question == "" {
			return
		}
		cut = true
	}
	key := dnsKey{client: client, server: server, id: m.id, tcp: tcp}
	if !m.response {
		if _, dup := d.dns.pending[key]; dup {
			return
		}
		if len(d.dns.pending) >= maxPendingDNS {
			d.dns.expire(d, time.Time{})
		}
		d.dns.pending[key] = dnsQuery{name: m.question, n: p.n, t: p.t, qtype: m.qtype}
		return
	}
	q, ok := d.dns.pending[key]
	if ok {
		delete(d.dns.pending, key)
	} else if m.question != "" {
		q = dnsQuery{name: m.question, n: p.n, t: p.t}
	} else {
		return // cut before its question, and no question to pair it with
	}
	o := &d.obs
	tr := UDP
	if tcp {
		tr = TCP
	}
	*o = Observation{
		Time: q.t, Input: d.name, Locator: Packet(p.n), Kind: Lookup,
		Client: client, Server: server, Transport: tr,
		Host: q.name, HostSource: SourceDNS, Outcome: OutcomeOK,
	}
	switch m.rcode {
	case 0:
		if len(m.answers) > 0 {
			o.Answers = append([]netip.Addr(nil), m.answers...)
			o.TTL = time.Duration(m.ttl) * time.Second
			for _, a := range m.answers {
				d.names.Add(q.name, a, p.t, o.TTL)
			}
		} else {
			o.Detail = "no address in the answer"
		}
		if m.ech {
			o.ECH = true
			o.Detail = appendDetail(o.Detail, "its HTTPS record publishes an encrypted client hello configuration")
		}
		if cut && len(m.answers) == 0 {
			o.Detail = "" // not "no address": the addresses may be past the cut
		}
	case 2:
		o.block(DNSServFail, p.n, "rcode SERVFAIL")
	case 3:
		o.block(DNSNXDomain, p.n, "rcode NXDOMAIN")
	case 5:
		o.block(DNSRefused, p.n, "rcode REFUSED")
	default:
		o.Outcome = OutcomeUnknown
		o.Detail = fmt.Sprintf("rcode %d", m.rcode)
	}
	if cut {
		o.Detail = appendDetail(o.Detail, fmt.Sprintf(
			"answer cut by the capture's snaplen at packet %d: %d of %d answer records read",
			p.n, m.records, m.ancount))
	}
	d.emit(o)
}

// expire reports the questions asked before now-dnsTimeout as never
// answered; a zero now expires them all.
func (t *dnsTable) expire(d *decoder, now time.Time) {
	t.expired = t.expired[:0]
	for k, q := range t.pending {
		if now.IsZero() || now.Sub(q.t) > dnsTimeout {
			t.expired = append(t.expired, k)
		}
	}
	if len(t.expired) == 0 {
		return
	}
	// Report in packet order.
	slices.SortFunc(t.expired, func(a, b dnsKey) int {
		return cmp.Compare(t.pending[a].n, t.pending[b].n)
	})
	for _, k := range t.expired {
		q := t.pending[k]
		delete(t.pending, k)
		tr := UDP
		if k.tcp {
			tr = TCP
		}
		o := &d.obs
		*o = Observation{
			Time: q.t, Input: d.name, Locator: Packet(q.n), Kind: Lookup,
			Client: k.client, Server: k.server, Transport: tr,
			Host: q.name, HostSource: SourceDNS,
		}
		o.block(DNSTimeout, q.n, "no answer in the capture")
		d.emit(o)
	}
}

// dnsOverTCP handles the length-prefixed messages of a DNS over TCP
// stream (RFC 1035, Section 4.2.2) past the first done ones; it returns how
// many are handled now.
func (d *decoder) dnsOverTCP(f *flow, b []byte, done int, fromClient bool, p *packet) int {
	i := 0
	for len(b) >= 2 {
		l := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+l {
			break
		}
		if i >= done {
			d.dnsMessage(p, b[2:2+l], fromClient, true, f.client, f.server)
		}
		i++
		b = b[2+l:]
	}
	return i
}
