package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAuditTimezone checks that zone-less log times are read in
// --timezone and that the report says which zone was used.
func TestAuditTimezone(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "fw.log")
	line := "Dec  3 19:01:02 jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN\n"
	if err := os.WriteFile(log, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantZone string
		wantCode int
	}{
		{"berlin", []string{"--timezone", "Europe/Berlin"}, "Europe/Berlin", exitOK},
		{"utc", []string{"--timezone", "UTC"}, "UTC", exitOK},
		{"bad_zone", []string{"--timezone", "Mars/Olympus"}, "", exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{
				stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv:    func(string) string { return "" },
				configDir: func() (string, error) { return dir, nil },
			}
			args := append([]string{"audit", "-o", "json", "--fail-on", "none"}, tc.args...)
			code := e.run(append(args, log))
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if tc.wantCode != exitOK {
				if !strings.Contains(stderr.String(), "timezone") {
					t.Errorf("stderr %q does not name the timezone setting", stderr.String())
				}
				return
			}
			var rep struct {
				Inputs []struct {
					TimeZone string `json:"time_zone"`
				}
				Notes        []string
				Destinations []struct {
					Evidence []struct{ Time string }
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Inputs) != 1 || rep.Inputs[0].TimeZone != tc.wantZone {
				t.Errorf("inputs = %+v, want time_zone %s", rep.Inputs, tc.wantZone)
			}
			note := "times in " + log + " were read as " + tc.wantZone +
				" where they had no zone, or a zone abbreviation other than UTC, GMT or that zone's own (set --timezone)"
			if !slices.Contains(rep.Notes, note) {
				t.Errorf("notes %q, want %q among them", rep.Notes, note)
			}
			if len(rep.Destinations) == 0 || len(rep.Destinations[0].Evidence) == 0 ||
				!strings.HasSuffix(rep.Destinations[0].Evidence[0].Time, "Z") {
				t.Fatalf("destinations = %+v, want evidence with a UTC time", rep.Destinations)
			}
			hour := rep.Destinations[0].Evidence[0].Time[11:13]
			if want := map[string]string{"Europe/Berlin": "18", "UTC": "19"}[tc.wantZone]; hour != want {
				t.Errorf("evidence time %s, want hour %s UTC", rep.Destinations[0].Evidence[0].Time, want)
			}
		})
	}
}

// TestAuditTimezoneResolverLogs checks that the resolver logs, whose BSD
// syslog and BIND stamps carry no zone, report the zone they were read in.
func TestAuditTimezoneResolverLogs(t *testing.T) {
	dir := t.TempDir()
	logs := map[string]string{
		"dnsmasq.log": "Dec  3 09:00:01 dnsmasq[811]: query[A] app.gtmhub.com from 192.0.2.10\nDec  3 09:00:01 dnsmasq[811]: reply app.gtmhub.com is 198.51.100.20\n",
		"named.log":   "03-Dec-2025 09:00:01.123 client @0x7f 192.0.2.10#41234 (app.gtmhub.com): query: app.gtmhub.com IN A + (192.0.2.53)\n",
		"unbound.log": "Dec  3 09:00:01 unbound[811:0] info: 192.0.2.10 app.gtmhub.com. A IN NOERROR 0.012000 0 93\n",
	}
	for name, text := range logs {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			e := &env{
				stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv:    func(string) string { return "" },
				configDir: func() (string, error) { return dir, nil },
			}
			code := e.run([]string{"audit", "-o", "json", "--fail-on", "none", "--timezone", "Europe/Berlin", path})
			if code != exitOK {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, exitOK, stderr.String())
			}
			var rep struct {
				Inputs []struct {
					Format   string
					TimeZone string `json:"time_zone"`
				}
				Notes []string
			}
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Inputs) != 1 || rep.Inputs[0].TimeZone != "Europe/Berlin" {
				t.Errorf("inputs = %+v, want time_zone Europe/Berlin", rep.Inputs)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "read as Europe/Berlin") {
				t.Errorf("notes %q do not name the zone", rep.Notes)
			}
		})
	}
}
