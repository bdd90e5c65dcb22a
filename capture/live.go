package capture

import (
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LiveIdleOpen is the idle time after which a live capture judges a flow
// that has not ended on the wire. Linux sends a SYN's retries 1, 3 and 7 s
// after it; a client that waits longer keeps the flow alive with each retry.
const LiveIdleOpen = 10 * time.Second

// LiveIdleClosed is how long a live capture keeps a flow that ended on the
// wire before it judges it: short, since someone watches for the verdict,
// and long enough for the ICMP error or retransmission that follows a
// refusal on a local network.
const LiveIdleClosed = 2 * time.Second

// liveSweep is how often a live capture looks for idle flows, so that a
// flow is judged within a second of its idle time.
const liveSweep = time.Second

// Live decodes packets as a live capture hands them over, judging flows
// when they end or fall idle on the wall clock rather than at the end of a
// file. It is not safe for concurrent use: one goroutine calls Packet and
// Tick, then Close.
type Live struct {
	d  *decoder
	st Stats
}

// NewLive returns a live decoder for the capture named name (used in
// evidence and messages). emit receives every observation, as [Read] gives
// them. A zero cfg.IdleOpen becomes [LiveIdleOpen], a zero cfg.IdleClosed
// [LiveIdleClosed].
func NewLive(name string, cfg *Config, emit func(*Observation)) *Live {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.IdleOpen <= 0 {
		c.IdleOpen = LiveIdleOpen
	}
	if c.IdleClosed <= 0 {
		c.IdleClosed = LiveIdleClosed
	}
	l := &Live{}
	l.st.Format = "live"
	l.d = newDecoder(name, &c, &l.st, emit)
	return l
}

// Packet decodes one captured frame of link type lt. data may be reused by
// the caller once Packet returns.
func (l *Live) Packet(lt layers.LinkType, data []byte, ci gopacket.CaptureInfo) {
	wire := ci.Length
	if wire < len(data) {
		wire = len(data)
	}
	t := ci.Timestamp
	if t.IsZero() {
		t = l.d.now
	}
	l.d.packet(lt, data, len(data), wire, t.UTC())
}

// Tick tells the decoder the time now, so that flows idle for longer than
// their idle time are judged although no packet arrives.
func (l *Live) Tick(now time.Time) {
	d := l.d
	if now.After(d.now) {
		d.now = now
	}
	if d.lastSweep.IsZero() {
		d.lastSweep = d.now
	}
	if d.now.Sub(d.lastSweep) >= liveSweep {
		d.sweep(d.now, false)
	}
}

// Close judges every flow still open and returns the counts of the capture.
// The Live must not be used after it.
func (l *Live) Close() *Stats {
	l.d.finish()
	return &l.st
}

// Stats returns the counts of the capture so far. The result is the Live's
// own: read it between calls, not during them.
func (l *Live) Stats() *Stats { return &l.st }
