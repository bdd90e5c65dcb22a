package parsers

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

func TestFortigate(t *testing.T) {
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
		time    time.Time
	}{
		{
			name:   "traffic_deny_syslog_header",
			line:   `Mar 22 19:21:00 192.0.2.254 date=2024-03-22 time=19:20:46 devname="fw" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=192.0.2.10 srcport=50000 dstip=203.0.113.5 dstport=443 proto=6 action="deny" policyid=8 policyname="block-saas" service="HTTPS"`,
			client: "192.0.2.10:50000", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "traffic/forward policy 8 (block-saas): deny",
			time: time.Date(2024, 3, 22, 19, 20, 46, 0, time.UTC),
		},
		{
			name:   "traffic_timeout_no_reply",
			line:   `date=2024-03-22 time=19:20:46 logid="0000000013" type="traffic" subtype="forward" eventtime=1711135246 srcip=192.0.2.10 srcport=50001 dstip=203.0.113.5 dstport=443 proto=6 action="timeout" policyid=1 sentpkt=3 rcvdpkt=0`,
			client: "192.0.2.10:50001", server: "203.0.113.5:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.NoResponse,
			time: time.Unix(1711135246, 0),
		},
		{
			name:   "traffic_accept",
			line:   `date=2024-03-22 time=19:20:46 logid="0000000013" type="traffic" subtype="forward" srcip=192.0.2.10 srcport=50002 dstip=203.0.113.5 dstport=443 proto=6 action="close" policyid=1 rcvdpkt=12`,
			client: "192.0.2.10:50002", server: "203.0.113.5:443", tr: capture.TCP, outcome: capture.OutcomeOK,
		},
		{
			name:   "webfilter_blocked_host_and_url",
			line:   `date=2020-04-23 time=12:17:48 logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" eventtime=1587230269052907555 tz="-0500" policyid=100602 srcip=192.0.2.1 srcport=61930 dstip=203.0.113.1 dstport=443 proto=6 service="HTTPS" hostname="Auth.GtmHub.com" action="blocked" url="/oauth/token?code=xyz" msg="URL belongs to a denied category in policy" cat=76 catdesc="Business"`,
			client: "192.0.2.1:61930", server: "203.0.113.1:443", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.FirewallDeny, detail: "utm/webfilter policy 100602: blocked, Business",
			host: "auth.gtmhub.com", path: "/oauth/token?code=REDACTED",
			time: time.Date(2020, 4, 23, 17, 17, 48, 0, time.UTC),
		},
		{
			name:   "ips_reset",
			line:   `date=2016-06-15 time=09:41:35 logid=9999999999 type=utm subtype=ips srcip=192.0.2.8 dstip=203.0.113.162 policyid=2 action=reset proto=6 srcport=62216 dstport=80`,
			client: "192.0.2.8:62216", server: "203.0.113.162:80", tr: capture.TCP,
			outcome: capture.OutcomeBlocked, reason: capture.Reset,
		},
		{name: "event", line: `date=2016-06-15 time=10:42:31 logid=1 type=event subtype=vpn action=dpd`, skip: SkipNotTraffic},
		{name: "no_addresses", line: `date=2016-06-15 time=10:42:31 logid=1 type=utm subtype=dns action=pass`, skip: SkipNoAddresses},
		{name: "not_fortigate", line: `hello world`, skip: SkipNotFirewall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o capture.Observation
			err := fortigate.NewLine(&Options{Ref: testRef}).ParseLine([]byte(tc.line), &o)
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
			if !tc.time.IsZero() && !o.Time.Equal(tc.time) {
				t.Errorf("Time = %v, want %v", o.Time, tc.time)
			}
		})
	}
}

// TestFortigateCorpusExpected asserts addresses, ports, action and host
// against the Wazuh engine's expected output.
func TestFortigateCorpusExpected(t *testing.T) {
	dir := corpusDir(t, "fortigate")
	b, err := os.ReadFile(filepath.Join(dir, "wazuh-engine-fortinet-firewall_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Source struct {
			IP   string
			Port int
		}
		Destination *struct {
			IP     string
			Port   int
			Domain string
		}
		Event struct{ Action string }
		URL   *struct{ Domain string }
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	obs, errs := readCorpusLines(t, fortigate, filepath.Join(dir, "wazuh-engine-fortinet-firewall_input.log"), testRef)
	checked := 0
	for i, w := range want {
		if w.Destination == nil {
			var skip Skip
			if !errors.As(errs[i], &skip) {
				t.Errorf("line %d: %v, want a skip for a record without destination", i+1, errs[i])
			}
			continue
		}
		o := obs[i]
		if o == nil {
			t.Fatalf("line %d: %v", i+1, errs[i])
		}
		checked++
		if o.Client.Addr().String() != w.Source.IP || int(o.Client.Port()) != w.Source.Port ||
			o.Server.Addr().String() != w.Destination.IP || int(o.Server.Port()) != w.Destination.Port {
			t.Errorf("line %d: %v -> %v, want %s:%d -> %s:%d", i+1, o.Client, o.Server,
				w.Source.IP, w.Source.Port, w.Destination.IP, w.Destination.Port)
		}
		wantHost := ""
		if w.URL != nil {
			wantHost = w.URL.Domain
		}
		if o.Host != wantHost {
			t.Errorf("line %d: Host = %q, want %q", i+1, o.Host, wantHost)
		}
		if blocked := w.Event.Action == "deny" || w.Event.Action == "blocked"; blocked != (o.Outcome == capture.OutcomeBlocked) {
			t.Errorf("line %d: outcome %s, want action %s", i+1, o.Outcome, w.Event.Action)
		}
	}
	if checked != 2 {
		t.Errorf("%d records checked, want 2", checked)
	}
}

func TestFortigateCorpus(t *testing.T) {
	checkCorpusParses(t, fortigate, "fortigate", nil)
}
