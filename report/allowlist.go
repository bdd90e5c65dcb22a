package report

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

// AllowTargets lists the targets [AllowList] writes, in the order help
// texts show them.
var AllowTargets = []string{"squid", "panos-edl", "fortigate", "aws-nfw", "azure-fw", "pfsense", "nftables", "plain"}

// Allow is what an allow-list lets through: host names and ports, each with
// the catalog calls that need it.
type Allow struct {
	Catalog    rules.CatalogRef
	Datacenter string
	Vantage    string
	// Source says where the entries come from: "catalog", or "report"
	// when only what an audit found blocked is let through.
	Source  string
	Entries []AllowEntry
	// Notes are said in the output's comments (where the target has them)
	// and as warnings: calls left out and why.
	Notes []string
}

// AllowEntry is one host and port to let through. A host may start with
// "*." when the catalog names a wildcard.
type AllowEntry struct {
	Host  string
	Port  int
	Calls []string // call ids, in catalog order
	// Inspected is set when a report found the host blocked by TLS
	// inspection, which needs an exemption besides the allow rule.
	Inspected bool
}

// AllowFromCatalog returns the entries that let every call of cat through
// for data center dc, as seen from vantage (server, browser or all).
func AllowFromCatalog(cat *rules.Catalog, dc rules.Datacenter, vantage string) *Allow {
	a := &Allow{
		Catalog:    rules.CatalogRef{Name: cat.Name, Version: cat.Version},
		Datacenter: dc.ID,
		Vantage:    vantage,
		Source:     "catalog",
	}
	for i := range cat.Calls {
		c := &cat.Calls[i]
		if vantage != rules.VantageAll && c.Side != vantage {
			continue
		}
		a.add(cat.Host(c, dc), c.Port, c.ID)
	}
	return a
}

// AllowFromReport returns the entries that let through the calls r found
// blocked. Calls that were not reached because one they need was blocked
// are named in the notes, since nothing shows whether they would pass.
func AllowFromReport(r *rules.Report) *Allow {
	a := &Allow{Catalog: r.Catalog, Datacenter: r.Datacenter, Vantage: r.Vantage, Source: "report"}
	var unreached []string
	note := func(s string) {
		if !contains(a.Notes, s) {
			a.Notes = append(a.Notes, s)
		}
	}
	for _, c := range r.Calls {
		switch {
		case c.Status == rules.StatusBlocked:
			a.add(c.Host, c.Port, c.ID)
			switch fixKind(capture.Reason(c.Reason)) {
			case fixDNS:
				note(fmt.Sprintf("%s gave %s: an allow rule does not make the resolver answer for it", c.Host, c.Reason))
			case fixTLS:
				for i := range a.Entries {
					if a.Entries[i].Host == c.Host {
						a.Entries[i].Inspected = true
					}
				}
				note(fmt.Sprintf("%s gave %s: an allow rule alone does not help; exempt it from TLS inspection", c.Host, c.Reason))
			case fixProxyReach:
				note(fmt.Sprintf("%s gave %s: the proxy could not reach it, a problem of the proxy's own egress", c.Host, c.Reason))
			}
		case c.Status == rules.StatusMissing && c.Reason == string(capture.ReasonDependencyBlocked):
			unreached = append(unreached, fmt.Sprintf("%s (%s:%d)", c.ID, c.Host, c.Port))
		}
	}
	if len(unreached) > 0 {
		a.Notes = append(a.Notes, "not reached, so not known to be blocked, and left out: "+strings.Join(unreached, ", ")+
			"; audit again after the change, or leave out --from-report to allow every call")
	}
	return a
}

func (a *Allow) add(host string, port int, call string) {
	for i := range a.Entries {
		e := &a.Entries[i]
		if e.Host == host && e.Port == port {
			e.Calls = append(e.Calls, call)
			return
		}
	}
	a.Entries = append(a.Entries, AllowEntry{Host: host, Port: port, Calls: []string{call}})
}

// ErrNothingToAllow is returned by [AllowList] when no entry is left to
// allow. Nothing is written then: several targets cannot express an empty
// list (a FortiGate group without members, an AWS rule group without
// targets, a pfSense alias without addresses), and an empty file handed on
// to the device would replace its list with nothing.
var ErrNothingToAllow = errors.New("nothing to allow")

// AllowList writes the rules of a in the syntax of target (one of
// [AllowTargets]) and returns notes and warnings for the user. Notes say
// what a target's output cannot hold itself, such as the catalog a PAN-OS
// list comes from; warnings name entries a target cannot express, and
// wildcards or address-based matching that let more through than the calls
// need. Targets with comments repeat the warnings in the output. Host
// names that are not valid (a report file is input) are left out with a
// warning, so that nothing but names reaches the rules. With no entry left
// it writes nothing and returns an error wrapping [ErrNothingToAllow] that
// says why, with the warnings.
// Notes and warnings may hold input text: print them through [Clean].
func AllowList(w io.Writer, target string, a *Allow) (notes, warnings []string, err error) {
	gen, ok := allowWriters[target]
	if !ok {
		return nil, nil, fmt.Errorf("target %q: want one of %s", target, strings.Join(AllowTargets, ", "))
	}
	g := &allowGen{a: a, target: target}
	g.warnings = append(g.warnings, a.Notes...)
	for _, e := range a.Entries {
		host := strings.ToLower(strings.TrimSuffix(e.Host, "."))
		switch {
		case !validAllowHost(host):
			g.warn("left out \"%s\": not a host name", e.Host)
			continue
		case e.Port < 1 || e.Port > 65535:
			g.warn("left out %s: port %d out of range", host, e.Port)
			continue
		}
		calls := make([]string, 0, len(e.Calls))
		for _, c := range e.Calls {
			calls = append(calls, safeID(c))
		}
		g.entries = append(g.entries, AllowEntry{Host: host, Port: e.Port, Calls: calls, Inspected: e.Inspected})
	}
	if len(g.entries) == 0 {
		switch {
		case len(a.Entries) > 0:
			return nil, g.warnings, fmt.Errorf("%w: every entry was left out", ErrNothingToAllow)
		case a.Source == "report":
			return nil, g.warnings, fmt.Errorf("%w: the report found no call blocked", ErrNothingToAllow)
		}
		return nil, g.warnings, fmt.Errorf("%w: the catalog has no call for data center %s and vantage %s",
			ErrNothingToAllow, Clean(a.Datacenter), Clean(a.Vantage))
	}
	ew := &errWriter{w: w}
	gen(ew, g)
	return g.notes, g.warnings, ew.err
}

var allowWriters = map[string]func(io.Writer, *allowGen){
	"squid":     writeSquid,
	"panos-edl": writePANOS,
	"fortigate": writeFortiGate,
	"aws-nfw":   writeAWSNFW,
	"azure-fw":  writeAzureFW,
	"pfsense":   writePfSense,
	"nftables":  writeNftables,
	"plain":     writePlain,
}

// allowGen carries one allow-list being written.
type allowGen struct {
	a        *Allow
	target   string
	entries  []AllowEntry // validated, lower case
	notes    []string
	warnings []string
}

func (g *allowGen) warn(format string, args ...any) {
	g.warnings = append(g.warnings, fmt.Sprintf(format, args...))
}

// title names what the list is for, in one line for comments and
// descriptions.
func (g *allowGen) title() string {
	s := fmt.Sprintf("egress-audit allow-list: catalog %s %s, data center %s, vantage %s",
		Clean(g.a.Catalog.Name), Clean(g.a.Catalog.Version), Clean(g.a.Datacenter), Clean(g.a.Vantage))
	if g.a.Source == "report" {
		s += ", only what the report found blocked"
	}
	return s
}

// ident returns a name for objects of the list: prefix and the catalog's
// name, made of lower-case letters, digits and sep only, at most max bytes.
func (g *allowGen) ident(prefix, sep string, max int) string {
	name := safeID(g.a.Catalog.Name)
	if name == "" {
		name = "catalog"
	}
	id := strings.NewReplacer("_", sep, "-", sep).Replace(prefix + "_" + name)
	if len(id) > max {
		id = id[:max]
	}
	return id
}

// comments writes the title, the lines of what, and the warnings as
// comment lines starting with prefix.
func (g *allowGen) comments(w io.Writer, prefix string, what ...string) {
	fmt.Fprintf(w, "%s %s\n", prefix, g.title())
	for _, s := range what {
		fmt.Fprintf(w, "%s %s\n", prefix, s)
	}
	for _, e := range g.entries {
		fmt.Fprintf(w, "%s   %s:%d for %s\n", prefix, e.Host, e.Port, strings.Join(e.Calls, ", "))
	}
	for _, s := range g.warnings {
		fmt.Fprintf(w, "%s warning: %s\n", prefix, Clean(s))
	}
}

// wildcard reports whether host is "*." and a domain.
func wildcard(host string) (domain string, ok bool) {
	return strings.CutPrefix(host, "*.")
}

// validAllowHost reports whether h is a host name, optionally "*." and a
// domain of two labels or more: labels of letters, digits, '-' and '_', at
// most 63 bytes each, 253 in all.
func validAllowHost(h string) bool {
	if d, ok := wildcard(h); ok {
		return strings.Contains(d, ".") && validAllowHost(d)
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// safeID keeps the letters, digits, '-' and '_' of s, lower case, with
// other characters as '_'.
func safeID(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// safeText makes s fit in a one-line comment or a quoted string of any
// target: cleaned, with quotes, backslashes and comment and markup
// characters replaced.
func safeText(s string) string {
	s = Clean(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '"', '\'', '\\', '`', '<', '>', '&', '$', ';', '{', '}', '#':
			return '_'
		}
		return r
	}, s)
}

// byPort groups entries by port, ports in increasing order.
func byPort(entries []AllowEntry) (ports []int, hosts map[int][]AllowEntry) {
	hosts = make(map[int][]AllowEntry)
	for _, e := range entries {
		if hosts[e.Port] == nil {
			ports = append(ports, e.Port)
		}
		hosts[e.Port] = append(hosts[e.Port], e)
	}
	sort.Ints(ports)
	return ports, hosts
}

// writeSquid writes dstdomain ACLs and http_access lines, one pair per
// port. A dstdomain entry without a leading dot matches that host only.
func writeSquid(w io.Writer, g *allowGen) {
	for _, e := range g.entries {
		if d, ok := wildcard(e.Host); ok {
			g.warn("squid: .%s (for %s) matches %s itself and every host under it", d, e.Host, d)
		}
	}
	g.comments(w, "#",
		"Put these lines above the first \"http_access deny\" of squid.conf.",
		"dstdomain names without a leading dot match that exact host only.")
	base := g.ident("egress_audit", "_", 64)
	ports, hosts := byPort(g.entries)
	for _, p := range ports {
		name := base
		if len(ports) > 1 {
			name += "_" + strconv.Itoa(p)
		}
		fmt.Fprintln(w)
		for _, e := range hosts[p] {
			host := e.Host
			if d, ok := wildcard(host); ok {
				host = "." + d
			}
			fmt.Fprintf(w, "acl %s dstdomain %s\n", name, host)
		}
		fmt.Fprintf(w, "acl %s_port port %d\n", name, p)
		fmt.Fprintf(w, "http_access allow %s %s_port\n", name, name)
	}
	var inspected []string
	for _, e := range g.entries {
		if e.Inspected && !contains(inspected, e.Host) {
			inspected = append(inspected, e.Host)
		}
	}
	if len(inspected) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "# TLS inspection broke these hosts. Where squid itself bumps, splice them")
		fmt.Fprintln(w, "# (needs a squid built with OpenSSL, above the first ssl_bump line):")
		fmt.Fprintf(w, "#   acl %s_splice ssl::server_name %s\n", base, strings.Join(inspected, " "))
		fmt.Fprintf(w, "#   ssl_bump splice %s_splice\n", base)
	}
}

// writePANOS writes a PAN-OS external dynamic list of type URL List, for a
// custom URL category matched in a Security policy rule. The list holds
// entries only, so the title goes to the notes.
//
// TODO(allowlist): PAN-OS's formatting guidelines for external dynamic
// lists allow a comment after a space for IP address lists only, and say
// nothing of comments in URL lists; until a firewall shows that it takes
// them, the list names its catalog in a note instead of a comment.
func writePANOS(w io.Writer, g *allowGen) {
	g.notes = append(g.notes, g.title()+" (panos-edl lists hold entries only: use it as an EDL of type URL List in a custom URL category of an allow rule)")
	for _, e := range g.entries {
		if e.Port != 443 && e.Port != 80 {
			g.warn("panos-edl: %s needs port %d: a URL category matches any port; restrict the rule's service to %d", e.Host, e.Port, e.Port)
		}
		if d, ok := wildcard(e.Host); ok {
			g.warn("panos-edl: *.%s/ matches every host under %s", d, d)
		}
		// The trailing slash ends the host: without it PAN-OS would also
		// match longer names that start the same.
		fmt.Fprintf(w, "%s/\n", e.Host)
	}
}

// writeFortiGate writes FQDN address objects and a group, as FortiOS CLI.
func writeFortiGate(w io.Writer, g *allowGen) {
	for _, e := range g.entries {
		if d, ok := wildcard(e.Host); ok {
			g.warn("fortigate: wildcard-fqdn %s matches every host under %s", e.Host, d)
		}
	}
	g.comments(w, "#",
		"FortiOS CLI: FQDN address objects and a group to use as the destination of an",
		"accept policy with service HTTPS. The FortiGate resolves the names itself: its",
		"DNS server should be the one the audited host uses.")
	group := g.ident("egress-audit", "-", 79)
	comment := safeText(g.a.Catalog.Name + " " + g.a.Catalog.Version)
	fmt.Fprintln(w, "config firewall address")
	var members []string
	for _, e := range g.entries {
		name := "ea-" + e.Host
		if d, ok := wildcard(e.Host); ok {
			name = "ea-wildcard." + d
		}
		if len(name) > 79 {
			name = name[:79]
		}
		members = append(members, strconv.Quote(name))
		fmt.Fprintf(w, "    edit %q\n", name)
		if _, ok := wildcard(e.Host); ok {
			fmt.Fprintf(w, "        set type wildcard-fqdn\n        set wildcard-fqdn %q\n", e.Host)
		} else {
			fmt.Fprintf(w, "        set type fqdn\n        set fqdn %q\n", e.Host)
		}
		fmt.Fprintf(w, "        set comment %q\n", fmt.Sprintf("egress-audit %s: %s port %d", comment, strings.Join(e.Calls, " "), e.Port))
		fmt.Fprintln(w, "    next")
	}
	fmt.Fprintln(w, "end")
	fmt.Fprintln(w, "config firewall addrgrp")
	fmt.Fprintf(w, "    edit %q\n", group)
	fmt.Fprintf(w, "        set member %s\n", strings.Join(members, " "))
	fmt.Fprintf(w, "        set comment %q\n", "egress-audit "+comment+" data center "+safeText(g.a.Datacenter))
	fmt.Fprintln(w, "    next")
	fmt.Fprintln(w, "end")
}

// awsRuleGroup is the input of "aws network-firewall create-rule-group
// --cli-input-json": a stateful domain-list rule group.
type awsRuleGroup struct {
	RuleGroupName string     `json:"RuleGroupName"`
	Type          string     `json:"Type"`
	Capacity      int        `json:"Capacity"`
	Description   string     `json:"Description"`
	RuleGroup     awsRules   `json:"RuleGroup"`
	Tags          []awsTagKV `json:"Tags"`
}

type awsRules struct {
	RulesSource awsRulesSource `json:"RulesSource"`
}

type awsRulesSource struct {
	RulesSourceList awsDomainList `json:"RulesSourceList"`
}

type awsDomainList struct {
	Targets            []string `json:"Targets"`
	TargetTypes        []string `json:"TargetTypes"`
	GeneratedRulesType string   `json:"GeneratedRulesType"`
}

type awsTagKV struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// writeAWSNFW writes an AWS Network Firewall domain-list rule group as the
// JSON input of create-rule-group. JSON has no comments: the catalog is
// named in the description and tags.
func writeAWSNFW(w io.Writer, g *allowGen) {
	var targets []string
	for _, e := range g.entries {
		host := e.Host
		if d, ok := wildcard(host); ok {
			host = "." + d
			g.warn("aws-nfw: .%s (for %s) matches %s itself and every host under it", d, e.Host, d)
		}
		if e.Port != 443 && e.Port != 80 {
			g.warn("aws-nfw: %s needs port %d, but domain lists inspect HTTP Host and TLS SNI on any port; the port is not restricted", e.Host, e.Port)
		}
		if !contains(targets, host) {
			targets = append(targets, host)
		}
	}
	if len(targets) == 0 {
		targets = []string{}
	}
	types := []string{"TLS_SNI", "HTTP_HOST"}
	rg := awsRuleGroup{
		RuleGroupName: g.ident("egress-audit", "-", 128),
		Type:          "STATEFUL",
		// Each domain takes one rule per target type; the capacity of a
		// rule group cannot grow after it is created, so leave room.
		Capacity:    max(10, 2*len(targets)*len(types)),
		Description: truncate(g.title(), 512),
		RuleGroup: awsRules{RulesSource: awsRulesSource{RulesSourceList: awsDomainList{
			Targets: targets, TargetTypes: types, GeneratedRulesType: "ALLOWLIST",
		}}},
		Tags: []awsTagKV{
			{Key: "egress-audit:catalog", Value: truncate(safeText(g.a.Catalog.Name), 256)},
			{Key: "egress-audit:catalog-version", Value: truncate(safeText(g.a.Catalog.Version), 256)},
			{Key: "egress-audit:datacenter", Value: truncate(safeText(g.a.Datacenter), 256)},
		},
	}
	writeJSON(w, rg)
}

// writeAzureFW writes an ARM template that adds an application rule
// collection to an Azure Firewall policy.
func writeAzureFW(w io.Writer, g *allowGen) {
	type protocol struct {
		ProtocolType string `json:"protocolType"`
		Port         int    `json:"port"`
	}
	type rule struct {
		RuleType        string     `json:"ruleType"`
		Name            string     `json:"name"`
		Description     string     `json:"description"`
		Protocols       []protocol `json:"protocols"`
		SourceAddresses string     `json:"sourceAddresses"`
		TargetFqdns     []string   `json:"targetFqdns"`
	}
	type collection struct {
		RuleCollectionType string            `json:"ruleCollectionType"`
		Name               string            `json:"name"`
		Priority           int               `json:"priority"`
		Action             map[string]string `json:"action"`
		Rules              []rule            `json:"rules"`
	}
	var rs []rule
	for _, e := range g.entries {
		if d, ok := wildcard(e.Host); ok {
			g.warn("azure-fw: %s matches every host under %s", e.Host, d)
		}
		proto := "Https"
		if e.Port == 80 {
			proto = "Http"
		}
		rs = append(rs, rule{
			RuleType:        "ApplicationRule",
			Name:            truncate(strings.ReplaceAll(e.Host, "*", "wildcard")+"-"+strconv.Itoa(e.Port), 80),
			Description:     truncate(safeText(strings.Join(e.Calls, ", ")), 140),
			Protocols:       []protocol{{ProtocolType: proto, Port: e.Port}},
			SourceAddresses: "[parameters('sourceAddresses')]",
			TargetFqdns:     []string{e.Host},
		})
	}
	if rs == nil {
		rs = []rule{}
	}
	name := g.ident("egress-audit", "-", 80)
	tmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"metadata": map[string]string{
			"description":     g.title(),
			"catalog":         safeText(g.a.Catalog.Name),
			"catalog_version": safeText(g.a.Catalog.Version),
			"datacenter":      safeText(g.a.Datacenter),
			"vantage":         safeText(g.a.Vantage),
		},
		"parameters": map[string]any{
			"firewallPolicyName": map[string]any{"type": "string", "metadata": map[string]string{"description": "the Azure Firewall policy to add the rules to"}},
			"sourceAddresses":    map[string]any{"type": "array", "metadata": map[string]string{"description": "addresses of the audited hosts, e.g. [\"192.0.2.10\"]"}},
			"priority":           map[string]any{"type": "int", "defaultValue": 300},
		},
		"resources": []any{map[string]any{
			"type":       "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
			"apiVersion": "2023-09-01",
			"name":       "[format('{0}/" + name + "', parameters('firewallPolicyName'))]",
			"properties": map[string]any{
				"priority": "[parameters('priority')]",
				"ruleCollections": []collection{{
					RuleCollectionType: "FirewallPolicyFilterRuleCollection",
					Name:               name,
					Priority:           100,
					Action:             map[string]string{"type": "Allow"},
					Rules:              rs,
				}},
			},
		}},
	}
	writeJSON(w, tmpl)
}

// writePfSense writes a host alias as the <aliases> section of a pfSense
// configuration.
func writePfSense(w io.Writer, g *allowGen) {
	var hosts, details []string
	for _, e := range g.entries {
		if _, ok := wildcard(e.Host); ok {
			g.warn("pfsense: left out %s: host aliases hold names and addresses, not wildcards", e.Host)
			continue
		}
		if !contains(hosts, e.Host) {
			hosts = append(hosts, e.Host)
			details = append(details, safeText(strings.Join(e.Calls, ", ")+" port "+strconv.Itoa(e.Port)))
		}
	}
	g.warn("pfsense: the firewall resolves the names in a host alias every few minutes and allows their addresses: anything else served from those addresses gets through too, and a name whose answer changes in between is blocked until the next resolve")
	fmt.Fprintln(w, "<?xml version=\"1.0\"?>")
	fmt.Fprintln(w, "<!--")
	var c strings.Builder
	g.comments(&c, " ",
		"pfSense: the <aliases> section of config.xml. Restoring the Aliases area replaces every",
		"alias; to add to yours, create a Host(s) alias in Firewall > Aliases and paste the names.",
		"OPNsense: the same names go in an alias of type Host(s).")
	fmt.Fprint(w, strings.ReplaceAll(c.String(), "--", "- -"))
	fmt.Fprintln(w, "-->")
	type alias struct {
		XMLName xml.Name `xml:"alias"`
		Name    string   `xml:"name"`
		Type    string   `xml:"type"`
		Address string   `xml:"address"`
		Descr   string   `xml:"descr"`
		Detail  string   `xml:"detail"`
	}
	name := g.ident("ea", "_", 31)
	out := struct {
		XMLName xml.Name `xml:"aliases"`
		Alias   alias
	}{Alias: alias{
		Name:    name,
		Type:    "host",
		Address: strings.Join(hosts, " "),
		Descr:   safeText(g.a.Catalog.Name + " " + g.a.Catalog.Version + " data center " + g.a.Datacenter),
		Detail:  strings.Join(details, "||"),
	}}
	enc := xml.NewEncoder(w)
	enc.Indent("", "\t")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(w, "<!-- %v -->", err)
	}
	fmt.Fprintln(w)
}

// writeNftables writes empty named address sets and the rules that accept
// HTTPS to them, in the inet filter table's forward chain. nftables
// matches addresses, not names, so the sets must be filled from DNS and
// kept current.
func writeNftables(w io.Writer, g *allowGen) {
	for _, e := range g.entries {
		if _, ok := wildcard(e.Host); ok {
			g.warn("nftables: left out %s: a wildcard has no addresses to resolve", e.Host)
		}
	}
	g.warn("nftables: rules match addresses; every other service on the addresses of these names gets through too, and addresses the names move to are blocked until the sets are refilled")
	g.comments(w, "#",
		"nftables matches addresses, not names. Fill the sets with the current answers",
		"for each name and refresh them within the names' DNS TTL, for example:",
		"  nft add element inet filter SET4 '{ 203.0.113.10 }'   (one per A answer)",
		"The table and chain are Debian's default (inet filter, forward for a router,",
		"output for the audited host itself); change them to yours.")
	base := g.ident("egress_audit", "_", 40)
	ports, hosts := byPort(g.entries)
	var withSets []int
	fmt.Fprintln(w, "table inet filter {")
	for _, p := range ports {
		var names []string
		for _, e := range hosts[p] {
			if _, ok := wildcard(e.Host); !ok {
				names = append(names, e.Host)
			}
		}
		if len(names) == 0 {
			continue
		}
		withSets = append(withSets, p)
		for _, fam := range []struct{ suffix, typ string }{{"v4", "ipv4_addr"}, {"v6", "ipv6_addr"}} {
			fmt.Fprintf(w, "\tset %s_%d_%s {\n", base, p, fam.suffix)
			fmt.Fprintf(w, "\t\ttype %s\n", fam.typ)
			fmt.Fprintf(w, "\t\tflags timeout\n")
			fmt.Fprintf(w, "\t\tcomment %q\n", truncate(strings.Join(names, " "), 128))
			fmt.Fprintf(w, "\t}\n")
		}
	}
	fmt.Fprintln(w, "}")
	comment := truncate(safeText(g.a.Catalog.Name+" "+g.a.Catalog.Version), 100)
	for _, p := range withSets {
		fmt.Fprintf(w, "add rule inet filter forward ip daddr @%s_%d_v4 tcp dport %d accept comment %q\n", base, p, p, "egress-audit "+comment)
		fmt.Fprintf(w, "add rule inet filter forward ip6 daddr @%s_%d_v6 tcp dport %d accept comment %q\n", base, p, p, "egress-audit "+comment)
	}
}

// writePlain writes one host name per line after comment lines.
func writePlain(w io.Writer, g *allowGen) {
	for _, e := range g.entries {
		if d, ok := wildcard(e.Host); ok {
			g.warn("plain: %s stands for every host under %s", e.Host, d)
		}
	}
	g.comments(w, "#", "One host name per line; the port and calls of each are listed above.")
	var seen []string
	for _, e := range g.entries {
		if !contains(seen, e.Host) {
			seen = append(seen, e.Host)
			fmt.Fprintln(w, e.Host)
		}
	}
}

func writeJSON(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "{\"error\": %q}\n", err.Error())
		return
	}
	w.Write(append(b, '\n'))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xc0 != 0x80 }
