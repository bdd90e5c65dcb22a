package parsers

import (
	"bufio"
	"bytes"
	"sync"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/testdata/bench/loggen"
)

// benchLines is the size of the generated log each benchmark reads: two
// million lines, of 250 MB or so, held in memory once per format.
const benchLines = 2_000_000

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

// BenchmarkReadSequential reads the squid log line by line on one
// goroutine, the baseline of the parallel reading BenchmarkRead uses.
func BenchmarkReadSequential(b *testing.B) {
	data := benchLog(b, "squid")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var st capture.Stats
		in := bufio.NewReaderSize(bytes.NewReader(data), 256<<10)
		if _, err := readLines(in, "bench", squidNative.NewLine(&Options{}), &st, func(*capture.Observation) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestParseLineAllocs guards the allocations of each parser's hot path on
// a line whose host, path and detail it has seen before: none, except the
// one slice of answers a DNS answer carries.
func TestParseLineAllocs(t *testing.T) {
	tests := []struct {
		name string
		f    *Format
		line string
		max  float64
	}{
		{"squid_connect", squidNative, "1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -", 0},
		{"squid_url", squidNative, "1764752410.002    433 192.0.2.10 TCP_MISS/200 5002 GET http://crl.example.net/ca.crl?x=1 - HIER_DIRECT/198.51.100.20 -", 0},
		{"combined", squidCombined, `192.0.2.10 - - [12/Sep/2024:12:38:20 +0530] "GET http://example.com/x HTTP/1.1" 200 4235 "-" "curl" TCP_MISS:HIER_DIRECT`, 0},
		{"w3c", w3c, "2025-12-03 09:00:04 1407 192.0.2.10 200 TCP_TUNNELED 4897 5784 CONNECT tcp app.gtmhub.com 443 / - - 198.51.100.20 OBSERVED \"Business/Economy\" -", 0},
		{"envoy", envoy, `[2025-12-03T09:00:01.000Z] "CONNECT app.gtmhub.com:443 HTTP/1.1" 200 - 0 0 52 - "192.0.2.10" "curl/8" "id-1" "app.gtmhub.com:443" "198.51.100.20:443"`, 0},
		{"haproxy", haproxy, `192.0.2.10:50123 [03/Dec/2025:09:00:01.123] egress egress/proxy 0/0/1/30/31 200 512 - - ---- 1/1/0/0/0 0/0 "CONNECT app.gtmhub.com:443 HTTP/1.1"`, 0},
		{"bind", bind, "03-Dec-2025 09:00:01.123 queries: info: client @0x7f6 192.0.2.10#53124 (app.gtmhub.com): query: app.gtmhub.com IN A +E(0)K (192.0.2.53)", 0},
		{"unbound", unbound, "[1764752401] unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.030000 0 110", 0},
		{"dnsmasq_reply", dnsmasq, "Dec  3 09:00:01 dnsmasq[811]: reply app.gtmhub.com is 198.51.100.20", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.f.NewLine(&Options{})
			if w, ok := p.(*w3cParser); ok {
				w.ParseLine([]byte("#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username s-supplier-ip sc-filter-result cs-categories x-exception-id"), &capture.Observation{})
			}
			line := []byte(tc.line)
			var o capture.Observation
			allocs := testing.AllocsPerRun(1000, func() {
				o = capture.Observation{}
				if err := p.ParseLine(line, &o); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > tc.max {
				t.Errorf("ParseLine = %v allocations, want at most %v", allocs, tc.max)
			}
		})
	}
}
