package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// heapLimit is the most heap the reader may hold while it reads a capture
// built to exhaust its bounds.
const heapLimit = 256 << 20

// heapPeak samples the heap in use; sample is cheap enough to call every
// few thousand packets.
type heapPeak struct {
	base, peak uint64
	n          int
}

func newHeapPeak() *heapPeak {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapPeak{base: m.HeapInuse}
}

func (h *heapPeak) sample() {
	h.n++
	if h.n%20000 != 0 {
		return
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > h.peak {
		h.peak = m.HeapInuse
	}
}

// streamPcap writes a raw-IP pcap of n packets made by pkt through a pipe,
// so that the input itself takes no memory.
func streamPcap(n int, pkt func(i int, b []byte) []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<16)
		hdr := make([]byte, 24)
		binary.LittleEndian.PutUint32(hdr, pcapMagicMicro)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 65535)
		binary.LittleEndian.PutUint32(hdr[20:], 101) // raw IP
		w.Write(hdr)
		var b []byte
		rec := make([]byte, 16)
		for i := range n {
			b = pkt(i, b[:0])
			// 100 packets a millisecond: a million in ten seconds.
			t := labEpoch.Add(time.Duration(i) * 10 * time.Microsecond)
			binary.LittleEndian.PutUint32(rec, uint32(t.Unix()))
			binary.LittleEndian.PutUint32(rec[4:], uint32(t.Nanosecond()/1000))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(b)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(len(b)))
			w.Write(rec)
			w.Write(b)
		}
		w.Flush()
		pw.Close()
	}()
	return pr
}

// ipv4Header appends an IPv4 header without checksum (the reader does not
// check it).
func ipv4Header(b []byte, src, dst [4]byte, proto uint8, payload int) []byte {
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+payload))
	b = append(b, 0, 0, 0x40, 0, 64, proto, 0, 0)
	b = append(b, src[:]...)
	return append(b, dst[:]...)
}

// synFlood makes SYNs from random ports of one client to random addresses.
func synFlood(seed uint64) func(int, []byte) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	return func(i int, b []byte) []byte {
		var dst [4]byte
		binary.BigEndian.PutUint32(dst[:], r.Uint32()|1)
		b = ipv4Header(b, [4]byte{192, 0, 2, 10}, dst, 6, 20)
		b = binary.BigEndian.AppendUint16(b, uint16(1024+r.IntN(64000)))
		b = binary.BigEndian.AppendUint16(b, 443)
		b = binary.BigEndian.AppendUint32(b, r.Uint32())
		b = binary.BigEndian.AppendUint32(b, 0)
		return append(b, 0x50, tcpSYN, 0xff, 0xff, 0, 0, 0, 0)
	}
}

// dnsFlood makes DNS answers, each giving a distinct name a distinct
// documentation IPv6 address.
func dnsFlood(i int, b []byte) []byte {
	var msg [128]byte
	m := binary.BigEndian.AppendUint16(msg[:0], uint16(i))
	m = append(m, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	label := make([]byte, 0, 8)
	for v := i; len(label) < 7; v /= 26 {
		label = append(label, byte('a'+v%26))
	}
	m = append(m, byte(len(label)))
	m = append(m, label...)
	m = append(m, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 28, 0, 1)
	m = append(m, 0xc0, 12, 0, 28, 0, 1, 0, 0, 0x0e, 0x10, 0, 16)
	addr := netip.MustParseAddr("2001:db8::").As16()
	binary.BigEndian.PutUint32(addr[12:], uint32(i))
	m = append(m, addr[:]...)

	b = ipv4Header(b, [4]byte{198, 51, 100, 53}, [4]byte{192, 0, 2, 10}, 17, 8+len(m))
	b = binary.BigEndian.AppendUint16(b, 53)
	b = binary.BigEndian.AppendUint16(b, uint16(40000+i%25000))
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(m)))
	b = append(b, 0, 0)
	return append(b, m...)
}

// TestBoundsHold feeds captures built to exhaust the reader's bounds: a
// million SYNs from random ports to random addresses (the flow table), and
// a million distinct DNS names answered (the name table and the pending
// questions). The tables stay within their bounds, what they shed is
// counted, and the heap in use stays under heapLimit, measured by sampling
// runtime.MemStats during the read.
func TestBoundsHold(t *testing.T) {
	n := 1_000_000
	if testing.Short() && os.Getenv("EGRESS_AUDIT_SLOW") == "" {
		n = 200_000
	}
	t.Run("syn_flood", func(t *testing.T) {
		h := newHeapPeak()
		st := &Stats{}
		obs := 0
		cfg := &Config{}
		err := Read(streamPcap(n, synFlood(7)), "flood.pcap", cfg, st, func(o *Observation) {
			obs++
			h.sample()
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != int64(n) || obs != n {
			t.Errorf("%d records, %d observations, want %d of each", st.Records, obs, n)
		}
		if st.Evicted < int64(n-DefaultMaxFlows) {
			t.Errorf("Evicted = %d, want at least %d: flows judged early must be counted", st.Evicted, n-DefaultMaxFlows)
		}
		t.Logf("%d SYNs: heap in use %d MiB at peak (base %d MiB), %d flows judged early", n, h.peak>>20, h.base>>20, st.Evicted)
		if h.peak > heapLimit {
			t.Errorf("heap in use reached %d MiB, above the limit of %d MiB", h.peak>>20, heapLimit>>20)
		}
	})
	t.Run("dns_names", func(t *testing.T) {
		h := newHeapPeak()
		st := &Stats{}
		names := NewNameTable()
		lookups := 0
		err := Read(streamPcap(n, dnsFlood), "names.pcap", &Config{Names: names}, st, func(o *Observation) {
			if o.Kind == Lookup {
				lookups++
			}
			h.sample()
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != int64(n) || lookups != n {
			t.Errorf("%d records, %d lookups, want %d of each (skipped %v, failed %d)", st.Records, lookups, n, st.Skipped, st.Failed)
		}
		if names.Len() > MaxNames || int64(names.Len())+names.Dropped != int64(n) {
			t.Errorf("name table holds %d, dropped %d, want %d in all within %d", names.Len(), names.Dropped, n, MaxNames)
		}
		if names.Dropped == 0 {
			t.Errorf("no binding dropped: the table is unbounded")
		}
		runtime.KeepAlive(names)
		t.Logf("%d names: heap in use %d MiB at peak (base %d MiB), table %d, dropped %d", n, h.peak>>20, h.base>>20, names.Len(), names.Dropped)
		if h.peak > heapLimit {
			t.Errorf("heap in use reached %d MiB, above the limit of %d MiB", h.peak>>20, heapLimit>>20)
		}
	})
}

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

// reassemblyFlood makes TCP flows from 192.0.2.10 to 203.0.113.5:443 in
// batches: each batch opens all its flows, then sends segs segments of a
// ClientHello that never ends on every flow in turn, so that every flow
// wants its reassembly buffer at once, then the client's FIN on each. A
// batch's client ports start at its base. It returns the packet count and
// the generator.
func reassemblyFlood(segs int, batches ...[2]int) (int, func(int, []byte) []byte) {
	const seg = 1400
	type step struct {
		port  uint16
		kind  int // 0 SYN, 1 data, 2 FIN
		index int // of the data segment
	}
	var steps []step
	for _, b := range batches {
		n, base := b[0], b[1]
		for j := range n {
			steps = append(steps, step{port: uint16(base + j)})
		}
		for k := range segs {
			for j := range n {
				steps = append(steps, step{port: uint16(base + j), kind: 1, index: k})
			}
		}
		for j := range n {
			steps = append(steps, step{port: uint16(base + j), kind: 2, index: segs})
		}
	}
	payload := make([]byte, seg)
	return len(steps), func(i int, b []byte) []byte {
		s := steps[i]
		const isn = 1000
		var data []byte
		flags := byte(tcpACK)
		switch s.kind {
		case 0:
			flags = tcpSYN
		case 1:
			data = payload
			if s.index == 0 {
				// A handshake record and a ClientHello of 16 KB, never
				// complete within the reassembly cap.
				data = append([]byte{0x16, 3, 1, 0x40, 0, 1, 0, 0x3f, 0xfc, 3, 3}, payload[11:]...)
			}
		case 2:
			flags = tcpFIN | tcpACK
		}
		seq := uint32(isn)
		if s.kind > 0 {
			seq = isn + 1 + uint32(s.index*seg)
		}
		b = ipv4Header(b, [4]byte{192, 0, 2, 10}, [4]byte{203, 0, 113, 5}, 6, 20+len(data))
		b = binary.BigEndian.AppendUint16(b, s.port)
		b = binary.BigEndian.AppendUint16(b, 443)
		b = binary.BigEndian.AppendUint32(b, seq)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = append(b, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0)
		return append(b, data...)
	}
}

// TestReassemblyBounds exhausts the reassembly bounds: one flow whose
// client sends 42 MB keeps only its first 8 KiB, and 12,000 flows that
// each want 8 KiB at once (94 MiB) overrun the 32 MiB budget, are
// counted, and give the budget back when they end, so that the 3000 flows
// after them are reassembled whole. The heap is measured by sampling
// runtime.MemStats after a collection while the capture is read.
func TestReassemblyBounds(t *testing.T) {
	// live is the heap allocated after a collection, so that garbage not
	// yet collected does not count; sampled measures it every 10,000
	// packets.
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	sampled := func(h *heapPeak, pkt func(int, []byte) []byte) func(int, []byte) []byte {
		return func(i int, b []byte) []byte {
			if i%10000 == 0 {
				h.peak = max(h.peak, live())
			}
			return pkt(i, b)
		}
	}
	t.Run("one_flow", func(t *testing.T) {
		n, pkt := reassemblyFlood(30_000, [2]int{1, 40000})
		h := &heapPeak{base: live()}
		st := &Stats{}
		var obs []Observation
		if err := Read(streamPcap(n, sampled(h, pkt)), "long.pcap", nil, st, func(o *Observation) { obs = append(obs, *o) }); err != nil {
			t.Fatal(err)
		}
		if len(obs) != 1 || st.Unreassembled != 0 || st.Records != int64(n) {
			t.Errorf("%d observations, %d records, %d unreassembled; want 1, %d, 0", len(obs), st.Records, st.Unreassembled, n)
		}
		grown := int64(h.peak) - int64(h.base)
		t.Logf("%d packets of one flow: heap grew by %d KiB at peak", n, grown>>10)
		if grown > 8<<20 {
			t.Errorf("heap grew by %d MiB for one flow, want under 8 MiB: the per-flow cap does not hold", grown>>20)
		}
	})
	t.Run("budget", func(t *testing.T) {
		const first, second = 12_000, 3000
		n, pkt := reassemblyFlood(7, [2]int{first, 1024}, [2]int{second, 40000})
		h := &heapPeak{base: live()}
		st := &Stats{}
		noted := map[bool]int64{} // by batch: first or not
		flows := 0
		err := Read(streamPcap(n, sampled(h, pkt)), "budget.pcap", nil, st, func(o *Observation) {
			flows++
			if strings.Contains(o.Detail, "not reassembled") {
				noted[o.Client.Port() < 40000]++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if flows != first+second {
			t.Fatalf("%d observations, want %d", flows, first+second)
		}
		// 32 MiB holds 4096 buffers of 8 KiB: at least the rest of the
		// first batch cannot have one. As the flows take turns, a flow
		// whose buffer grew early may still find none the next time.
		if st.Unreassembled < first-maxBufferBytes/clientStreamCap || st.Unreassembled > first {
			t.Errorf("Unreassembled = %d, want between %d and %d", st.Unreassembled, first-maxBufferBytes/clientStreamCap, first)
		}
		if noted[true] != st.Unreassembled || noted[false] != 0 {
			t.Errorf("%d first-batch and %d second-batch flows say they were not reassembled, want %d and 0: the budget was not given back",
				noted[true], noted[false], st.Unreassembled)
		}
		grown := int64(h.peak) - int64(h.base)
		t.Logf("%d flows: heap grew by %d MiB at peak, %d not reassembled", first+second, grown>>20, st.Unreassembled)
		// The budget's buffers, and the flow table's 15,000 flows.
		if grown > 2*maxBufferBytes {
			t.Errorf("heap grew by %d MiB, want under %d MiB: the reassembly budget does not hold", grown>>20, 2*maxBufferBytes>>20)
		}
	})
}
