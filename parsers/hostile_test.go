package parsers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
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

// TestGzipCutBeforeFirstBlock cuts a gzip log inside its header and inside
// its first deflate block, where nothing can be decompressed yet: the input
// is reported as a gzip stream cut short, naming the file, not as empty,
// and is not an error.
func TestGzipCutBeforeFirstBlock(t *testing.T) {
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Name = "access.log" // a header as long as gzip(1) writes
	fmt.Fprintf(gw, "1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n")
	gw.Close()
	for _, cut := range []int{2, 10, 20, 30} {
		t.Run(fmt.Sprintf("cut_%d", cut), func(t *testing.T) {
			res, err := Read(bytes.NewReader(gz.Bytes()[:cut]), "access.log.gz", nil, nil, func(*capture.Observation) {})
			if err != nil {
				t.Fatalf("Read(first %d bytes) error = %v, want a truncated input", cut, err)
			}
			st := res.Stats
			if st.Format != "gzip" {
				t.Errorf("Format = %q, want gzip", st.Format)
			}
			want := "access.log.gz: the gzip stream is cut short before its first full block"
			if !strings.HasPrefix(st.Truncated, want) {
				t.Errorf("Truncated = %q, want it to start %q", st.Truncated, want)
			}
			if st.Records+st.SkippedTotal()+st.Failed != 0 {
				t.Errorf("records %d, skipped %v, failed %d: want nothing read", st.Records, st.Skipped, st.Failed)
			}
		})
	}
	t.Run("forced_format", func(t *testing.T) {
		res, err := Read(bytes.NewReader(gz.Bytes()[:30]), "access.log.gz", squidNative, nil, func(*capture.Observation) {})
		if err != nil || res.Stats.Format != "squid" || res.Stats.Truncated == "" {
			t.Errorf("Read(--format squid) = %+v, %v; want the forced format and a truncation note", res, err)
		}
	})
}

// TestCutOffLastLine cuts a gzip log at every few hundred bytes and checks
// each reading path against what the decompressor itself yields: every
// whole line is a record, and the partial line at the cut is skipped as cut
// off, not failed as malformed.
func TestCutOffLastLine(t *testing.T) {
	var plain strings.Builder
	for i := range 400 {
		fmt.Fprintf(&plain, "1764752410.%03d    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app%d.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -\n", i, i)
	}
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(plain.String()))
	gw.Close()
	data := gz.Bytes()

	paths := map[string]func(cut []byte) (capture.Stats, error){
		"read": func(cut []byte) (capture.Stats, error) {
			res, err := Read(bytes.NewReader(cut), "cut.log.gz", nil, nil, func(*capture.Observation) {})
			if err != nil {
				return capture.Stats{}, err
			}
			return res.Stats, nil
		},
		"lines": func(cut []byte) (capture.Stats, error) {
			zr, err := gzip.NewReader(bytes.NewReader(cut))
			if err != nil {
				return capture.Stats{}, err
			}
			var st capture.Stats
			_, err = readLines(bufio.NewReader(zr), "cut.log.gz", squidNative.NewLine(&Options{}), &st, func(*capture.Observation) {})
			if err == nil {
				t.Errorf("readLines of a cut stream: no error")
			}
			return st, nil
		},
	}
	for cut := 200; cut < len(data)-8; cut += 97 {
		zr, err := gzip.NewReader(bytes.NewReader(data[:cut]))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(zr)
		whole := int64(bytes.Count(out, []byte("\n")))
		partial := int64(0)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			partial = 1
		}
		for name, read := range paths {
			st, err := read(data[:cut])
			if err != nil {
				t.Fatalf("%s, cut at %d: error = %v", name, cut, err)
			}
			if st.Records != whole || st.Skipped[string(SkipCutOff)] != partial || st.Failed != 0 {
				t.Errorf("%s, cut at %d: records %d, cut off %d, failed %d %v; want %d, %d, 0",
					name, cut, st.Records, st.Skipped[string(SkipCutOff)], st.Failed, st.Problems, whole, partial)
			}
		}
	}
}
