package capture

import (
	"net/netip"
	"slices"
	"time"
)

// DefaultMaxFlows bounds the flow table when [Config] does not. At about
// 600 bytes a flow (without reassembly buffers) it keeps the table near
// 40 MB at worst.
const DefaultMaxFlows = 1 << 16

// sweepPeriod is how often, in capture time, a file's flows are visited
// for idle ones: a sweep visits every flow, 10% of the time at 5 s.
const sweepPeriod = 30 * time.Second

// DefaultIdleClosed is how long a flow that ended on the wire (a RST, or FINs
// both ways) is kept before it is judged, when [Config] does not say, so
// that what follows the end (an ICMP error, a retransmitted FIN) still
// counts for it.
const DefaultIdleClosed = 10 * time.Second

// DefaultIdleOpen is how long a flow that has not ended on the wire may stay
// idle before it is judged, when [Config] does not say: long enough to cover
// Linux's SYN retries after 1, 3, 7, 15 and 31 s.
const DefaultIdleOpen = 60 * time.Second

// flowKey names a flow whichever way its packets go: the two endpoints in
// a fixed order. Building it allocates nothing.
type flowKey struct {
	a, b  netip.AddrPort
	proto uint8
}

func makeKey(src, dst netip.AddrPort, proto uint8) flowKey {
	if src.Compare(dst) < 0 {
		return flowKey{src, dst, proto}
	}
	return flowKey{dst, src, proto}
}

// flow is everything known about one TCP connection or UDP exchange.
type flow struct {
	key            flowKey
	client, server netip.AddrPort
	first, last    time.Time
	firstN         int64

	clientPkts, serverPkts int

	// TCP handshake and teardown.
	syns       int   // SYNs from the client, retransmissions included
	synN       int64 // first SYN
	synAckN    int64
	estN       int64 // first packet after the SYN-ACK from the client
	rstN       int64
	rstServer  bool
	finClient  bool
	finServer  bool
	finN       int64
	closedTime time.Time
	// closeClient reports that the flow's first FIN or reset came from the
	// client: a client that gives up is not a server that refuses.
	closeClient bool
	closeSeen   bool
	// firstSends counts the client segments that carry the stream's first
	// byte: the first request and its retransmissions.
	firstSends  int
	serverAcked bool // the server acknowledged some of the client's bytes

	cs, ss stream  // client and server byte streams
	app    appInfo // what the streams said

	// ICMP error quoting this flow.
	icmpReason Reason
	icmpN      int64
	icmpDetail string

	snapN       int64 // first client data packet (or QUIC Initial) cut by the snaplen
	quicUnreadN int64 // first client QUIC Initial that does not decrypt
}

// closed reports whether the flow has ended on the wire.
func (f *flow) closed() bool {
	return f.rstN != 0 || (f.finClient && f.finServer)
}

// decoder is the state of one capture read.
type decoder struct {
	name  string
	cfg   *Config
	st    *Stats
	emit  func(*Observation)
	names *NameTable

	n         int64 // packets read
	missing   int   // bytes of the current packet cut by the snaplen
	now       time.Time
	lastStamp time.Time // of the packet read last, for Stats.OutOfOrder

	frags      fragTable
	flows      map[flowKey]*flow
	maxFlows   int
	idleOpen   time.Duration
	idleClosed time.Duration
	lastSweep  time.Time
	dns        dnsTable
	bufs       bufPool
	quic       *QUICTracker

	hs      []byte  // handshake message assembly, reused
	evicted []*flow // reused by sweep
	ages    []int64 // reused by sweep
	obs     Observation
}

func newDecoder(name string, cfg *Config, st *Stats, emit func(*Observation)) *decoder {
	d := &decoder{
		name:       name,
		cfg:        cfg,
		st:         st,
		emit:       emit,
		names:      cfg.Names,
		flows:      make(map[flowKey]*flow),
		maxFlows:   cfg.MaxFlows,
		idleOpen:   cfg.IdleOpen,
		idleClosed: cfg.IdleClosed,
	}
	if d.idleOpen <= 0 {
		d.idleOpen = DefaultIdleOpen
	}
	if d.idleClosed <= 0 {
		d.idleClosed = DefaultIdleClosed
	}
	if d.names == nil {
		d.names = NewNameTable()
	}
	if d.maxFlows <= 0 {
		d.maxFlows = DefaultMaxFlows
	}
	d.dns.init()
	if !cfg.noQUIC {
		d.quic = NewQUICTracker(QUICOptions{Done: d.quicDone})
	}
	return d
}

// lookupFlow finds the flow of p, creating it when create is set. fromClient
// tells the packet's direction.
func (d *decoder) lookupFlow(p *packet, create bool) (f *flow, fromClient bool) {
	src := netip.AddrPortFrom(p.src, p.sport)
	dst := netip.AddrPortFrom(p.dst, p.dport)
	key := makeKey(src, dst, p.prot)
	f = d.flows[key]
	if f == nil {
		if !create {
			return nil, false
		}
		if len(d.flows) >= d.maxFlows {
			d.sweep(p.t, true)
		}
		f = &flow{key: key, client: src, server: dst, first: p.t, firstN: p.n}
		if p.prot == protoTCP {
			switch {
			case p.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
				f.client, f.server = dst, src
			case p.flags&tcpSYN != 0:
			case serverPort(p.sport) && !serverPort(p.dport):
				f.client, f.server = dst, src
			}
		} else if serverPort(p.sport) && !serverPort(p.dport) {
			f.client, f.server = dst, src
		}
		d.flows[key] = f
	}
	f.last = p.t
	return f, f.client == src
}

// serverPort reports whether port is one servers listen on, to orient a
// flow whose start the capture missed.
func serverPort(port uint16) bool {
	switch port {
	case 53, 80, 443, 853, 3128, 8000, 8080, 8443, 8888:
		return true
	}
	return port < 1024
}

// tick runs the periodic work that keeps memory bounded.
func (d *decoder) tick(t time.Time) {
	if t.After(d.now) {
		d.now = t
	}
	if d.lastSweep.IsZero() {
		d.lastSweep = d.now
	}
	if d.now.Sub(d.lastSweep) >= sweepPeriod {
		d.sweep(d.now, false)
	}
}

// sweep judges and forgets idle flows and unanswered DNS questions. When
// full is set the table is at its bound: the oldest eighth of the flows go
// too, idle or not.
func (d *decoder) sweep(now time.Time, full bool) {
	d.lastSweep = now
	d.evicted = d.evicted[:0]
	for _, f := range d.flows {
		idle := now.Sub(f.last)
		if (f.closed() && idle > d.idleClosed) || idle > d.idleOpen {
			d.evicted = append(d.evicted, f)
		}
	}
	if full && len(d.evicted) < len(d.flows)/8 {
		d.ages = d.ages[:0]
		for _, f := range d.flows {
			d.ages = append(d.ages, f.last.UnixNano())
		}
		slices.Sort(d.ages)
		limit := d.ages[len(d.ages)/8]
		d.evicted = d.evicted[:0]
		for _, f := range d.flows {
			if f.last.UnixNano() <= limit && !(f.closed() && now.Sub(f.last) > d.idleClosed) && now.Sub(f.last) <= d.idleOpen {
				d.st.Evicted++
			}
			if f.last.UnixNano() <= limit {
				d.evicted = append(d.evicted, f)
			}
		}
	}
	// Judge in packet order, so that output does not depend on map order.
	slices.SortFunc(d.evicted, func(a, b *flow) int { return int(a.firstN - b.firstN) })
	for _, f := range d.evicted {
		delete(d.flows, f.key)
		d.endFlow(f)
	}
	d.dns.expire(d, now)
}

// finish judges every flow still open at the end of the capture.
func (d *decoder) finish() {
	if d.quic != nil {
		d.quic.Flush()
	}
	d.evicted = d.evicted[:0]
	for _, f := range d.flows {
		d.evicted = append(d.evicted, f)
	}
	slices.SortFunc(d.evicted, func(a, b *flow) int { return int(a.firstN - b.firstN) })
	for _, f := range d.evicted {
		delete(d.flows, f.key)
		d.endFlow(f)
	}
	d.dns.expire(d, time.Time{})
}

// newObservation returns the decoder's observation, reset for a flow.
func (d *decoder) newObservation(f *flow, tr Transport) *Observation {
	o := &d.obs
	*o = Observation{
		Time:      f.first,
		Input:     d.name,
		Locator:   Packet(f.firstN),
		Kind:      Connection,
		Client:    f.client,
		Server:    f.server,
		Transport: tr,
		Outcome:   OutcomeUnknown,
	}
	return o
}

// nameFromDNS names o from the name table when it has no host yet.
func (d *decoder) nameFromDNS(o *Observation) {
	if o.Host != "" {
		return
	}
	res, ok := d.names.Lookup(o.Server.Addr(), o.Time)
	if !ok {
		return
	}
	o.Host = res.Name
	o.HostSource = SourceDNS
	if res.Uncertain != "" {
		o.Detail = appendDetail(o.Detail, "name from DNS: "+res.Uncertain)
	}
}

func appendDetail(d, s string) string {
	if d == "" {
		return s
	}
	return d + "; " + s
}

func (o *Observation) block(r Reason, at int64, detail string) {
	o.Outcome = OutcomeBlocked
	o.Reason = r
	if at > 0 {
		o.Locator = Packet(at)
	}
	o.Detail = appendDetail(o.Detail, detail)
}
