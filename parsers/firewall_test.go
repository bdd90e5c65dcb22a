package parsers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// corpusDir returns the directory of the public log samples of one format,
// or skips the test when EGRESS_AUDIT_CORPUS is unset.
func corpusDir(t testing.TB, format string) string {
	t.Helper()
	root := os.Getenv("EGRESS_AUDIT_CORPUS")
	if root == "" {
		t.Skip("EGRESS_AUDIT_CORPUS not set")
	}
	return filepath.Join(root, "logs", format)
}

// corpusSamples returns the sample files of a corpus directory: every file
// but the expected results beside them.
func corpusSamples(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.Contains(n, "expected") {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

// fwCorpus maps the corpus directories of the firewall and flow log
// formats to the format detection must choose.
var fwCorpus = map[string]string{
	"iptables":  "netfilter",
	"pfsense":   "pfsense",
	"asa":       "asa",
	"panos":     "panos",
	"fortigate": "fortigate",
	"aws-vpc":   "aws-vpc",
	"aws-nfw":   "aws-nfw",
	"azure-fw":  "azure-fw",
	"gcp-fw":    "gcp-fw",
}

func TestDetectFirewallCorpus(t *testing.T) {
	for dir, want := range fwCorpus {
		for _, file := range corpusSamples(t, corpusDir(t, dir)) {
			t.Run(filepath.Base(file), func(t *testing.T) {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) > headSize {
					b = b[:headSize]
				}
				f, err := Detect(b)
				if err != nil {
					t.Fatalf("Detect(%s): %v, want %s", file, err, want)
				}
				if f.Name != want {
					t.Errorf("Detect(%s) = %s, want %s", file, f.Name, want)
				}
			})
		}
	}
}

// readAll parses text in format f with a fixed reference time and returns
// the observations and the input's counts.
func readAll(t testing.TB, f *Format, text string, ref time.Time) ([]capture.Observation, capture.Stats) {
	t.Helper()
	var obs []capture.Observation
	res, err := Read(strings.NewReader(text), "test.log", f, &Options{Ref: ref}, func(o *capture.Observation) {
		obs = append(obs, *o)
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return obs, res.Stats
}

// repeatCase is a firewall log and the records its lines make: every
// other line must be skipped as a repeat of an attempt already counted.
type repeatCase struct {
	name    string
	log     string
	records int64
}

// checkRepeats reads each case's log with f and checks its counts.
func checkRepeats(t *testing.T, f *Format, tests []repeatCase) {
	t.Helper()
	ref := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, st := readAll(t, f, tc.log, ref)
			lines := int64(strings.Count(tc.log, "\n"))
			if st.Records != tc.records || st.Skipped[string(SkipRepeat)] != lines-tc.records || st.Failed != 0 {
				t.Errorf("counts = %d records, %v skipped, %d failed; want %d records, the rest repeats",
					st.Records, st.Skipped, st.Failed, tc.records)
			}
		})
	}
}

// readCorpusLines parses every line of a corpus file on its own and returns
// each line's observation (nil when none) and error. A line the parser
// held back and gave at the end of the input gets that record, and no
// error.
func readCorpusLines(t testing.TB, f *Format, file string, ref time.Time) ([]*capture.Observation, []error) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := f.NewLine(&Options{Ref: ref})
	var obs []*capture.Observation
	var errs []error
	for i, l := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		o := &capture.Observation{Locator: capture.Line(int64(i + 1))}
		err := p.ParseLine(bytes.TrimRight(l, "\r"), o)
		if err != nil {
			o = nil
		}
		obs = append(obs, o)
		errs = append(errs, err)
	}
	if e, ok := p.(lineEnder); ok {
		e.End(func(o *capture.Observation) {
			i := o.Locator.N - 1
			c := *o
			obs[i], errs[i] = &c, nil
		})
	}
	return obs, errs
}

// checkCorpusParses reads every sample of a format's corpus directory and
// fails on inputs that cannot be read or that give no record. A sample
// that holds no egress at all is named in noRecords with the only skip
// reasons it may give (packets to the firewall itself, multicast).
func checkCorpusParses(t *testing.T, f *Format, dir string, noRecords map[string][]Skip) {
	for _, file := range corpusSamples(t, corpusDir(t, dir)) {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Read(fh, file, f, &Options{}, func(*capture.Observation) {})
		fh.Close()
		if err != nil {
			t.Errorf("Read(%s): %v", file, err)
			continue
		}
		st := res.Stats
		allowed, listed := noRecords[filepath.Base(file)]
		switch {
		case st.Records > 0 && listed:
			t.Errorf("Read(%s): %d records, want none", file, st.Records)
		case st.Records > 0:
		case !listed:
			t.Errorf("Read(%s): no records; skipped %v, %d failed: %v", file, st.Skipped, st.Failed, st.Problems)
		default:
			for reason := range st.Skipped {
				if !slices.Contains(allowed, Skip(reason)) {
					t.Errorf("Read(%s): skipped as %q, want only %q", file, reason, allowed)
				}
			}
		}
	}
}

var _ = io.EOF

// crowdsecParsed reads the Evt.Parsed assertions of a crowdsec parser test
// (`results["stage"]["name"][i].Evt.Parsed["key"] == "value"`) of one stage
// into one map per input line index.
func crowdsecParsed(t testing.TB, file, stage string) map[int]map[string]string {
	t.Helper()
	return crowdsecValues(t, file, stage, `Evt.Parsed`)
}

// crowdsecValues reads the assertions of one stage on one map of the
// event (`Evt.Parsed`, `Evt.Unmarshaled["iptables"]`) into one map per
// input line index.
func crowdsecValues(t testing.TB, file, stage, member string) map[int]map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int]map[string]string)
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, `results["`+stage+`"]`) {
			continue
		}
		_, rest, ok := strings.Cut(l, "][")
		if !ok {
			continue
		}
		_, rest, _ = strings.Cut(rest, "][")
		idx, rest, ok := strings.Cut(rest, "]."+member+"[\"")
		if !ok {
			continue
		}
		key, val, ok := strings.Cut(rest, "\"] == \"")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		if out[i] == nil {
			out[i] = make(map[string]string)
		}
		out[i][key] = strings.TrimSuffix(val, "\"")
	}
	return out
}
