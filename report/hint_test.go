package report

import (
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

func TestHint(t *testing.T) {
	call := func(id, host, status, reason string) rules.CallReport {
		return rules.CallReport{ID: id, Host: host, Port: 443, Required: true, Status: status, Reason: reason}
	}
	tests := []struct {
		name  string
		calls []rules.CallReport
		dests []rules.Destination
		want  string
	}{
		{"proxy", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "blocked", "proxy-denied")},
			nil, "Missing rule: the proxy must allow auth.gtmhub.com:443 (oauth-token proxy-denied); egress-audit allowlist --datacenter eu --target squid prints the rule"},
		{"firewall", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "blocked", "reset")},
			nil, "the firewall must allow HTTPS to auth.gtmhub.com:443 (oauth-token reset); egress-audit allowlist --datacenter eu --target NAME"},
		{"dns", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "blocked", "dns-nxdomain")},
			nil, "the resolver must answer for auth.gtmhub.com (oauth-token dns-nxdomain)"},
		{"tls", []rules.CallReport{call("list-okrs", "app.gtmhub.com", "blocked", "tls-interception")},
			nil, "TLS inspection must exempt app.gtmhub.com (list-okrs tls-interception)"},
		{"proxy_cannot_reach", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "blocked", "proxy-error")},
			nil, "the proxy itself cannot reach auth.gtmhub.com:443"},
		{"two_kinds", []rules.CallReport{
			call("oauth-token", "auth.gtmhub.com", "blocked", "proxy-denied"),
			call("list-okrs", "app.gtmhub.com", "blocked", "tls-interception"),
		}, nil, "the proxy must allow auth.gtmhub.com:443 (oauth-token proxy-denied); egress-audit allowlist --datacenter eu --target squid prints the rule; TLS inspection must exempt app.gtmhub.com"},
		{"not_seen", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "missing", "not-seen")},
			nil, "none found; 1 required calls were not seen at all"},
		{"other_dc", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "missing", "not-seen")},
			[]rules.Destination{{Host: "auth.us.gtmhub.com", Class: rules.ClassOtherDatacenter}},
			"none found for data center eu, but the calls went to auth.us.gtmhub.com"},
		{"all_ok", []rules.CallReport{call("oauth-token", "auth.gtmhub.com", "ok", "")},
			nil, "Missing rule: none; every expected call got through"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rules.Report{Datacenter: "eu", Vantage: "server", Calls: tc.calls, Destinations: tc.dests}
			if got := Hint(r); !strings.Contains(got, tc.want) {
				t.Errorf("Hint() = %q, want it to hold %q", got, tc.want)
			}
			if got := Hint(r); strings.Contains(got, "\n") {
				t.Errorf("Hint() = %q spans lines", got)
			}
		})
	}
}
