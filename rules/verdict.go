package rules

import (
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/egress-audit/egress-audit/capture"
)

// Report resolves the names of unnamed flows, settles the data center and
// judges every call and destination. inputs are copied into the report.
func (c *Classifier) Report(inputs []InputReport) *Report {
	r := &Report{
		Schema:  ReportSchema,
		Vantage: c.opts.Vantage,
		Catalog: CatalogRef{Name: c.cat.Name, Version: c.cat.Version},
		Inputs:  inputs,
		Summary: Summary{Calls: map[string]int{}, Destinations: map[string]int{}, DestinationStatuses: map[string]int{}},
	}
	if r.Inputs == nil {
		r.Inputs = []InputReport{}
	}
	dests, dcSeen := c.resolve()
	dc := c.datacenter(r, dcSeen)
	r.Datacenter = dc.ID

	// Catalog hosts of the chosen data center, and of the others.
	ours := make(map[string]bool)
	theirs := make(map[string]string)
	for i := range c.cat.Calls {
		ours[c.cat.Host(&c.cat.Calls[i], dc)] = true
	}
	for _, d := range c.cat.Datacenters {
		for i := range c.cat.Calls {
			if h := c.cat.Host(&c.cat.Calls[i], d); !ours[h] {
				theirs[h] = d.ID
			}
		}
	}

	byHost := make(map[string][]*aggregate)
	for _, a := range dests {
		if a.host != "" {
			byHost[a.host] = append(byHost[a.host], a)
		}
	}
	r.Calls = c.judgeCalls(dc, byHost)
	for _, cr := range r.Calls {
		r.Summary.Calls[cr.Status]++
	}

	var (
		nResolvers int
		resolvers  []string // the first few, in the order of dests
	)
	for _, a := range dests {
		d := Destination{
			Host:       a.host,
			IPs:        []string{},
			Port:       int(a.port),
			HostSource: string(a.source),
			Flows:      a.all.flows,
			Blocked:    a.all.blocked,
			FirstSeen:  a.first.UTC(),
			LastSeen:   a.last.UTC(),
			Evidence:   a.all.evidence(),
		}
		if a.first.IsZero() {
			d.FirstSeen, d.LastSeen = a.first, a.last
		}
		addrs := append([]netip.Addr(nil), a.addrs...)
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for _, x := range addrs {
			d.IPs = append(d.IPs, x.String())
		}
		if d.Host == "" && len(d.IPs) > 0 {
			d.Host = d.IPs[0]
		}
		d.Uncertain = a.uncertain
		switch {
		case ours[a.host] || (a.host != "" && theirs[a.host] == "" && c.cat.IsVendorHost(a.host)):
			d.Class = ClassCatalog
		case theirs[a.host] != "":
			d.Class = ClassOtherDatacenter
		case c.known(a.host, a.addrs):
			d.Class = ClassKnown
		case resolverPort(a.port):
			// A capture reads DNS as naming evidence and lists no
			// destination for it, but a firewall log shows the same
			// queries as flows to port 53: both must agree that the
			// resolver in use is no stranger.
			d.Class = ClassKnown
			if nResolvers++; len(resolvers) < maxResolversNamed {
				resolvers = append(resolvers, hostPortString(d.Host, d.Port))
			}
		default:
			d.Class = ClassUnexpected
		}
		d.Status, d.Reason = destStatus(&a.all)
		r.Destinations = append(r.Destinations, d)
		r.Summary.Destinations[d.Class]++
		r.Summary.DestinationStatuses[d.Status]++
	}
	sort.Slice(r.Destinations, func(i, j int) bool {
		a, b := r.Destinations[i], r.Destinations[j]
		if ca, cb := classRank(a.Class), classRank(b.Class); ca != cb {
			return ca < cb
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Port < b.Port
	})
	if r.Destinations == nil {
		r.Destinations = []Destination{}
	}
	r.Summary.Unexpected = r.Summary.Destinations[ClassUnexpected]

	if nResolvers > 0 {
		r.Notes = append(r.Notes, resolverNote(nResolvers, resolvers))
	}
	if c.outsideClients > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d observations from clients outside the audited ranges were left out", c.outsideClients))
	}
	if c.overflow > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d observations of further destinations were counted but not kept: more than %d destinations", c.overflow, MaxDestinations))
	}
	if c.names.Dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d DNS answers were not kept: the name table is full", c.names.Dropped))
	}
	for _, in := range inputs {
		if in.Evicted > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %d flows were judged before their end: the flow table was full", in.Path, in.Evicted))
		}
		if in.Unreassembled > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %d TCP flows were not reassembled whole: too many flows were open at once; they are named from DNS where possible", in.Path, in.Unreassembled))
		}
		if in.OutOfOrder > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %d packets out of time order (captures merged unsorted, or a clock stepped back); flows are judged in file order", in.Path, in.OutOfOrder))
		}
	}
	r.NextSteps = nextSteps(r)
	return r
}

// resolve names the unnamed flows from DNS evidence and merges them into
// the named destinations. It returns every destination, named or not, and
// the data centers seen counting the flows it named. It changes nothing in
// c, so that a report can be made again after more observations.
func (c *Classifier) resolve() ([]*aggregate, map[string]int64) {
	dcSeen := make(map[string]int64, len(c.dcSeen))
	for dc, n := range c.dcSeen {
		dcSeen[dc] = n
	}
	out := make([]*aggregate, 0, len(c.named)+len(c.unnamed))
	merged := make(map[destKey]*aggregate, len(c.named))
	for k, a := range c.named {
		merged[k] = a
	}
	for k, a := range c.unnamed {
		res, ok := c.names.Lookup(k.addr, a.first)
		if !ok && a.outer != "" {
			res = capture.Resolution{Name: a.outer, Uncertain: "encrypted client hello: only the outer (public) name is known"}
			ok = true
		}
		if !ok {
			out = append(out, a)
			continue
		}
		named := a.clone()
		named.host = res.Name
		named.source = capture.SourceDNS
		named.uncertain = res.Uncertain
		if res.Uncertain != "" && len(res.Others) > 0 {
			named.uncertain += ": also " + strings.Join(res.Others, ", ")
		}
		switch {
		case a.outer == res.Name && res.Uncertain != "":
			named.source = a.source
		case a.outer != "" && named.uncertain == "" && c.echNames[res.Name]:
			named.uncertain = "encrypted client hello: " + res.Name + " publishes ECH in DNS, so the outer name " + a.outer + " hides it; named from DNS"
		case a.outer != "" && named.uncertain == "":
			named.uncertain = "encrypted client hello with the outer name " + a.outer + "; named from DNS"
		}
		for _, dc := range c.hosts[res.Name] {
			dcSeen[dc] += a.all.flows
		}
		nk := destKey{host: res.Name, port: k.port}
		if m := merged[nk]; m != nil {
			if m == c.named[nk] {
				m = m.clone()
				merged[nk] = m
			}
			m.merge(named)
			continue
		}
		merged[nk] = named
	}
	for _, a := range merged {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.host != b.host {
			return a.host < b.host
		}
		if a.port != b.port {
			return a.port < b.port
		}
		return len(a.addrs) > 0 && len(b.addrs) > 0 && a.addrs[0].Less(b.addrs[0])
	})
	return out, dcSeen
}

// datacenter returns the configured data center, or the one whose hosts
// were seen most, noting in r what it inferred.
func (c *Classifier) datacenter(r *Report, dcSeen map[string]int64) Datacenter {
	if c.opts.Datacenter != DatacenterAuto {
		d, _ := c.cat.Datacenter(c.opts.Datacenter)
		var others []string
		for _, o := range c.cat.Datacenters {
			if o.ID != d.ID && dcSeen[o.ID] > 0 && dcSeen[d.ID] == 0 {
				others = append(others, o.ID)
			}
		}
		if len(others) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("the configured data center is %s, but the calls went to %s: check the account's data center", d.ID, strings.Join(others, ", ")))
		}
		return d
	}
	best := c.cat.Datacenters[0]
	var seen []string
	for _, d := range c.cat.Datacenters {
		if dcSeen[d.ID] > 0 {
			seen = append(seen, d.ID)
		}
		if dcSeen[d.ID] > dcSeen[best.ID] {
			best = d
		}
	}
	switch {
	case len(seen) == 0:
		r.Notes = append(r.Notes, fmt.Sprintf("no data center's hosts were seen; assuming %s (set --datacenter)", best.ID))
	case len(seen) > 1:
		r.Notes = append(r.Notes, fmt.Sprintf("hosts of several data centers were seen (%s); judging against %s, the most used (set --datacenter)", strings.Join(seen, ", "), best.ID))
	}
	return best
}

func (c *Classifier) expected(call *Call) bool {
	return c.opts.Vantage == VantageAll || c.opts.Vantage == call.Side
}

// judgeCalls gives every catalog call its status, in catalog order.
func (c *Classifier) judgeCalls(dc Datacenter, byHost map[string][]*aggregate) []CallReport {
	out := make([]CallReport, len(c.cat.Calls))
	index := make(map[string]int, len(c.cat.Calls))
	for i := range c.cat.Calls {
		call := &c.cat.Calls[i]
		index[call.ID] = i
		host := c.cat.Host(call, dc)
		cr := CallReport{
			ID:       call.ID,
			Title:    call.Title,
			Host:     host,
			Port:     call.Port,
			Side:     call.Side,
			Required: call.Required,
			Evidence: []Evidence{},
		}
		c.judgeCall(&cr, call, byHost[host], c.lookups[destKey{host: host}])
		out[i] = cr
	}
	// Dependencies: a call that was not seen because one it needs was
	// blocked is not a failure of its own. Catalog order is not dependency
	// order, so settle them depth first; cause[i] is the blocked call that
	// explains call i.
	cause := make([]int, len(out))
	for i := range cause {
		cause[i] = -2 // unsettled
	}
	var settle func(i int) int
	settle = func(i int) int {
		if cause[i] != -2 {
			return cause[i]
		}
		cause[i] = -1
		switch out[i].Status {
		case StatusBlocked:
			cause[i] = i
			return i
		case StatusOK:
			return -1
		}
		for _, dep := range c.cat.Calls[i].DependsOn {
			j := index[dep]
			if !c.expected(&c.cat.Calls[j]) {
				continue
			}
			if k := settle(j); k >= 0 {
				cause[i] = k
				cr, root := &out[i], &out[k]
				cr.Reason = string(capture.ReasonDependencyBlocked)
				cr.Detail = fmt.Sprintf("%s was blocked (%s), and this call comes after it", root.ID, root.Reason)
				if j != k {
					cr.Detail += " (through " + dep + ")"
				}
				return k
			}
		}
		return -1
	}
	for i := range out {
		settle(i)
	}
	for i := range out {
		if !c.expected(&c.cat.Calls[i]) {
			cr := &out[i]
			seen := cr.Status
			cr.Status = StatusNotExpected
			cr.Reason = ""
			cr.Detail = fmt.Sprintf("made by the %s, not expected from the %s vantage", cr.Side, c.opts.Vantage)
			if seen != StatusMissing {
				cr.Detail += fmt.Sprintf("; seen as %s", seen)
			}
		}
	}
	return out
}

// judgeCall settles one call from the flows to its host and the lookups of
// its name. A request with a method and path counts for the call only if
// they match; a flow known only by host name (an SNI, a CONNECT) counts for
// every call on that host.
func (c *Classifier) judgeCall(cr *CallReport, call *Call, aggs []*aggregate, lookup *aggregate) {
	var t tally
	cr.Level = "host"
	for _, a := range aggs {
		if int(a.port) != call.Port && a.port != 0 {
			continue
		}
		for _, u := range a.urls {
			cr.Level = "url"
			if call.Method != "" && u.method != "" && u.method != call.Method {
				continue
			}
			if MatchPath(call.Path, u.path) {
				t.addN(u.n, u.outcome, u.reason, madeEvidence(u.ev, u.cause))
			}
		}
		t.merge(&a.bare)
	}
	switch {
	case t.ok > 0:
		cr.Status = StatusOK
		cr.Evidence = appendEvidence(cr.Evidence, t.okEvidence...)
		if t.blocked > 0 {
			cr.Detail = fmt.Sprintf("%s: %s before one got through", t.reason(), attempts(&t))
			cr.Evidence = appendEvidence(cr.Evidence, t.blockedEvidence...)
		}
	case t.blocked > 0:
		cr.Status = StatusBlocked
		cr.Reason = string(t.reason())
		cr.Evidence = appendEvidence(cr.Evidence, t.blockedEvidence...)
		cr.Detail = attempts(&t)
	case lookup != nil && lookup.all.blocked > 0:
		cr.Status = StatusBlocked
		cr.Reason = string(lookup.all.reason())
		cr.Evidence = appendEvidence(cr.Evidence, lookup.all.blockedEvidence...)
		cr.Detail = "the name never resolved, so no connection was tried"
	default:
		cr.Status = StatusMissing
		cr.Reason = string(capture.ReasonNotSeen)
		cr.Evidence = appendEvidence(cr.Evidence, t.otherEvidence...)
		switch {
		case t.flows > 0:
			cr.Detail = "flows were seen but the evidence does not show their outcome"
		case cr.Level == "url":
			cr.Detail = fmt.Sprintf("requests to %s were seen, none to %s %s", cr.Host, call.Method, call.Path)
		case lookup != nil && lookup.all.ok > 0:
			cr.Detail = "the name was resolved but no connection to it was seen"
			cr.Evidence = appendEvidence(cr.Evidence, lookup.all.evidence()...)
		case lookup != nil:
			// A query log without answers (BIND's queries category, an
			// unbound question) shows the question only.
			cr.Detail = "the name was looked up (its answer is not in the inputs) but no connection to it was seen"
			cr.Evidence = appendEvidence(cr.Evidence, lookup.all.evidence()...)
		default:
			cr.Detail = "no evidence of this call in the inputs"
		}
	}
}

// attempts says how many attempts were blocked and what the first one of
// the main reason showed: "SYN sent 3 times, never answered (1 attempt,
// blocked)".
func attempts(t *tally) string {
	var n string
	switch {
	case t.blocked == 1 && t.flows == 1:
		n = "1 attempt, blocked"
	case t.blocked == t.flows:
		n = fmt.Sprintf("%d attempts, all blocked", t.flows)
	default:
		n = fmt.Sprintf("%d of %d attempts blocked", t.blocked, t.flows)
	}
	if c := t.cause[t.reason()]; c != "" {
		return c + " (" + n + ")"
	}
	return n
}

func destStatus(t *tally) (status, reason string) {
	switch {
	case t.blocked > 0 && t.ok == 0:
		return DestBlocked, string(t.reason())
	case t.blocked > 0:
		return DestMixed, string(t.reason())
	case t.ok > 0:
		return DestAllowed, ""
	}
	return DestUnknown, ""
}

func classRank(class string) int {
	switch class {
	case ClassCatalog:
		return 0
	case ClassOtherDatacenter:
		return 1
	case ClassUnexpected:
		return 2
	}
	return 3
}

// resolverPort reports whether port serves DNS (RFC 1035, Section 4.2) or
// DNS over TLS (RFC 7858, Section 3.1).
func resolverPort(port uint16) bool { return port == 53 || port == 853 }

// maxResolversNamed bounds the resolvers a note names; the count stays
// exact.
const maxResolversNamed = 4

// resolverNote says that n destinations were counted as resolvers, naming
// the first of them.
func resolverNote(n int, named []string) string {
	list := strings.Join(named, ", ")
	if more := n - len(named); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	what := "destination reached on a DNS port (53, 853) is counted as a resolver, class known"
	if n > 1 {
		what = "destinations reached on a DNS port (53, 853) are counted as resolvers, class known"
	}
	return fmt.Sprintf("%d %s: %s", n, what, list)
}

// hostPortString joins a destination's host and port, with an IPv6
// address in brackets.
func hostPortString(host string, port int) string {
	if port == 0 {
		return host
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// known reports whether the user accepts host (or, for an unnamed flow, one
// of its addresses) as an expected destination.
func (c *Classifier) known(host string, addrs []netip.Addr) bool {
	for _, k := range c.opts.Known {
		k = strings.ToLower(k)
		if host != "" {
			if ok, _ := path.Match(k, host); ok {
				return true
			}
			if strings.HasPrefix(k, "*.") && host == k[2:] {
				continue
			}
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(k); err == nil && p.Contains(a) {
				return true
			}
			if a.String() == k {
				return true
			}
		}
	}
	return false
}

// nextSteps says, for each finding, what to change.
func nextSteps(r *Report) []string {
	var steps []string
	seen := make(map[string]bool)
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			steps = append(steps, s)
		}
	}
	for _, cr := range r.Calls {
		if cr.Status != StatusBlocked {
			continue
		}
		target := fmt.Sprintf("%s:%d", cr.Host, cr.Port)
		switch capture.Reason(cr.Reason) {
		case capture.ProxyDenied:
			add(fmt.Sprintf("allow %s in the proxy (squid: acl saas dstdomain %s, then http_access allow saas)", target, cr.Host))
		case capture.ProxyAuthRequired:
			add(fmt.Sprintf("let the server reach %s through the proxy without authentication, or give it proxy credentials", target))
		case capture.ProxyError:
			add(fmt.Sprintf("the proxy could not reach %s: check its own egress and DNS", target))
		case capture.DNSNXDomain, capture.DNSServFail, capture.DNSRefused, capture.DNSTimeout:
			add(fmt.Sprintf("make the resolver answer for %s (it gave %s): check DNS filtering and forwarding", cr.Host, cr.Reason))
		case capture.TLSInterception:
			add(fmt.Sprintf("exempt %s from TLS inspection, or make the server trust the inspecting CA", cr.Host))
		case capture.TLSAlert:
			add(fmt.Sprintf("the TLS handshake with %s failed: check for TLS inspection and the server's trust store", cr.Host))
		default:
			add(fmt.Sprintf("allow HTTPS from the audited host to %s in the firewall (it gave %s)", target, cr.Reason))
		}
	}
	for _, d := range r.Destinations {
		if d.Class == ClassOtherDatacenter {
			add(fmt.Sprintf("%s belongs to another data center than %s: check the account's data center (--datacenter)", d.Host, r.Datacenter))
		}
	}
	return steps
}
