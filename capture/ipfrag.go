package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Bounds of IPv4 reassembly: at most maxFragDatagrams datagrams in
// progress, each at most maxFragSize bytes, each given up fragTimeout after
// its first fragment (capture time).
const (
	maxFragDatagrams = 64
	maxFragSize      = 65535
	fragTimeout      = 30 * time.Second
)

type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    uint8
}

type fragDatagram struct {
	key   fragKey
	first time.Time
	buf   []byte
	have  []span // byte ranges received, unordered
	total int    // payload length, known once the last fragment came
}

// span is a half-open byte range [from, to).
type span struct{ from, to int }

// fragTable reassembles IPv4 datagrams (RFC 791) from their fragments.
type fragTable struct {
	open []*fragDatagram
	out  []byte // the last datagram completed, reused
}

// add stores one fragment. It returns the whole transport payload once the
// last missing fragment came (valid until the next call), or nil and a skip
// reason.
func (t *fragTable) add(p *packet, hdr []byte, proto uint8, frag uint16, payload []byte) ([]byte, string) {
	key := fragKey{src: p.src, dst: p.dst, id: binary.BigEndian.Uint16(hdr[4:]), proto: proto}
	off := int(frag&0x1fff) * 8
	more := frag&0x2000 != 0
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
		return nil, skipFragDropped
	}
	if dg == nil {
		if len(t.open) >= maxFragDatagrams {
			return nil, skipFragDropped
		}
		dg = &fragDatagram{key: key, first: p.t, total: -1}
		t.open = append(t.open, dg)
	}
	if len(dg.buf) < end {
		dg.buf = append(dg.buf, make([]byte, end-len(dg.buf))...)
	}
	copy(dg.buf[off:], payload)
	dg.have = append(dg.have, span{off, end})
	if !more {
		dg.total = end
	}
	if dg.total < 0 || !covered(dg.have, dg.total) {
		return nil, skipFragment
	}
	for i, o := range t.open {
		if o == dg {
			t.open = append(t.open[:i], t.open[i+1:]...)
			break
		}
	}
	t.out = append(t.out[:0], dg.buf[:dg.total]...)
	return t.out, ""
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
