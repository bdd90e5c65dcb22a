package parsers

import (
	"testing"
	"time"
)

func TestParseSyslog(t *testing.T) {
	ref := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name    string
		line    string
		loc     *time.Location
		time    time.Time
		zoned   bool
		host    string
		program string
		msg     string
	}{
		{
			name: "bsd_kernel_stamp",
			line: "Dec 31 23:59:58 fw kernel: [ 203.842973] DROP: IN= OUT=eth0",
			time: time.Date(2023, 12, 31, 23, 59, 58, 0, time.UTC), host: "fw", program: "kernel",
			msg: "DROP: IN= OUT=eth0",
		},
		{
			name: "bsd_single_digit_day_pri",
			line: "<4>Jan  2 10:00:00 fw filterlog[123]: 5,,,1000",
			time: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC), host: "fw", program: "filterlog",
			msg: "5,,,1000",
		},
		{
			name: "bsd_no_host",
			line: "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,15",
			time: time.Date(2023, 7, 3, 19, 10, 30, 0, time.UTC), program: "filterlog", msg: "146,,,15",
		},
		{
			name: "bsd_year_fraction_cisco",
			line: "<166>Aug 18 2026 18:24:29.250 asa-fw-01 : %ASA-6-302020: Built",
			loc:  cet,
			time: time.Date(2026, 8, 18, 18, 24, 29, 250000000, cet), host: "asa-fw-01",
			msg: "%ASA-6-302020: Built",
		},
		{
			name: "pfsense_squid_tag",
			line: "<166>Aug 21 22:08:13 fw.example.tld (squid-1)[6802]: 1598040493.253 325 192.0.2.1 TCP_MISS/304",
			time: time.Date(2023, 8, 21, 22, 8, 13, 0, time.UTC), host: "fw.example.tld", program: "(squid-1)",
			msg: "1598040493.253 325 192.0.2.1 TCP_MISS/304",
		},
		{
			name: "bsd_facility_level",
			line: "May  5 20:46:45 gw user.info kernel: TTL=126",
			time: time.Date(2023, 5, 5, 20, 46, 45, 0, time.UTC), host: "gw", program: "kernel", msg: "TTL=126",
		},
		{
			name: "logemu_no_tag",
			line: "Jan  2 10:00:00 fw egress IN=eth0 OUT=",
			time: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC), host: "fw", msg: "egress IN=eth0 OUT=",
		},
		{
			name: "rfc3339_zulu",
			line: "<6>2021-03-12T14:10:18Z host kernel: [wan-D]IN=eth0",
			time: time.Date(2021, 3, 12, 14, 10, 18, 0, time.UTC), zoned: true, host: "host", program: "kernel",
			msg: "[wan-D]IN=eth0",
		},
		{
			name: "journalctl_short_iso",
			line: "2024-01-02T10:00:00+0100 host kernel: IN= OUT=eth0",
			time: time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC), zoned: true, host: "host", program: "kernel",
			msg: "IN= OUT=eth0",
		},
		{
			name: "rfc5424_sd",
			line: `<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - [meta sequenceId="2\]6"] 10,,,02f4`,
			time: time.Date(2022, 9, 6, 16, 37, 34, 0, time.UTC), zoned: true, host: "opnsense", program: "filterlog",
			msg: "10,,,02f4",
		},
		{
			name: "rfc5424_nil_sd_fraction",
			line: "<134>1 2025-11-06T11:32:42.868451+00:00 fw.lan filterlog 92653 - - 7,,,1",
			time: time.Date(2025, 11, 6, 11, 32, 42, 868451000, time.UTC), zoned: true, host: "fw.lan",
			program: "filterlog", msg: "7,,,1",
		},
		{
			name: "journalctl_short_full_loc_zone",
			line: "Tue 2024-12-03 19:01:02 CET jira kernel: egress DROP: IN= OUT=eth0",
			loc:  cet,
			time: time.Date(2024, 12, 3, 18, 1, 2, 0, time.UTC), zoned: true, host: "jira", program: "kernel",
			msg: "egress DROP: IN= OUT=eth0",
		},
		{
			name: "journalctl_short_full_utc",
			line: "Tue 2024-12-03 19:01:02 UTC jira kernel: IN= OUT=eth0",
			loc:  cet,
			time: time.Date(2024, 12, 3, 19, 1, 2, 0, time.UTC), zoned: true, host: "jira", program: "kernel",
			msg: "IN= OUT=eth0",
		},
		{
			name: "journalctl_short_full_offset",
			line: "Tue 2024-12-03 19:01:02 +03 jira kernel: IN= OUT=eth0",
			time: time.Date(2024, 12, 3, 16, 1, 2, 0, time.UTC), zoned: true, host: "jira", program: "kernel",
			msg: "IN= OUT=eth0",
		},
		{
			// Not the zone of loc: read in loc, as a stamp without one.
			name: "journalctl_short_full_other_zone",
			line: "Tue 2024-12-03 19:01:02 EST jira kernel: IN= OUT=eth0",
			loc:  cet,
			time: time.Date(2024, 12, 3, 18, 1, 2, 0, time.UTC), host: "jira", program: "kernel",
			msg: "IN= OUT=eth0",
		},
		{
			name: "short_monotonic",
			line: "[ 1234.567890] host kernel: IN=eth0",
			host: "host", program: "kernel", msg: "IN=eth0",
		},
		// Found by FuzzParseSyslog: the zero time carries no zone.
		{name: "zero_time", line: "0001-01-01 00:00:00+0000", msg: ""},
		{name: "no_header", line: "IN=eth0 OUT= SRC=1.2.3.4", msg: "IN=eth0 OUT= SRC=1.2.3.4"},
		{name: "bad_month", line: "Foo 12 10:00:00 host x: y", msg: "Foo 12 10:00:00 host x: y"},
		{name: "bad_weekday", line: "Tuz 2024-12-03 19:01:02 CET h k: m", msg: "Tuz 2024-12-03 19:01:02 CET h k: m"},
		{name: "bad_clock", line: "Jan 12 10:0x:00 host x: y", msg: "Jan 12 10:0x:00 host x: y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := tc.loc
			if loc == nil {
				loc = time.UTC
			}
			h := ParseSyslog([]byte(tc.line), loc, ref)
			if !h.Time.Equal(tc.time) {
				t.Errorf("ParseSyslog(%q).Time = %v, want %v", tc.line, h.Time, tc.time)
			}
			if h.Zoned != tc.zoned {
				t.Errorf("ParseSyslog(%q).Zoned = %v, want %v", tc.line, h.Zoned, tc.zoned)
			}
			if string(h.Host) != tc.host || string(h.Program) != tc.program || string(h.Msg) != tc.msg {
				t.Errorf("ParseSyslog(%q) = host %q program %q msg %q, want %q %q %q",
					tc.line, h.Host, h.Program, h.Msg, tc.host, tc.program, tc.msg)
			}
		})
	}
}

// TestParseSyslogNeverFuture checks the year choice: a year-less stamp is
// never more than the slack after the reference time.
func TestParseSyslogNeverFuture(t *testing.T) {
	for _, ref := range []time.Time{
		time.Date(2024, 1, 1, 0, 0, 30, 0, time.UTC),
		time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC),
	} {
		for _, line := range []string{"Jan  1 00:00:00 h k: m", "Jun 16 12:00:00 h k: m", "Dec 31 23:59:59 h k: m"} {
			h := ParseSyslog([]byte(line), time.UTC, ref)
			if h.Time.After(ref.Add(syslogSlack)) || h.Time.Before(ref.AddDate(-1, 0, -1)) {
				t.Errorf("ParseSyslog(%q, ref %v).Time = %v: outside the year before ref", line, ref, h.Time)
			}
		}
	}
}

func TestParseSyslogAllocs(t *testing.T) {
	line := []byte("<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - - 10,,,02f4")
	bsd := []byte("Dec 31 23:59:58 fw kernel: [ 203.842973] DROP: IN= OUT=eth0")
	full := []byte("Tue 2024-12-03 19:01:02 CET jira kernel: DROP: IN= OUT=eth0")
	ref := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	n := testing.AllocsPerRun(100, func() {
		ParseSyslog(line, time.UTC, ref)
		ParseSyslog(bsd, time.UTC, ref)
		ParseSyslog(full, cet, ref)
	})
	if n != 0 {
		t.Errorf("ParseSyslog allocates %v times per run, want 0", n)
	}
}

func FuzzParseSyslog(f *testing.F) {
	for _, s := range []string{
		"Dec 31 23:59:58 fw kernel: [ 203.842973] DROP: IN= OUT=eth0",
		"Tue 2024-12-03 19:01:02 CET jira kernel: DROP: IN= OUT=eth0",
		"<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - [meta a=\"b\"] 10,,,02f4",
		"<166>Aug 18 2026 18:24:29 asa-fw-01 : %ASA-6-302020: Built",
		"2024-01-02T10:00:00+0100 host kernel: IN= OUT=eth0",
		"[ 1234.567890] host kernel: IN=eth0",
	} {
		f.Add(s)
	}
	ref := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		line := []byte(s)
		h := ParseSyslog(line, time.UTC, ref)
		// Every part aliases the line, and the message is its tail.
		if len(h.Msg) > len(line) || string(line[len(line)-len(h.Msg):]) != string(h.Msg) {
			t.Fatalf("ParseSyslog(%q).Msg = %q: not a suffix of the line", s, h.Msg)
		}
		if h.Time.IsZero() && h.Zoned {
			t.Fatalf("ParseSyslog(%q): zoned without a time", s)
		}
		if !h.Zoned && !h.Time.IsZero() && h.Time.After(ref.Add(syslogSlack)) && !containsYear(s) {
			t.Fatalf("ParseSyslog(%q).Time = %v: in the future of %v", s, h.Time, ref)
		}
	})
}

// containsYear reports whether s may hold a four-digit year.
func containsYear(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			run++
			if run == 4 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
