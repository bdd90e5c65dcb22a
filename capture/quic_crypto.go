package capture

import (
	"errors"
	"fmt"
	"slices"
)

// MaxQUICHello bounds the CRYPTO bytes kept per QUIC connection while its
// ClientHello is reassembled. Hellos with a post-quantum key share are
// about 1.2 to 1.9 KB (crypto/tls and Chrome, 2025); 16 KiB leaves room
// for large ECH and certificate_authorities extensions.
const MaxQUICHello = 16 << 10

// maxQUICSpans bounds the holes a reassembly tracks: Chrome cuts its hello
// into up to about 30 pieces, sent out of order.
const maxQUICSpans = 64

// quicSpan is a received range [start, end) of the CRYPTO stream.
type quicSpan struct{ start, end int }

// quicClose is a CONNECTION_CLOSE frame (RFC 9000, Section 19.19).
type quicClose struct {
	code uint64
	app  bool
}

// quicCrypto reassembles the client's Initial CRYPTO stream, which holds
// the ClientHello alone (RFC 9001, Section 4.1.3), and parses it once it is
// complete.
type quicCrypto struct {
	buf   []byte
	spans []quicSpan // sorted, disjoint, not adjacent
	done  bool       // hello or err is final
	hello ClientHello
	err   error
}

// addFrames feeds the frames of a decrypted Initial payload. It returns the
// CONNECTION_CLOSE the payload carries, if any.
func (c *quicCrypto) addFrames(payload []byte) (cl *quicClose, err error) {
	fs := quicFrames{b: payload}
	for {
		fr, ok, err := fs.next()
		if err != nil {
			return cl, err
		}
		if !ok {
			return cl, nil
		}
		if fr.typ == 0x06 {
			c.add(fr.offset, fr.data)
		} else {
			cl = &quicClose{code: fr.code, app: fr.app}
		}
	}
}

// add stores data at offset of the CRYPTO stream and parses the hello when
// the stream holds it whole.
func (c *quicCrypto) add(offset uint64, data []byte) {
	if c.done || len(data) == 0 {
		return
	}
	if offset+uint64(len(data)) > MaxQUICHello {
		c.finish(fmt.Errorf("quic: crypto data past %d bytes", MaxQUICHello))
		return
	}
	start, end := int(offset), int(offset)+len(data)
	if end > len(c.buf) {
		if c.buf == nil {
			c.buf = make([]byte, 0, max(end, 2048))
		}
		c.buf = slices.Grow(c.buf, end-len(c.buf))[:end]
	}
	copy(c.buf[start:], data)
	if !c.addSpan(start, end) {
		c.finish(fmt.Errorf("quic: crypto data in more than %d pieces", maxQUICSpans))
		return
	}

	// The hello is complete once the first span covers its declared length.
	have := 0
	if c.spans[0].start == 0 {
		have = c.spans[0].end
	}
	if have < 4 {
		return
	}
	if c.buf[0] != 1 {
		c.finish(fmt.Errorf("quic: crypto stream: handshake type %d: %w", c.buf[0], ErrNotClientHello))
		return
	}
	need := 4 + (int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3]))
	if need > MaxQUICHello {
		c.finish(fmt.Errorf("quic: client hello of %d bytes exceeds %d", need, MaxQUICHello))
		return
	}
	if have >= need {
		c.hello, c.err = ParseClientHello(c.buf[:need])
		c.finish(c.err)
	}
}

// addSpan merges [start, end) into the received spans; it reports false
// when that would need more than maxQUICSpans spans.
func (c *quicCrypto) addSpan(start, end int) bool {
	i := 0
	for i < len(c.spans) && c.spans[i].end < start {
		i++
	}
	j := i
	for j < len(c.spans) && c.spans[j].start <= end {
		start = min(start, c.spans[j].start)
		end = max(end, c.spans[j].end)
		j++
	}
	if i == j && len(c.spans) >= maxQUICSpans {
		return false
	}
	c.spans = slices.Replace(c.spans, i, j, quicSpan{start, end})
	return true
}

// finish makes the result final and frees the buffers.
func (c *quicCrypto) finish(err error) {
	c.done, c.err = true, err
	c.buf, c.spans = nil, nil
}

// pending reports why the hello is not available: nil once it was parsed.
func (c *quicCrypto) pending() error {
	switch {
	case c.done:
		return c.err
	case len(c.spans) == 0:
		return errors.New("quic: no crypto data")
	}
	return fmt.Errorf("quic: client hello incomplete: %w", ErrTruncated)
}
