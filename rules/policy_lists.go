package rules

import (
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
)

// domainList is an allow-list of domain entries: a request to a listed
// name is allowed, every other request denied.
type domainList struct {
	format  string
	entries []domainEntry
}

// domainEntry is one line of a list.
type domainEntry struct {
	text   string // as written
	source string // file:line
	// labels of the domain; match says how they match a host.
	domain string
	match  entryMatch
	port   int // 0 for any port
}

type entryMatch int

const (
	matchExact      entryMatch = iota // the name only
	matchSubdomains                   // its subdomains, not the name itself
	matchDomain                       // the name and its subdomains
	matchSuffix                       // every name ending in the text
)

func (l *domainList) Format() string { return l.format }

// Decide implements [Policy].
func (l *domainList) Decide(r PolicyRequest) PolicyDecision {
	host := strings.TrimSuffix(strings.ToLower(r.Host), ".")
	for _, e := range l.entries {
		if e.port != 0 && e.port != r.Port {
			continue
		}
		if e.matches(host) {
			return PolicyDecision{Allowed: true, Rule: e.text, Source: e.source}
		}
	}
	return PolicyDecision{Rule: DefaultDeny, Why: fmt.Sprintf("%s is on no line of the allow-list", host)}
}

func (e *domainEntry) matches(host string) bool {
	switch e.match {
	case matchExact:
		return host == e.domain
	case matchSubdomains:
		return e.domain == "" || strings.HasSuffix(host, "."+e.domain)
	case matchSuffix:
		return strings.HasSuffix(host, e.domain)
	}
	return matchDomainSuffix(host, e.domain)
}

// parseDomainList reads a list, one entry a line; blank lines and lines
// starting with # are skipped, and so is anything after the entry.
//
// A plain list (PolicyDomains) reads "example.com" as that name only,
// ".example.com" as the name and its subdomains, "*.example.com" as its
// subdomains only, and "*" as every name; an entry may end in ":port", or
// be a URL whose host is taken.
//
// A PAN-OS list (PolicyEDL) reads "example.com" as the name and its
// subdomains, "^example.com" as the name only, and "*.example.com" as its
// subdomains, as PAN-OS domain lists do. An entry with a slash is a URL
// list's: "example.com/" (or "example.com/path") matches that host only,
// "*.example.com/" its subdomains; the path is not checked.
func parseDomainList(name string, data []byte, format string) (*domainList, error) {
	l := &domainList{format: format}
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "//") {
			continue
		}
		where := sourceLine(name, i+1)
		e, err := parseDomainEntry(f[0], format)
		if err != nil {
			return nil, fmt.Errorf("%s list %s: %w", format, where, err)
		}
		e.source = where
		l.entries = append(l.entries, e)
	}
	return l, nil
}

func parseDomainEntry(text, format string) (domainEntry, error) {
	e := domainEntry{text: text}
	v := strings.ToLower(text)
	if format == PolicyDomains && strings.Contains(v, "://") {
		u, err := neturl.Parse(v)
		if err != nil || u.Hostname() == "" {
			return e, fmt.Errorf("entry %q: not a URL with a host", text)
		}
		v = u.Hostname()
		if p := u.Port(); p != "" {
			v += ":" + p
		}
	}
	if format == PolicyDomains {
		if h, p, ok := strings.Cut(v, ":"); ok {
			port, err := strconv.Atoi(p)
			if err != nil || port < 1 || port > 65535 {
				return e, fmt.Errorf("entry %q: port %q", text, p)
			}
			v, e.port = h, port
		}
	}
	if format == PolicyEDL {
		// A URL-list entry: the host ends at the first slash and is matched
		// as written, not with its subdomains. The path is not checked:
		// without decryption the firewall sees only the server name.
		if h, _, ok := strings.Cut(v, "/"); ok {
			v = strings.TrimSuffix(h, ".")
			if strings.HasPrefix(v, "*.") {
				e.match, e.domain = matchSubdomains, v[2:]
			} else {
				e.match, e.domain = matchExact, strings.TrimPrefix(v, "^")
			}
			if err := checkDomain(e.domain); err != nil {
				return e, fmt.Errorf("entry %q: %v", text, err)
			}
			return e, nil
		}
	}
	v = strings.TrimSuffix(v, ".")
	switch {
	case v == "*":
		e.match = matchSubdomains
	case strings.HasPrefix(v, "*."):
		e.match, e.domain = matchSubdomains, v[2:]
	case format == PolicyEDL && strings.HasPrefix(v, "^"):
		e.match, e.domain = matchExact, v[1:]
	case format == PolicyEDL:
		e.match, e.domain = matchDomain, v
	case strings.HasPrefix(v, "."):
		e.match, e.domain = matchDomain, v[1:]
	default:
		e.match, e.domain = matchExact, v
	}
	if e.match != matchSubdomains || e.domain != "" {
		if err := checkDomain(e.domain); err != nil {
			return e, fmt.Errorf("entry %q: %v", text, err)
		}
	}
	return e, nil
}

// checkDomain rejects what cannot be a domain name: wildcards other than a
// leading "*.", spaces, empty labels.
func checkDomain(d string) error {
	if d == "" {
		return fmt.Errorf("empty domain")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return fmt.Errorf("empty label")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("character %q in a domain", c)
			}
		}
	}
	return nil
}
