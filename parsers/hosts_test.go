package parsers

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

func TestReadHosts(t *testing.T) {
	// Debian's default hosts file, a pinned SaaS host with an alias and a
	// comment, and Windows' layout with CRLF endings.
	in := "127.0.0.1\tlocalhost\n" +
		"127.0.1.1\tjira.example.com\tjira\n" +
		"\n" +
		"# The following lines are desirable for IPv6 capable hosts\n" +
		"::1     localhost ip6-localhost ip6-loopback\n" +
		"ff02::1 ip6-allnodes\n" +
		"203.0.113.10  Auth.Gtmhub.com.  auth   # pinned by the plugin's install guide\n" +
		"  2001:db8:3::11 app.gtmhub.com\r\n" +
		"fe80::1%eth0 router.lan\n" +
		"::ffff:203.0.113.20 auth.us.gtmhub.com\n" +
		"#\t102.54.94.97     rhino.acme.com          # source server\r\n" +
		"203.0.113.99\n" +
		"203.0.113.300 bad.example\n" +
		"203.0.113.61 telemetry.example.net bad<name\n" +
		"203.0.113.62 198.51.100.1\n" +
		"198.51.100.7 last.example.com" // no newline at the end
	entries, st, err := ReadHosts(strings.NewReader(in), "hosts")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Addr.String()+" "+strings.Join(e.Names, ","))
	}
	want := []string{
		"127.0.0.1 localhost",
		"127.0.1.1 jira.example.com,jira",
		"::1 localhost,ip6-localhost,ip6-loopback",
		"ff02::1 ip6-allnodes",
		"203.0.113.10 auth.gtmhub.com,auth",
		"2001:db8:3::11 app.gtmhub.com",
		"fe80::1 router.lan",
		"203.0.113.20 auth.us.gtmhub.com",
		"198.51.100.7 last.example.com",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Records != int64(len(want)) || st.Skipped[string(SkipHostsComment)] != 2 || st.Skipped[string(SkipBlank)] != 1 || st.Failed != 4 {
		t.Errorf("records %d, skipped %v, failed %d; want %d, 2 comments and 1 blank, 4 failed", st.Records, st.Skipped, st.Failed, len(want))
	}
	wantProblems := []string{
		`hosts:12: hosts: address 203.0.113.99 without a name`,
		`hosts:13: hosts: "203.0.113.300" is not an address`,
		`hosts:14: hosts: name "bad<name": not a host name`,
		`hosts:15: hosts: name "198.51.100.1": not a host name`,
	}
	for i, p := range st.Problems {
		if i >= len(wantProblems) || p.Err != wantProblems[i] {
			t.Errorf("problem %d = %q, want %q", i, p.Err, wantProblems[i:min(i+1, len(wantProblems))])
		}
	}
}

// TestReadHostsBounds checks that a line past the length limit fails
// without stopping the reading.
func TestReadHostsBounds(t *testing.T) {
	in := "203.0.113.10 a.example\n203.0.113.11 " + strings.Repeat("b", MaxLineLength+10) + "\n203.0.113.12 c.example\n"
	entries, st, err := ReadHosts(strings.NewReader(in), "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Addr != netip.MustParseAddr("203.0.113.12") || st.Failed != 1 ||
		len(st.Problems) != 1 || st.Problems[0].Locator != capture.Line(2) || !strings.Contains(st.Problems[0].Err, "exceeds the limit") {
		t.Errorf("entries %v, failed %d, problems %v; want 2 entries and line 2 failed for its length", entries, st.Failed, st.Problems)
	}
}

func FuzzReadHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1 localhost\n203.0.113.10 Auth.Gtmhub.com. auth # pinned\n"))
	f.Add([]byte("::1 localhost ip6-localhost\r\nfe80::1%eth0 router\r\n# c\r\n\r\n"))
	f.Add([]byte("203.0.113.99\n1.2.3 x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, st, err := ReadHosts(bytes.NewReader(b), "fuzz")
		if err != nil {
			t.Fatalf("error %v from a reader that never fails", err)
		}
		lines := int64(bytes.Count(b, []byte("\n")))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			lines++
		}
		if got := st.Records + st.SkippedTotal() + st.Failed; got != lines {
			t.Errorf("records %d + skipped %d + failed %d = %d, want every one of %d lines",
				st.Records, st.SkippedTotal(), st.Failed, got, lines)
		}
		if int64(len(entries)) != st.Records {
			t.Errorf("%d entries, %d records", len(entries), st.Records)
		}
		for _, e := range entries {
			if !e.Addr.IsValid() || e.Addr.Zone() != "" || e.Addr.Is4In6() || len(e.Names) == 0 {
				t.Errorf("entry %v: want an address without zone or mapping, and names", e)
			}
			for _, n := range e.Names {
				if !validHost([]byte(n)) || n != strings.ToLower(n) || strings.HasSuffix(n, ".") {
					t.Errorf("entry %v: name %q", e, n)
				}
			}
		}
	})
}
