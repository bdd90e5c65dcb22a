package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Bounds of IPv4 and IPv6 reassembly: at most maxFragDatagrams datagrams
// in progress, each at most maxFragSize bytes, each given up fragTimeout
// after its first fragment (capture time).
const (
	maxFragDatagrams = 64
	maxFragSize      = 65535
	fragTimeout      = 30 * time.Second
)

// fragKey names the datagram a fragment belongs to: RFC 791's source,
// destination, protocol and 16-bit identification, or RFC 8200's source,
// destination and 32-bit identification (proto 0: IPv6 fragments of one
// packet may name different next headers).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type fragDatagram struct {
	key   fragKey
	first time.Time
	buf   []byte
	have  []span // byte ranges received, unordered
	total int    // payload length, known once the last fragment came
	next  uint8  // the protocol the first fragment (offset 0) names
}

// span is a half-open byte range [from, to).
type span struct{ from, to int }

// fragTable reassembles IPv4 datagrams (RFC 791) and IPv6 packets (RFC
// 8200, Section 4.5) from their fragments, in one table with one bound.
type fragTable struct {
	open []*fragDatagram
	out  []byte // the last datagram completed, reused
}

// add4 stores one IPv4 fragment; hdr is its IP header. It returns what
// [fragTable.add] does.
func (t *fragTable) add4(p *packet, hdr []byte, proto uint8, frag uint16, payload []byte) ([]byte, string) {
	key := fragKey{src: p.src, dst: p.dst, id: uint32(binary.BigEndian.Uint16(hdr[4:])), proto: proto}
	whole, _, reason := t.add(p, key, int(frag&0x1fff)*8, frag&0x2000 != 0, proto, payload)
	return whole, reason
}

// add6 stores one IPv6 fragment; fh is its 8-byte fragment header and
// payload the fragmentable part after it. It returns the reassembled
// fragmentable part and the next header its first fragment named.
func (t *fragTable) add6(p *packet, fh []byte, payload []byte) ([]byte, uint8, string) {
	// RFC 8200, Section 4.5: next header, reserved, a 13-bit offset in
	// 8-byte units with the M flag in the low bit, the identification.
	key := fragKey{src: p.src, dst: p.dst, id: binary.BigEndian.Uint32(fh[4:])}
	frag := binary.BigEndian.Uint16(fh[2:])
	return t.add(p, key, int(frag>>3)*8, frag&1 != 0, fh[0], payload)
}

// add stores the fragment at byte offset off of the datagram key; more is
// set when fragments follow it and next is the protocol it names. It
// returns the whole payload once the last missing fragment came (valid
// until the next call) with the protocol of its first fragment, or nil and
// a skip reason.
func (t *fragTable) add(p *packet, key fragKey, off int, more bool, next uint8, payload []byte) ([]byte, uint8, string) {
	var dg *fragDatagram
	for i := 0; i < len(t.open); i++ {
		o := t.open[i]
		if p.t.Sub(o.first) > fragTimeout {
			t.open = append(t.open[:i], t.open[i+1:]...)
			i--
			continue
		}
		if o.key == key {
			dg = o
		}
	}
	end := off + len(payload)
	if end > maxFragSize {
		return nil, 0, skipFragDropped
	}
	if dg == nil {
		if len(t.open) >= maxFragDatagrams {
			return nil, 0, skipFragDropped
		}
		dg = &fragDatagram{key: key, first: p.t, total: -1}
		t.open = append(t.open, dg)
	}
	if len(dg.buf) < end {
		dg.buf = append(dg.buf, make([]byte, end-len(dg.buf))...)
	}
	copy(dg.buf[off:], payload)
	dg.have = append(dg.have, span{off, end})
	if off == 0 {
		dg.next = next
	}
	if !more {
		dg.total = end
	}
	if dg.total < 0 || !covered(dg.have, dg.total) {
		return nil, 0, skipFragment
	}
	for i, o := range t.open {
		if o == dg {
			t.open = append(t.open[:i], t.open[i+1:]...)
			break
		}
	}
	t.out = append(t.out[:0], dg.buf[:dg.total]...)
	return t.out, dg.next, ""
}

// covered reports whether the spans cover [0, n).
func covered(spans []span, n int) bool {
	reach := 0
	for progress := true; progress && reach < n; {
		progress = false
		for _, s := range spans {
			if s.from <= reach && s.to > reach {
				reach = s.to
				progress = true
			}
		}
	}
	return reach >= n
}
