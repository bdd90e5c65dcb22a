package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "read as "+tc.wantZone) {
				t.Errorf("notes %q do not name the zone %s", rep.Notes, tc.wantZone)
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
