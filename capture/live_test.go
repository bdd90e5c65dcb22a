package capture

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// liveFrames returns a DNS exchange naming auth.gtmhub.com 203.0.113.10 and
// a SYN from 192.0.2.10:40000 to it that nothing answers.
func liveFrames(t *testing.T) (query, answer, syn []byte) {
	t.Helper()
	client := net.ParseIP("192.0.2.10")
	resolver := net.ParseIP("198.51.100.53")
	server := net.ParseIP("203.0.113.10")
	v4 := func(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst}
	}
	q := layers.DNSQuestion{Name: []byte("auth.gtmhub.com"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	dnsQuery := &layers.DNS{ID: 0x1234, RD: true, Questions: []layers.DNSQuestion{q}}
	dnsAnswer := &layers.DNS{ID: 0x1234, QR: true, RD: true, RA: true, Questions: []layers.DNSQuestion{q},
		Answers: []layers.DNSResourceRecord{{Name: q.Name, Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: server}}}
	query = ethFrame(t, layers.EthernetTypeIPv4, v4(client, resolver, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53000, DstPort: 53}, dnsQuery)
	answer = ethFrame(t, layers.EthernetTypeIPv4, v4(resolver, client, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53, DstPort: 53000}, dnsAnswer)
	syn = ethFrame(t, layers.EthernetTypeIPv4, v4(client, server, layers.IPProtocolTCP),
		&layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1000, SYN: true, Window: 64240})
	return query, answer, syn
}

// An unanswered SYN is judged once it has been idle for the live idle time
// on the clock Tick gives, without any further packet.
func TestLiveUnansweredSYN(t *testing.T) {
	query, answer, syn := liveFrames(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var conns []Observation
	l := NewLive("eth0", nil, func(o *Observation) {
		if o.Kind == Connection {
			conns = append(conns, *o)
		}
	})
	at := func(d time.Duration) gopacket.CaptureInfo {
		return gopacket.CaptureInfo{Timestamp: t0.Add(d)}
	}
	l.Packet(layers.LinkTypeEthernet, query, at(0))
	l.Packet(layers.LinkTypeEthernet, answer, at(time.Millisecond))
	// The SYN and its retries 1, 3 and 7 seconds later.
	for _, s := range []time.Duration{10, 1010, 3010, 7010} {
		l.Packet(layers.LinkTypeEthernet, syn, at(s*time.Millisecond))
	}
	for _, s := range []time.Duration{8, 12, 16} {
		l.Tick(t0.Add(s * time.Second))
		if len(conns) != 0 {
			t.Fatalf("Tick(+%ds): %d connections judged, want none before %s of idle time", s, len(conns), LiveIdleOpen)
		}
	}
	l.Tick(t0.Add(18 * time.Second))
	if len(conns) != 1 {
		t.Fatalf("Tick(+18s): %d connections judged, want 1", len(conns))
	}
	o := conns[0]
	want := netip.MustParseAddrPort("203.0.113.10:443")
	if o.Server != want || o.Host != "auth.gtmhub.com" || o.HostSource != SourceDNS ||
		o.Outcome != OutcomeBlocked || o.Reason != NoResponse || o.Input != "eth0" {
		t.Errorf("observation = %+v, want %s auth.gtmhub.com (dns) blocked no-response from eth0", o, want)
	}
	st := l.Close()
	if len(conns) != 1 {
		t.Errorf("Close judged %d more connections, want none", len(conns)-1)
	}
	if st.Records != 6 || st.Format != "live" {
		t.Errorf("stats = %d records, format %q; want 6, live", st.Records, st.Format)
	}
}

// The idle time of open flows comes from the configuration, and Close
// judges what is still open.
func TestLiveIdleOpenAndClose(t *testing.T) {
	_, _, syn := liveFrames(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		idle    time.Duration
		tick    time.Duration
		judged  int // after the tick
		atClose int // after Close
		skipped int64
		garbage bool
	}{
		{name: "idle_default_live", tick: 9 * time.Second, judged: 0, atClose: 1},
		{name: "idle_configured", idle: 3 * time.Second, tick: 5 * time.Second, judged: 1, atClose: 1},
		{name: "idle_long", idle: time.Minute, tick: 30 * time.Second, judged: 0, atClose: 1},
		{name: "not_ip_skipped", tick: time.Second, judged: 0, atClose: 1, skipped: 1, garbage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			l := NewLive("eth0", &Config{IdleOpen: tc.idle}, func(o *Observation) {
				if o.Kind == Connection {
					n++
				}
			})
			l.Packet(layers.LinkTypeEthernet, syn, gopacket.CaptureInfo{Timestamp: t0})
			if tc.garbage {
				arp := make([]byte, 42)
				arp[12], arp[13] = 0x08, 0x06
				l.Packet(layers.LinkTypeEthernet, arp, gopacket.CaptureInfo{Timestamp: t0})
			}
			l.Tick(t0.Add(tc.tick))
			if n != tc.judged {
				t.Errorf("after Tick(+%s): %d judged, want %d", tc.tick, n, tc.judged)
			}
			st := l.Close()
			if n != tc.atClose {
				t.Errorf("after Close: %d judged, want %d", n, tc.atClose)
			}
			if st.SkippedTotal() != tc.skipped {
				t.Errorf("skipped = %v, want %d", st.Skipped, tc.skipped)
			}
		})
	}
}

func TestCheckInterface(t *testing.T) {
	list := func() ([]net.Interface, error) {
		return []net.Interface{
			{Name: "lo", Flags: net.FlagLoopback},
			{Name: "eth0", HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}},
			{Name: "wg0"},
		}, nil
	}
	if _, err := checkInterface("wg0", list); err == nil || !strings.Contains(err.Error(), "no Ethernet header") {
		t.Errorf("checkInterface(wg0) = %v, want an error about the missing Ethernet header", err)
	}
	for name, want := range map[string]bool{"lo": true, "eth0": false} {
		loopback, err := checkInterface(name, list)
		if err != nil || loopback != want {
			t.Errorf("checkInterface(%s) = %v, %v, want %v, nil", name, loopback, err, want)
		}
	}
	_, err := checkInterface("eth9", list)
	var ue *UnknownInterfaceError
	if !errors.As(err, &ue) {
		t.Fatalf("checkInterface(eth9) = %v, want an UnknownInterfaceError", err)
	}
	if got, want := err.Error(), `interface "eth9": no such interface: want one of lo, eth0, wg0`; got != want {
		t.Errorf("checkInterface(eth9) = %q, want %q", got, want)
	}
	failing := func() ([]net.Interface, error) { return nil, errors.New("netlink: denied") }
	if _, err := checkInterface("eth0", failing); err == nil || !strings.Contains(err.Error(), "netlink: denied") {
		t.Errorf("checkInterface with a failing list = %v, want its error", err)
	}
}

func TestPermissionError(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.EACCES} {
		err := error(&PermissionError{Interface: "eth0", Err: errno})
		msg := err.Error()
		for _, want := range []string{"capture on eth0", "CAP_NET_RAW", "root", "sudo", "setcap cap_net_raw+ep"} {
			if !strings.Contains(msg, want) {
				t.Errorf("PermissionError(%v) = %q, want it to contain %q", errno, msg, want)
			}
		}
		if !errors.Is(err, errno) {
			t.Errorf("errors.Is(PermissionError(%v), %v) = false", errno, errno)
		}
	}
}

// A refused connection is judged within a few seconds of its RST, not after
// the idle time a file read keeps closed flows for, so that someone watching
// sees the verdict at once.
func TestLiveRefusedJudgedSoon(t *testing.T) {
	_, _, syn := liveFrames(t)
	rst := ethFrame(t, layers.EthernetTypeIPv4,
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("203.0.113.10"), DstIP: net.ParseIP("192.0.2.10")},
		&layers.TCP{SrcPort: 443, DstPort: 40000, Ack: 1001, RST: true, ACK: true})
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		idleClosed time.Duration
		tick       time.Duration
		judged     int
	}{
		{name: "before_live_idle_closed", tick: LiveIdleClosed - 500*time.Millisecond, judged: 0},
		{name: "after_live_idle_closed", tick: LiveIdleClosed + 1500*time.Millisecond, judged: 1},
		{name: "configured_longer", idleClosed: DefaultIdleClosed, tick: LiveIdleClosed + 1500*time.Millisecond, judged: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var conns []Observation
			l := NewLive("eth0", &Config{IdleClosed: tc.idleClosed}, func(o *Observation) {
				if o.Kind == Connection {
					conns = append(conns, *o)
				}
			})
			l.Packet(layers.LinkTypeEthernet, syn, gopacket.CaptureInfo{Timestamp: t0})
			l.Packet(layers.LinkTypeEthernet, rst, gopacket.CaptureInfo{Timestamp: t0.Add(time.Millisecond)})
			// Ticks a second apart, as the watch loop gives them.
			for d := time.Second; d <= tc.tick; d += time.Second {
				l.Tick(t0.Add(d))
			}
			l.Tick(t0.Add(tc.tick))
			if len(conns) != tc.judged {
				t.Fatalf("after Tick(+%s): %d judged, want %d", tc.tick, len(conns), tc.judged)
			}
			if tc.judged == 1 && (conns[0].Outcome != OutcomeBlocked || conns[0].Reason != Reset) {
				t.Errorf("observation = %s %s, want blocked reset", conns[0].Outcome, conns[0].Reason)
			}
			l.Close()
			if len(conns) != 1 {
				t.Errorf("after Close: %d judged, want 1", len(conns))
			}
		})
	}
}
