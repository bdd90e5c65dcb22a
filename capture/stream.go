package capture

// Reassembly bounds: only the first bytes of each direction of a TCP flow
// are kept, enough for a ClientHello with post-quantum key shares (about
// 1.8 KB), a proxy's answer, a ServerHello and a first certificate.
const (
	clientStreamCap = 8 << 10
	serverStreamCap = 12 << 10
	// maxBufferBytes bounds the reassembly buffers held at once.
	maxBufferBytes = 32 << 20
	// firstBuffer is a new buffer's capacity: most streams need one
	// segment's worth.
	firstBuffer = 2 << 10
)

// stream reassembles the first bytes of one direction of a TCP flow:
// segments out of order, retransmitted or overlapping land at their offset
// from the initial sequence number; have is the length of the contiguous
// prefix.
type stream struct {
	isn     uint32
	started bool
	full    bool // bytes past the cap arrived and were dropped
	done    bool // the analyser needs no more bytes
	noBuf   bool // a buffer could not be had or grown: the budget was spent
	limit   int
	buf     []byte
	have    int
	ooo     []span
	lastN   int64 // packet that last extended the prefix
	bytes   int64 // payload bytes seen, retransmissions included
}

// start sets the initial sequence number from a SYN.
func (s *stream) start(seq uint32) {
	if !s.started {
		s.isn, s.started = seq+1, true
	}
}

// add stores one segment and reports whether the contiguous prefix grew.
func (s *stream) add(pool *bufPool, seq uint32, data []byte, n int64) bool {
	s.bytes += int64(len(data))
	if s.done || len(data) == 0 {
		return false
	}
	if !s.started {
		s.isn, s.started = seq, true
	}
	off := int(int32(seq - s.isn))
	if off < 0 {
		if s.have == 0 && len(s.ooo) == 0 && len(s.buf) == 0 {
			// The capture began mid-flow and this segment is earlier
			// than the first one seen: start the stream here.
			s.isn, off = seq, 0
		} else {
			if -off >= len(data) {
				return false
			}
			data, off = data[-off:], 0
		}
	}
	if off >= s.limit {
		s.full = true
		return false
	}
	if off+len(data) > s.limit {
		data = data[:s.limit-off]
		s.full = true
	}
	if s.buf == nil {
		if s.noBuf {
			return false
		}
		s.buf = pool.get()
		if s.buf == nil {
			s.noBuf = true
			return false
		}
	}
	end := off + len(data)
	if cap(s.buf) < end {
		nb := pool.grow(s.buf, end, s.limit)
		if nb == nil {
			// Keep the buffer, which the pool still counts, so that
			// release gives its bytes back to the budget; a later
			// segment may find room.
			s.noBuf = true
			return false
		}
		s.buf = nb
	}
	if len(s.buf) < end {
		s.buf = s.buf[:end]
	}
	copy(s.buf[off:end], data)
	if off > s.have {
		s.ooo = append(s.ooo, span{off, end})
		return false
	}
	if end <= s.have {
		return false
	}
	s.have = end
	for grown := true; grown; {
		grown = false
		for i := 0; i < len(s.ooo); i++ {
			sp := s.ooo[i]
			if sp.from <= s.have {
				if sp.to > s.have {
					s.have = sp.to
				}
				s.ooo = append(s.ooo[:i], s.ooo[i+1:]...)
				i--
				grown = true
			}
		}
	}
	s.lastN = n
	return true
}

// data returns the contiguous prefix.
func (s *stream) data() []byte { return s.buf[:s.have] }

// release gives the buffer back; the stream takes no more bytes.
func (s *stream) release(pool *bufPool) {
	s.done = true
	if s.buf != nil {
		pool.put(s.buf)
		s.buf = nil
	}
	s.ooo = nil
}

// bufPool recycles reassembly buffers so that steady state allocates none,
// and bounds the bytes they hold.
type bufPool struct {
	free  [][]byte
	bytes int // capacity of the buffers handed out
}

// get returns an empty buffer, or nil when the budget is spent.
func (p *bufPool) get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.bytes += cap(b)
		return b[:0]
	}
	if p.bytes+firstBuffer > maxBufferBytes {
		return nil
	}
	p.bytes += firstBuffer
	return make([]byte, 0, firstBuffer)
}

// grow returns b with room for n bytes (at most limit), or nil when the
// budget is spent.
func (p *bufPool) grow(b []byte, n, limit int) []byte {
	c := max(2*cap(b), n)
	c = min(c, limit)
	if p.bytes-cap(b)+c > maxBufferBytes {
		return nil
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	p.bytes += c - cap(b)
	return nb
}

func (p *bufPool) put(b []byte) {
	p.bytes -= cap(b)
	if len(p.free) < 1024 && cap(b) <= firstBuffer*2 {
		p.free = append(p.free, b[:0])
	}
}
