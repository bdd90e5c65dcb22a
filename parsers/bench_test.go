package parsers

import (
	"bytes"
	"sync"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/internal/loggen"
)

// benchLines is the size of the generated log each benchmark reads; the
// testdata/bench script measures multi-million-line files.
const benchLines = 200000

var (
	benchMu   sync.Mutex
	benchLogs = map[string][]byte{}
)

func benchLog(b *testing.B, format string) []byte {
	benchMu.Lock()
	defer benchMu.Unlock()
	if l, ok := benchLogs[format]; ok {
		return l
	}
	var buf bytes.Buffer
	if err := loggen.Write(&buf, format, benchLines, 1); err != nil {
		b.Fatal(err)
	}
	benchLogs[format] = buf.Bytes()
	return buf.Bytes()
}

// BenchmarkRead reads a generated log of each format end to end (line
// splitting, parsing, counting), reporting MB/s and lines/s.
func BenchmarkRead(b *testing.B) {
	for _, tc := range []struct {
		log string
		f   *Format
	}{
		{"squid", squidNative}, {"combined", squidCombined}, {"w3c", w3c},
		{"dnsmasq", dnsmasq}, {"bind", bind}, {"unbound", unbound},
		{"zscaler", zscaler}, {"envoy", envoy}, {"haproxy", haproxy},
	} {
		b.Run(tc.log, func(b *testing.B) {
			data := benchLog(b, tc.log)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				res, err := Read(bytes.NewReader(data), "bench", tc.f, nil, func(*capture.Observation) { n++ })
				if err != nil {
					b.Fatal(err)
				}
				if res.Stats.Failed != 0 {
					b.Fatalf("%d lines failed: %v", res.Stats.Failed, res.Stats.Problems[0])
				}
			}
			b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// TestSquidConnectAllocs guards the allocations of the squid hot path: a
// CONNECT line costs the host string and the detail, nothing more.
func TestSquidConnectAllocs(t *testing.T) {
	line := []byte("1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -")
	p := squidNative.NewLine(&Options{})
	var o capture.Observation
	allocs := testing.AllocsPerRun(1000, func() {
		o = capture.Observation{}
		if err := p.ParseLine(line, &o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("ParseLine(CONNECT) = %v allocations, want at most 2", allocs)
	}
}
