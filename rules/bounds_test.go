package rules

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// TestClassifierBounds feeds the classifier a million unnamed flows to
// random addresses, a million named ones and a million DNS answers for
// distinct names: it keeps at most MaxDestinations destinations and
// capture.MaxNames bindings, says in the report's notes what it shed, and
// its heap in use (sampled during the run) stays under 320 MiB: at its
// bounds the classifier holds about 200 MiB live (100,000 destinations of
// about 1.3 KiB, 262,144 name bindings of about 220 bytes).
func TestClassifierBounds(t *testing.T) {
	const n = 1_000_000
	const limit = 320 << 20
	runtime.GC()
	var peak uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	r := rand.New(rand.NewPCG(3, 4))
	c := NewClassifier(DefaultCatalog(), Options{})
	client := netip.MustParseAddrPort("192.0.2.10:40000")
	epoch := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var o capture.Observation
	for i := range 3 * n {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		o = capture.Observation{
			Kind:    capture.Connection,
			Client:  client,
			Server:  netip.AddrPortFrom(netip.AddrFrom4(a), 443),
			Outcome: capture.OutcomeUnknown,
			Time:    epoch.Add(time.Duration(i) * time.Millisecond),
		}
		switch i % 3 {
		case 1:
			o.Host, o.HostSource = fmt.Sprintf("h%d.example", i), capture.SourceSNI
		case 2:
			o.Kind = capture.Lookup
			o.Host, o.HostSource = fmt.Sprintf("n%d.example", i), capture.SourceDNS
			o.Answers = []netip.Addr{o.Server.Addr()}
			o.TTL = time.Hour
		}
		c.Add(&o)
		if i%50000 == 0 {
			sample()
		}
	}
	rep := c.Report(nil)
	sample()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	live := m.HeapInuse
	if len(rep.Destinations) > MaxDestinations {
		t.Errorf("%d destinations, want at most %d", len(rep.Destinations), MaxDestinations)
	}
	if c.Names().Len() > capture.MaxNames || c.Names().Dropped != int64(n-c.Names().Len()) {
		t.Errorf("name table holds %d, dropped %d, want %d in all within %d", c.Names().Len(), c.Names().Dropped, n, capture.MaxNames)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{"were counted but not kept: more than 100000 destinations", "DNS answers were not kept: the name table is full"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	t.Logf("%d observations: heap in use %d MiB at peak, %d MiB live at the end, %d destinations, %d names (%d dropped)", 3*n, peak>>20, live>>20, len(rep.Destinations), c.Names().Len(), c.Names().Dropped)
	if peak > limit {
		t.Errorf("heap in use reached %d MiB, above the limit of %d MiB", peak>>20, limit>>20)
	}
}

// TestEvictedFlowsNoted checks that flows a capture reader judged early,
// because its flow table was full, are named in the report's notes.
func TestEvictedFlowsNoted(t *testing.T) {
	c := NewClassifier(DefaultCatalog(), Options{})
	for _, tc := range []struct {
		evicted int64
		want    bool
	}{{0, false}, {942195, true}} {
		rep := c.Report([]InputReport{{Path: "flood.pcap", Evicted: tc.evicted}})
		got := strings.Contains(strings.Join(rep.Notes, "\n"), "flood.pcap: 942195 flows were judged before their end: the flow table was full")
		if got != tc.want {
			t.Errorf("evicted %d: note present %v, want %v: %q", tc.evicted, got, tc.want, rep.Notes)
		}
	}
}

// TestCaptureShortcomingsNoted checks that flows a capture reader could not
// reassemble and packets out of time order are named in the notes.
func TestCaptureShortcomingsNoted(t *testing.T) {
	c := NewClassifier(DefaultCatalog(), Options{})
	tests := []struct {
		name string
		in   InputReport
		want string // "" for no note about the input
	}{
		{"none", InputReport{Path: "ok.pcap"}, ""},
		{"unreassembled", InputReport{Path: "busy.pcap", Unreassembled: 3808},
			"busy.pcap: 3808 TCP flows were not reassembled whole: too many flows were open at once"},
		{"out_of_order", InputReport{Path: "merged.pcap", OutOfOrder: 2},
			"merged.pcap: 2 packets out of time order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			notes := strings.Join(c.Report([]InputReport{tc.in}).Notes, "\n")
			if tc.want == "" && strings.Contains(notes, tc.in.Path) || !strings.Contains(notes, tc.want) {
				t.Errorf("notes = %q, want one holding %q", notes, tc.want)
			}
		})
	}
}
