package parsers

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// target is the destination part of a URL as proxies log it.
type target struct {
	host string // lower case, no trailing dot, no brackets around IPv6
	port uint16
	path string // path and query, as logged
}

var errNoHost = errors.New("no host")

// parseURL splits an absolute URL ("http://host:port/path?q") into its
// destination. A URL without a scheme is taken as host[:port][/path].
func parseURL(s string) (target, error) {
	var t target
	port := uint16(80)
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		switch strings.ToLower(s[:i]) {
		case "https", "wss":
			port = 443
		case "ftp":
			port = 21
		}
		rest = s[i+3:]
	}
	hostport, path := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		hostport, path = rest[:i], rest[i:]
		if path[0] != '/' {
			path = "/" + path
		}
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:] // drop credentials; never report them
	}
	host, p, err := splitHostPort(hostport, port)
	if err != nil {
		return t, err
	}
	return target{host: host, port: p, path: path}, nil
}

// splitHostPort splits "host:port", "[v6]:port" or a bare host, using def
// as the port when none is given, and normalises the host.
func splitHostPort(s string, def uint16) (string, uint16, error) {
	host, port := s, def
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return "", 0, errors.New("bad port " + strconv.Quote(p))
		}
		host, port = h, uint16(n)
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", 0, errNoHost
	}
	if strings.ContainsAny(host, " \t/\\") {
		return "", 0, errors.New("bad host " + strconv.Quote(host))
	}
	return host, port, nil
}

// secretKeys are query parameters whose values are never reported.
var secretKeys = map[string]bool{
	"code": true, "state": true, "access_token": true, "id_token": true,
	"refresh_token": true, "client_secret": true, "password": true,
	"token": true, "assertion": true, "code_verifier": true, "apikey": true,
	"api_key": true, "key": true, "secret": true, "session": true, "sig": true,
}

// Redacted replaces a secret in a report.
const Redacted = "REDACTED"

// RedactPath removes secrets from a URL path with query: the values of
// secret parameters (OAuth codes and tokens, passwords) and of any
// parameter that looks like a bearer token are replaced by [Redacted], and
// the fragment is dropped.
func RedactPath(p string) string {
	if i := strings.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	base, query, ok := strings.Cut(p, "?")
	if !ok || query == "" {
		return p
	}
	params := strings.Split(query, "&")
	for i, kv := range params {
		k, v, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if secretKeys[strings.ToLower(key)] || looksLikeToken(v) {
			params[i] = k + "=" + Redacted
		}
	}
	return base + "?" + strings.Join(params, "&")
}

// looksLikeToken reports whether v could be a bearer token or similar
// secret: long, and made only of base64url, hex or JWT characters.
func looksLikeToken(v string) bool {
	if len(v) < 24 {
		return false
	}
	digits, letters := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c == '-' || c == '_' || c == '.' || c == '%' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return digits > 0 && letters > 0
}
