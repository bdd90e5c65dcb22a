package capture

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// QUIC versions whose Initial packets can be decrypted.
const (
	QUICv1      uint32 = 0x00000001 // RFC 9000
	QUICv2      uint32 = 0x6b3343cf // RFC 9369
	quicDraft23 uint32 = 0xff000017 // first draft with the salt of quicSaltDraft23
	quicDraft29 uint32 = 0xff00001d // first draft with the salt of quicSaltDraft29
	quicDraft34 uint32 = 0xff000022 // last draft; 33 and 34 use the version 1 salt
)

// ErrNotQUIC reports a datagram that does not start with a QUIC packet this
// package can read.
var ErrNotQUIC = errors.New("not a QUIC packet")

// Initial salts: RFC 9001, Section 5.2; RFC 9369, Section 3.3.1; and the
// drafts that preceded them.
var (
	quicSaltV1      = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	quicSaltV2      = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
	quicSaltDraft29 = []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}
	quicSaltDraft23 = []byte{0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02}
)

// quicSalt returns the Initial salt of version v, or nil when the version's
// Initials cannot be decrypted.
//
// TODO(quic): Google QUIC is not read. Its Q0xx versions carry no TLS at
// all, and T050/T051 protect their Initials with salts of their own; Chrome
// has used IETF QUIC version 1 since 2021, so only old captures show them.
func quicSalt(v uint32) []byte {
	switch {
	case v == QUICv1:
		return quicSaltV1
	case v == QUICv2:
		return quicSaltV2
	case quicDraft23 <= v && v < quicDraft29:
		return quicSaltDraft23
	case quicDraft29 <= v && v < quicDraft34-1:
		return quicSaltDraft29
	case quicDraft34-1 <= v && v <= quicDraft34:
		return quicSaltV1
	}
	return nil
}

// quicPacketType is a long header packet type with the version 1 numbering
// (RFC 9000, Section 17.2), plus the two packets without a type field.
type quicPacketType uint8

const (
	quicInitial quicPacketType = iota
	quicZeroRTT
	quicHandshake
	quicRetry
	quicVersionNegotiation
	quicShort
)

// quicHeader is a parsed long header. Slices alias the datagram.
type quicHeader struct {
	typ        quicPacketType
	version    uint32
	dcid, scid []byte
	pnOffset   int // offset of the protected packet number in the packet
	end        int // length of the packet, so the next coalesced one starts there
}

// parseLongHeader reads the long header at the start of b (RFC 9000,
// Section 17.2) and, for Initial, 0-RTT and Handshake packets, the fields up
// to the packet number. It returns [ErrNotQUIC] for a version it cannot
// read and an error wrapping [ErrTruncated] when b ends inside the packet.
func parseLongHeader(b []byte) (h quicHeader, err error) {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return h, ErrNotQUIC
	}
	h.version = binary.BigEndian.Uint32(b[1:5])
	if h.version == 0 {
		h.typ = quicVersionNegotiation
	} else if quicSalt(h.version) == nil {
		return h, ErrNotQUIC
	} else {
		// The fixed bit (0x40) is not checked: peers that negotiated
		// grease_quic_bit (RFC 9287) clear it.
		h.typ = quicPacketType(b[0] >> 4 & 3)
		if h.version == QUICv2 {
			// RFC 9369, Section 3.2: Initial 0b01, 0-RTT 0b10,
			// Handshake 0b11, Retry 0b00.
			h.typ = (h.typ + 3) & 3
		}
	}
	off := 5
	for _, cid := range []*[]byte{&h.dcid, &h.scid} {
		n := int(b[off])
		if n > 20 && h.typ != quicVersionNegotiation {
			return h, fmt.Errorf("quic: connection id of %d bytes", n)
		}
		if len(b) < off+1+n+1 {
			return h, fmt.Errorf("quic: long header: %w", ErrTruncated)
		}
		*cid = b[off+1 : off+1+n]
		off += 1 + n
	}
	switch h.typ {
	case quicVersionNegotiation, quicRetry:
		h.end = len(b) // these fill the datagram
		return h, nil
	case quicInitial:
		// RFC 9000, Section 17.2.2: Token Length and Token.
		n, m := quicVarint(b[off:])
		if m == 0 || uint64(len(b)-off-m) < n {
			return h, fmt.Errorf("quic: initial token: %w", ErrTruncated)
		}
		off += m + int(n)
	}
	n, m := quicVarint(b[off:])
	if m == 0 {
		return h, fmt.Errorf("quic: packet length: %w", ErrTruncated)
	}
	off += m
	if uint64(len(b)-off) < n {
		return h, fmt.Errorf("quic: packet of %d bytes, %d present: %w", n, len(b)-off, ErrTruncated)
	}
	if n < 20 { // a packet number of up to 4 bytes and a 16-byte sample
		return h, fmt.Errorf("quic: packet length %d too short to sample", n)
	}
	h.pnOffset = off
	h.end = off + int(n)
	return h, nil
}

// quicVarint reads a variable-length integer (RFC 9000, Section 16) and
// returns it and its length, or a length of 0 when b is too short.
func quicVarint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v := uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

// quicKeys protects the packets of one direction of one packet number space.
type quicKeys struct {
	aead cipher.AEAD
	hp   cipher.Block
	iv   [12]byte
}

// newInitialKeys derives the Initial keys of one side from the client's
// first Destination Connection ID.
func newInitialKeys(version uint32, dcid []byte, server bool) (*quicKeys, error) {
	key, iv, hp := initialSecrets(version, dcid, server)
	if key == nil {
		return nil, ErrNotQUIC
	}
	k := new(quicKeys)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	if k.hp, err = aes.NewCipher(hp); err != nil {
		return nil, err
	}
	copy(k.iv[:], iv)
	return k, nil
}

// initialSecrets returns the AEAD key, IV and header protection key of the
// Initial packets of one side (RFC 9001, Section 5.2; RFC 9369, Section
// 3.3), or nils for a version it does not know.
func initialSecrets(version uint32, dcid []byte, server bool) (key, iv, hp []byte) {
	salt := quicSalt(version)
	if salt == nil {
		return nil, nil, nil
	}
	prefix := "quic "
	if version == QUICv2 {
		prefix = "quicv2 "
	}
	label := "client in"
	if server {
		label = "server in"
	}
	secret := expandLabel(hkdf.Extract(sha256.New, dcid, salt), label, 32)
	return expandLabel(secret, prefix+"key", 16),
		expandLabel(secret, prefix+"iv", 12),
		expandLabel(secret, prefix+"hp", 16)
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446,
// Section 7.1).
func expandLabel(secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+6+len(label))
	info = append(info, byte(n>>8), byte(n), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out := make([]byte, n)
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, secret, info), out); err != nil {
		panic("quic: hkdf cannot produce " + fmt.Sprint(n) + " bytes") // unreachable: n is small
	}
	return out
}

// quicOpener removes packet protection; its buffers make opening a packet
// allocation-free. It is not safe for concurrent use.
type quicOpener struct {
	mask  [16]byte
	nonce [12]byte
	buf   []byte
}

// open removes the header protection (RFC 9001, Section 5.4) and the packet
// protection (Section 5.3) of the long header packet p described by h,
// decoding the packet number against largest (-1 when none was seen yet).
// The payload it returns is valid until the next call.
func (o *quicOpener) open(k *quicKeys, p []byte, h quicHeader, largest int64) (payload []byte, pn int64, err error) {
	sample := p[h.pnOffset+4 : h.pnOffset+4+16]
	k.hp.Encrypt(o.mask[:], sample)
	o.buf = append(o.buf[:0], p[:h.end]...)
	b := o.buf
	b[0] ^= o.mask[0] & 0x0f
	pnLen := int(b[0]&3) + 1
	var truncated uint64
	for i := range pnLen {
		b[h.pnOffset+i] ^= o.mask[1+i]
		truncated = truncated<<8 | uint64(b[h.pnOffset+i])
	}
	pn = decodePacketNumber(largest, truncated, pnLen)
	o.nonce = k.iv
	for i := range 8 {
		o.nonce[11-i] ^= byte(uint64(pn) >> (8 * i))
	}
	hdr := b[:h.pnOffset+pnLen]
	payload, err = k.aead.Open(b[len(hdr):len(hdr)], o.nonce[:], b[len(hdr):], hdr)
	if err != nil {
		return nil, 0, errors.New("quic: packet does not decrypt")
	}
	return payload, pn, nil
}

// decodePacketNumber recovers a full packet number from its truncated
// encoding of n bytes (RFC 9000, Section 17.1 and Appendix A.3).
func decodePacketNumber(largest int64, truncated uint64, n int) int64 {
	expected := largest + 1
	win := int64(1) << (8 * n)
	half, mask := win/2, win-1
	c := expected&^mask | int64(truncated)
	switch {
	case c <= expected-half && c < 1<<62-win:
		return c + win
	case c > expected+half && c >= win:
		return c - win
	}
	return c
}

// quicFrames walks the frames of a decrypted Initial payload (RFC 9000,
// Section 19). Initial packets may only carry PADDING, PING, ACK, CRYPTO
// and CONNECTION_CLOSE (Section 12.4).
type quicFrames struct {
	b []byte
}

// quicFrame is one frame of interest: a CRYPTO frame (data at offset) or a
// CONNECTION_CLOSE (code, with app set for the application variant).
type quicFrame struct {
	typ    uint64
	offset uint64
	data   []byte
	code   uint64
	app    bool
}

// next returns the next CRYPTO or CONNECTION_CLOSE frame, skipping the
// others; ok is false at the end of the payload or on error.
func (f *quicFrames) next() (fr quicFrame, ok bool, err error) {
	for len(f.b) > 0 {
		typ, n := quicVarint(f.b)
		if n == 0 {
			return fr, false, errors.New("quic: frame type: truncated")
		}
		b := f.b[n:]
		var vs [4]uint64
		switch typ {
		case 0x00, 0x01: // PADDING, PING
			f.b = b
			continue
		case 0x02, 0x03: // ACK: largest, delay, range count, first range
			if b, err = quicVarints(b, vs[:4]); err != nil {
				return fr, false, fmt.Errorf("quic: ack frame: %w", err)
			}
			ranges := 2 * vs[2]
			if typ == 0x03 {
				ranges += 3 // ECN counts
			}
			for ; ranges > 0; ranges-- {
				if b, err = quicVarints(b, vs[:1]); err != nil {
					return fr, false, fmt.Errorf("quic: ack frame: %w", err)
				}
			}
			f.b = b
			continue
		case 0x06: // CRYPTO: offset, length, data
			if b, err = quicVarints(b, vs[:2]); err != nil || uint64(len(b)) < vs[1] {
				return fr, false, errors.New("quic: crypto frame: truncated")
			}
			fr = quicFrame{typ: typ, offset: vs[0], data: b[:vs[1]]}
			f.b = b[vs[1]:]
			return fr, true, nil
		case 0x1c, 0x1d: // CONNECTION_CLOSE: code, [frame type], reason
			want := vs[:3]
			if typ == 0x1d {
				want = vs[:2]
			}
			if b, err = quicVarints(b, want); err != nil || uint64(len(b)) < want[len(want)-1] {
				return fr, false, errors.New("quic: connection close frame: truncated")
			}
			fr = quicFrame{typ: typ, code: vs[0], app: typ == 0x1d}
			f.b = b[want[len(want)-1]:]
			return fr, true, nil
		default:
			return fr, false, fmt.Errorf("quic: frame type 0x%x in an initial packet", typ)
		}
	}
	return fr, false, nil
}

// quicVarints reads len(vs) variable-length integers from b.
func quicVarints(b []byte, vs []uint64) ([]byte, error) {
	for i := range vs {
		v, n := quicVarint(b)
		if n == 0 {
			return b, ErrTruncated
		}
		vs[i], b = v, b[n:]
	}
	return b, nil
}

// ParseQUICInitial decrypts the client Initial packets at the start of one
// UDP datagram and parses the ClientHello their CRYPTO frames carry. It
// returns an error wrapping [ErrNotQUIC] when the datagram does not start
// with a long header packet of a version this package reads, and one
// wrapping [ErrTruncated] when the ClientHello continues in another
// datagram: a [QUICTracker] reassembles those. It does not modify datagram.
func ParseQUICInitial(datagram []byte) (ClientHello, error) {
	h, err := parseLongHeader(datagram)
	if err != nil {
		return ClientHello{}, err
	}
	if h.typ != quicInitial {
		return ClientHello{}, fmt.Errorf("quic: first packet is not an initial: %w", ErrNotQUIC)
	}
	keys, err := newInitialKeys(h.version, h.dcid, false)
	if err != nil {
		return ClientHello{}, err
	}
	var o quicOpener
	var c quicCrypto
	for b := datagram; ; {
		payload, _, err := o.open(keys, b, h, -1)
		if err != nil {
			return ClientHello{}, err
		}
		if _, err := c.addFrames(payload); err != nil {
			return ClientHello{}, err
		}
		if c.done {
			return c.hello, c.err
		}
		if b = b[h.end:]; len(b) == 0 || b[0]&0x80 == 0 {
			break
		}
		if h, err = parseLongHeader(b); err != nil || h.typ != quicInitial {
			break
		}
	}
	return ClientHello{}, fmt.Errorf("quic: client hello: %w", ErrTruncated)
}
