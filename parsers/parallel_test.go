package parsers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/testdata/bench/loggen"
)

// TestParallelMatchesSequential reads the same damaged log line by line
// and in parallel chunks: the observations, their order and the counts
// must be the same, wherever the chunk boundaries fall.
func TestParallelMatchesSequential(t *testing.T) {
	var log bytes.Buffer
	if err := loggen.Write(&log, "squid", 20000, 7); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(log.String(), "\n")
	lines[100] = "garbage that is not squid\n"
	lines[2000] = strings.Repeat("y", 3<<20) + "\n" // an overlong line across chunks
	lines[2001] = "\r\n"
	lines[5000] = strings.TrimSuffix(lines[5000], "\n") + "\r\n"
	for i := 6000; i < 6050; i++ {
		lines[i] = "bad line " + itoa(i) + "\n" // more problems than MaxProblems
	}
	data := strings.Join(lines, "")
	data = strings.TrimSuffix(data, "\n") // no final newline

	type result struct {
		obs   []capture.Observation
		st    capture.Stats
		lines int64
		err   error
	}
	read := func(parallel bool, data string) result {
		var r result
		emit := func(o *capture.Observation) { r.obs = append(r.obs, *o) }
		in := bufio.NewReaderSize(strings.NewReader(data), 256<<10)
		if parallel {
			r.lines, r.err = readLinesParallel(in, "x.log", func() LineParser { return squidNative.NewLine(&Options{}) }, &r.st, emit)
		} else {
			r.lines, r.err = readLines(in, "x.log", squidNative.NewLine(&Options{}), &r.st, emit)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		data string
	}{
		{"damaged", data},
		{"one_line", lines[0]},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq, par := read(false, tc.data), read(true, tc.data)
			if seq.err != nil || par.err != nil {
				t.Fatalf("errors %v, %v", seq.err, par.err)
			}
			if seq.lines != par.lines || !reflect.DeepEqual(seq.st, par.st) {
				t.Fatalf("sequential: %d lines, %+v\nparallel: %d lines, %+v", seq.lines, seq.st, par.lines, par.st)
			}
			if len(seq.obs) != len(par.obs) {
				t.Fatalf("%d observations in sequence, %d in parallel", len(seq.obs), len(par.obs))
			}
			for i := range seq.obs {
				if !reflect.DeepEqual(seq.obs[i], par.obs[i]) {
					t.Fatalf("observation %d: %+v in sequence, %+v in parallel", i, seq.obs[i], par.obs[i])
				}
			}
		})
	}
	st := read(true, data).st
	if st.Failed != 52 || !strings.Contains(st.Problems[1].Err, "x.log:2001: line of 3145728 bytes") {
		t.Errorf("parallel stats: %d failed, problems %v", st.Failed, st.Problems[:2])
	}
}

// TestParallelTruncatedGzip checks that a decompression error in the
// middle stops the parallel reading with the lines before it kept.
func TestParallelTruncatedGzip(t *testing.T) {
	var log, gz bytes.Buffer
	loggen.Write(&log, "squid", 10000, 3)
	zw := gzip.NewWriter(&gz)
	zw.Write(log.Bytes())
	zw.Close()
	res, err := Read(bytes.NewReader(gz.Bytes()[:gz.Len()/2]), "cut.gz", squidNative, nil, func(*capture.Observation) {})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	// The cut falls inside a line: it is skipped as cut off, and the note
	// says so with its number.
	want := fmt.Sprintf("cut.gz: the input ends early or is damaged inside line %d", st.Records+1)
	if st.Records == 0 || st.Records >= 10000 || !strings.Contains(st.Truncated, want) || st.Skipped[string(SkipCutOff)] != 1 {
		t.Errorf("records %d, skipped %v, truncated %q; want %q", st.Records, st.Skipped, st.Truncated, want)
	}
}
