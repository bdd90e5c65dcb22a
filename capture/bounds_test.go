package capture

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestFlowTableBound sends SYNs from 5000 client ports, all within one
// second, through a table of 500 flows: the table never holds more, and
// every flow is still judged exactly once.
func TestFlowTableBound(t *testing.T) {
	c := newCap(t)
	for i := 0; i < 5000; i++ {
		cli := netip.AddrPortFrom(labClient.Addr(), uint16(10000+i))
		c.tcp(cli, labServer, "S", uint32(i), 0, nil)
		c.clock = labEpoch.Add(time.Duration(i) * 100 * time.Microsecond)
	}
	var st Stats
	seen := map[netip.AddrPort]int{}
	d := newDecoder("bound", &Config{MaxFlows: 500}, &st, func(o *Observation) {
		seen[o.Client]++
		if o.Reason != NoResponse {
			t.Errorf("%v: reason %q, want no-response", o.Client, o.Reason)
		}
	})
	peak := 0
	for _, f := range c.frames {
		d.packet(layers.LinkTypeEthernet, f.data, len(f.data), len(f.data), f.t)
		peak = max(peak, len(d.flows))
	}
	d.finish()
	if peak > 500 {
		t.Errorf("flow table reached %d flows, bound 500", peak)
	}
	if len(seen) != 5000 {
		t.Errorf("%d flows judged, want 5000", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%v judged %d times", k, n)
		}
	}
}

// TestReadDamaged reads files with lying lengths: a clear message, what
// came before is kept.
func TestReadDamaged(t *testing.T) {
	good := rawPcap(binary.LittleEndian, false, layers.LinkTypeRaw, sniFlowIP(t))
	huge := append([]byte(nil), good...)
	// The second record claims 1 MiB.
	second := 24 + 16 + int(binary.LittleEndian.Uint32(good[24+8:]))
	binary.LittleEndian.PutUint32(huge[second+8:], 1<<20)
	var st Stats
	if err := Read(strings.NewReader(string(huge)), "huge.pcap", nil, &st, func(*Observation) {}); err != nil {
		t.Fatal(err)
	}
	if st.Records != 1 || st.Failed != 1 || !strings.Contains(st.Truncated, "packet 2") {
		t.Errorf("records %d failed %d truncated %q; want 1 record, 1 failure at packet 2", st.Records, st.Failed, st.Truncated)
	}
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Err, "exceeds the limit") {
		t.Errorf("problems = %v", st.Problems)
	}
}
