package parsers

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/egress-audit/egress-audit/capture"
)

// addSensorSeeds adds the scenario logs under testdata/sensors whose path
// contains part.
func addSensorSeeds(f *testing.F, part string) {
	root := filepath.Join("..", "testdata", "sensors")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && strings.Contains(path, part) {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
}

// addCorpusSeeds adds, when the public corpus is available, each sample
// file of its logs/dir whose name ends in ext, whole: the sensor readers
// join records across lines, so a file is one input.
func addCorpusSeeds(f *testing.F, dir, ext string) {
	root := os.Getenv("EGRESS_AUDIT_CORPUS")
	if root == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(root, "logs", dir, "*"+ext))
	for _, p := range files {
		if strings.Contains(filepath.Base(p), "expected") {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// countLines counts the lines a reader sees in data.
func countLines(data []byte) int64 {
	n := int64(bytes.Count(data, []byte("\n")))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// checkSensorRead reads data with read and checks the properties every
// reader keeps: each line is counted exactly once, and each observation
// is well formed.
func checkSensorRead(t *testing.T, data []byte, read func(io.Reader, string, *Options, *capture.Stats, func(*capture.Observation)) error) {
	opts := &Options{}
	st := &capture.Stats{}
	var obs []capture.Observation
	emit := func(o *capture.Observation) { obs = append(obs, *o) }
	if err := read(bytes.NewReader(data), "fuzz.log", opts, st, emit); err != nil {
		t.Fatalf("read: %v", err)
	}
	opts.Flush(emit)
	if got, want := st.Records+st.SkippedTotal()+st.Failed, countLines(data); got != want {
		t.Errorf("records %d + skipped %d + failed %d = %d, want one per line: %d", st.Records, st.SkippedTotal(), st.Failed, got, want)
	}
	for _, o := range obs {
		switch o.Outcome {
		case capture.OutcomeOK, capture.OutcomeUnknown:
			if o.Reason != "" {
				t.Errorf("%s: outcome %s with reason %s", o.Where(), o.Outcome, o.Reason)
			}
		case capture.OutcomeBlocked:
			if !slices.Contains(capture.Reasons, o.Reason) {
				t.Errorf("%s: blocked with reason %q, not in the vocabulary", o.Where(), o.Reason)
			}
		default:
			t.Errorf("%s: outcome %q", o.Where(), o.Outcome)
		}
		if strings.ContainsFunc(o.Host, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
			t.Errorf("%s: host %q not lower case", o.Where(), o.Host)
		}
		if strings.HasSuffix(o.Host, ".") {
			t.Errorf("%s: host %q ends in a dot", o.Where(), o.Host)
		}
		if (o.Host == "") != (o.HostSource == capture.SourceNone) {
			t.Errorf("%s: host %q learned from %q", o.Where(), o.Host, o.HostSource)
		}
		if o.Kind == capture.Lookup && o.HostSource != capture.SourceDNS {
			t.Errorf("%s: lookup with host source %q", o.Where(), o.HostSource)
		}
		if o.Input != "fuzz.log" || o.Locator.Unit != "line" || o.Locator.N < 1 || o.Locator.N > countLines(data) {
			t.Errorf("observation located at %s, outside the input", o.Where())
		}
	}
}

func FuzzParseZeekTSV(f *testing.F) {
	addSensorSeeds(f, "zeek/")
	addCorpusSeeds(f, "zeek", ".log")
	f.Add([]byte(zeekTSV("conn", connFields, "1764752401.1 C1 192.0.2.10 40001 203.0.113.10 443 tcp ssl SF ShADadFf 5200")))
	f.Add([]byte("#separator \\x2c\n#fields,ts,uid,id.orig_h,id.resp_h,id.resp_p,query,answers\n1,C,192.0.2.1,192.0.2.53,53,a\\x2cb,1.2.3.4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSensorRead(t, data, readZeek)
	})
}

func FuzzParseZeekJSON(f *testing.F) {
	addSensorSeeds(f, "zeek-json/")
	addCorpusSeeds(f, "zeek", ".json")
	f.Add([]byte(`{"ts":1764752401.1,"uid":"C1","id.orig_h":"192.0.2.10","id.orig_p":40001,"id.resp_h":"203.0.113.10","id.resp_p":443,"proto":"tcp","conn_state":"REJ"}` + "\n"))
	f.Add([]byte(`{"_path":"ssl","ts":"2025-12-03T09:00:01.5Z","uid":"C1","id":{"orig_h":"192.0.2.10","orig_p":1,"resp_h":"203.0.113.10","resp_p":443},"server_name":"A\u0042.example.","established":false,"last_alert":"unknown_ca"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSensorRead(t, data, readZeek)
	})
}

func FuzzParseEve(f *testing.F) {
	addSensorSeeds(f, "suricata/")
	addCorpusSeeds(f, "suricata", ".json")
	f.Add([]byte(eveLine("01.000000", 1, "dns", cl, 5001, res, 53, "UDP", `"dns":{"type":"query","id":7,"rrname":"www.example.com","rrtype":"A"}`) +
		eveLine("01.010000", 1, "dns", res, 53, cl, 5001, "UDP", `"dns":{"type":"answer","id":7,"rcode":"NOERROR","rrname":"www.example.com","rrtype":"CNAME","ttl":300,"rdata":"edge.example.net"}`)))
	f.Add([]byte(eveLine("04.000000", 4, "http", cl, 40004, "192.0.2.1", 3128, "TCP",
		`"http":{"hostname":"auth.gtmhub.com","url":"http://auth.gtmhub.com/oauth/token?code=x","http_method":"POST","status":407}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSensorRead(t, data, readEve)
	})
}

// FuzzScanJSON checks the JSON scanner against encoding/json: every
// valid object is accepted, and its top-level strings decode to the same
// text.
func FuzzScanJSON(f *testing.F) {
	f.Add([]byte(`{"a":"x\u00e9\ud83d\ude00\n","b":[1,{"c":"d"}],"e":{"f":null},"g":true}`))
	f.Add([]byte(`{"ts":XXXXXXXXXX.XXXXXX}`))
	f.Add([]byte(`{"a":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var js visitScanner
		got := make(map[string]string)
		err := js.scan(data, func(path []byte, kind jsonKind, raw []byte, esc bool) {
			if kind == jsonString && !bytes.ContainsAny(path, ".[") {
				got[string(path)] = string(jsonUnquote(nil, raw))
			}
		})
		var want map[string]any
		if json.Unmarshal(data, &want) != nil || want == nil {
			return
		}
		if err != nil {
			if bytes.Count(data, []byte("{"))+bytes.Count(data, []byte("[")) <= maxJSONDepth {
				t.Fatalf("scan(%q) = %v, but encoding/json accepts it", data, err)
			}
			return
		}
		if !utf8.Valid(data) {
			return
		}
		for k, v := range want {
			s, ok := v.(string)
			if !ok || strings.ContainsAny(k, ".[\\") {
				continue
			}
			if got[k] != s {
				t.Errorf("scan(%q): %q = %q, encoding/json says %q", data, k, got[k], s)
			}
		}
	})
}
