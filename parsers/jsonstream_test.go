package parsers

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// streamJSONDoc writes a pretty-printed JSON document of n records made by
// rec through a pipe, between open and end, so that the input itself takes
// no memory.
func streamJSONDoc(n int, open, end string, rec func(i int) string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<16)
		w.WriteString(open)
		for i := range n {
			if i > 0 {
				w.WriteString(",")
			}
			w.WriteString("\n  ")
			w.WriteString(rec(i))
		}
		w.WriteString("\n" + end + "\n")
		w.Flush()
		pw.Close()
	}()
	return pr
}

// TestJSONDocumentBounded reads a 90 MB top-level array and an 80 MB
// {"records": [...]} wrapper and checks that the heap stays far below the
// document's size: held whole, each took about 700 MB (December 2026).
func TestJSONDocumentBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 170 MB of JSON")
	}
	const n = 200_000
	gcp := func(i int) string {
		return fmt.Sprintf(`{"jsonPayload": {"connection": {"dest_ip": "203.0.%d.%d", "dest_port": 443, "protocol": 6, "src_ip": "10.128.0.10", "src_port": %d}, "disposition": "DENIED", "rule_details": {"action": "DENY", "direction": "EGRESS", "priority": 1000, "reference": "network:default/firewall:deny-saas"}, "instance": {"project_id": "p", "vm_name": "vm-%d", "zone": "europe-west1-b"}}, "logName": "projects/p/logs/compute.googleapis.com%%2Ffirewall", "timestamp": "2019-11-06T16:41:38.394575419Z"}`,
			i>>8&255, i&255, 1024+i%60000, i)
	}
	azure := func(i int) string {
		return fmt.Sprintf(`{"category": "AzureFirewallNetworkRule", "operationName": "AzureFirewallNetworkRuleLog", "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW", "properties": {"msg": "TCP request from 10.0.0.4:%d to 203.0.%d.%d:443. Action: Deny. Policy: p1. Rule Collection Group: g. Rule Collection: out. Rule: default-deny-all-egress-traffic"}, "time": "2024-05-01T10:00:00.1234567Z"}`,
			1024+i%60000, i>>8&255, i&255)
	}
	tests := []struct {
		name      string
		f         *Format
		open, end string
		rec       func(int) string
	}{
		{"gcp_array", gcpFW, "[", "]", gcp},
		{"azure_records", azureFW, `{"category": "x", "records": [`, `], "tail": 1}`, azure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			base, peak := m.HeapInuse, m.HeapInuse
			var seen, lastLine int64
			res, err := Read(streamJSONDoc(n, tc.open, tc.end, tc.rec), "big.json", tc.f, &Options{}, func(o *capture.Observation) {
				seen++
				lastLine = o.Locator.N
				if seen%10000 == 0 {
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapInuse)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			st := res.Stats
			if st.Records != n || st.Failed != 0 || seen != n {
				t.Fatalf("stats = %+v, %d seen, want %d records", st, seen, n)
			}
			// The first record is on line 2, one record a line.
			if lastLine != n+1 {
				t.Errorf("last record at line %d, want %d", lastLine, n+1)
			}
			// Held whole, the document grew the heap by about 700 MB; read
			// element by element it stays near 10 MB, plus the garbage a
			// collector slowed by a busy machine has not freed yet.
			if grown := int64(peak) - int64(base); grown > 32<<20 {
				t.Errorf("heap grew by %d MB reading a %d MB document, want under 32 MB", grown>>20, n*len(tc.rec(0))>>20)
			}
		})
	}
}

// TestJSONDocumentDamaged checks that a streamed document that stops being
// valid JSON keeps the records before the damage and names its line.
func TestJSONDocumentDamaged(t *testing.T) {
	rec := `{"jsonPayload": {"connection": {"dest_ip": "203.0.113.16", "dest_port": 443, "protocol": 6, "src_ip": "10.128.0.10", "src_port": 1}, "disposition": "ALLOWED"}}`
	tests := []struct {
		name, text string
		records    int64
		failLine   int64
		truncated  bool
	}{
		{"array_bad_element", "[\n" + rec + ",\n" + rec + ",\n{\"jsonPayload\": nope},\n" + rec + "\n]", 2, 4, false},
		{"records_bad_element", "{\"records\": [\n" + rec + ",\n{\"a\" 1}\n]}", 1, 3, false},
		{"records_cut", "{\"records\": [\n" + rec + ",\n" + rec[:40], 1, 3, true},
		{"array_then_object", "[\n" + rec + "\n]\n" + rec + "\n", 2, 0, false},
		{"empty_records_is_record", "{\"records\": [], \"jsonPayload\": {\"connection\": {\"dest_ip\": \"203.0.113.16\", \"src_ip\": \"10.0.0.1\"}, \"disposition\": \"DENIED\"}}", 1, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, st := readAll(t, gcpFW, tc.text, testRef)
			if st.Records != tc.records {
				t.Errorf("records = %d, want %d (%+v)", st.Records, tc.records, st)
			}
			wantFailed := int64(0)
			if tc.failLine > 0 {
				wantFailed = 1
			}
			if st.Failed != wantFailed {
				t.Fatalf("failed = %d, want %d: %v", st.Failed, wantFailed, st.Problems)
			}
			if wantFailed == 1 {
				if got := st.Problems[0].Locator; got.N != tc.failLine {
					t.Errorf("failure at %s, want line %d: %v", got, tc.failLine, st.Problems[0])
				}
			}
			if (st.Truncated != "") != tc.truncated {
				t.Errorf("truncated = %q, want %v", st.Truncated, tc.truncated)
			}
		})
	}
}
