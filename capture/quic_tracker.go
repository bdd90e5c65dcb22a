package capture

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// QUICDatagram says what a [QUICTracker] made of one UDP datagram.
type QUICDatagram uint8

const (
	// QUICNone: not QUIC, or not a packet this package reads; the caller
	// treats the datagram as plain UDP.
	QUICNone QUICDatagram = iota
	// QUICUsed: the datagram was read into a connection.
	QUICUsed
	// QUICUnmatched: a QUIC packet of a connection whose client Initial
	// the capture does not hold (it started earlier, or the Initial does
	// not decrypt); nothing was learned from it.
	QUICUnmatched
)

// QUICOptions bound a [QUICTracker]. Zero fields take the defaults.
type QUICOptions struct {
	// MaxConns bounds the connections followed at once (default 16384).
	MaxConns int
	// Idle is how long a connection is followed after its last packet
	// (default 2 minutes, beyond QUIC's usual 30 s handshake timeout).
	Idle time.Duration
	// Done receives each connection once it is finished: idle, replaced by
	// a new attempt from the same socket, or at [QUICTracker.Flush]. It is
	// called from within [QUICTracker.Datagram] and Flush; the tracker does
	// not touch c afterwards.
	Done func(c *QUICConn)
}

// QUICConn is what a capture shows of one QUIC connection attempt: the
// ClientHello of its client Initial packets and the answer it got.
type QUICConn struct {
	Client, Server netip.AddrPort
	Version        uint32 // of the client's Initial packets
	First, Last    time.Time
	FirstPacket    Locator // the client's first Initial
	HelloPacket    Locator // the packet that completed the ClientHello

	// Hello is valid when HelloErr is nil; HelloErr says why it is not
	// (incomplete, cut by the snaplen, malformed). Both are final once
	// [QUICOptions.Done] receives the connection.
	Hello    ClientHello
	HelloErr error

	ClientInitials int  // client Initial packets
	ClientDone     bool // client Handshake or 1-RTT packets: it got the server's flight

	ServerPacket    Locator // the server's first packet of any kind
	ServerInitial   bool
	ServerHandshake bool
	ServerShort     bool     // a 1-RTT packet from the server
	Retry           bool     // the server sent a Retry
	VersionsOffered []uint32 // a Version Negotiation packet's list
	StatelessReset  bool     // a short header packet from a server that had sent no handshake

	// Close is set when an Initial carried a CONNECTION_CLOSE.
	Close *QUICCloseInfo

	// ICMP is set when an ICMP destination unreachable quoted a datagram
	// of the connection.
	ICMP *QUICICMP

	crypto    quicCrypto
	dcid      []byte // the Destination Connection ID the Initial keys come from
	retrySCID []byte // the connection ID of a Retry not yet followed
	serverCID []byte // the server's Source Connection ID
	client    *quicKeys
	server    *quicKeys
	largest   [2]int64 // largest Initial packet number, client and server
}

// QUICCloseInfo is a CONNECTION_CLOSE frame read from an Initial packet.
type QUICCloseInfo struct {
	FromServer bool
	Code       uint64 // transport or application error code
	App        bool   // the application variant, frame type 0x1d
	Packet     Locator
}

// QUICICMP is an ICMP destination unreachable in answer to a datagram of
// the connection.
type QUICICMP struct {
	Prohibited bool // administratively prohibited
	Packet     Locator
}

// Answered reports whether the server answered with any QUIC packet.
func (c *QUICConn) Answered() bool {
	return c.ServerPacket.Unit != ""
}

// Observation returns c as a connection observation. Input is left for
// the caller; the locator is the packet that completed the ClientHello,
// else the first client Initial.
func (c *QUICConn) Observation() Observation {
	o := Observation{
		Time:      c.First,
		Locator:   c.FirstPacket,
		Kind:      Connection,
		Client:    c.Client,
		Server:    c.Server,
		Transport: QUIC,
	}
	if c.HelloErr == nil {
		o.Locator = c.HelloPacket
		if c.Hello.ServerName != "" {
			o.Host, o.HostSource = c.Hello.ServerName, SourceQUIC
		}
		o.ECH = c.Hello.ECH
	}
	o.Outcome, o.Reason, o.Detail = c.outcome()
	return o
}

// outcome judges the attempt from what the capture shows, strongest
// evidence first.
func (c *QUICConn) outcome() (Outcome, Reason, string) {
	var notes []string
	if c.HelloErr != nil {
		notes = append(notes, "no client hello: "+c.HelloErr.Error())
	}
	if c.Hello.ECH {
		notes = append(notes, "encrypted_client_hello (real or GREASE): the server name may be only the public one")
	}
	detail := func(s string) string { return strings.Join(append([]string{s}, notes...), "; ") }
	switch {
	case c.Close != nil && c.Close.FromServer && !c.Close.App && c.Close.Code&^0xff == 0x100:
		return OutcomeBlocked, TLSAlert,
			detail(fmt.Sprintf("QUIC CONNECTION_CLOSE from the server: TLS alert %d", c.Close.Code&0xff))
	case c.Close != nil && c.Close.FromServer:
		return OutcomeBlocked, Reset,
			detail(fmt.Sprintf("QUIC CONNECTION_CLOSE from the server: error 0x%x", c.Close.Code))
	case c.StatelessReset:
		return OutcomeBlocked, Reset, detail("QUIC stateless reset from the server")
	case c.ServerHandshake || c.ServerShort || c.ClientDone:
		return OutcomeOK, ReasonNone, detail("QUIC handshake answered by the server")
	case c.ServerInitial:
		return OutcomeOK, ReasonNone, detail("QUIC Initial answered by the server")
	case c.ICMP != nil && c.ICMP.Prohibited:
		return OutcomeBlocked, ICMPProhibited, detail("ICMP administratively prohibited in answer")
	case c.ICMP != nil:
		return OutcomeBlocked, ICMPUnreachable, detail("ICMP destination unreachable in answer")
	case c.VersionsOffered != nil:
		vs := make([]string, len(c.VersionsOffered))
		for i, v := range c.VersionsOffered {
			vs[i] = fmt.Sprintf("0x%08x", v)
		}
		return OutcomeUnknown, ReasonNone, detail(fmt.Sprintf(
			"QUIC version negotiation: the server does not accept 0x%08x, offers %s",
			c.Version, strings.Join(vs, " ")))
	case c.Retry:
		return OutcomeUnknown, ReasonNone, detail("QUIC Retry from the server, not followed up")
	}
	return OutcomeBlocked, NoResponse,
		detail(fmt.Sprintf("%d QUIC Initial packets, no answer", c.ClientInitials))
}

// quicFlow keys a connection by its two addresses, the lower one first, so
// that one lookup finds a datagram's connection in either direction.
type quicFlow struct{ lo, hi netip.AddrPort }

func flowOf(a, b netip.AddrPort) quicFlow {
	if a.Compare(b) > 0 {
		return quicFlow{b, a}
	}
	return quicFlow{a, b}
}

// QUICTracker follows QUIC connection attempts through the UDP datagrams of
// a capture: it decrypts client Initial packets, reassembles their
// ClientHello (across packets and datagrams, in any order), and notes the
// server's answer. Memory is bounded by [QUICOptions] and [MaxQUICHello]
// per connection. It is not safe for concurrent use.
type QUICTracker struct {
	opt   QUICOptions
	conns map[quicFlow]*QUICConn
	ports [1 << 10]uint64 // bit set of the server ports of the connections
	swept time.Time
	open  quicOpener

	// Dropped counts connections not followed because the table was full.
	Dropped int64
}

// NewQUICTracker returns a tracker with the given bounds.
func NewQUICTracker(opt QUICOptions) *QUICTracker {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 1 << 14
	}
	if opt.Idle <= 0 {
		opt.Idle = 2 * time.Minute
	}
	return &QUICTracker{opt: opt, conns: make(map[quicFlow]*QUICConn)}
}

// Len returns the number of connections followed now.
func (t *QUICTracker) Len() int { return len(t.conns) }

// errQUICNoKeys stands for Initial keys a connection no longer holds.
var errQUICNoKeys = errors.New("quic: no initial keys")

// errQUICTableFull reports a new connection refused by a full table.
var errQUICTableFull = errors.New("quic: connection table full")

// Datagram reads one UDP datagram sent from src to dst, seen at time at,
// found at loc. It returns [QUICNone] within a few nanoseconds for
// datagrams that are not QUIC. An error describes a QUIC packet that could
// not be read (cut by the snaplen, does not decrypt, malformed); the
// datagram is then counted as [QUICUsed] or [QUICUnmatched] all the same.
// payload is not kept or modified.
func (t *QUICTracker) Datagram(src, dst netip.AddrPort, payload []byte, at time.Time, loc Locator) (QUICDatagram, error) {
	if !t.mayBeQUIC(src.Port(), dst.Port(), payload) {
		return QUICNone, nil
	}
	return t.datagram(src, dst, payload, at, loc)
}

// mayBeQUIC is the filter in front of [QUICTracker.Datagram]: a long
// header of version 1, 2, a draft or negotiation, or a short header to or
// from the port of a server followed (RFC 9000, Section 17).
func (t *QUICTracker) mayBeQUIC(sport, dport uint16, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0]&0x80 == 0 {
		return len(t.conns) > 0 &&
			(t.ports[sport>>6]>>(sport&63)|t.ports[dport>>6]>>(dport&63))&1 != 0
	}
	if len(b) < 7 {
		return false
	}
	v := binary.BigEndian.Uint32(b[1:5])
	return v <= QUICv1 || v == QUICv2 || v>>8 == 0xff0000
}

// datagram is the body of [QUICTracker.Datagram] past its filter.
func (t *QUICTracker) datagram(src, dst netip.AddrPort, payload []byte, at time.Time, loc Locator) (QUICDatagram, error) {
	if payload[0]&0x80 == 0 {
		return t.short(src, dst, payload, at, loc), nil
	}
	if v := binary.BigEndian.Uint32(payload[1:5]); v != 0 && quicSalt(v) == nil {
		return QUICNone, nil
	}
	if at.Sub(t.swept) >= t.opt.Idle {
		t.sweep(at)
	}

	c, fromClient := t.lookup(src, dst)
	if c == nil {
		h, err := parseLongHeader(payload)
		if err != nil {
			if errors.Is(err, ErrNotQUIC) {
				return QUICNone, nil
			}
			return QUICUnmatched, err
		}
		if h.typ != quicInitial {
			return QUICUnmatched, nil
		}
		if c, err = t.start(src, dst, h, payload, at, loc); c == nil {
			return QUICUnmatched, err
		}
		fromClient = true
	}
	c.Last = at

	for b := payload; len(b) > 0; {
		if b[0]&0x80 == 0 {
			if b[0] != 0 { // a coalesced 1-RTT packet, not zero padding
				t.markShort(c, fromClient, len(b), loc)
			}
			break
		}
		h, err := parseLongHeader(b)
		if err != nil {
			if errors.Is(err, ErrNotQUIC) && len(b) < len(payload) {
				break // trailing bytes after the packets
			}
			return QUICUsed, err
		}
		if fromClient {
			if h.typ == quicInitial {
				c = t.restart(c, h, b, at, loc)
			}
			err = t.fromClient(c, h, b, loc)
		} else {
			err = t.fromServer(c, h, b, loc)
		}
		if err != nil {
			return QUICUsed, err
		}
		b = b[h.end:]
	}
	return QUICUsed, nil
}

// lookup finds the connection of a datagram from src to dst and says
// whether the client sent it.
func (t *QUICTracker) lookup(src, dst netip.AddrPort) (*QUICConn, bool) {
	c := t.conns[flowOf(src, dst)]
	if c == nil {
		return nil, false
	}
	return c, c.Client == src
}

// start begins a connection with a client Initial that decrypts with the
// keys of its Destination Connection ID; it returns nil when the packet is
// not one.
func (t *QUICTracker) start(src, dst netip.AddrPort, h quicHeader, p []byte, at time.Time, loc Locator) (*QUICConn, error) {
	keys, err := newInitialKeys(h.version, h.dcid, false)
	if err != nil {
		return nil, err
	}
	if _, _, err := t.open.open(keys, p, h, -1); err != nil {
		return nil, nil // a server Initial of an unseen connection, or noise
	}
	if len(t.conns) >= t.opt.MaxConns {
		t.sweep(at)
		if len(t.conns) >= t.opt.MaxConns {
			t.Dropped++
			return nil, errQUICTableFull
		}
	}
	return t.add(src, dst, h, keys, at, loc), nil
}

// add follows a new connection whose first client Initial is h.
func (t *QUICTracker) add(src, dst netip.AddrPort, h quicHeader, keys *quicKeys, at time.Time, loc Locator) *QUICConn {
	c := &QUICConn{
		Client:      src,
		Server:      dst,
		Version:     h.version,
		First:       at,
		Last:        at,
		FirstPacket: loc,
		dcid:        slices.Clone(h.dcid),
		client:      keys,
		largest:     [2]int64{-1, -1},
	}
	t.conns[flowOf(src, dst)] = c
	t.ports[dst.Port()>>6] |= 1 << (dst.Port() & 63)
	return c
}

// restart returns a new connection, and finishes c, when the client
// Initial p starts a new attempt on the same addresses: its Destination
// Connection ID is neither the one c's keys come from nor the server's,
// and keys of its own decrypt it. quic-go and browsers reuse one socket for
// several connections to a server. Otherwise it returns c.
func (t *QUICTracker) restart(c *QUICConn, h quicHeader, p []byte, at time.Time, loc Locator) *QUICConn {
	if c.retrySCID != nil || h.version != c.Version ||
		bytes.Equal(h.dcid, c.dcid) || bytes.Equal(h.dcid, c.serverCID) {
		return c
	}
	keys, err := newInitialKeys(h.version, h.dcid, false)
	if err != nil {
		return c
	}
	if _, _, err := t.open.open(keys, p, h, -1); err != nil {
		return c
	}
	delete(t.conns, flowOf(c.Client, c.Server))
	t.finish([]*QUICConn{c})
	return t.add(c.Client, c.Server, h, keys, at, loc)
}

// fromClient reads one long header packet of the client.
func (t *QUICTracker) fromClient(c *QUICConn, h quicHeader, p []byte, loc Locator) error {
	switch h.typ {
	case quicHandshake:
		c.ClientDone = true
		return nil
	case quicInitial:
	default:
		return nil
	}
	c.ClientInitials++
	retried := c.retrySCID != nil && string(h.dcid) == string(c.retrySCID)
	if retried {
		// RFC 9000, Section 17.2.5.2: after a Retry the client's keys come
		// from the connection ID the server chose.
		c.retrySCID = nil
	} else if c.crypto.done && h.version == c.Version {
		return nil // the hello is read; later Initials carry only ACKs
	}
	var payload []byte
	var pn int64
	err := errQUICNoKeys
	if !retried && c.client != nil {
		payload, pn, err = t.open.open(c.client, p, h, c.largest[0])
	}
	if err != nil {
		// After a Retry or a Version Negotiation the client starts over
		// with keys from a new connection ID or version.
		keys, kerr := newInitialKeys(h.version, h.dcid, false)
		if kerr != nil {
			return err
		}
		if payload, pn, err = t.open.open(keys, p, h, -1); err != nil {
			return fmt.Errorf("quic: client initial: %w", err)
		}
		c.client, c.server, c.serverCID, c.Version = keys, nil, nil, h.version
		c.dcid = append(c.dcid[:0], h.dcid...)
		c.largest = [2]int64{-1, -1}
		if c.crypto.done && c.crypto.err != nil || !c.crypto.done {
			c.crypto = quicCrypto{}
		}
	}
	c.largest[0] = max(c.largest[0], pn)
	wasDone := c.crypto.done
	cl, err := c.crypto.addFrames(payload)
	if cl != nil && c.Close == nil {
		c.Close = &QUICCloseInfo{Code: cl.code, App: cl.app, Packet: loc}
	}
	if c.crypto.done && !wasDone {
		c.Hello, c.HelloErr, c.HelloPacket = c.crypto.hello, c.crypto.err, loc
		c.client = nil // a new version or Retry brings new keys
	}
	if err != nil {
		return fmt.Errorf("quic: client initial: %w", err)
	}
	return nil
}

// fromServer reads one long header packet of the server.
func (t *QUICTracker) fromServer(c *QUICConn, h quicHeader, p []byte, loc Locator) error {
	if c.ServerPacket.Unit == "" {
		c.ServerPacket = loc
	}
	if c.serverCID == nil && (h.typ == quicInitial || h.typ == quicHandshake) {
		c.serverCID = slices.Clone(h.scid)
	}
	switch h.typ {
	case quicHandshake:
		c.ServerHandshake = true
	case quicRetry:
		// A client follows the first Retry only (RFC 9000, Section
		// 17.2.5.2); a server may send one for each client Initial.
		if !c.Retry {
			c.Retry = true
			c.retrySCID = slices.Clone(h.scid)
		}
	case quicVersionNegotiation:
		// RFC 9000, Section 17.2.1: the rest is a list of versions.
		vs := p[7+len(h.dcid)+len(h.scid):]
		c.VersionsOffered = c.VersionsOffered[:0]
		for ; len(vs) >= 4 && len(c.VersionsOffered) < 16; vs = vs[4:] {
			c.VersionsOffered = append(c.VersionsOffered, binary.BigEndian.Uint32(vs))
		}
	case quicInitial:
		c.ServerInitial = true
		if c.ServerHandshake {
			c.server = nil // past the Initials that could refuse the hello
			return nil
		}
		if c.server == nil {
			keys, err := newInitialKeys(h.version, c.dcid, true)
			if err != nil {
				return err
			}
			c.server = keys
		}
		payload, pn, err := t.open.open(c.server, p, h, c.largest[1])
		if err != nil {
			return fmt.Errorf("quic: server initial: %w", err)
		}
		c.largest[1] = max(c.largest[1], pn)
		fs := quicFrames{b: payload}
		for {
			fr, ok, err := fs.next()
			if err != nil {
				return fmt.Errorf("quic: server initial: %w", err)
			}
			if !ok {
				break
			}
			if fr.typ != 0x06 && c.Close == nil {
				c.Close = &QUICCloseInfo{FromServer: true, Code: fr.code, App: fr.app, Packet: loc}
			}
		}
	}
	return nil
}

// short reads a datagram that starts with a short header packet.
func (t *QUICTracker) short(src, dst netip.AddrPort, payload []byte, at time.Time, loc Locator) QUICDatagram {
	c, fromClient := t.lookup(src, dst)
	if c == nil {
		return QUICNone
	}
	c.Last = at
	t.markShort(c, fromClient, len(payload), loc)
	return QUICUsed
}

// markShort notes a 1-RTT packet. From a server that has sent no handshake
// packet it can only be a stateless reset (RFC 9000, Section 10.3), which
// is at least 21 bytes long.
func (t *QUICTracker) markShort(c *QUICConn, fromClient bool, n int, loc Locator) {
	if fromClient {
		c.ClientDone = true
		return
	}
	if c.ServerPacket.Unit == "" {
		c.ServerPacket = loc
	}
	if !c.ServerInitial && !c.ServerHandshake && !c.ServerShort && n >= 21 {
		c.StatelessReset = true
		return
	}
	c.ServerShort = true
}

// ICMP records an ICMP destination unreachable that quotes a datagram from
// client to server. It reports whether that datagram belongs to a
// connection the tracker follows.
func (t *QUICTracker) ICMP(client, server netip.AddrPort, prohibited bool, loc Locator) bool {
	c := t.conns[flowOf(client, server)]
	if c == nil || c.Client != client {
		return false
	}
	if c.ICMP == nil {
		c.ICMP = &QUICICMP{Prohibited: prohibited, Packet: loc}
	}
	return true
}

// sweep finishes the connections idle at time at.
func (t *QUICTracker) sweep(at time.Time) {
	t.swept = at
	var idle []*QUICConn
	for k, c := range t.conns {
		if at.Sub(c.Last) > t.opt.Idle {
			idle = append(idle, c)
			delete(t.conns, k)
		}
	}
	if len(t.conns) == 0 {
		t.ports = [1 << 10]uint64{}
	}
	t.finish(idle)
}

// Flush finishes every connection still followed, in the order of their
// first packet. Call it at the end of a capture.
func (t *QUICTracker) Flush() {
	all := make([]*QUICConn, 0, len(t.conns))
	for k, c := range t.conns {
		all = append(all, c)
		delete(t.conns, k)
	}
	t.ports = [1 << 10]uint64{}
	t.finish(all)
}

// finish hands connections to Done in the order of their first packet.
func (t *QUICTracker) finish(cs []*QUICConn) {
	slices.SortFunc(cs, func(a, b *QUICConn) int {
		return cmp.Or(cmp.Compare(a.FirstPacket.N, b.FirstPacket.N), a.First.Compare(b.First),
			a.Client.Compare(b.Client), a.Server.Compare(b.Server))
	})
	for _, c := range cs {
		if !c.crypto.done {
			c.HelloErr = c.crypto.pending()
		}
		c.crypto, c.client, c.server = quicCrypto{}, nil, nil
		if t.opt.Done != nil {
			t.opt.Done(c)
		}
	}
}
