package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// CheckSchema names the JSON form of a [Check]. Fields are only ever added
// to it, never renamed or given another meaning.
const CheckSchema = "egress-audit/check-rules/v1"

// Verdicts of a policy on a call.
const (
	VerdictAllowed = "allowed"
	VerdictDenied  = "denied"
	// StatusNotExpected (a call of the other side) is used as a verdict too.
)

// ObservedNot is the observed status of a call the report compared with
// judged at another host than the check.
const ObservedNot = "not observed"

// Check is what a policy would do with every catalog call, without any
// traffic, and where that disagrees with what a report observed.
type Check struct {
	Schema     string         `json:"schema"`
	Policy     string         `json:"policy"`
	Format     string         `json:"format"`
	Datacenter string         `json:"datacenter"`
	Vantage    string         `json:"vantage"`
	Catalog    CatalogRef     `json:"catalog"`
	Report     string         `json:"report,omitempty"` // the report compared with, if any
	Calls      []CallCheck    `json:"calls"`
	Summary    map[string]int `json:"summary"` // calls by verdict
	// Disagreements counts the calls whose prediction the report contradicts.
	Disagreements int      `json:"disagreements"`
	Notes         []string `json:"notes,omitempty"`
}

// CallCheck is the policy's verdict on one catalog call.
type CallCheck struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Side     string `json:"side"`
	Required bool   `json:"required"`
	Request  string `json:"request"` // as the proxy or firewall sees it
	Verdict  string `json:"verdict"` // allowed, denied or not-expected
	// Rule quotes the deciding rule, or is default-deny or default-allow.
	Rule      string `json:"rule"`
	Source    string `json:"source,omitempty"` // file:line of the rule
	Why       string `json:"why,omitempty"`
	Uncertain string `json:"uncertain,omitempty"`
	// Observed is the call's status in the report compared with, or
	// ObservedNot when the report judged the call at another host (a
	// report of another data center); Disagreement says how it
	// contradicts the verdict.
	Observed       string `json:"observed,omitempty"`
	ObservedReason string `json:"observed_reason,omitempty"`
	Disagreement   string `json:"disagreement,omitempty"`
}

// CheckOptions shape a check.
type CheckOptions struct {
	Datacenter string // a data center id; "" or "auto" means the catalog's first
	Vantage    string // server, browser or all ("" means server)
	// Clients are the requesting hosts, addresses or ranges, for source
	// conditions; may be empty. With several, a call is allowed only if it
	// is allowed for every one of them.
	Clients []netip.Prefix
	// Proxy makes an HTTPS call a CONNECT request, as an explicit proxy
	// sees it. It is set for squid configurations.
	Proxy bool
	// Addrs maps a host name to the addresses it was seen to resolve to,
	// for rules on the destination address ([ReportAddrs] reads them from a
	// report). A host without addresses leaves such rules undecided.
	Addrs map[string][]netip.Addr
}

// ReportAddrs returns the addresses r saw each destination host at, sorted
// and without repeats. Addresses a report lists that do not parse are left
// out.
func ReportAddrs(r *Report) map[string][]netip.Addr {
	out := make(map[string][]netip.Addr)
	for _, d := range r.Destinations {
		host := strings.TrimSuffix(strings.ToLower(d.Host), ".")
		if _, err := netip.ParseAddr(host); err == nil || host == "" {
			continue
		}
		for _, s := range d.IPs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			a = a.Unmap()
			if !slices.Contains(out[host], a) {
				out[host] = append(out[host], a)
			}
		}
	}
	for _, as := range out {
		slices.SortFunc(as, netip.Addr.Compare)
	}
	return out
}

// CheckPolicy asks policy about every call of the catalog for the data
// center and vantage. Calls of the other side are listed as not expected.
// path names the policy in the result.
func CheckPolicy(cat *Catalog, p Policy, path string, opts CheckOptions) *Check {
	if opts.Vantage == "" {
		opts.Vantage = VantageServer
	}
	dc, ok := cat.Datacenter(opts.Datacenter)
	if !ok {
		dc = cat.Datacenters[0]
	}
	c := &Check{
		Schema:     CheckSchema,
		Policy:     path,
		Format:     p.Format(),
		Datacenter: dc.ID,
		Vantage:    opts.Vantage,
		Catalog:    CatalogRef{Name: cat.Name, Version: cat.Version},
		Calls:      []CallCheck{},
		Summary:    map[string]int{},
	}
	if n, ok := p.(PolicyNoter); ok {
		c.Notes = append(c.Notes, n.Notes()...)
	}
	for i := range cat.Calls {
		call := &cat.Calls[i]
		req := PolicyRequest{
			Scheme: call.Scheme,
			Method: call.Method,
			Host:   cat.Host(call, dc),
			Port:   call.Port,
			Path:   call.Path,
		}
		req.Addrs = opts.Addrs[req.Host]
		if req.Scheme == "" {
			req.Scheme = "https"
		}
		if opts.Proxy && req.Scheme == "https" {
			inner := req
			req.Method, req.Path, req.Inner = "CONNECT", "", &inner
		}
		cc := CallCheck{
			ID:       call.ID,
			Title:    call.Title,
			Host:     req.Host,
			Port:     call.Port,
			Side:     call.Side,
			Required: call.Required,
			Request:  req.String(),
		}
		if opts.Vantage != VantageAll && opts.Vantage != call.Side {
			cc.Verdict = StatusNotExpected
			cc.Why = fmt.Sprintf("made by the %s, not expected from the %s vantage", call.Side, opts.Vantage)
		} else {
			d := decideForClients(p, req, opts.Clients)
			cc.Verdict = VerdictDenied
			if d.Allowed {
				cc.Verdict = VerdictAllowed
			}
			cc.Rule, cc.Source, cc.Why, cc.Uncertain = d.Rule, d.Source, d.Why, d.Uncertain
		}
		c.Summary[cc.Verdict]++
		c.Calls = append(c.Calls, cc)
	}
	return c
}

// decideForClients asks p about req from each client. The call is allowed
// only if every client is let through: the decision is the first denying
// one, named with its client when others are allowed; what any of them
// assumed is kept.
func decideForClients(p Policy, req PolicyRequest, clients []netip.Prefix) PolicyDecision {
	if len(clients) == 0 {
		return p.Decide(req)
	}
	var d PolicyDecision
	var uncertain, allowedFor []string
	denied := false
	for i, c := range clients {
		req.Client, req.ClientRange = netip.Addr{}, c
		if c.IsSingleIP() {
			req.Client, req.ClientRange = c.Addr(), netip.Prefix{}
		}
		di := p.Decide(req)
		if di.Uncertain != "" {
			if len(clients) > 1 {
				di.Uncertain = fmt.Sprintf("client %s: %s", clientString(c), di.Uncertain)
			}
			uncertain = append(uncertain, di.Uncertain)
		}
		switch {
		case di.Allowed:
			allowedFor = append(allowedFor, clientString(c))
			if i == 0 {
				d = di
			}
		case !denied:
			denied = true
			d = di
			if len(clients) > 1 {
				d.Why = joinAssumed(fmt.Sprintf("denied for client %s", clientString(c)), d.Why)
			}
		}
	}
	if denied && len(allowedFor) > 0 {
		d.Why = joinAssumed(d.Why, "allowed for "+strings.Join(allowedFor, ", "))
	}
	d.Uncertain = strings.Join(dedupe(uncertain), "; ")
	return d
}

// clientString formats a client: an address alone, a range as a CIDR.
func clientString(c netip.Prefix) string {
	if c.IsSingleIP() {
		return c.Addr().String()
	}
	return c.String()
}

// Compare sets the observed status of every call from r and says where it
// contradicts the prediction. A call allowed by the rules but blocked in
// the traffic was stopped by something else on the path; a call denied by
// the rules but seen to get through did not pass this policy's device, or
// the policy is not the one in force.
func (c *Check) Compare(r *Report, name string) {
	c.Report = name
	if r.Datacenter != c.Datacenter {
		c.Notes = append(c.Notes, fmt.Sprintf("the report is of data center %s, the check of %s", r.Datacenter, c.Datacenter))
	}
	byID := make(map[string]*CallReport, len(r.Calls))
	for i := range r.Calls {
		byID[r.Calls[i].ID] = &r.Calls[i]
	}
	c.Disagreements = 0
	for i := range c.Calls {
		cc := &c.Calls[i]
		cr := byID[cc.ID]
		if cr == nil || cc.Verdict == StatusNotExpected {
			continue
		}
		// A report of another data center (or catalog) judged the call at
		// another host, which says nothing about this one. A report that
		// names no host is taken to be of this one.
		if cr.Host != "" && !strings.EqualFold(strings.TrimSuffix(cr.Host, "."), cc.Host) {
			cc.Observed = ObservedNot
			cc.ObservedReason = fmt.Sprintf("report of data center %s", r.Datacenter)
			if r.Datacenter == c.Datacenter {
				cc.ObservedReason = fmt.Sprintf("the report judged it at %s", cr.Host)
			}
			continue
		}
		cc.Observed, cc.ObservedReason = cr.Status, cr.Reason
		switch {
		case cc.Verdict == VerdictAllowed && cr.Status == StatusBlocked && c.Format == PolicySquid && cr.Reason == "proxy-denied":
			cc.Disagreement = "allowed by these rules but denied by the proxy in the traffic: the proxy runs other rules (not reloaded since the change, or another proxy on the path)"
		case cc.Verdict == VerdictAllowed && cr.Status == StatusBlocked && cr.Reason == "proxy-auth-required":
			cc.Disagreement = "allowed by these rules but the proxy asked for authentication in the traffic: give the server proxy credentials, or exempt it from authentication"
		case cc.Verdict == VerdictAllowed && cr.Status == StatusBlocked:
			cc.Disagreement = fmt.Sprintf("allowed by the rules but blocked (%s) in the traffic: another device on the path (a firewall, a resolver, TLS inspection) stops it, or these rules are not the ones in force", cr.Reason)
		case cc.Verdict == VerdictDenied && cr.Status == StatusOK:
			cc.Disagreement = "denied by the rules but seen to get through: the traffic did not pass this device, or these rules are not the ones in force"
		}
		if cc.Disagreement != "" {
			c.Disagreements++
		}
	}
}
