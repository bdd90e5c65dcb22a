package parsers

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// TestFirewallFlowNamedFromDNS checks that a firewall flow known only by
// address is named from DNS evidence given beside it, and that the report
// marks a name as uncertain when the address had several.
func TestFirewallFlowNamedFromDNS(t *testing.T) {
	fwLog := "Dec  3 19:01:02 jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.5 PROTO=TCP SPT=50000 DPT=443 SYN\n" +
		"Dec  3 19:01:05 jira kernel: egress DROP: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.9 PROTO=TCP SPT=50001 DPT=443 SYN\n"
	ref := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	obs, st := readAll(t, netfilter, fwLog, ref)
	if st.Records != 2 {
		t.Fatalf("stats = %+v, want 2 records", st)
	}
	at := time.Date(2026, 12, 3, 19, 1, 0, 0, time.UTC)
	lookup := func(name string, addr string) *capture.Observation {
		return &capture.Observation{
			Kind: capture.Lookup, Host: name, HostSource: capture.SourceDNS, Outcome: capture.OutcomeOK,
			Answers: []netip.Addr{netip.MustParseAddr(addr)}, TTL: 300 * time.Second, Time: at,
			Input: "dns.log", Locator: capture.Line(1),
		}
	}
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{Datacenter: "eu"})
	cl.Add(lookup("auth.gtmhub.com", "203.0.113.5"))
	cl.Add(lookup("cdn-a.example.net", "203.0.113.9"))
	cl.Add(lookup("cdn-b.example.net", "203.0.113.9"))
	for i := range obs {
		cl.Add(&obs[i])
	}
	rep := cl.Report(nil)

	var auth *rules.CallReport
	for i := range rep.Calls {
		if rep.Calls[i].Host == "auth.gtmhub.com" && rep.Calls[i].Status != rules.StatusNotExpected {
			auth = &rep.Calls[i]
			break
		}
	}
	if auth == nil || auth.Status != rules.StatusBlocked || auth.Reason != string(capture.FirewallDeny) {
		t.Fatalf("auth.gtmhub.com call = %+v, want blocked by firewall-deny", auth)
	}
	found := map[string]rules.Destination{}
	for _, d := range rep.Destinations {
		found[d.Host] = d
	}
	d, ok := found["auth.gtmhub.com"]
	if !ok || d.HostSource != string(capture.SourceDNS) || d.Uncertain != "" {
		t.Errorf("auth.gtmhub.com destination = %+v, want named from dns with certainty", d)
	}
	d, ok = found["cdn-a.example.net"]
	if !ok || !strings.Contains(d.Uncertain, "several names") || !strings.Contains(d.Uncertain, "cdn-b.example.net") {
		t.Errorf("cdn-a.example.net destination = %+v, want uncertain, also naming cdn-b", d)
	}
}

// TestFirewallFlowNamedOutsideWindow checks that a firewall flow named from
// a DNS answer given long before it is marked uncertain for that reason,
// and that the table says so in a few words.
func TestFirewallFlowNamedOutsideWindow(t *testing.T) {
	fwLog := "Dec  3 21:30:00 jira kernel: egress ACCEPT: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.7 PROTO=TCP SPT=50000 DPT=443 SYN\n" +
		"Dec  3 19:03:00 jira kernel: egress ACCEPT: IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.8 PROTO=TCP SPT=50001 DPT=443 SYN\n"
	dnsLog := "Dec  3 19:01:00 dnsmasq[811]: query[A] late.example.net from 192.0.2.10\n" +
		"Dec  3 19:01:00 dnsmasq[811]: reply late.example.net is 203.0.113.7\n" +
		"Dec  3 19:01:00 dnsmasq[811]: query[A] soon.example.net from 192.0.2.10\n" +
		"Dec  3 19:01:00 dnsmasq[811]: reply soon.example.net is 203.0.113.8\n"
	ref := time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)
	cl := rules.NewClassifier(rules.DefaultCatalog(), rules.Options{Datacenter: "eu"})
	opts := &Options{Ref: ref}
	for _, in := range []struct {
		name, text string
		f          *Format
	}{{"dnsmasq.log", dnsLog, dnsmasq}, {"fw.log", fwLog, netfilter}} {
		res, err := Read(strings.NewReader(in.text), in.name, in.f, opts, func(o *capture.Observation) { cl.Add(o) })
		if err != nil || res.Stats.Records == 0 {
			t.Fatalf("Read(%s) = %+v, %v; want records", in.name, res.Stats, err)
		}
	}
	rep := cl.Report(nil)
	found := map[string]rules.Destination{}
	for _, d := range rep.Destinations {
		found[d.Host] = d
	}
	late, ok := found["late.example.net"]
	if !ok || late.HostSource != string(capture.SourceDNS) || !strings.Contains(late.Uncertain, "outside the flow's time window") {
		t.Errorf("late.example.net destination = %+v, want named from dns, uncertain: outside the time window", late)
	}
	soon, ok := found["soon.example.net"]
	if !ok || soon.Uncertain != "" {
		t.Errorf("soon.example.net destination = %+v, want named from dns with certainty", soon)
	}
	var buf bytes.Buffer
	if err := (report.TableOptions{Width: 200}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "dns? (outside time window)") {
		t.Errorf("table does not say why late.example.net is uncertain:\n%s", buf.String())
	}
}
