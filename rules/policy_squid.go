package rules

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// maxIncludeDepth bounds nested include directives, as squid does, so that
// a file that includes itself fails instead of looping.
const maxIncludeDepth = 16

// squidPolicy is a squid configuration's http_access rules with the acls
// they name. Squid checks the rules in order; the first whose acls all
// match decides. When none matches, squid does the opposite of the last
// rule, and denies when there is no rule at all.
type squidPolicy struct {
	acls  map[string]*squidACL
	rules []squidRule
	// bump holds the ssl_bump rules, in order; bumpPort whether an
	// http_port takes the ssl-bump option, without which squid bumps
	// nothing.
	bump     []squidRule
	bumpPort bool
	notes    []string // lines read but ignored, as squid ignores them
}

type squidACL struct {
	name   string
	typ    string
	source string // where it was first defined
	// values: domains for dstdomain, regexps for the regex types, prefixes
	// for dst and src, port ranges, methods.
	domains  []string
	regexps  []*regexp.Regexp
	prefixes []netip.Prefix
	ports    [][2]int
	methods  []string
	steps    []string // at_step: sslbump1, sslbump2, sslbump3
}

type squidRule struct {
	allow  bool
	action string // of an ssl_bump rule: bump, splice, peek, stare ...
	acls   []squidRef
	text   string
	source string
}

type squidRef struct {
	name   string
	negate bool
}

func (p *squidPolicy) Format() string { return PolicySquid }

// Notes implements [PolicyNoter].
func (p *squidPolicy) Notes() []string { return p.notes }

// Decide implements [Policy]. A rule whose acls cannot all be decided
// without traffic (a dst acl with no address for the host, an acl of a type
// only the running proxy knows) still decides as its acls' assumptions say,
// but every such rule checked on the way, matching or not, is named in the
// decision's Uncertain: had the unknown acl gone the other way, that rule
// would have decided instead.
//
// A CONNECT that squid bumps (ssl_bump bump, or stare then bump) is
// decrypted, and every request inside it goes through http_access again
// with its own method and URL: the call is allowed only if both the CONNECT
// and r.Inner are.
func (p *squidPolicy) Decide(r PolicyRequest) PolicyDecision {
	d := p.access(r)
	if !d.Allowed || r.Inner == nil || len(p.bump) == 0 {
		return d
	}
	bumped, rule, assumed := p.bumps(r)
	uncertain := joinAssumed(d.Uncertain, strings.Join(assumed, "; "))
	if rule != nil && rule.action == "terminate" {
		return PolicyDecision{Rule: rule.text, Source: rule.source, Uncertain: uncertain,
			Why: fmt.Sprintf("the CONNECT is allowed (%s), but ssl_bump terminates the connection", decidedBy(d))}
	}
	if !bumped {
		d.Uncertain = uncertain
		return d
	}
	bumpAt := "ssl_bump (stare, and no rule after it)"
	if rule != nil {
		bumpAt = fmt.Sprintf("%s (%s)", rule.source, rule.text)
	}
	inner := *r.Inner
	inner.Client, inner.ClientRange, inner.Addrs = r.Client, r.ClientRange, r.Addrs
	innerText := fmt.Sprintf("%s https://%s%s", inner.Method, inner.Host, inner.Path)
	di := p.access(inner)
	uncertain = joinAssumed(uncertain, di.Uncertain)
	if !di.Allowed {
		di.Why = joinAssumed(fmt.Sprintf("the CONNECT is allowed (%s), but %s bumps it and squid denies the decrypted request %s", decidedBy(d), bumpAt, innerText), di.Why)
		di.Uncertain = uncertain
		return di
	}
	d.Why = joinAssumed(d.Why, fmt.Sprintf("%s bumps the CONNECT; the decrypted request %s is allowed too (%s)", bumpAt, innerText, decidedBy(di)))
	d.Uncertain = uncertain
	return d
}

// decidedBy names what decided d: the rule's file:line, or the default.
func decidedBy(d PolicyDecision) string {
	if d.Source != "" {
		return d.Source
	}
	return d.Rule
}

// bumps reports whether squid would bump the CONNECT r, with the ssl_bump
// rule that decides (nil when none does) and what was assumed on the way.
// Squid evaluates the rules at up to three steps (at_step SslBump1, 2, 3):
// the first matching rule of a step decides it. Peek and stare lead to the
// next step and are ignored at step 3; bump, splice and terminate end the
// evaluation (client-first and server-first are older names of bump, none
// of splice). A step where no rule matches splices at step 1; later it
// splices after a peek and bumps after a stare, and squid cannot bump after
// peeking at step 2 nor splice after staring there.
func (p *squidPolicy) bumps(r PolicyRequest) (bool, *squidRule, []string) {
	if !p.bumpPort {
		return false, nil, nil
	}
	var assumed []string
	looked := "" // the peek or stare of the last step
	for step := 1; step <= 3; step++ {
		r.bumpStep = step
		var decided *squidRule
		for i := range p.bump {
			rule := &p.bump[i]
			if step == 3 && (rule.action == "peek" || rule.action == "stare") {
				continue
			}
			matched, ruleAssumed := p.matchRule(*rule, r)
			for _, a := range ruleAssumed {
				assumed = append(assumed, fmt.Sprintf("%s (%s): %s", rule.source, rule.text, a))
			}
			if matched {
				decided = rule
				break
			}
		}
		switch {
		case decided == nil && step == 1:
			return false, nil, dedupe(assumed)
		case decided == nil:
			return looked == "stare", nil, dedupe(assumed)
		case decided.action == "peek" || decided.action == "stare":
			looked = decided.action
			continue
		case decided.action == "terminate":
			return false, decided, dedupe(assumed)
		case decided.action == "bump" || decided.action == "client-first" || decided.action == "server-first":
			if looked == "peek" && step == 3 {
				assumed = append(assumed, fmt.Sprintf("%s (%s): squid cannot bump after peeking at step 2; taken as spliced", decided.source, decided.text))
				return false, decided, dedupe(assumed)
			}
			return true, decided, dedupe(assumed)
		}
		// splice or none
		if looked == "stare" && step == 3 {
			assumed = append(assumed, fmt.Sprintf("%s (%s): squid cannot splice after staring at step 2; taken as bumped", decided.source, decided.text))
			return true, decided, dedupe(assumed)
		}
		return false, decided, dedupe(assumed)
	}
	return looked == "stare", nil, dedupe(assumed)
}

// joinAssumed joins two explanations with "; ", either of which may be empty.
func joinAssumed(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// access decides r by the http_access rules alone.
func (p *squidPolicy) access(r PolicyRequest) PolicyDecision {
	var assumed []string
	for _, rule := range p.rules {
		matched, ruleAssumed := p.matchRule(rule, r)
		for _, a := range ruleAssumed {
			assumed = append(assumed, fmt.Sprintf("%s (%s): %s", rule.source, rule.text, a))
		}
		if !matched {
			continue
		}
		return PolicyDecision{
			Allowed:   rule.allow,
			Rule:      rule.text,
			Source:    rule.source,
			Uncertain: strings.Join(dedupe(assumed), "; "),
		}
	}
	d := PolicyDecision{Rule: DefaultDeny, Uncertain: strings.Join(dedupe(assumed), "; ")}
	switch {
	case len(p.rules) == 0:
		d.Why = "no http_access rule: squid denies every request"
	case p.rules[len(p.rules)-1].allow:
		d.Why = fmt.Sprintf("no http_access rule matched; the last one (%s) allows, so squid denies", p.rules[len(p.rules)-1].source)
	default:
		d.Allowed = true
		d.Rule = DefaultAllow
		d.Why = fmt.Sprintf("no http_access rule matched; the last one (%s) denies, so squid allows", p.rules[len(p.rules)-1].source)
	}
	return d
}

// matchRule reports whether every acl of rule matches r, as squid ANDs
// them. An acl that is decided and fails settles the rule, whatever the
// undecided ones would do, and then nothing was assumed. Otherwise the
// rule's result rests on the undecided acls' assumptions, which it
// returns.
func (p *squidPolicy) matchRule(rule squidRule, r PolicyRequest) (bool, []string) {
	matched := true
	var assumed []string
	for _, ref := range rule.acls {
		m, assumption := p.match(ref.name, r)
		if assumption == "" && m == ref.negate {
			return false, nil
		}
		if assumption != "" {
			assumed = append(assumed, assumption)
			if m == ref.negate {
				matched = false
			}
		}
	}
	return matched, assumed
}

// match reports whether the named acl matches r. When it cannot know, it
// returns what it assumed.
func (p *squidPolicy) match(name string, r PolicyRequest) (bool, string) {
	a := p.acls[name]
	if a == nil {
		return false, fmt.Sprintf("acl %s is not defined; taken as not matching", name)
	}
	host := strings.TrimSuffix(strings.ToLower(r.Host), ".")
	switch a.typ {
	case "all":
		return true, ""
	case "dstdomain", "ssl::server_name":
		for _, d := range a.domains {
			if strings.HasPrefix(d, ".") {
				if matchDomainSuffix(host, d[1:]) {
					return true, ""
				}
			} else if host == d {
				return true, ""
			}
		}
		return false, ""
	case "dstdom_regex", "ssl::server_name_regex":
		return matchAny(a.regexps, host), ""
	case "url_regex":
		url := fmt.Sprintf("%s:%d", host, r.Port)
		if r.Method != "CONNECT" {
			// A catalog path is a pattern (/api/v*/sessions*); only its
			// part before the first * is known.
			path, _, cut := strings.Cut(r.Path, "*")
			url = fmt.Sprintf("%s://%s%s", r.Scheme, host, path)
			if cut {
				return matchAny(a.regexps, url), fmt.Sprintf("acl %s (url_regex) is matched against %s, the call's URL up to its first *", name, url)
			}
		}
		return matchAny(a.regexps, url), ""
	case "at_step":
		if r.bumpStep == 0 {
			return false, fmt.Sprintf("acl %s (at_step) only matches while squid bumps; taken as not matching", name)
		}
		return slices.Contains(a.steps, fmt.Sprintf("sslbump%d", r.bumpStep)), ""
	case "port":
		for _, pr := range a.ports {
			if r.Port >= pr[0] && r.Port <= pr[1] {
				return true, ""
			}
		}
		return false, ""
	case "method":
		for _, m := range a.methods {
			if m == r.Method {
				return true, ""
			}
		}
		return false, ""
	case "src":
		in, partly, known := clientIn(a.prefixes, r)
		switch {
		case !known:
			return true, fmt.Sprintf("the client is taken to be in acl %s (src; give --client)", name)
		case partly:
			return true, fmt.Sprintf("client range %s is only partly in acl %s (src); taken as in it", r.ClientRange, name)
		}
		return in, ""
	case "dst":
		// Squid resolves the name and matches when any of its addresses
		// is in the acl.
		if addr, err := netip.ParseAddr(host); err == nil {
			return containsAddr(a.prefixes, addr), ""
		}
		if len(r.Addrs) > 0 {
			for _, addr := range r.Addrs {
				if containsAddr(a.prefixes, addr) {
					return true, ""
				}
			}
			return false, ""
		}
		return false, fmt.Sprintf("acl %s (dst) needs the address %s resolves to (give --report with traffic to it); taken as not matching", name, host)
	}
	return true, fmt.Sprintf("acl %s of type %s cannot be evaluated without traffic; taken as matching", name, a.typ)
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// squidParser reads a squid configuration and the files it includes.
type squidParser struct {
	read ReadFileFunc
	p    *squidPolicy
	// quoted is squid's configuration_includes_quoted_values: when on, a
	// quoted token is a value (which may hold spaces and #), not the name
	// of a file of values.
	quoted bool
}

// fields splits a configuration line into tokens the way squid's
// ConfigParser does: tokens are separated by white space, and a token that
// starts with # ends the line, so "port 80 # http" is two values and a
// comment, while a # inside a token ("a#b") is part of it. With
// configuration_includes_quoted_values on, a token that starts with a
// double or single quote runs to the matching quote, backslash escaping the
// next character, and then stands for its text (marked with a leading NUL
// so that values does not take it for a file name).
func (sp *squidParser) fields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t\r\f\v")
		if line == "" || line[0] == '#' {
			return out, nil
		}
		if sp.quoted && (line[0] == '"' || line[0] == '\'') {
			q := line[0]
			var b strings.Builder
			i := 1
			for ; i < len(line) && line[i] != q; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				b.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("quoted value %s: no closing %c", line, q)
			}
			out = append(out, quotedValue+b.String())
			line = line[i+1:]
			continue
		}
		end := strings.IndexAny(line, " \t\r\f\v")
		if end < 0 {
			end = len(line)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
}

// quotedValue marks a token that was a quoted value; no configuration text
// holds a NUL.
const quotedValue = "\x00"

func parseSquid(name string, data []byte, read ReadFileFunc) (*squidPolicy, error) {
	sp := &squidParser{read: read, p: &squidPolicy{acls: make(map[string]*squidACL)}}
	// Predefined by squid (since version 4): all, localhost, to_localhost,
	// to_linklocal, manager and CONNECT. A configuration that defines them
	// again adds to them.
	builtin := []struct{ name, typ, values string }{
		{"all", "all", ""},
		{"localhost", "src", "127.0.0.1/32 ::1"},
		{"to_localhost", "dst", "127.0.0.0/8 0.0.0.0/32 ::/128"},
		{"to_linklocal", "dst", "169.254.0.0/16 fe80::/10"},
		{"CONNECT", "method", "CONNECT"},
		{"manager", "url_regex", "^cache_object:// ^https?://[^/]+/squid-internal-mgr/"},
	}
	for _, b := range builtin {
		if err := sp.acl("built-in", b.name, b.typ, strings.Fields(b.values)); err != nil {
			return nil, err
		}
	}
	if err := sp.file(name, data, 0); err != nil {
		return nil, err
	}
	return sp.p, nil
}

func (sp *squidParser) file(name string, data []byte, depth int) error {
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimRight(lines[i], "\r")
		// A line ending in a backslash goes on on the next line.
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimRight(lines[i], "\r")
		}
		f, err := sp.fields(line)
		where := sourceLine(name, n)
		if err != nil {
			return fmt.Errorf("squid configuration %s: %w", where, err)
		}
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "configuration_includes_quoted_values":
			if len(f) > 1 {
				sp.quoted = f[1] == "on"
			}
		case "include":
			err = sp.include(name, f[1:], depth)
		case "acl":
			if len(f) < 3 {
				err = fmt.Errorf("acl needs a name and a type")
				break
			}
			values, verr := sp.values(name, f[3:])
			if verr != nil {
				err = verr
				break
			}
			err = sp.acl(where, f[1], f[2], values)
		case "http_access":
			err = sp.access(where, f[1:], strings.ReplaceAll(strings.Join(f, " "), quotedValue, ""))
		case "ssl_bump":
			err = sp.sslBump(where, f[1:], strings.ReplaceAll(strings.Join(f, " "), quotedValue, ""))
		case "http_port", "https_port":
			if slices.Contains(f[1:], "ssl-bump") {
				sp.p.bumpPort = true
			}
		}
		if err != nil {
			return fmt.Errorf("squid configuration %s: %w", where, err)
		}
	}
	return nil
}

func (sp *squidParser) include(from string, patterns []string, depth int) error {
	if depth >= maxIncludeDepth {
		return fmt.Errorf("include nested more than %d deep", maxIncludeDepth)
	}
	for _, pat := range patterns {
		pat = relativeTo(from, pat)
		names := []string{pat}
		if strings.ContainsAny(pat, "*?[") {
			m, err := filepath.Glob(pat)
			if err != nil {
				return fmt.Errorf("include %q: %v", pat, err)
			}
			if len(m) == 0 {
				return fmt.Errorf("include %q: no file matches", pat)
			}
			sort.Strings(m)
			names = m
		}
		for _, n := range names {
			data, err := sp.read(n)
			if err != nil {
				return fmt.Errorf("include: %w", err)
			}
			if err := sp.file(n, data, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// values expands "file" arguments: a quoted name (or, with quoted values
// on, parameters("name")) stands for the file's lines. As squid's
// strtokFile reads them, each line gives its first word, and a line whose
// first word starts with # is a comment.
func (sp *squidParser) values(from string, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		var file string
		switch {
		case strings.HasPrefix(a, quotedValue):
			out = append(out, a[len(quotedValue):])
			continue
		case sp.quoted && strings.HasPrefix(a, `parameters("`) && strings.HasSuffix(a, `")`):
			file = a[len(`parameters("`) : len(a)-2]
		case !sp.quoted && len(a) >= 2 && a[0] == '"' && a[len(a)-1] == '"':
			file = a[1 : len(a)-1]
		default:
			out = append(out, a)
			continue
		}
		data, err := sp.read(relativeTo(from, file))
		if err != nil {
			return nil, fmt.Errorf("acl values: %w", err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if w := strings.Fields(l); len(w) > 0 && !strings.HasPrefix(w[0], "#") {
				out = append(out, w[0])
			}
		}
	}
	return out, nil
}

// acl adds the values of one acl line to the acl name.
func (sp *squidParser) acl(where, name, typ string, args []string) error {
	a := sp.p.acls[name]
	if a == nil {
		a = &squidACL{name: name, typ: typ, source: where}
		sp.p.acls[name] = a
	} else if a.typ != typ && a.source == "built-in" && sameAsBuiltin(name, typ, args) {
		// Configurations written before squid 3.2 define these acls
		// themselves; squid ignores the line with a warning, and so does
		// the check.
		sp.p.notes = append(sp.p.notes, fmt.Sprintf("%s: acl %s is built into squid; this definition (%s %s) means the same and is ignored, as squid does", where, name, typ, strings.Join(args, " ")))
		return nil
	} else if a.typ != typ {
		return fmt.Errorf("acl %s: type %s, but it was defined as %s at %s", name, typ, a.typ, a.source)
	}
	fold := false
	for _, v := range args {
		switch v {
		case "-i":
			fold = true
			continue
		case "+i":
			fold = false
			continue
		case "-n", "--", "-m", "-z":
			continue
		}
		switch typ {
		case "dstdomain", "ssl::server_name":
			a.domains = append(a.domains, strings.TrimSuffix(strings.ToLower(v), "."))
		case "dstdom_regex", "url_regex", "ssl::server_name_regex":
			expr := v
			if fold {
				expr = "(?i)" + expr
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return fmt.Errorf("acl %s: regular expression %q: %v", name, v, err)
			}
			a.regexps = append(a.regexps, re)
		case "src", "dst":
			p, err := parseSquidAddr(v)
			if err != nil {
				return fmt.Errorf("acl %s: %v", name, err)
			}
			a.prefixes = append(a.prefixes, p...)
		case "port":
			lo, hi, ok := strings.Cut(v, "-")
			from, err1 := strconv.Atoi(lo)
			to := from
			var err2 error
			if ok {
				to, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || from < 0 || to > 65535 || from > to {
				return fmt.Errorf("acl %s: port %q: want a number or a range such as 1025-65535", name, v)
			}
			a.ports = append(a.ports, [2]int{from, to})
		case "method":
			a.methods = append(a.methods, strings.ToUpper(v))
		case "at_step":
			a.steps = append(a.steps, strings.ToLower(v))
		}
	}
	return nil
}

// sameAsBuiltin reports whether "acl name typ args" is an old definition of
// a built-in acl with its built-in meaning: all as every source address, and
// manager as the cache_object protocol.
func sameAsBuiltin(name, typ string, args []string) bool {
	if len(args) == 0 {
		return false
	}
	for _, v := range args {
		switch {
		case name == "all" && typ == "src":
			if !slices.Contains([]string{"all", "0/0", "0.0.0.0/0", "0.0.0.0/0.0.0.0", "::/0"}, v) {
				return false
			}
		case name == "manager" && typ == "proto":
			if !strings.EqualFold(v, "cache_object") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// parseSquidAddr reads an address, a CIDR, an address with a dotted mask,
// or a range first-last, as src and dst acls take them.
func parseSquidAddr(v string) ([]netip.Prefix, error) {
	if v == "all" {
		return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}, nil
	}
	if lo, hi, ok := strings.Cut(v, "-"); ok {
		// A range first-last, optionally with a mask that squid applies to
		// both ends; the mask is left out here.
		hiAddr, _, _ := strings.Cut(hi, "/")
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hiAddr)
		if err1 != nil || err2 != nil || a.BitLen() != b.BitLen() || b.Less(a) {
			return nil, fmt.Errorf("address range %q", v)
		}
		return rangePrefixes(a, b), nil
	}
	if addr, mask, ok := strings.Cut(v, "/"); ok {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("address %q", v)
		}
		if bits, err := strconv.Atoi(mask); err == nil {
			p, err := a.Prefix(bits)
			if err != nil {
				return nil, fmt.Errorf("address %q: %v", v, err)
			}
			return []netip.Prefix{p}, nil
		}
		m, err := netip.ParseAddr(mask)
		if err != nil || !m.Is4() {
			return nil, fmt.Errorf("address %q: mask %q", v, mask)
		}
		b := m.As4()
		bits := 0
		for _, x := range b {
			for i := 7; i >= 0 && x&(1<<i) != 0; i-- {
				bits++
			}
		}
		p, _ := a.Prefix(bits)
		return []netip.Prefix{p}, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return nil, fmt.Errorf("address %q: want an address, CIDR or range (host names are not resolved)", v)
	}
	return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
}

func (sp *squidParser) access(where string, args []string, text string) error {
	if len(args) == 0 || (args[0] != "allow" && args[0] != "deny") {
		return fmt.Errorf("http_access: want allow or deny, then acl names")
	}
	refs, err := sp.aclRefs("http_access", args[1:])
	if err != nil {
		return err
	}
	sp.p.rules = append(sp.p.rules, squidRule{allow: args[0] == "allow", acls: refs, text: text, source: where})
	return nil
}

// aclRefs reads the acl names of a directive's rule, each negated by a
// leading "!"; every one must be defined above the rule, as squid wants.
func (sp *squidParser) aclRefs(directive string, names []string) ([]squidRef, error) {
	var refs []squidRef
	for _, a := range names {
		ref := squidRef{name: a}
		if strings.HasPrefix(a, "!") {
			ref = squidRef{name: a[1:], negate: true}
		}
		if sp.p.acls[ref.name] == nil {
			return nil, fmt.Errorf("%s: acl %q is not defined above", directive, ref.name)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// sslBumpActions are the actions an ssl_bump rule takes: those of squid 3.5
// and later, and the older client-first, server-first and none.
var sslBumpActions = []string{"splice", "bump", "peek", "stare", "terminate", "client-first", "server-first", "none"}

func (sp *squidParser) sslBump(where string, args []string, text string) error {
	if len(args) == 0 || !slices.Contains(sslBumpActions, args[0]) {
		return fmt.Errorf("ssl_bump: want one of %s, then acl names", strings.Join(sslBumpActions, ", "))
	}
	refs, err := sp.aclRefs("ssl_bump", args[1:])
	if err != nil {
		return err
	}
	sp.p.bump = append(sp.p.bump, squidRule{action: args[0], acls: refs, text: text, source: where})
	return nil
}

// rangePrefixes returns the fewest prefixes that cover first..last.
func rangePrefixes(first, last netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		bits := first.BitLen()
		// Widen the prefix while it starts at first and ends by last.
		for bits > 0 {
			p, _ := first.Prefix(bits - 1)
			if p.Addr() != first || lastAddr(p).Compare(last) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(first, bits)
		out = append(out, p)
		end := lastAddr(p)
		if end.Compare(last) >= 0 || !end.Next().IsValid() {
			return out
		}
		first = end.Next()
	}
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
