package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// firewallBenchLines are typical records of each line format: the kinds a busy
// egress firewall writes most.
var firewallBenchLines = map[string][]string{
	"netfilter": {
		"Dec  3 19:01:02 jira kernel: [ 812.001234] egress DROP: IN= OUT=eth0 MAC= SRC=192.0.2.10 DST=203.0.113.5 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=50000 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0",
		"Dec  3 19:01:03 gw kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 MAC=90:10:20:76:8d:20:90:10:24:67:f4:89:08:00 SRC=192.0.2.158 DST=198.51.100.25 LEN=265 TOS=0x00 PREC=0x00 TTL=63 ID=51768 DF PROTO=TCP SPT=43189 DPT=443 WINDOW=159 RES=0x00 ACK PSH URGP=0",
		"2026-12-03T19:01:04.123456+00:00 jira kernel: nft-out ACCEPT IN= OUT=eth0 SRC=2001:db8::10 DST=2001:db8:1::5 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=1 PROTO=UDP SPT=40000 DPT=443 LEN=40",
	},
	"pfsense": {
		"<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,192.0.2.50,203.0.113.1,49724,443,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale",
		"<134>1 2021-07-03T19:10:14.578333-05:00 pfSense.example.com filterlog 72237 - - 115,,,1534283903,igb1.27,match,pass,in,4,0x0,,63,29559,0,DF,17,udp,69,192.0.2.50,198.51.100.1,52797,53,49",
	},
	"asa": {
		"<166>Aug 18 2026 18:24:29 fw : %ASA-6-302013: Built outbound TCP connection 11757 for outside:203.0.113.104/443 (203.0.113.104/443) to inside:192.0.2.44/1772 (198.51.100.44/8256)",
		`<164>Aug 18 2026 18:24:30 fw : %ASA-4-106023: Deny tcp src inside:192.0.2.9/54864 dst outside:203.0.113.3/443 by access-group "inside_out" [0x0, 0x0]`,
		"<166>Aug 18 2026 18:24:31 fw : %ASA-6-302014: Teardown TCP connection 11757 for outside:203.0.113.104/443 to inside:192.0.2.44/1772 duration 0:00:30 bytes 5120 TCP FINs",
	},
	"panos": {
		"Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.0.2.207,203.0.113.1,198.51.100.63,203.0.113.1,out_rule,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send,2018/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,16,20,tcp-fin,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0",
	},
	"fortigate": {
		`date=2024-03-22 time=19:20:46 devname="fw" devid="FG100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" eventtime=1711135246123456789 tz="+0100" srcip=192.0.2.10 srcport=50000 srcintf="port1" srcintfrole="lan" dstip=203.0.113.5 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=155313 proto=6 action="close" policyid=8 policytype="policy" service="HTTPS" trandisp="snat" duration=12 sentbyte=5120 rcvdbyte=20480 sentpkt=20 rcvdpkt=25 appcat="unscanned"`,
	},
	"aws-vpc": {
		"2 123456789010 eni-1235b8ca123456789 192.0.2.139 203.0.113.21 20641 443 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 192.0.2.69 203.0.113.12 49761 443 6 20 4249 1418530010 1418530070 REJECT OK",
	},
}

// BenchmarkFirewallLine measures each line parser alone, in MB/s and
// lines/s.
func BenchmarkFirewallLine(b *testing.B) {
	for _, fm := range lineFirewallFormats() {
		lines := firewallBenchLines[fm.Name]
		b.Run(fm.Name, func(b *testing.B) {
			var bs [][]byte
			size := 0
			for _, l := range lines {
				bs = append(bs, []byte(l))
				size += len(l) + 1
			}
			p := fm.NewLine(&Options{Ref: testRef})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			n := 0
			cpu := startCPU()
			for b.Loop() {
				for _, l := range bs {
					o := capture.Observation{}
					var skip Skip
					if err := p.ParseLine(l, &o); err != nil && !errors.As(err, &skip) {
						b.Fatal(err)
					}
				}
				n += len(bs)
			}
			cpu.report(b, int64(n/len(bs)*size), int64(n))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkFirewallRead measures reading a whole input: line splitting,
// counting and emitting included.
func BenchmarkFirewallRead(b *testing.B) {
	for _, fm := range lineFirewallFormats() {
		b.Run(fm.Name, func(b *testing.B) {
			var buf bytes.Buffer
			for buf.Len() < 4<<20 {
				for _, l := range firewallBenchLines[fm.Name] {
					buf.WriteString(l)
					buf.WriteByte('\n')
				}
			}
			benchReadLines(b, fm, buf.Bytes())
		})
	}
}

// benchReadLines measures reading data, a log of format f, whole.
func benchReadLines(b *testing.B, f *Format, data []byte) {
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	cpu := startCPU()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), "bench", f, &Options{Ref: testRef}, func(*capture.Observation) {}); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	cpu.report(b, int64(n/lines*len(data)), int64(n))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCloudRead measures the JSON formats, one record per line.
func BenchmarkCloudRead(b *testing.B) {
	records := map[*Format]string{
		awsNFW:  `{"firewall_name":"fw","availability_zone":"us-east-2a","event_timestamp":"1636381332","event":{"timestamp":"2021-11-08T14:22:12.637611+0000","flow_id":706471429191862,"event_type":"alert","src_ip":"192.0.2.143","src_port":51254,"dest_ip":"203.0.113.57","dest_port":443,"proto":"TCP","alert":{"action":"blocked","signature_id":1000003,"rev":1,"signature":"Deny all other TCP traffic","category":"","severity":3},"tls":{"sni":"auth.gtmhub.com","version":"TLS 1.2"},"app_proto":"tls"}}`,
		azureFW: `{"category":"AZFWApplicationRule","properties":{"Action":"Deny","ActionReason":"","DestinationPort":443,"Fqdn":"auth.gtmhub.com","IsExplicitProxyRequest":false,"IsTlsInspected":false,"Policy":"p","Protocol":"HTTPS","Rule":"r","RuleCollection":"c","RuleCollectionGroup":"g","SourceIp":"10.0.0.4","SourcePort":59956,"TargetUrl":"","WebCategory":""},"resourceId":"/SUBSCRIPTIONS/0/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW","time":"2025-11-26T14:16:47.139739+00:00"}`,
		gcpFW:   `{"insertId":"1dobeotg13df9f5","jsonPayload":{"connection":{"dest_ip":"203.0.113.16","dest_port":443,"protocol":6,"src_ip":"10.128.0.10","src_port":57794},"disposition":"DENIED","instance":{"project_id":"p","region":"us-central1","vm_name":"jira","zone":"us-central1-a"},"rule_details":{"action":"DENY","direction":"EGRESS","priority":1000,"reference":"network:default/firewall:deny-saas"},"vpc":{"project_id":"p","subnetwork_name":"s","vpc_name":"default"}},"logName":"projects/p/logs/compute.googleapis.com%2Ffirewall","timestamp":"2019-11-06T16:41:38.394575419Z"}`,
	}
	for _, fm := range []*Format{awsNFW, azureFW, gcpFW} {
		b.Run(fm.Name, func(b *testing.B) {
			data := []byte(strings.Repeat(records[fm]+"\n", 8192))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			cpu := startCPU()
			for b.Loop() {
				res, err := Read(bytes.NewReader(data), "bench", fm, &Options{}, func(*capture.Observation) {})
				if err != nil || res.Stats.Records != 8192 {
					b.Fatalf("%v %+v", err, res.Stats)
				}
				n += 8192
			}
			cpu.report(b, int64(n/8192*len(data)), int64(n))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func BenchmarkParseSyslog(b *testing.B) {
	for _, l := range []struct{ name, line string }{
		{"bsd", "Dec  3 19:01:02 jira kernel: [ 812.001234] egress DROP: IN= OUT=eth0"},
		{"rfc5424", "<134>1 2021-07-03T19:10:14.578333-05:00 pfSense.example.com filterlog 72237 - - 115,,,1534283903"},
	} {
		b.Run(l.name, func(b *testing.B) {
			line := []byte(l.line)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			n := 0
			cpu := startCPU()
			for b.Loop() {
				ParseSyslog(line, nil, testRef)
				n++
			}
			cpu.report(b, int64(n*len(line)), int64(n))
		})
	}
}

// BenchmarkVPCJoin measures VPC flow logs of distinct connections, each
// held for the join with the records of its answers; one in a hundred has
// its answers rejected.
func BenchmarkVPCJoin(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; buf.Len() < 16<<20; i++ {
		client := fmt.Sprintf("192.0.2.%d", 1+i/60000%250)
		port := 1024 + i%60000
		fmt.Fprintf(&buf, "2 123456789010 eni-1235b8ca123456789 %s 203.0.113.21 %d 443 6 20 4249 1418530010 1418530070 ACCEPT OK\n", client, port)
		if i%100 == 0 {
			fmt.Fprintf(&buf, "2 123456789010 eni-1235b8ca123456789 203.0.113.21 %s 443 %d 6 20 4249 1418530010 1418530070 REJECT OK\n", client, port)
		}
	}
	benchReadLines(b, awsVPC, buf.Bytes())
}
