package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/testdata/bench/gencap"
)

// benchPackets is the size of the benchmark capture: at least a million
// packets, about 510 MB.
const benchPackets = 1_000_000

// BenchmarkRead reads a generated capture of a million packets of mixed
// egress traffic from a file (in the page cache after the first run) to
// observations.
func BenchmarkRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	gs, err := gencap.Generate(f, benchPackets, 1)
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(gs.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var obs int64
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var st Stats
		obs = 0
		if err := Read(f, "bench.pcap", nil, &st, func(*Observation) { obs++ }); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if st.Records+st.SkippedTotal() != gs.Packets {
			b.Fatalf("counted %d packets, generated %d", st.Records+st.SkippedTotal(), gs.Packets)
		}
	}
	b.ReportMetric(float64(gs.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	// On a shared machine the wall clock measures the neighbours too; CPU
	// time is this process's own work.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(gs.Bytes)*float64(b.N)/cpu/1e6, "cpu-MB/s")
		b.ReportMetric(float64(gs.Packets)*float64(b.N)/cpu, "cpu-packets/s")
	}
	b.ReportMetric(float64(obs), "observations")
}

// TestReadAllocsPerPacket checks that packets of flows already known cost
// no allocation: reading 20 000 packets allocates per flow, not per packet.
func TestReadAllocsPerPacket(t *testing.T) {
	var buf bytes.Buffer
	gs, err := gencap.Generate(&buf, 20_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	allocs := testing.AllocsPerRun(2, func() {
		var st Stats
		Read(bytes.NewReader(data), "a.pcap", nil, &st, func(*Observation) {})
	})
	if perPacket := allocs / float64(gs.Packets); perPacket > 0.5 {
		t.Errorf("%.0f allocations for %d packets (%d flows): %.2f per packet, want under 0.5", allocs, gs.Packets, gs.Flows, perPacket)
	}
	t.Logf("%.0f allocations for %d packets, %d flows", allocs, gs.Packets, gs.Flows)
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
