package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

// writeSensorDay writes a day of hourly rotated, gzipped Zeek logs as a
// sensor leaves them: conn, dns and ssl for every hour. Each hour the
// Jira server resolves auth.gtmhub.com, reaches it over TLS (its SNI only
// in ssl.log), and once tries an address no answer named, unanswered; a
// Suricata eve.json, rotated hourly too, sees one API connection an hour.
func writeSensorDay(t *testing.T, dir string) {
	t.Helper()
	const head = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t%s\n#open\t2025-12-03-%02d-00-00\n#fields\t%s\n#types\t%s\n"
	write := func(name, text string) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(text))
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for h := 0; h < 24; h++ {
		ts := 1764720000 + h*3600
		stamp := fmt.Sprintf("2025-12-03-%02d-00-00", h)
		conn := fmt.Sprintf(head, "conn", h,
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tconn_state\thistory",
			"time\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring") +
			fmt.Sprintf("%d.200000\tCa%02d\t192.0.2.10\t%d\t203.0.113.10\t443\ttcp\tssl\tSF\tShADadFf\n", ts, h, 41000+h) +
			fmt.Sprintf("%d.300000\tCb%02d\t192.0.2.10\t%d\t198.51.100.99\t443\ttcp\t-\tS0\tS\n", ts, h, 42000+h) +
			fmt.Sprintf("#close\t2025-12-03-%02d-59-59\n", h)
		dns := fmt.Sprintf(head, "dns", h,
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers\tTTLs",
			"time\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]\tvector[interval]") +
			fmt.Sprintf("%d.100000\tCd%02d\t192.0.2.10\t%d\t192.0.2.53\t53\tudp\tauth.gtmhub.com\tA\tNOERROR\t203.0.113.10\t60.000000\n", ts, h, 43000+h) +
			fmt.Sprintf("%d.110000\tCe%02d\t192.0.2.10\t%d\t192.0.2.53\t53\tudp\tauth.gtmhub.com\tAAAA\tNOERROR\t(empty)\t(empty)\n", ts, h, 44000+h) +
			fmt.Sprintf("#close\t2025-12-03-%02d-59-59\n", h)
		ssl := fmt.Sprintf(head, "ssl", h,
			"ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name\testablished",
			"time\tstring\taddr\tport\taddr\tport\tstring\tstring\tbool") +
			fmt.Sprintf("%d.250000\tCa%02d\t192.0.2.10\t%d\t203.0.113.10\t443\tTLSv13\tauth.gtmhub.com\tT\n", ts, h, 41000+h) +
			fmt.Sprintf("#close\t2025-12-03-%02d-59-59\n", h)
		write("conn."+stamp+".log.gz", conn)
		write("dns."+stamp+".log.gz", dns)
		write("ssl."+stamp+".log.gz", ssl)

		// A Suricata beside it sees the API calls: a tls event, then the
		// flow's flow event.
		at := fmt.Sprintf("2025-12-03T%02d:00:05.000000+0000", h)
		eve := fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"event_type":"tls","src_ip":"192.0.2.10","src_port":%d,"dest_ip":"203.0.113.20","dest_port":443,"proto":"TCP","tls":{"sni":"app.gtmhub.com","version":"TLS 1.3"}}`+"\n", at, 900+h, 45000+h) +
			fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"event_type":"flow","src_ip":"192.0.2.10","src_port":%d,"dest_ip":"203.0.113.20","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":9,"pkts_toclient":8,"state":"closed"},"tcp":{"tcp_flags_ts":"1b","tcp_flags_tc":"1b"}}`+"\n", at, 900+h, 45000+h)
		write(fmt.Sprintf("eve-2025-12-03-%02d.json.gz", h), eve)
	}
}

func TestAuditSensorDirectory(t *testing.T) {
	dir := t.TempDir()
	writeSensorDay(t, dir)
	var stdout, stderr bytes.Buffer
	code := run([]string{"audit", "-o", "json", "--fail-on", "none", dir}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr: %s", code, exitOK, stderr.String())
	}
	var rep rules.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(rep.Inputs) != 96 {
		t.Fatalf("%d inputs, want 96", len(rep.Inputs))
	}
	for _, in := range rep.Inputs {
		base := filepath.Base(in.Path)
		if strings.HasPrefix(base, "eve-") {
			if in.Format != "suricata" || in.Records != 2 || in.Skipped != 0 || in.Errors != 0 {
				t.Errorf("%s: format %s, %d records, %d skipped, %d errors, want suricata, 2, 0, 0", base, in.Format, in.Records, in.Skipped, in.Errors)
			}
			continue
		}
		want := map[string]int64{"conn": 2, "dns": 2, "ssl": 1}[strings.SplitN(base, ".", 2)[0]]
		// Every file has 8 header lines and a #close line.
		if in.Format != "zeek" || in.Records != want || in.Skipped != 9 || in.Errors != 0 {
			t.Errorf("%s: format %s, %d records, %d skipped, %d errors, want zeek, %d, 9, 0",
				base, in.Format, in.Records, in.Skipped, in.Errors, want)
		}
	}
	var token rules.CallReport
	for _, c := range rep.Calls {
		if c.ID == "oauth-token" {
			token = c
		}
	}
	if token.Status != rules.StatusOK || len(token.Evidence) == 0 || !strings.HasPrefix(filepath.Base(token.Evidence[0].Input), "conn.") {
		t.Errorf("oauth-token = %s with evidence %+v, want ok at a conn.log line", token.Status, token.Evidence)
	}
	flows := make(map[string]int64)
	for _, d := range rep.Destinations {
		flows[d.Host] += d.Flows
	}
	// One observation per connection: 24 to auth.gtmhub.com (SNI from
	// ssl.log), 24 unanswered ones to the unnamed address, 24 to
	// app.gtmhub.com from eve.json.
	if flows["auth.gtmhub.com"] != 24 || flows["198.51.100.99"] != 24 || flows["app.gtmhub.com"] != 24 {
		t.Errorf("flows by destination = %v, want auth.gtmhub.com, 198.51.100.99 and app.gtmhub.com 24 each", flows)
	}
	for _, c := range rep.Calls {
		if c.ID == "list-sessions" && c.Status != rules.StatusOK {
			t.Errorf("list-sessions = %s, want ok from the eve.json connections", c.Status)
		}
	}
}
