package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

var diffT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// diffObs builds one observation of a request from the audited server.
func diffObs(line int, host string, port uint16, method, path string, out capture.Outcome, reason capture.Reason) capture.Observation {
	o := capture.Observation{
		Kind:       capture.Connection,
		Client:     netip.MustParseAddrPort("192.0.2.10:40000"),
		Server:     netip.AddrPortFrom(netip.MustParseAddr("203.0.113.5"), port),
		Transport:  capture.TCP,
		Host:       host,
		HostSource: capture.SourceURL,
		Method:     method,
		Path:       path,
		Outcome:    out,
		Reason:     reason,
		Time:       diffT0.Add(time.Duration(line) * time.Second),
		Input:      "hand-made.log",
		Locator:    capture.Line(int64(line)),
	}
	if method == "" {
		o.HostSource = capture.SourceSNI
	}
	return o
}

// diffAudit classifies observations as the audit command does, for the EU data
// center and the server vantage.
func diffAudit(t *testing.T, obs ...capture.Observation) *rules.Report {
	t.Helper()
	return diffAuditWith(t, rules.Options{Datacenter: "eu"}, obs...)
}

// diffAuditWith is [diffAudit] with other options.
func diffAuditWith(t *testing.T, opts rules.Options, obs ...capture.Observation) *rules.Report {
	t.Helper()
	cl := rules.NewClassifier(rules.DefaultCatalog(), opts)
	for i := range obs {
		cl.Add(&obs[i])
	}
	return cl.Report([]rules.InputReport{{Path: "hand-made.log", Format: "hand-made", Records: int64(len(obs))}})
}

const (
	diffOK      = capture.OutcomeOK
	diffBlocked = capture.OutcomeBlocked
)

// transitions is a pair of reports in which every call and destination
// change occurs once:
//
//	oauth-token   blocked (proxy-denied) -> ok                    fixed
//	list-sessions ok -> blocked (reset)                           regressed
//	list-okrs     blocked (reset) -> blocked (proxy-denied)       still-blocked, reasons differ
//	create-task   missing (dependency-blocked) on both sides      still-blocked, same reason
//	search        ok -> ok                                        unchanged
//	oauth-authorize  browser call, not expected from the server   unchanged
//	evil.example.net:443    new, unexpected, allowed              new (new-unexpected)
//	tracker.example.org:443 new, unexpected, blocked              new
//	cdn.example.com:443     unexpected blocked -> allowed          changed (new-unexpected)
//	crl.example.net:80      unexpected allowed -> gone             gone
func transitions(t *testing.T) (before, after *rules.Report) {
	before = diffAudit(t,
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffBlocked, capture.ProxyDenied),
		diffObs(2, "app.gtmhub.com", 443, "GET", "/api/v1/sessions", diffOK, ""),
		diffObs(3, "app.gtmhub.com", 443, "GET", "/api/v1/goals", diffBlocked, capture.Reset),
		diffObs(4, "app.gtmhub.com", 443, "GET", "/api/v1/search?q=x", diffOK, ""),
		diffObs(5, "cdn.example.com", 443, "", "", diffBlocked, capture.Reset),
		diffObs(6, "crl.example.net", 80, "GET", "/ca.crl", diffOK, ""),
	)
	after = diffAudit(t,
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffOK, ""),
		diffObs(2, "app.gtmhub.com", 443, "GET", "/api/v1/sessions", diffBlocked, capture.Reset),
		diffObs(3, "app.gtmhub.com", 443, "GET", "/api/v1/goals", diffBlocked, capture.ProxyDenied),
		diffObs(4, "app.gtmhub.com", 443, "GET", "/api/v1/search?q=x", diffOK, ""),
		diffObs(5, "cdn.example.com", 443, "", "", diffOK, ""),
		diffObs(6, "evil.example.net", 443, "", "", diffOK, ""),
		diffObs(7, "tracker.example.org", 443, "", "", diffBlocked, capture.Reset),
	)
	return before, after
}

func TestCompareTransitions(t *testing.T) {
	before, after := transitions(t)
	d := Compare(before, after)

	wantCalls := map[string]string{
		"oauth-authorize": ChangeUnchanged,
		"oauth-token":     ChangeFixed,
		"list-sessions":   ChangeRegressed,
		"list-okrs":       ChangeStillBlocked,
		"search":          ChangeUnchanged,
		"create-task":     ChangeStillBlocked,
	}
	if len(d.Calls) != len(wantCalls) {
		t.Fatalf("Compare: %d calls, want %d", len(d.Calls), len(wantCalls))
	}
	for _, c := range d.Calls {
		if c.Change != wantCalls[c.ID] {
			t.Errorf("call %s: change %q, want %q (before %+v, after %+v)", c.ID, c.Change, wantCalls[c.ID], c.Before, c.After)
		}
	}
	for _, c := range d.Calls {
		if c.ID == "list-okrs" && c.Detail != "was blocked (reset), now blocked (proxy-denied)" {
			t.Errorf("list-okrs detail = %q, want both reasons", c.Detail)
		}
	}

	wantDests := map[string]string{
		"evil.example.net:443":    ChangeNew + " " + FindingNewUnexpected,
		"tracker.example.org:443": ChangeNew + " ",
		"cdn.example.com:443":     ChangeChanged + " " + FindingNewUnexpected,
		"crl.example.net:80":      ChangeGone + " ",
		"auth.gtmhub.com:443":     ChangeChanged + " ",
		"app.gtmhub.com:443":      ChangeUnchanged + " ", // mixed on both sides
	}
	for _, c := range d.Destinations {
		k := hostPort(c.Host, c.Port)
		got := c.Change + " " + c.Finding
		if want, ok := wantDests[k]; !ok || got != want {
			t.Errorf("destination %s: %q, want %q", k, got, want)
		}
		delete(wantDests, k)
	}
	if len(wantDests) > 0 {
		t.Errorf("destinations not in the diff: %v", wantDests)
	}

	s := d.Summary
	if s.RegressedRequired != 1 || s.NewUnexpected != 2 || s.StillBlockedRequired != 2 {
		t.Errorf("summary = %+v, want 1 regressed required, 2 new unexpected, 2 still blocked required", s)
	}
	if len(d.Warnings) != 0 {
		t.Errorf("warnings = %q, want none for reports of one catalog and data center", d.Warnings)
	}
}

// missingTransitions is a pair of reports in which calls appear and
// disappear rather than get blocked, and the after catalog lacks a call:
//
//	oauth-token   ok -> ok                                  unchanged
//	list-sessions ok -> missing (not-seen)                  regressed
//	list-okrs     ok -> not in the after catalog            not-compared
//	search        ok -> missing (not-seen), optional        regressed
//	create-task   missing (not-seen) -> ok                  fixed
//	oauth-authorize  browser call, not expected from the server   unchanged
func missingTransitions(t *testing.T) (before, after *rules.Report) {
	before = diffAudit(t,
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffOK, ""),
		diffObs(2, "app.gtmhub.com", 443, "GET", "/api/v1/sessions", diffOK, ""),
		diffObs(3, "app.gtmhub.com", 443, "GET", "/api/v1/goals", diffOK, ""),
		diffObs(4, "app.gtmhub.com", 443, "GET", "/api/v1/search?q=x", diffOK, ""),
	)
	after = diffAudit(t,
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffOK, ""),
		diffObs(3, "app.gtmhub.com", 443, "GET", "/api/v1/goals", diffOK, ""),
		diffObs(5, "app.gtmhub.com", 443, "POST", "/api/v1/tasks", diffOK, ""),
	)
	// A newer catalog that dropped list-okrs.
	after.Catalog.Version = "2026.12.2"
	after.Calls = slices.DeleteFunc(after.Calls, func(c rules.CallReport) bool { return c.ID == "list-okrs" })
	return before, after
}

// statusTransitions is a pair of reports in which calls stay blocked while
// their status changes, and a destination changes by its class alone (the
// after audit knows it):
//
//	oauth-token   ok -> ok                                        unchanged
//	list-sessions blocked (reset) -> ok                           fixed
//	list-okrs     missing (dependency-blocked) -> missing (not-seen)  still-blocked
//	search        blocked (proxy-denied) -> missing (not-seen)    still-blocked, optional
//	create-task   missing (dependency-blocked) -> blocked (proxy-denied)  still-blocked
//	oauth-authorize  browser call, not expected from the server   unchanged
//	cdn.example.com:443  unexpected -> known, allowed on both     changed
func statusTransitions(t *testing.T) (before, after *rules.Report) {
	before = diffAudit(t,
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffOK, ""),
		diffObs(2, "app.gtmhub.com", 443, "GET", "/api/v1/sessions", diffBlocked, capture.Reset),
		diffObs(3, "app.gtmhub.com", 443, "GET", "/api/v1/search?q=x", diffBlocked, capture.ProxyDenied),
		diffObs(4, "cdn.example.com", 443, "", "", diffOK, ""),
	)
	after = diffAuditWith(t, rules.Options{Datacenter: "eu", Known: []string{"cdn.example.com"}},
		diffObs(1, "auth.gtmhub.com", 443, "POST", "/oauth/token", diffOK, ""),
		diffObs(2, "app.gtmhub.com", 443, "GET", "/api/v1/sessions", diffOK, ""),
		diffObs(4, "cdn.example.com", 443, "", "", diffOK, ""),
		diffObs(5, "app.gtmhub.com", 443, "POST", "/api/v1/tasks", diffBlocked, capture.ProxyDenied),
	)
	return before, after
}

func TestCompareStatusTransitions(t *testing.T) {
	before, after := statusTransitions(t)
	d := Compare(before, after)
	state := func(s *CallState) string {
		if s == nil {
			return "-"
		}
		return s.Status + "(" + s.Reason + ")"
	}
	want := map[string]string{
		"oauth-authorize": ChangeUnchanged + " not-expected() not-expected()",
		"oauth-token":     ChangeUnchanged + " ok() ok()",
		"list-sessions":   ChangeFixed + " blocked(reset) ok()",
		"list-okrs":       ChangeStillBlocked + " missing(dependency-blocked) missing(not-seen)",
		"search":          ChangeStillBlocked + " blocked(proxy-denied) missing(not-seen)",
		"create-task":     ChangeStillBlocked + " missing(dependency-blocked) blocked(proxy-denied)",
	}
	if len(d.Calls) != len(want) {
		t.Fatalf("Compare: %d calls, want %d", len(d.Calls), len(want))
	}
	for _, c := range d.Calls {
		if got := c.Change + " " + state(c.Before) + " " + state(c.After); got != want[c.ID] {
			t.Errorf("call %s: %q, want %q", c.ID, got, want[c.ID])
		}
	}
	var cdn *DestChange
	for i := range d.Destinations {
		if d.Destinations[i].Host == "cdn.example.com" {
			cdn = &d.Destinations[i]
		}
	}
	if cdn == nil || cdn.Change != ChangeChanged || cdn.Finding != "" {
		t.Fatalf("cdn.example.com = %+v, want changed, no finding", cdn)
	}
	if cdn.Before == nil || cdn.After == nil || cdn.Before.Class != rules.ClassUnexpected || cdn.After.Class != rules.ClassKnown || cdn.Before.Status != cdn.After.Status {
		t.Errorf("cdn.example.com: %+v -> %+v, want unexpected -> known with one status", cdn.Before, cdn.After)
	}
	if s := d.Summary; s.StillBlockedRequired != 2 || s.RegressedRequired != 0 || s.NewUnexpected != 0 {
		t.Errorf("summary = %+v, want 2 still blocked required, none regressed or new unexpected", s)
	}
}

func TestCompareMissingTransitions(t *testing.T) {
	before, after := missingTransitions(t)
	d := Compare(before, after)

	want := map[string]string{
		"oauth-authorize": ChangeUnchanged + " not-expected not-expected",
		"oauth-token":     ChangeUnchanged + " ok ok",
		"list-sessions":   ChangeRegressed + " ok missing",
		"list-okrs":       ChangeNotCompared + " ok -",
		"search":          ChangeRegressed + " ok missing",
		"create-task":     ChangeFixed + " missing ok",
	}
	status := func(s *CallState) string {
		if s == nil {
			return "-"
		}
		return s.Status
	}
	for _, c := range d.Calls {
		got := c.Change + " " + status(c.Before) + " " + status(c.After)
		if got != want[c.ID] {
			t.Errorf("call %s: %q, want %q", c.ID, got, want[c.ID])
		}
		delete(want, c.ID)
	}
	if len(want) > 0 {
		t.Errorf("calls not in the diff: %v", want)
	}
	if s := d.Summary; s.Regressed != 2 || s.RegressedRequired != 1 || s.StillBlockedRequired != 0 {
		t.Errorf("summary = %+v, want 2 regressed of which 1 required, none still blocked", s)
	}
	if got := verdictLine(d); got != "Verdict: 1 required call regressed; 1 optional call regressed." {
		t.Errorf("verdictLine = %q", got)
	}
}

func TestCompareWarnings(t *testing.T) {
	tests := []struct {
		name   string
		modify func(before, after *rules.Report)
		want   []string
	}{
		{"same", func(b, a *rules.Report) {}, nil},
		{"catalog_version", func(b, a *rules.Report) { b.Catalog.Version = "2026.11.0" },
			[]string{"the catalog versions differ: before 2026.11.0, after 2026.12.1; calls are matched by id"}},
		{"catalog_name", func(b, a *rules.Report) { b.Catalog.Name = "other" },
			[]string{"the catalogs differ: before other 2026.12.1, after quantive-okrs-for-jira 2026.12.1; calls are matched by id"}},
		{"datacenter", func(b, a *rules.Report) { a.Datacenter = "us" },
			[]string{"the data centers differ: before eu, after us; calls are compared by id although their hosts differ"}},
		{"vantage", func(b, a *rules.Report) { a.Vantage = "all" },
			[]string{"the vantages differ: before server, after all; calls expected on one side only are not compared"}},
		{"unreadable_input", func(b, a *rules.Report) {
			a.Inputs = append(a.Inputs, rules.InputReport{Path: "junk.txt", Error: "junk.txt: format not recognised (use --format)"})
		}, []string{"the after side's input junk.txt could not be read (format not recognised (use --format)); that side is judged without it"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, after := transitions(t)
			tc.modify(before, after)
			got := Compare(before, after).Warnings
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Compare warnings = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareNotCompared(t *testing.T) {
	before, after := transitions(t)
	after.Calls = after.Calls[:len(after.Calls)-1] // create-task only before
	after.Calls[0].Status = rules.StatusOK         // oauth-authorize: not-expected -> ok
	d := Compare(before, after)
	got := map[string]CallChange{}
	for _, c := range d.Calls {
		got[c.ID] = c
	}
	if c := got["create-task"]; c.Change != ChangeNotCompared || c.After != nil || c.Detail != "only in the before catalog" {
		t.Errorf("create-task = %+v, want not-compared, only in the before catalog", c)
	}
	if c := got["oauth-authorize"]; c.Change != ChangeNotCompared || c.Detail != "not-expected before, ok after" {
		t.Errorf("oauth-authorize = %+v, want not-compared", c)
	}
	if d.Calls[len(d.Calls)-1].ID != "create-task" {
		t.Errorf("last call = %s, want the call only the before catalog has", d.Calls[len(d.Calls)-1].ID)
	}
}

func TestDiffGolden(t *testing.T) {
	before, after := transitions(t)
	d := Compare(before, after)
	d.Before.Source = "before.json"
	d.After.Source = "after.json"

	warned := Compare(before, after)
	warned.Before.Catalog.Version = "2026.11.0"
	warned.Warnings = []string{"the catalog versions differ: before 2026.11.0, after 2026.12.1; calls are matched by id"}

	same := Compare(after, after)

	mb, ma := missingTransitions(t)
	missing := Compare(mb, ma)
	missing.Before.Source = "before.json"
	missing.After.Source = "after.json"

	sb, sa := statusTransitions(t)
	status := Compare(sb, sa)
	status.Before.Source = "before.json"
	status.After.Source = "after.json"

	tests := []struct {
		name   string
		d      *Diff
		render func(*bytes.Buffer, *Diff) error
	}{
		{"diff_transitions.txt", d, func(b *bytes.Buffer, d *Diff) error { return DiffTable(b, d) }},
		{"diff_transitions.json", d, func(b *bytes.Buffer, d *Diff) error { return DiffJSON(b, d) }},
		{"diff_transitions.md", d, func(b *bytes.Buffer, d *Diff) error { return DiffMarkdown(b, d) }},
		{"diff_transitions_missing.txt", missing, func(b *bytes.Buffer, d *Diff) error { return DiffTable(b, d) }},
		{"diff_transitions_missing.json", missing, func(b *bytes.Buffer, d *Diff) error { return DiffJSON(b, d) }},
		{"diff_transitions_missing.md", missing, func(b *bytes.Buffer, d *Diff) error { return DiffMarkdown(b, d) }},
		{"diff_transitions_status.txt", status, func(b *bytes.Buffer, d *Diff) error { return DiffTable(b, d) }},
		{"diff_transitions_status.json", status, func(b *bytes.Buffer, d *Diff) error { return DiffJSON(b, d) }},
		{"diff_transitions_status.md", status, func(b *bytes.Buffer, d *Diff) error { return DiffMarkdown(b, d) }},
		{"diff_warned.txt", warned, func(b *bytes.Buffer, d *Diff) error { return DiffTable(b, d) }},
		{"diff_same.txt", same, func(b *bytes.Buffer, d *Diff) error { return DiffTable(b, d) }},
		{"diff_same.md", same, func(b *bytes.Buffer, d *Diff) error { return DiffMarkdown(b, d) }},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, ".", "_"), func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b, tc.d); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestDiffJSONRoundTrip(t *testing.T) {
	before, after := transitions(t)
	d := Compare(before, after)
	var b bytes.Buffer
	if err := DiffJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	var back Diff
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != DiffSchema || len(back.Calls) != len(d.Calls) || back.Summary.NewUnexpected != d.Summary.NewUnexpected {
		t.Errorf("DiffJSON round trip = %+v, want %+v", back.Summary, d.Summary)
	}
}

func TestMarkdownEscapesInput(t *testing.T) {
	before, after := transitions(t)
	after.Destinations = append(after.Destinations, rules.Destination{
		Host: "a|b`<script>", Port: 443, Class: rules.ClassUnexpected, Status: rules.DestAllowed, Flows: 1,
	})
	var b bytes.Buffer
	if err := DiffMarkdown(&b, Compare(before, after)); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "script") {
			if strings.Contains(line, "<script>") || strings.Count(line, "|")-strings.Count(line, `\|`) != 5 {
				t.Errorf("markdown row not escaped: %s", line)
			}
		}
	}
}
