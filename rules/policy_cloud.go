package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// awsPolicy is one or more AWS Network Firewall domain-list rule groups.
type awsPolicy struct {
	groups []awsGroup
}

type awsGroup struct {
	allow   bool // ALLOWLIST; else DENYLIST
	types   []string
	targets []domainEntry
	source  string // where the group's GeneratedRulesType is
}

func (p *awsPolicy) Format() string { return PolicyAWS }

// Decide implements [Policy]. An HTTPS request is inspected by its TLS
// server name (TLS_SNI), a plain HTTP one by its Host (HTTP_HOST). A deny
// list's match wins over an allow list's. Traffic of a protocol that an
// allow list inspects and that no target matches is dropped; traffic no
// group inspects passes.
func (p *awsPolicy) Decide(r PolicyRequest) PolicyDecision {
	want := "TLS_SNI"
	if r.Scheme == "http" {
		want = "HTTP_HOST"
	}
	host := strings.TrimSuffix(strings.ToLower(r.Host), ".")
	var allowed *PolicyDecision
	inspected := false
	for _, g := range p.groups {
		if !containsFold(g.types, want) {
			continue
		}
		inspected = inspected || g.allow
		for _, t := range g.targets {
			if !t.matches(host) {
				continue
			}
			d := PolicyDecision{Allowed: g.allow, Rule: t.text, Source: t.source}
			if !g.allow {
				d.Rule = "DENYLIST " + t.text
				return d
			}
			if allowed == nil {
				d.Rule = "ALLOWLIST " + t.text
				allowed = &d
			}
			break
		}
	}
	switch {
	case allowed != nil:
		return *allowed
	case inspected:
		return PolicyDecision{Rule: DefaultDeny, Why: fmt.Sprintf("an ALLOWLIST inspects %s and no target matches %s", want, host)}
	}
	return PolicyDecision{Allowed: true, Rule: DefaultAllow, Why: fmt.Sprintf("no ALLOWLIST inspects %s, and no DENYLIST target matches %s", want, host)}
}

func containsFold(s []string, v string) bool {
	for _, x := range s {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// parseAWS reads every RulesSourceList in data: the output of describe-rule-group,
// the input of create-rule-group, a CloudFormation resource, or Terraform's
// JSON (rules_source_list). Targets starting with "." match the domain and
// its subdomains; others match the name only.
func parseAWS(name string, data []byte) (*awsPolicy, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("aws rule group %s: %v", name, err)
	}
	p := &awsPolicy{}
	lines := newLineIndex(data)
	var walkErr error
	walk(v, func(k string, val any) {
		if normKey(k) != "rulessourcelist" || walkErr != nil {
			return
		}
		for _, obj := range objects(val) {
			g := awsGroup{}
			kind := strings.ToUpper(str(get(obj, "generatedrulestype")))
			switch kind {
			case "ALLOWLIST":
				g.allow = true
			case "DENYLIST":
			default:
				walkErr = fmt.Errorf("aws rule group %s: GeneratedRulesType %q: want ALLOWLIST or DENYLIST", name, kind)
				return
			}
			g.source = sourceLine(name, lines.find(`"`+kind+`"`))
			for _, t := range strs(get(obj, "targettypes")) {
				g.types = append(g.types, strings.ToUpper(t))
			}
			for _, t := range strs(get(obj, "targets")) {
				e := domainEntry{text: t, source: sourceLine(name, lines.find(strconv.Quote(t)))}
				d := strings.TrimSuffix(strings.ToLower(t), ".")
				if strings.HasPrefix(d, ".") {
					e.match, e.domain = matchDomain, d[1:]
				} else {
					e.match, e.domain = matchExact, d
				}
				if err := checkDomain(e.domain); err != nil {
					walkErr = fmt.Errorf("aws rule group %s: target %q: %v", e.source, t, err)
					return
				}
				g.targets = append(g.targets, e)
			}
			p.groups = append(p.groups, g)
		}
	})
	if walkErr != nil {
		return nil, walkErr
	}
	if len(p.groups) == 0 {
		return nil, fmt.Errorf("aws rule group %s: no RulesSourceList (a domain-list rule group)", name)
	}
	return p, nil
}

// azurePolicy is a set of Azure Firewall application rule collections.
type azurePolicy struct {
	collections []azureCollection
}

type azureCollection struct {
	name     string
	group    int // priority of the rule collection group; 0 for classic collections
	priority int
	allow    bool
	rules    []azureRule
}

type azureRule struct {
	name      string
	fqdns     []domainEntry
	protocols []azureProtocol
	sources   []string
}

type azureProtocol struct {
	typ  string // http, https
	port int
}

func (p *azurePolicy) Format() string { return PolicyAzure }

// Decide implements [Policy]: the collections in priority order (rule
// collection group first, then collection), the first rule that matches
// decides with its collection's action; with none, the firewall denies.
func (p *azurePolicy) Decide(r PolicyRequest) PolicyDecision {
	host := strings.TrimSuffix(strings.ToLower(r.Host), ".")
	var assumed []string
	for _, c := range p.collections {
		for _, rule := range c.rules {
			if !rule.protocol(r) {
				continue
			}
			ok, assumption := rule.source(r)
			if !ok {
				continue
			}
			for _, f := range rule.fqdns {
				if !f.matches(host) {
					continue
				}
				if assumption != "" {
					assumed = append(assumed, assumption)
				}
				action := "Deny"
				if c.allow {
					action = "Allow"
				}
				return PolicyDecision{
					Allowed:   c.allow,
					Rule:      fmt.Sprintf("%s collection %s (priority %d), rule %s: %s", action, c.name, c.priority, rule.name, f.text),
					Source:    f.source,
					Uncertain: strings.Join(dedupe(assumed), "; "),
				}
			}
		}
	}
	return PolicyDecision{Rule: DefaultDeny, Why: "no application rule matches, and Azure Firewall denies what no rule allows"}
}

func (ar *azureRule) protocol(r PolicyRequest) bool {
	for _, p := range ar.protocols {
		if p.typ == r.Scheme && (p.port == 0 || p.port == r.Port) {
			return true
		}
	}
	return false
}

func (ar *azureRule) source(r PolicyRequest) (bool, string) {
	if len(ar.sources) == 0 {
		return true, ""
	}
	for _, s := range ar.sources {
		if s == "*" {
			return true, ""
		}
	}
	for _, s := range ar.sources {
		// An ARM template expression, "[parameters('sourceAddresses')]",
		// is filled in at deployment.
		if strings.HasPrefix(s, "[") {
			return true, fmt.Sprintf("rule %s's source addresses are the template expression %s; the client is taken to be among them", ar.name, s)
		}
	}
	var ps []netip.Prefix
	for _, s := range ar.sources {
		if p, err := parseSquidAddr(s); err == nil {
			ps = append(ps, p...)
		}
	}
	in, partly, known := clientIn(ps, r)
	switch {
	case !known:
		return true, fmt.Sprintf("the client is taken to be among rule %s's source addresses (give --client)", ar.name)
	case partly:
		return true, fmt.Sprintf("client range %s is only partly among rule %s's source addresses; taken as among them", r.ClientRange, ar.name)
	}
	return in, ""
}

// parseAzure reads every application rule collection in data: classic
// firewall collections (ARM or az CLI output), firewall policy rule
// collection groups, or Terraform's JSON. A target "*.example.com" matches
// the subdomains of example.com, "*example.com" every name ending so
// (example.com too), "*" every name.
func parseAzure(name string, data []byte) (*azurePolicy, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("azure rules %s: %v", name, err)
	}
	p := &azurePolicy{}
	lines := newLineIndex(data)
	var visit func(v any, group int)
	visit = func(v any, group int) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				visit(e, group)
			}
		case map[string]any:
			props := x
			if pp, ok := get(x, "properties").(map[string]any); ok {
				props = pp
			}
			if rc := get(props, "rulecollections"); rc != nil {
				visit(rc, num(get(props, "priority")))
				return
			}
			if c, ok := azureCollectionOf(x, props, group, name, lines); ok {
				p.collections = append(p.collections, c)
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				visit(x[k], group)
			}
		}
	}
	visit(v, 0)
	if len(p.collections) == 0 {
		return nil, fmt.Errorf("azure rules %s: no application rule collection (rules with targetFqdns)", name)
	}
	sort.SliceStable(p.collections, func(i, j int) bool {
		a, b := p.collections[i], p.collections[j]
		if a.group != b.group {
			return a.group < b.group
		}
		return a.priority < b.priority
	})
	return p, nil
}

// azureCollectionOf reads x as an application rule collection, if it holds
// rules with target FQDNs.
func azureCollectionOf(x, props map[string]any, group int, file string, lines *lineIndex) (azureCollection, bool) {
	rules := objects(get(props, "rules"))
	if len(rules) == 0 {
		rules = objects(get(props, "rule"))
	}
	c := azureCollection{name: str(get(x, "name")), group: group, priority: num(get(props, "priority"))}
	switch a := get(props, "action").(type) {
	case map[string]any:
		c.allow = strings.EqualFold(str(get(a, "type")), "allow")
	case string:
		c.allow = strings.EqualFold(a, "allow")
	}
	for _, r := range rules {
		fqdns := strs(get(r, "targetfqdns"))
		if len(fqdns) == 0 {
			continue
		}
		ar := azureRule{name: str(get(r, "name")), sources: strs(get(r, "sourceaddresses"))}
		for _, pr := range objects(firstOf(get(r, "protocols"), get(r, "protocol"))) {
			ar.protocols = append(ar.protocols, azureProtocol{
				typ:  strings.ToLower(str(firstOf(get(pr, "protocoltype"), get(pr, "type")))),
				port: num(get(pr, "port")),
			})
		}
		for _, f := range fqdns {
			e := domainEntry{text: f, source: sourceLine(file, lines.find(strconv.Quote(f)))}
			d := strings.TrimSuffix(strings.ToLower(f), ".")
			switch {
			case d == "*":
				e.match = matchSubdomains
			case strings.HasPrefix(d, "*."):
				e.match, e.domain = matchSubdomains, d[2:]
			case strings.HasPrefix(d, "*"):
				// "*example.com": any name ending in example.com.
				e.match, e.domain = matchSuffix, d[1:]
			default:
				e.match, e.domain = matchExact, d
			}
			ar.fqdns = append(ar.fqdns, e)
		}
		c.rules = append(c.rules, ar)
	}
	return c, len(c.rules) > 0
}

// lineIndex finds the lines of quoted values in a JSON document, in order:
// each find starts after the previous hit, so repeated values get their
// own lines when they come in document order.
type lineIndex struct {
	data []byte
	pos  int
}

func newLineIndex(data []byte) *lineIndex { return &lineIndex{data: data} }

// find returns the 1-based line of the next occurrence of needle, searching
// from the last hit and wrapping to the start; 0 when it is not found.
func (l *lineIndex) find(needle string) int {
	i := bytes.Index(l.data[l.pos:], []byte(needle))
	if i >= 0 {
		i += l.pos
	} else if i = bytes.Index(l.data, []byte(needle)); i < 0 {
		return 0
	}
	l.pos = i + len(needle)
	return bytes.Count(l.data[:i], []byte("\n")) + 1
}

// walk calls fn for every key and value in v, depth first, keys sorted.
func walk(v any, fn func(k string, val any)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fn(k, x[k])
			walk(x[k], fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// get returns the member of m whose key matches key once lower-cased and
// stripped of underscores.
func get(m map[string]any, key string) any {
	for k, v := range m {
		if normKey(k) == key {
			return v
		}
	}
	return nil
}

func firstOf(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// objects returns v as a list of objects: v itself, or its elements.
func objects(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = append(out, x)
	}
	return out
}

func num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}
