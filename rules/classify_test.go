package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

var (
	jira     = netip.MustParseAddrPort("192.0.2.10:40000")
	laptop   = netip.MustParseAddrPort("192.0.2.77:50000")
	resolver = netip.MustParseAddrPort("192.0.2.53:53")
	authIP   = netip.MustParseAddr("203.0.113.10")
	appIP    = netip.MustParseAddr("203.0.113.20")
	t0       = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

// obs is a shorthand for building observations in scenarios.
type obs struct {
	sec     int
	kind    capture.Kind
	client  netip.AddrPort
	server  string
	host    string
	source  capture.HostSource
	method  string
	path    string
	outcome capture.Outcome
	reason  capture.Reason
	detail  string
	answers []string
	ech     bool
}

func (o obs) observation(n int) *capture.Observation {
	c := &capture.Observation{
		Time:       t0.Add(time.Duration(o.sec) * time.Second),
		Input:      "scenario.log",
		Locator:    capture.Line(int64(n + 1)),
		Kind:       o.kind,
		Client:     o.client,
		Transport:  capture.TCP,
		Host:       o.host,
		HostSource: o.source,
		Method:     o.method,
		Path:       o.path,
		Outcome:    o.outcome,
		Reason:     o.reason,
		Detail:     o.detail,
		TTL:        time.Minute,
		ECH:        o.ech,
	}
	if !c.Client.IsValid() {
		c.Client = jira
	}
	if o.server != "" {
		c.Server = netip.MustParseAddrPort(o.server)
	} else {
		c.Server = netip.AddrPortFrom(netip.Addr{}, 443) // a proxy log names no address
	}
	for _, a := range o.answers {
		c.Answers = append(c.Answers, netip.MustParseAddr(a))
	}
	if o.kind == capture.Lookup {
		c.Transport = capture.UDP
		c.Server = resolver
	}
	return c
}

func connect(host string, outcome capture.Outcome, reason capture.Reason, detail string) obs {
	return obs{host: host, source: capture.SourceConnect, method: "CONNECT", outcome: outcome, reason: reason, detail: detail}
}

func sni(host, server string, outcome capture.Outcome, reason capture.Reason) obs {
	return obs{host: host, server: server, source: capture.SourceSNI, outcome: outcome, reason: reason}
}

func url(method, host, path string, outcome capture.Outcome, reason capture.Reason) obs {
	return obs{host: host, source: capture.SourceURL, method: method, path: path, outcome: outcome, reason: reason}
}

var (
	ok      = capture.OutcomeOK
	blocked = capture.OutcomeBlocked
	unknown = capture.OutcomeUnknown
)

// scenarios are whole audits: their reports are compared with golden files,
// and the statuses that matter are asserted here as well, so that a wrong
// golden file cannot hide a wrong verdict.
var scenarios = []struct {
	name  string
	opts  Options
	obs   []obs
	calls map[string]string // call id -> "status reason"
	dests map[string]string // destination host -> "class status"
	notes []string          // substrings of the notes
}{
	{
		name: "all_ok_connect",
		obs: []obs{
			connect("auth.gtmhub.com", ok, "", "TCP_TUNNEL/200"),
			connect("app.gtmhub.com", ok, "", "TCP_TUNNEL/200"),
		},
		calls: map[string]string{"oauth-authorize": "not-expected ", "oauth-token": "ok ", "list-sessions": "ok ", "create-task": "ok "},
		dests: map[string]string{"auth.gtmhub.com": "catalog allowed", "app.gtmhub.com": "catalog allowed"},
	},
	{
		name: "token_proxy_denied",
		obs: []obs{
			connect("auth.gtmhub.com", blocked, capture.ProxyDenied, "TCP_DENIED/403"),
			connect("auth.gtmhub.com", blocked, capture.ProxyDenied, "TCP_DENIED/403"),
		},
		calls: map[string]string{
			"oauth-token":   "blocked proxy-denied",
			"list-sessions": "missing dependency-blocked",
			"list-okrs":     "missing dependency-blocked",
			"create-task":   "missing dependency-blocked",
			"search":        "missing dependency-blocked",
		},
		dests: map[string]string{"auth.gtmhub.com": "catalog blocked"},
	},
	{
		name: "token_proxy_auth_required",
		obs: []obs{
			connect("auth.gtmhub.com", blocked, capture.ProxyAuthRequired, "TCP_DENIED/407"),
		},
		calls: map[string]string{"oauth-token": "blocked proxy-auth-required", "list-sessions": "missing dependency-blocked"},
	},
	{
		name: "token_proxy_error",
		obs: []obs{
			connect("auth.gtmhub.com", blocked, capture.ProxyError, "NONE_NONE/503"),
		},
		calls: map[string]string{"oauth-token": "blocked proxy-error"},
	},
	{
		name: "url_level_token_ok_tasks_denied",
		opts: Options{Vantage: VantageAll},
		obs: []obs{
			url("GET", "auth.gtmhub.com", "/authorize?client_id=jira&state=REDACTED", ok, ""),
			url("POST", "auth.gtmhub.com", "/oauth/token", ok, ""),
			url("GET", "app.gtmhub.com", "/api/v2/sessions", ok, ""),
			url("GET", "app.gtmhub.com", "/api/v1/goals?sessionId=5", ok, ""),
			url("POST", "app.gtmhub.com", "/api/v1/tasks", blocked, capture.ProxyDenied),
		},
		calls: map[string]string{
			"oauth-authorize": "ok ",
			"oauth-token":     "ok ",
			"list-sessions":   "ok ",
			"list-okrs":       "ok ",
			"search":          "missing not-seen",
			"create-task":     "blocked proxy-denied",
		},
		dests: map[string]string{"app.gtmhub.com": "catalog mixed"},
	},
	{
		name: "syn_unanswered_named_by_dns",
		obs: []obs{
			{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: ok, answers: []string{"203.0.113.10"}},
			{sec: 1, server: "203.0.113.10:443", outcome: blocked, reason: capture.NoResponse, detail: "SYN sent 3 times"},
		},
		calls: map[string]string{"oauth-token": "blocked no-response", "list-okrs": "missing dependency-blocked"},
		dests: map[string]string{"auth.gtmhub.com": "catalog blocked"},
	},
	{
		name: "dns_nxdomain",
		obs: []obs{
			{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: blocked, reason: capture.DNSNXDomain},
		},
		calls: map[string]string{"oauth-token": "blocked dns-nxdomain", "list-sessions": "missing dependency-blocked"},
	},
	{
		name: "other_datacenter",
		opts: Options{Datacenter: "us"},
		obs: []obs{
			sni("auth.gtmhub.com", "203.0.113.10:443", ok, ""),
			sni("app.gtmhub.com", "203.0.113.20:443", ok, ""),
		},
		calls: map[string]string{"oauth-token": "missing not-seen", "list-sessions": "missing not-seen"},
		dests: map[string]string{"auth.gtmhub.com": "other-datacenter allowed", "app.gtmhub.com": "other-datacenter allowed"},
		notes: []string{"configured data center is us, but the calls went to eu"},
	},
	{
		name: "auto_datacenter_us",
		obs: []obs{
			sni("auth.us.gtmhub.com", "198.51.100.10:443", ok, ""),
			sni("app.us.gtmhub.com", "198.51.100.20:443", ok, ""),
			sni("acme.us.quantive.com", "198.51.100.30:443", ok, ""),
		},
		calls: map[string]string{"oauth-token": "ok ", "create-task": "ok "},
		dests: map[string]string{"acme.us.quantive.com": "catalog allowed"},
	},
	{
		name: "unexpected_and_known",
		opts: Options{Known: []string{"*.atlassian.com"}},
		obs: []obs{
			sni("auth.gtmhub.com", "203.0.113.10:443", ok, ""),
			sni("app.gtmhub.com", "203.0.113.20:443", ok, ""),
			sni("marketplace.atlassian.com", "198.51.100.80:443", ok, ""),
			sni("telemetry.example.net", "198.51.100.90:443", ok, ""),
			{server: "198.51.100.99:8443", outcome: blocked, reason: capture.Reset},
		},
		dests: map[string]string{
			"marketplace.atlassian.com": "known allowed",
			"telemetry.example.net":     "unexpected allowed",
			"198.51.100.99":             "unexpected blocked",
		},
	},
	{
		name: "client_filter",
		opts: Options{Clients: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")}},
		obs: []obs{
			connect("auth.gtmhub.com", blocked, capture.ProxyDenied, "TCP_DENIED/403"),
			{client: laptop, host: "auth.gtmhub.com", source: capture.SourceConnect, method: "CONNECT", outcome: ok},
		},
		calls: map[string]string{"oauth-token": "blocked proxy-denied"},
		notes: []string{"1 observations from clients outside"},
	},
	{
		name: "retry_got_through",
		obs: []obs{
			sni("auth.gtmhub.com", "203.0.113.10:443", blocked, capture.Reset),
			sni("auth.gtmhub.com", "203.0.113.10:443", ok, ""),
		},
		calls: map[string]string{"oauth-token": "ok "},
		dests: map[string]string{"auth.gtmhub.com": "catalog mixed"},
	},
	{
		name: "ech_named_by_dns",
		obs: []obs{
			{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: ok, answers: []string{"203.0.113.10"}},
			{sec: 1, host: "public.example.net", server: "203.0.113.10:443", source: capture.SourceSNI, outcome: ok, ech: true},
			{sec: 2, host: "app.gtmhub.com", server: "203.0.113.20:443", source: capture.SourceSNI, outcome: ok},
		},
		calls: map[string]string{"oauth-token": "ok ", "list-sessions": "ok "},
		dests: map[string]string{"auth.gtmhub.com": "catalog allowed"},
	},
	{
		name: "ech_published_in_dns",
		obs: []obs{
			{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: ok, answers: []string{"203.0.113.10"}, ech: true},
			{sec: 1, host: "public.example.net", server: "203.0.113.10:443", source: capture.SourceSNI, outcome: ok, ech: true},
		},
		calls: map[string]string{"oauth-token": "ok "},
		dests: map[string]string{"auth.gtmhub.com": "catalog allowed"},
	},
	{
		name: "ech_outer_name_only",
		obs: []obs{
			{host: "public.example.net", server: "203.0.113.77:443", source: capture.SourceSNI, outcome: ok, ech: true},
		},
		dests: map[string]string{"public.example.net": "unexpected allowed"},
	},
	{
		name: "ambiguous_address",
		obs: []obs{
			{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: ok, answers: []string{"203.0.113.10"}},
			{kind: capture.Lookup, host: "cdn.example.net", source: capture.SourceDNS, outcome: ok, answers: []string{"203.0.113.10"}},
			{sec: 2, server: "203.0.113.10:443", outcome: unknown},
		},
		calls: map[string]string{"oauth-token": "missing not-seen"},
	},
}

func TestClassifierScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			cl := NewClassifier(DefaultCatalog(), sc.opts)
			for i, o := range sc.obs {
				cl.Add(o.observation(i))
			}
			r := cl.Report([]InputReport{{Path: "scenario.log", Format: "test", Records: int64(len(sc.obs))}})
			calls := make(map[string]string)
			for _, c := range r.Calls {
				calls[c.ID] = c.Status + " " + c.Reason
			}
			for id, want := range sc.calls {
				if calls[id] != want {
					t.Errorf("call %s = %q, want %q", id, calls[id], want)
				}
			}
			dests := make(map[string]string)
			for _, d := range r.Destinations {
				dests[d.Host] = d.Class + " " + d.Status
			}
			for h, want := range sc.dests {
				if dests[h] != want {
					t.Errorf("destination %s = %q, want %q", h, dests[h], want)
				}
			}
			// The summary counts every destination once by status, as the
			// destinations themselves say.
			byStatus := make(map[string]int)
			for _, d := range r.Destinations {
				byStatus[d.Status]++
			}
			if !maps.Equal(r.Summary.DestinationStatuses, byStatus) {
				t.Errorf("summary destination_statuses = %v, want %v", r.Summary.DestinationStatuses, byStatus)
			}
			notes := strings.Join(r.Notes, "\n")
			for _, n := range sc.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes %q lack %q", notes, n)
				}
			}
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "report_"+sc.name+".json", append(b, '\n'))
		})
	}
}

func TestECHNames(t *testing.T) {
	for _, tc := range []struct {
		scenario, host, uncertain string
	}{
		{"ech_named_by_dns", "auth.gtmhub.com", "outer name public.example.net; named from DNS"},
		{"ech_outer_name_only", "public.example.net", "only the outer (public) name is known"},
		{"ech_published_in_dns", "auth.gtmhub.com", "publishes ECH in DNS, so the outer name public.example.net hides it"},
	} {
		cl := NewClassifier(DefaultCatalog(), Options{})
		for _, sc := range scenarios {
			if sc.name == tc.scenario {
				for i, o := range sc.obs {
					cl.Add(o.observation(i))
				}
			}
		}
		found := false
		for _, d := range cl.Report(nil).Destinations {
			if d.Host == tc.host {
				found = true
				if !strings.Contains(d.Uncertain, tc.uncertain) {
					t.Errorf("%s: %s uncertain = %q, want %q", tc.scenario, d.Host, d.Uncertain, tc.uncertain)
				}
			}
			if d.Host == "public.example.net" && tc.host != d.Host {
				t.Errorf("%s: the outer name is a destination of its own", tc.scenario)
			}
		}
		if !found {
			t.Errorf("%s: no destination %s", tc.scenario, tc.host)
		}
	}
}

func TestAmbiguousNameIsMarked(t *testing.T) {
	cl := NewClassifier(DefaultCatalog(), Options{})
	for i, o := range scenarios[len(scenarios)-1].obs {
		cl.Add(o.observation(i))
	}
	r := cl.Report(nil)
	for _, d := range r.Destinations {
		if d.IPs[0] == "203.0.113.10" {
			if d.Uncertain == "" || !strings.Contains(d.Uncertain, "several names") {
				t.Errorf("destination %s uncertain = %q, want a note on the shared address", d.Host, d.Uncertain)
			}
			return
		}
	}
	t.Fatal("no destination for 203.0.113.10")
}

func TestValidateOptions(t *testing.T) {
	cat := DefaultCatalog()
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Datacenter: "mars"}, `datacenter "mars": want one of auto, eu, us, as, sa`},
		{Options{Vantage: "desktop"}, `vantage "desktop": want one of server, browser, all`},
		{Options{Known: []string{"[x"}}, `known "[x": not a host pattern`},
		{Options{Datacenter: "us", Vantage: "all", Known: []string{"*.atlassian.com"}}, ""},
	}
	for _, tc := range tests {
		err := ValidateOptions(cat, tc.opts)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidateOptions(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
}

// A firewall log shows DNS queries as flows to port 53, where a capture
// reads them as naming evidence: such flows, and DNS over TLS, are counted
// as resolvers, whichever input they came from.
func TestResolverPorts(t *testing.T) {
	cl := NewClassifier(DefaultCatalog(), Options{})
	for i, o := range []obs{
		{server: "198.51.100.53:53", outcome: ok},
		{server: "198.51.100.53:53", outcome: ok},
		{server: "[2001:db8:2::53]:53", outcome: ok},
		{host: "dns.example.net", server: "203.0.113.53:853", source: capture.SourceSNI, outcome: ok},
		{server: "198.51.100.9:53", outcome: blocked, reason: capture.FirewallDeny},
		// The same resolver reached on another port is a stranger there.
		{server: "198.51.100.53:443", outcome: ok},
		{server: "203.0.113.99:8853", outcome: ok},
	} {
		cl.Add(o.observation(i))
	}
	r := cl.Report(nil)
	type dest struct {
		host  string
		port  int
		class string
	}
	var got []dest
	for _, d := range r.Destinations {
		got = append(got, dest{d.Host, d.Port, d.Class})
	}
	want := []dest{
		{"198.51.100.53", 443, ClassUnexpected},
		{"203.0.113.99", 8853, ClassUnexpected},
		{"198.51.100.53", 53, ClassKnown},
		{"198.51.100.9", 53, ClassKnown},
		{"2001:db8:2::53", 53, ClassKnown},
		{"dns.example.net", 853, ClassKnown},
	}
	if len(got) != len(want) {
		t.Fatalf("destinations = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("destination %d = %v, want %v", i, got[i], want[i])
		}
	}
	if r.Summary.Unexpected != 2 {
		t.Errorf("summary unexpected = %d, want 2", r.Summary.Unexpected)
	}
	note := "4 destinations reached on a DNS port (53, 853) are counted as resolvers, class known: 198.51.100.9:53, 198.51.100.53:53, [2001:db8:2::53]:53, dns.example.net:853"
	if !slices.Contains(r.Notes, note) {
		t.Errorf("notes = %q, want %q", r.Notes, note)
	}
}

// Past a few resolvers, the note counts the rest.
func TestResolverNoteBounded(t *testing.T) {
	cl := NewClassifier(DefaultCatalog(), Options{})
	for i := range 6 {
		cl.Add(obs{server: fmt.Sprintf("198.51.100.%d:53", 10+i), outcome: ok}.observation(i))
	}
	want := "6 destinations reached on a DNS port (53, 853) are counted as resolvers, class known: 198.51.100.10:53, 198.51.100.11:53, 198.51.100.12:53, 198.51.100.13:53 and 2 more"
	if r := cl.Report(nil); !slices.Contains(r.Notes, want) || r.Summary.Destinations[ClassKnown] != 6 {
		t.Errorf("notes = %q, known = %d; want %q and 6", r.Notes, r.Summary.Destinations[ClassKnown], want)
	}
}

func TestResolverNote(t *testing.T) {
	tests := []struct {
		n     int
		named []string
		want  string
	}{
		{1, []string{"[2001:db8:2::53]:53"}, "1 destination reached on a DNS port (53, 853) is counted as a resolver, class known: [2001:db8:2::53]:53"},
		{6, []string{"a:53", "b:53", "c:53", "d:53"},
			"6 destinations reached on a DNS port (53, 853) are counted as resolvers, class known: a:53, b:53, c:53, d:53 and 2 more"},
	}
	for _, tc := range tests {
		if got := resolverNote(tc.n, tc.named); got != tc.want {
			t.Errorf("resolverNote(%d, %q) = %q, want %q", tc.n, tc.named, got, tc.want)
		}
	}
}

// TestMissingAfterLookup checks that a call whose name was only looked up
// says whether the inputs hold the answer: a query log without answers
// shows the question, not a resolution.
func TestMissingAfterLookup(t *testing.T) {
	for _, tc := range []struct {
		outcome capture.Outcome
		want    string
	}{
		{ok, "the name was resolved but no connection to it was seen"},
		{unknown, "the name was looked up (its answer is not in the inputs) but no connection to it was seen"},
	} {
		c := NewClassifier(DefaultCatalog(), Options{})
		o := obs{kind: capture.Lookup, host: "auth.gtmhub.com", source: capture.SourceDNS, outcome: tc.outcome}
		if tc.outcome == ok {
			o.answers = []string{"203.0.113.10"}
		}
		c.Add(o.observation(0))
		for _, cr := range c.Report(nil).Calls {
			if cr.ID != "oauth-token" {
				continue
			}
			if cr.Status != StatusMissing || cr.Detail != tc.want || len(cr.Evidence) != 1 {
				t.Errorf("lookup %s: oauth-token %s %q with %d evidence, want missing %q with the lookup",
					tc.outcome, cr.Status, cr.Detail, len(cr.Evidence), tc.want)
			}
		}
	}
}
