package capture

import (
	"net/netip"
	"testing"
	"time"
)

// A binding learned without a DNS answer names its address at any time,
// says how it was learned, and becomes certain once an answer confirms it.
func TestNameTableLearned(t *testing.T) {
	const how = "resolved by watch at start"
	addr := netip.MustParseAddr("203.0.113.10")
	other := netip.MustParseAddr("203.0.113.11")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		fill      func(*NameTable)
		addr      netip.Addr
		wantOK    bool
		wantName  string
		uncertain string
	}{
		{"learned", func(nt *NameTable) { nt.AddLearned("auth.gtmhub.com", addr, how) },
			addr, true, "auth.gtmhub.com", how},
		{"learned_other_address", func(nt *NameTable) { nt.AddLearned("auth.gtmhub.com", addr, how) },
			other, false, "", ""},
		{"confirmed_by_answer", func(nt *NameTable) {
			nt.AddLearned("auth.gtmhub.com", addr, how)
			nt.Add("auth.gtmhub.com", addr, at.Add(-time.Hour), time.Minute)
		}, addr, true, "auth.gtmhub.com", ""},
		{"answer_first", func(nt *NameTable) {
			nt.Add("auth.gtmhub.com", addr, at, time.Minute)
			nt.AddLearned("auth.gtmhub.com", addr, how)
		}, addr, true, "auth.gtmhub.com", ""},
		{"shared_with_answer", func(nt *NameTable) {
			nt.AddLearned("auth.gtmhub.com", addr, how)
			nt.Add("app.gtmhub.com", addr, at, time.Minute)
		}, addr, true, "app.gtmhub.com", "address shared by several names"},
		{"merged", func(nt *NameTable) {
			o := NewNameTable()
			o.AddLearned("auth.gtmhub.com", addr, how)
			nt.Merge(o)
		}, addr, true, "auth.gtmhub.com", how},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nt := NewNameTable()
			tc.fill(nt)
			r, ok := nt.Lookup(tc.addr, at)
			if ok != tc.wantOK || r.Name != tc.wantName || r.Uncertain != tc.uncertain {
				t.Errorf("Lookup(%s) = %q, %q, %v, want %q, %q, %v", tc.addr, r.Name, r.Uncertain, ok, tc.wantName, tc.uncertain, tc.wantOK)
			}
		})
	}
	nt := NewNameTable()
	nt.AddLearned("auth.gtmhub.com", addr, how)
	nt.AddLearned("auth.gtmhub.com", addr, how)
	if nt.Len() != 1 {
		t.Errorf("Len() = %d after learning one binding twice, want 1", nt.Len())
	}
}
