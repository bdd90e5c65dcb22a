package parsers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// TestDamagedLines reads a squid log holding a 10 MB line, NUL bytes,
// invalid UTF-8, CRLF endings, an escape sequence in a URL and lines of
// another format: each bad line is counted with its line number and the
// good ones are all read.
func TestDamagedLines(t *testing.T) {
	good := "1764752410.002    433 192.0.2.10 TCP_TUNNEL/200 5002 CONNECT app.gtmhub.com:443 - HIER_DIRECT/198.51.100.20 -"
	var in bytes.Buffer
	in.WriteString(good + "\r\n")                                                                                                     // 1: CRLF
	in.WriteString(strings.Repeat("x", 10<<20) + "\n")                                                                                // 2: 10 MB
	in.WriteString("\x00\x00\x00 \xff\xfe\xfd garbage\n")                                                                             // 3: NUL, invalid UTF-8
	in.WriteString(good + "\n")                                                                                                       // 4
	in.WriteString("Dec  3 09:00:01 dnsmasq[811]: query[A] a.example from 192.0.2.10\n")                                              // 5: another format
	in.WriteString("1764752411.002 1 192.0.2.10 TCP_MISS/200 1 GET http://a.example/\x1b[31mred\xc3 - HIER_DIRECT/198.51.100.20 -\n") // 6
	in.WriteString(good)                                                                                                              // 7: no final newline

	var obs []capture.Observation
	res, err := Read(&in, "damaged.log", nil, nil, func(o *capture.Observation) { obs = append(obs, *o) })
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	if st.Format != "squid" || st.Records != 4 || st.Failed != 3 {
		t.Fatalf("format %s, %d records, %d failed (%v); want squid, 4, 3", st.Format, st.Records, st.Failed, st.Problems)
	}
	for i, want := range []string{"damaged.log:2: line of 10485760 bytes exceeds the limit", "damaged.log:3: squid:", "damaged.log:5: squid:"} {
		if !strings.HasPrefix(st.Problems[i].Err, want) {
			t.Errorf("problem %d = %q, want it to start with %q", i, st.Problems[i].Err, want)
		}
	}
	if p := obs[2].Path; p != "/%1B[31mred%C3" {
		t.Errorf("path with escape sequence = %q, want it percent-encoded", p)
	}
	if obs[3].Locator.N != 7 {
		t.Errorf("last observation at %s, want line 7", obs[3].Locator)
	}
}
