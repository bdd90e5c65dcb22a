package report

import (
	"fmt"
	"strings"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// Hint returns one line saying which rule is missing, for the end of a
// report: the hosts of the blocked calls, grouped by what has to change
// (the proxy, the firewall, DNS, TLS inspection), and the allowlist
// command that prints the rule. With nothing blocked it says so, and why
// that may not be the whole story.
func Hint(r *rules.Report) string {
	type group struct {
		hosts []string
		calls []string
	}
	groups := map[string]*group{}
	var order []string
	for _, c := range r.Calls {
		if c.Status != rules.StatusBlocked {
			continue
		}
		kind := fixKind(capture.Reason(c.Reason))
		g := groups[kind]
		if g == nil {
			g = &group{}
			groups[kind] = g
			order = append(order, kind)
		}
		hp := hostPortRaw(c.Host, c.Port)
		if kind == fixDNS || kind == fixTLS {
			hp = c.Host
		}
		if !contains(g.hosts, hp) {
			g.hosts = append(g.hosts, hp)
		}
		g.calls = append(g.calls, c.ID+" "+c.Reason)
	}
	cmd := "egress-audit allowlist --datacenter " + r.Datacenter
	if r.Vantage != "" && r.Vantage != rules.VantageServer {
		cmd += " --vantage " + r.Vantage
	}
	if len(order) > 0 {
		var parts []string
		for _, kind := range order {
			g := groups[kind]
			hosts := strings.Join(g.hosts, " and ")
			switch kind {
			case fixProxy:
				parts = append(parts, fmt.Sprintf("the proxy must allow %s (%s); %s --target squid prints the rule", hosts, strings.Join(g.calls, ", "), cmd))
			case fixProxyReach:
				parts = append(parts, fmt.Sprintf("the proxy itself cannot reach %s (%s): check its egress and DNS", hosts, strings.Join(g.calls, ", ")))
			case fixDNS:
				parts = append(parts, fmt.Sprintf("the resolver must answer for %s (%s)", hosts, strings.Join(g.calls, ", ")))
			case fixTLS:
				parts = append(parts, fmt.Sprintf("TLS inspection must exempt %s (%s)", hosts, strings.Join(g.calls, ", ")))
			default:
				parts = append(parts, fmt.Sprintf("the firewall must allow HTTPS to %s (%s); %s --target NAME prints the rule", hosts, strings.Join(g.calls, ", "), cmd))
			}
		}
		return "Missing rule: " + strings.Join(parts, "; ")
	}

	missing := 0
	for _, c := range r.Calls {
		if c.Required && c.Status == rules.StatusMissing {
			missing++
		}
	}
	var other []string
	for _, d := range r.Destinations {
		if d.Class == rules.ClassOtherDatacenter {
			other = append(other, d.Host)
		}
	}
	switch {
	case len(other) > 0:
		return fmt.Sprintf("Missing rule: none found for data center %s, but the calls went to %s: audit again with the account's --datacenter", r.Datacenter, strings.Join(other, ", "))
	case missing > 0:
		return fmt.Sprintf("Missing rule: none found; %d required calls were not seen at all, so the inputs may not cover them", missing)
	}
	if n := r.Summary.Unexpected; n > 0 {
		return fmt.Sprintf("Missing rule: none; every expected call got through, and %d unexpected destinations were seen", n)
	}
	return "Missing rule: none; every expected call got through"
}

// What has to change for a blocking reason.
const (
	fixFirewall   = "firewall"
	fixProxy      = "proxy"
	fixProxyReach = "proxy-reach"
	fixDNS        = "dns"
	fixTLS        = "tls"
)

func fixKind(r capture.Reason) string {
	switch r {
	case capture.ProxyDenied, capture.ProxyAuthRequired:
		return fixProxy
	case capture.ProxyError:
		return fixProxyReach
	case capture.DNSNXDomain, capture.DNSServFail, capture.DNSRefused, capture.DNSTimeout:
		return fixDNS
	case capture.TLSInterception, capture.TLSAlert:
		return fixTLS
	}
	return fixFirewall
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
