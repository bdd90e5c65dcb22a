package parsers

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/egress-audit/egress-audit/capture"
)

// hostileLines are lines no format should take for evidence, one of each
// kind of damage, and the 1-based number of the 10 MB one.
func hostileLines() ([]string, int) {
	return []string{
		"1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\r",
		strings.Repeat("y", 10<<20),
		"\x00\x00\x00\x00 \x00",
		"\xff\xfe\xfd\xc3\x28 invalid utf-8",
		"Dec  3 09:00:01 dnsmasq[811]: query[A] a.example from 192.0.2.10\r",
		`{"ts":"x","id.orig_h":"\u0000","host":"\u001b[31m"}`,
		"#fields\tts\x00",
		"   \r",
	}, 2
}

// TestEveryFormatAccountsForDamagedLines forces every log format onto a
// file of damaged lines (a line of 10 MB, NUL bytes, invalid UTF-8, CRLF
// endings, lines of other formats): reading never panics, a format read
// line by line fails the long line with its number, and every line is
// parsed, skipped or failed: records + skipped + failed = lines.
func TestEveryFormatAccountsForDamagedLines(t *testing.T) {
	lines, long := hostileLines()
	input := strings.Join(lines, "\n") + "\n"
	for _, f := range Formats() {
		if f.Name == "pcap" || f.Name == "pcapng" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			res, err := Read(strings.NewReader(input), "hostile.log", f, nil, func(*capture.Observation) {})
			if err != nil {
				if !strings.HasPrefix(err.Error(), "hostile.log") {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			st := res.Stats
			got := st.Records + st.SkippedTotal() + st.Failed
			if got != int64(len(lines)) {
				t.Errorf("records %d + skipped %v + failed %d = %d, want %d lines", st.Records, st.Skipped, st.Failed, got, len(lines))
			}
			want := fmt.Sprintf("hostile.log:%d: line of %d bytes exceeds the limit", long, 10<<20)
			found := false
			for _, p := range st.Problems {
				found = found || strings.HasPrefix(p.Err, want)
			}
			if !found {
				t.Errorf("problems %v lack %q", st.Problems, want)
			}
		})
	}
}

// TestTruncatedCompressed cuts a gzip and a zstd log at several offsets:
// the lines before the cut are read, Truncated says where it stopped, and
// there is no error.
func TestTruncatedCompressed(t *testing.T) {
	var plain strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&plain, "1764752410.%03d    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n", i%1000)
	}
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(plain.String()))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<10))
	zw.Write([]byte(plain.String()))
	zw.Close()
	for name, data := range map[string][]byte{"gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		for _, frac := range []int{30, 50, 90, 99} {
			cut := len(data) * frac / 100
			t.Run(fmt.Sprintf("%s_%d", name, frac), func(t *testing.T) {
				res, err := Read(bytes.NewReader(data[:cut]), "cut.log", nil, nil, func(*capture.Observation) {})
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				st := res.Stats
				if st.Records == 0 || st.Records >= 3000 || st.Truncated == "" {
					t.Errorf("%d records, Truncated %q: want some of 3000 and a truncation note", st.Records, st.Truncated)
				}
				if st.Failed > 1 {
					t.Errorf("%d lines failed, want at most the cut one: %v", st.Failed, st.Problems)
				}
			})
		}
	}
}
