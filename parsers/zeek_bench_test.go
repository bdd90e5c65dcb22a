package parsers

import (
	"bytes"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// benchConnTSV is an hour of a busy sensor's conn.log in miniature: TLS
// connections (held for the join), unanswered SYNs and DNS flows, with
// every column Zeek writes by default.
func benchConnTSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2025-12-03-09-00-00\n")
	b.WriteString("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n")
	b.WriteString("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n")
	for i := 0; i < n; i++ {
		ts := 1764752400 + i/10
		switch i % 4 {
		case 0, 1:
			fmt.Fprintf(&b, "%d.%06d\tC%016x\t10.1.%d.%d\t%d\t203.0.113.%d\t443\ttcp\tssl\t0.351234\t1420\t5210\tSF\tT\tF\t0\tShADadFf\t9\t1892\t8\t5634\t(empty)\n",
				ts, i%1000000, i, (i>>8)&255, i&255, 30000+i%30000, i%200)
		case 2:
			fmt.Fprintf(&b, "%d.%06d\tC%016x\t10.1.%d.%d\t%d\t198.51.100.%d\t443\ttcp\t-\t-\t-\t-\tS0\tT\tF\t0\tS\t2\t120\t0\t0\t(empty)\n",
				ts, i%1000000, i, (i>>8)&255, i&255, 30000+i%30000, i%200)
		default:
			fmt.Fprintf(&b, "%d.%06d\tC%016x\t10.1.%d.%d\t%d\t192.0.2.53\t53\tudp\tdns\t0.012000\t33\t49\tSF\tT\tT\t0\tDd\t1\t61\t1\t77\t(empty)\n",
				ts, i%1000000, i, (i>>8)&255, i&255, 30000+i%30000)
		}
	}
	b.WriteString("#close\t2025-12-03-10-00-00\n")
	return b.Bytes()
}

// benchDNSTSV is a dns.log with answered lookups.
func benchDNSTSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n")
	b.WriteString("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d.%06d\tC%016x\t10.1.%d.%d\t%d\t192.0.2.53\t53\tudp\t%d\t0.012000\thost%d.example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tedge%d.example.net,203.0.113.%d\t300.000000,60.000000\tF\n",
			1764752400+i/10, i%1000000, i, (i>>8)&255, i&255, 30000+i%30000, i&65535, i%5000, i%500, i%200)
	}
	return b.Bytes()
}

// benchConnJSON is the JSON form of benchConnTSV's TLS connections.
func benchConnJSON(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"ts":%d.%06d,"uid":"C%016x","id.orig_h":"10.1.%d.%d","id.orig_p":%d,"id.resp_h":"203.0.113.%d","id.resp_p":443,"proto":"tcp","service":"ssl","duration":0.351234,"orig_bytes":1420,"resp_bytes":5210,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":9,"orig_ip_bytes":1892,"resp_pkts":8,"resp_ip_bytes":5634}`+"\n",
			1764752400+i/10, i%1000000, i, (i>>8)&255, i&255, 30000+i%30000, i%200)
	}
	return b.Bytes()
}

// benchEve mixes the events of TLS flows (tls then flow) with DNS
// answers, as eve.json interleaves them.
func benchEve(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		ts := fmt.Sprintf("2025-12-03T09:%02d:%02d.%06d+0000", (i/60)%60, i%60, i%1000000)
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, `{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"tls","src_ip":"10.1.%d.%d","src_port":%d,"dest_ip":"203.0.113.%d","dest_port":443,"proto":"TCP","tls":{"subject":"CN=host%d.example.com","issuerdn":"C=US, O=Example Trust, CN=Example CA","serial":"1A:2B","fingerprint":"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd","sni":"host%d.example.com","version":"TLS 1.3","notbefore":"2025-06-01T00:00:00","notafter":"2026-06-01T00:00:00","ja3":{"hash":"3f1ea03f5822e8021b60cc3e4b233181","string":"771,4865-4866,0-23-65281,29-23,0"}}}`+"\n",
				ts, 1000+i, (i>>8)&255, i&255, 30000+i%30000, i%200, i%5000, i%5000)
		case 1:
			fmt.Fprintf(&b, `{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"flow","src_ip":"10.1.%d.%d","src_port":%d,"dest_ip":"203.0.113.%d","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":9,"pkts_toclient":8,"bytes_toserver":1892,"bytes_toclient":5634,"start":"%s","end":"%s","age":1,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}`+"\n",
				ts, 1000+i-1, ((i-1)>>8)&255, (i-1)&255, 30000+(i-1)%30000, (i-1)%200, ts, ts)
		default:
			fmt.Fprintf(&b, `{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"dns","src_ip":"192.0.2.53","src_port":53,"dest_ip":"10.1.%d.%d","dest_port":%d,"proto":"UDP","dns":{"version":2,"type":"answer","id":%d,"flags":"8180","qr":true,"rd":true,"ra":true,"rcode":"NOERROR","rrname":"host%d.example.com","rrtype":"A","answers":[{"rrname":"host%d.example.com","rrtype":"A","ttl":60,"rdata":"203.0.113.%d"}],"grouped":{"A":["203.0.113.%d"]}}}`+"\n",
				ts, 500000+i, (i>>8)&255, i&255, 30000+i%30000, i&65535, i%5000, i%5000, i%200, i%200)
		}
	}
	return b.Bytes()
}

// BenchmarkSensorLogs reads whole logs, joins included. Measured on
// 2026-12-03 on a shared 2-core machine (load around 17, so wall-clock
// rates were a third to a half of the CPU-time rates), in MB/s of the
// process's CPU time: conn.log TSV about 110 with half its connections
// held for the join, dns.log TSV about 175, conn.log JSON about 115,
// eve.json about 150-180. The TSV line split alone (BenchmarkZeekTSVLine)
// ran at about 685 MB/s of CPU time (400 MB/s of wall clock at the
// quietest moment).
func BenchmarkSensorLogs(b *testing.B) {
	const n = 2_000_000 // lines of each log
	type reader = func(io.Reader, string, *Options, *capture.Stats, func(*capture.Observation)) error
	tests := []struct {
		name string
		data []byte
		read reader
	}{
		{"zeek_conn_tsv", benchConnTSV(n), readZeek},
		{"zeek_dns_tsv", benchDNSTSV(n), readZeek},
		{"zeek_conn_json", benchConnJSON(n), readZeek},
		{"suricata_eve", benchEve(n), readEve},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			lines := countLines(tc.data)
			var emitted int
			emit := func(*capture.Observation) { emitted++ }
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.data)))
			cpu0 := cpuTime()
			for b.Loop() {
				opts := &Options{}
				st := &capture.Stats{}
				if err := tc.read(bytes.NewReader(tc.data), "bench.log", opts, st, emit); err != nil {
					b.Fatal(err)
				}
				opts.Flush(emit)
				if st.Failed != 0 {
					b.Fatalf("%d lines failed: %v", st.Failed, st.Problems)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			// The wall clock counts the time other processes hold the CPU;
			// the process's own CPU time does not (GC workers included).
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(len(tc.data))*float64(b.N)/cpu/1e6, "cpu-MB/s")
			}
		})
	}
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkZeekTSVLine measures the split of one conn.log line alone,
// which must not allocate.
func BenchmarkZeekTSVLine(b *testing.B) {
	data := benchConnTSV(1)
	lines := bytes.Split(data, []byte("\n"))
	zr := &zeekReader{}
	zr.hdr.init()
	for _, l := range lines[:8] {
		zr.header(l)
	}
	line := lines[8]
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	cpu0 := cpuTime()
	for b.Loop() {
		zr.decodeTSV(line)
	}
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(len(line))*float64(b.N)/cpu/1e6, "cpu-MB/s")
	}
}

func TestZeekTSVLineAllocs(t *testing.T) {
	data := benchConnTSV(1)
	lines := bytes.Split(data, []byte("\n"))
	zr := &zeekReader{}
	zr.hdr.init()
	for _, l := range lines[:8] {
		zr.header(l)
	}
	line := lines[8]
	if n := testing.AllocsPerRun(100, func() { zr.decodeTSV(line) }); n != 0 {
		t.Errorf("decodeTSV allocates %v times per line, want 0", n)
	}
	if zr.rec.kind != zeekConn || string(zr.rec.v[zfConnState]) != "SF" {
		t.Errorf("decoded kind %d, conn_state %q, want conn, SF", zr.rec.kind, zr.rec.v[zfConnState])
	}
}
