package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Policy formats: the rule sets [LoadPolicy] reads.
const (
	PolicySquid   = "squid"       // squid.conf: acl and http_access lines, include files
	PolicyDomains = "domains"     // a plain allow-list, one domain a line
	PolicyEDL     = "panos-edl"   // a PAN-OS external dynamic list of domains
	PolicyAWS     = "aws-domains" // an AWS Network Firewall domain-list rule group (JSON)
	PolicyAzure   = "azure-app"   // Azure Firewall application rule collections (JSON)
)

// PolicyFormats lists the policy formats, in the order help texts give them.
var PolicyFormats = []string{PolicySquid, PolicyDomains, PolicyEDL, PolicyAWS, PolicyAzure}

// PolicyRequest is one call as the proxy or firewall sees it. A proxy sees
// an HTTPS call as CONNECT host:port; a firewall sees its TLS server name.
type PolicyRequest struct {
	Scheme string     // https or http
	Method string     // CONNECT for HTTPS through a proxy, else the HTTP method
	Host   string     // lower case, no trailing dot
	Port   int        // destination port
	Path   string     // for plain HTTP requests; empty for CONNECT
	Client netip.Addr // the requesting host, when known
	// ClientRange is the requesting hosts when they are given as a range
	// (a CIDR); Client is then zero.
	ClientRange netip.Prefix
	// Addrs are the addresses Host was seen to resolve to (from a report),
	// for rules on the destination address; empty when unknown.
	Addrs []netip.Addr
	// Inner is, for a CONNECT, the request the client sends inside the
	// tunnel, which a proxy that decrypts the tunnel (squid's ssl_bump)
	// checks again with its own method and URL; nil when unknown.
	Inner *PolicyRequest

	bumpStep int // the ssl_bump step being evaluated (1-3), 0 outside ssl_bump
}

// String formats r as the device sees it: a proxy's request line, or for
// HTTPS through a firewall the TLS server name and port.
func (r PolicyRequest) String() string {
	switch {
	case r.Method == "CONNECT":
		return fmt.Sprintf("CONNECT %s:%d", r.Host, r.Port)
	case r.Scheme == "https":
		return fmt.Sprintf("TLS %s:%d", r.Host, r.Port)
	}
	return fmt.Sprintf("%s http://%s:%d%s", r.Method, r.Host, r.Port, r.Path)
}

// Decision defaults: no rule matched, and the policy's own default applied.
const (
	DefaultDeny  = "default-deny"
	DefaultAllow = "default-allow"
)

// PolicyDecision is what a policy does with a request and why.
type PolicyDecision struct {
	Allowed bool
	// Rule quotes the deciding rule, or names the default (DefaultDeny,
	// DefaultAllow) when no rule matched.
	Rule string
	// Source is where the deciding rule is, "file:line"; empty for a default.
	Source string
	// Why explains a default or a match that is not obvious from Rule.
	Why string
	// Uncertain says what the decision had to assume: an acl type that
	// cannot be evaluated without traffic, a client address not given.
	Uncertain string
}

// Policy decides requests the way one proxy or firewall configuration
// would. Implementations are safe for concurrent use once loaded.
type Policy interface {
	// Format returns one of [PolicyFormats].
	Format() string
	// Decide returns what the policy does with r.
	Decide(r PolicyRequest) PolicyDecision
}

// PolicyNoter is a [Policy] that has something to say about how it was
// read: lines it ignored, as the device does, with file:line.
type PolicyNoter interface {
	Notes() []string
}

// ReadFileFunc reads a file named by a policy (an include, an acl's value
// file). Tests pass an in-memory one; [LoadPolicy] uses the file system.
type ReadFileFunc func(name string) ([]byte, error)

// LoadPolicy reads the policy file at path in the given format, or in the
// format detected from its content when format is empty.
func LoadPolicy(path, format string) (Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePolicy(path, data, format, os.ReadFile)
}

// ParsePolicy parses data, read from the file name, as a policy of the
// given format, or of the detected one when format is empty. read resolves
// the files a squid configuration includes; relative names are taken from
// the including file's directory.
func ParsePolicy(name string, data []byte, format string, read ReadFileFunc) (Policy, error) {
	if format == "" {
		var err error
		if format, err = DetectPolicy(name, data); err != nil {
			return nil, err
		}
	}
	switch format {
	case PolicySquid:
		return parseSquid(name, data, read)
	case PolicyDomains, PolicyEDL:
		return parseDomainList(name, data, format)
	case PolicyAWS:
		return parseAWS(name, data)
	case PolicyAzure:
		return parseAzure(name, data)
	}
	return nil, fmt.Errorf("policy format %q: want one of %s", format, strings.Join(PolicyFormats, ", "))
}

// DetectPolicy tells a policy's format from its content: JSON of an AWS
// domain-list rule group or of Azure application rules, a squid
// configuration, or else a list of domains. A list is taken as a plain
// allow-list unless it uses the PAN-OS caret, has URL-list entries
// ("example.com/") or its name ends in .edl;
// name the format when that guess is wrong, since the two read an entry
// such as example.com differently.
func DetectPolicy(name string, data []byte) (string, error) {
	trim := bytes.TrimSpace(data)
	if len(trim) > 0 && (trim[0] == '{' || trim[0] == '[') {
		var v any
		if err := json.Unmarshal(trim, &v); err != nil {
			return "", fmt.Errorf("policy %s: JSON: %v", name, err)
		}
		switch {
		case findKey(v, "rulessourcelist") != nil:
			return PolicyAWS, nil
		case findKey(v, "targetfqdns") != nil:
			return PolicyAzure, nil
		}
		return "", fmt.Errorf("policy %s: JSON that is neither an AWS domain-list rule group (RulesSourceList) nor Azure application rules (targetFqdns)", name)
	}
	edl := strings.HasSuffix(strings.ToLower(name), ".edl")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "acl", "http_access", "include", "http_port":
			return PolicySquid, nil
		}
		if strings.HasPrefix(f[0], "^") || (strings.Contains(f[0], "/") && !strings.Contains(f[0], "://")) {
			edl = true
		}
	}
	if edl {
		return PolicyEDL, nil
	}
	return PolicyDomains, nil
}

// findKey returns the first value under a key equal to key once lower-cased
// and stripped of underscores, searching v depth first.
func findKey(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if normKey(k) == key {
				return val
			}
		}
		for _, val := range x {
			if f := findKey(val, key); f != nil {
				return f
			}
		}
	case []any:
		for _, val := range x {
			if f := findKey(val, key); f != nil {
				return f
			}
		}
	}
	return nil
}

func normKey(k string) string {
	return strings.ToLower(strings.ReplaceAll(k, "_", ""))
}

// clientIn reports whether the client of r is in ps: for a range, whether
// all of it is. partly reports a range that straddles: some of its hosts are
// in ps and some not. known is false when r names no client.
//
// A range covered only by several prefixes together (10.0.0.0/8 by its two
// /9 halves) is reported as partly in; that errs on the side of an
// uncertain verdict.
func clientIn(ps []netip.Prefix, r PolicyRequest) (in, partly, known bool) {
	switch {
	case r.ClientRange.IsValid():
		c := r.ClientRange.Masked()
		for _, p := range ps {
			if p.Bits() <= c.Bits() && p.Contains(c.Addr()) {
				return true, false, true
			}
		}
		for _, p := range ps {
			if p.Overlaps(c) {
				return false, true, true
			}
		}
		return false, false, true
	case r.Client.IsValid():
		return containsAddr(ps, r.Client), false, true
	}
	return false, false, false
}

// matchDomainSuffix reports whether host is domain or one of its subdomains.
func matchDomainSuffix(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// sourceLine formats a rule's place as file:line.
func sourceLine(file string, line int) string {
	return fmt.Sprintf("%s:%d", file, line)
}

// relativeTo resolves name against the directory of the file that names it.
// Squid itself takes a relative name from its working directory, which a
// check cannot know; configurations in use name their files absolutely
// (/etc/squid/conf.d/*.conf), and a copied configuration directory then
// still reads as a whole.
func relativeTo(from, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(from), name)
}
