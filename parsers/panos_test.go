package parsers

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestPanos(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		skip    Skip
		client  string
		server  string
		tr      capture.Transport
		outcome capture.Outcome
		reason  capture.Reason
		detail  string
		host    string
		path    string
	}{
		{
			name:   "traffic_end_allow",
			line:   "Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.0.2.207,203.0.113.1,198.51.100.63,203.0.113.1,out_rule,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send,2018/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,16,20,tcp-fin,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0",
			client: "192.0.2.207:55113", server: "203.0.113.1:443", tr: capture.TCP,
			outcome: capture.OutcomeOK, detail: "TRAFFIC/end rule out_rule app ssl: allow",
		},
		{
			name:   "traffic_deny_no_leading_field",
			line:   "2021/02/05 15:05:55,0123456789,TRAFFIC,drop,2305,2021/02/05 15:05:55,192.0.2.1,203.0.113.2,0.0.0.0,0.0.0.0,interzone-default,,,not-applicable,vsys1,trust,untrust,ethernet1,,Log Collector,2021/02/05 15:05:55,0,1,35861,443,0,0,0x0,tcp,deny,102,102,0,1,2021/02/08 16:06:59,0,any,0,3996658540,0x0,US,US,0,1,0,policy-deny,0,0,0,0",
			client: "192.0.2.1:35861", server: "203.0.113.2:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
			detail: "TRAFFIC/drop rule interzone-default app not-applicable: deny",
		},
		{
			name:   "traffic_reset_both",
			line:   "1,2018/11/30 16:09:07,0128,TRAFFIC,end,2049,2018/11/30 16:09:07,192.0.2.207,203.0.113.1,0.0.0.0,0.0.0.0,block_saas,,,ssl,vsys1,trust,untrust,e1,e2,send,2018/11/30 16:09:07,1,1,55113,443,0,0,0x0,tcp,reset-both,1,1,0,1,2018/11/30 15:59:04,0,any,0,1,0x0,US,US,0,1,0,policy-deny",
			client: "192.0.2.207:55113", server: "203.0.113.1:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset,
		},
		{
			name:   "url_log_host",
			line:   `Aug 5 14:56:46 pa 1,2014/08/05 14:56:46,0123456789,THREAT,url,1,2014/08/05 14:56:40,192.0.2.89,203.0.113.175,198.51.100.8,203.0.113.175,allow_all,,,ssl,vsys1,Trust-L3,Untrust-L3,ethernet1/2,ethernet1/1,fwd,2014/08/05 14:56:46,196863,1,55143,443,52716,443,0x408000,tcp,block-url,"auth.gtmhub.com/authorize?code=abc",(9999),business-and-economy,informational,client-to-server,67483,0x0,192.168.0.0-192.168.255.255,US,0,,0,,`,
			client: "192.0.2.89:55143", server: "203.0.113.175:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny,
			detail: "THREAT/url rule allow_all app ssl category business-and-economy: block-url",
			host:   "auth.gtmhub.com", path: "/authorize?code=REDACTED",
		},
		{
			// Found by FuzzParseFirewallLine: a control byte is no host.
			name:   "url_control_byte",
			line:   "0000/00/00 00:00000,,THREAT,url,,,0.0.0.0,0.0.0.1,,,,,,,,,,,,,,,,,,,,,,,\x00",
			client: "0.0.0.0:0", server: "0.0.0.1:0", outcome: capture.OutcomeUnknown,
			detail: "THREAT/url: ",
		},
		{
			name:   "url_address_is_no_name",
			line:   `1,2014/08/05 14:56:46,0123,THREAT,url,1,2014/08/05 14:56:40,192.0.2.89,203.0.113.175,0.0.0.0,0.0.0.0,r,,,web-browsing,vsys1,t,u,e1,e2,fwd,2014/08/05 14:56:46,1,1,55143,80,0,0,0x0,tcp,alert,"203.0.113.175/index.html",(9999),any,informational`,
			client: "192.0.2.89:55143", server: "203.0.113.175:80", tr: capture.TCP, outcome: capture.OutcomeOK,
		},
		{name: "system_log", line: "1,2018/11/30 16:09:07,0128,SYSTEM,general,0,2018/11/30 16:09:07,,general,,0,0,general,informational,msg,1,0x0", skip: SkipNotTraffic},
		{name: "not_panos", line: "hello,world", skip: SkipNotFirewall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o capture.Observation
			err := panos.NewLine(&Options{Ref: testRef}).ParseLine([]byte(tc.line), &o)
			var skip Skip
			if errors.As(err, &skip) {
				if skip != tc.skip {
					t.Fatalf("ParseLine = skip %q, want %q", skip, tc.skip)
				}
				return
			} else if err != nil || tc.skip != "" {
				t.Fatalf("ParseLine = %v, want skip %q", err, tc.skip)
			}
			checkObs(t, &o, tc.client, tc.server, tc.tr, tc.outcome, tc.reason, tc.detail)
			if o.Host != tc.host || o.Path != tc.path {
				t.Errorf("Host, Path = %q %q, want %q %q", o.Host, o.Path, tc.host, tc.path)
			}
			if tc.host != "" && o.HostSource != capture.SourceURL {
				t.Errorf("HostSource = %q, want url", o.HostSource)
			}
		})
	}
}

func TestPanosTimeZone(t *testing.T) {
	loc := time.FixedZone("PST", -8*3600)
	opts := &Options{Location: loc}
	var o capture.Observation
	line := "1,2018/11/30 16:09:07,0128,TRAFFIC,end,2049,2018/11/30 16:09:06,192.0.2.207,203.0.113.1,0.0.0.0,0.0.0.0,r,,,ssl,vsys1,trust,untrust,e1,e2,send,2018/11/30 16:09:07,1,1,55113,443,0,0,0x0,tcp,allow,1"
	if err := panos.NewLine(opts).ParseLine([]byte(line), &o); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2018, 12, 1, 0, 9, 6, 0, time.UTC); !o.Time.Equal(want) || !opts.ZoneUsed {
		t.Errorf("Time = %v (zone used %v), want the generated time %v", o.Time.UTC(), opts.ZoneUsed, want)
	}
}

func TestPanosCorpusExpected(t *testing.T) {
	dir := corpusDir(t, "panos")
	want := crowdsecParsed(t, filepath.Join(dir, "crowdsec-palo-alto-threat.parser-assert.expected.txt"), "s01-parse")
	obs, errs := readCorpusLines(t, panos, filepath.Join(dir, "crowdsec-palo-alto-threat.log"), testRef)
	if len(want) != 2 {
		t.Fatalf("%d records of assertions, want 2", len(want))
	}
	for i, w := range want {
		o := obs[i]
		if o == nil {
			t.Fatalf("line %d: %v", i+1, errs[i])
		}
		if o.Client.Addr().String() != w["src_ip"] || itoa(int(o.Client.Port())) != w["src_port"] ||
			o.Server.Addr().String() != w["dst_ip"] || itoa(int(o.Server.Port())) != w["dst_port"] {
			t.Errorf("line %d: %v -> %v, want %s:%s -> %s:%s", i+1, o.Client, o.Server,
				w["src_ip"], w["src_port"], w["dst_ip"], w["dst_port"])
		}
		if string(o.Transport) != w["ip_proto"] {
			t.Errorf("line %d: transport %s, want %s", i+1, o.Transport, w["ip_proto"])
		}
		wantReason := capture.ReasonNone
		if w["action"] == "reset-both" {
			wantReason = capture.Reset
		}
		if o.Reason != wantReason {
			t.Errorf("line %d: reason %q for action %s, want %q", i+1, o.Reason, w["action"], wantReason)
		}
	}
}

func TestPanosCorpus(t *testing.T) {
	checkCorpusParses(t, panos, "panos", nil)
}
