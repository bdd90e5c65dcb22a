package parsers

import (
	"bytes"
	"errors"
	"net/netip"
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
	return parseURLBytes([]byte(s), nil)
}

// parseURLBytes is [parseURL] on bytes; scheme, when the URL has none,
// gives the default port. The result does not alias u.
func parseURLBytes(u, scheme []byte) (target, error) {
	host, port, path, err := urlParts(u, scheme)
	if err != nil {
		return target{}, err
	}
	ps := string(path)
	if ps[0] != '/' {
		ps = "/" + ps
	}
	return target{host: lowerString(host), port: port, path: ps}, nil
}

// urlParts splits an absolute URL into its host (validated, not yet lower
// case), port and path with query; the slices alias u.
func urlParts(u, scheme []byte) (host []byte, port uint16, path []byte, err error) {
	rest := u
	if i := bytes.Index(u, []byte("://")); i >= 0 && i <= 10 {
		scheme, rest = u[:i], u[i+3:]
	}
	port = defaultPort(scheme)
	hostport := rest
	path = slash
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	if i := bytes.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:] // drop credentials; never report them
	}
	host, port, err = hostPort(hostport, port)
	return host, port, path, err
}

var slash = []byte("/")

func defaultPort(scheme []byte) uint16 {
	switch {
	case bytes.EqualFold(scheme, []byte("https")), bytes.EqualFold(scheme, []byte("wss")),
		bytes.EqualFold(scheme, []byte("ssl")), bytes.EqualFold(scheme, []byte("tls")):
		return 443
	case bytes.EqualFold(scheme, []byte("ftp")):
		return 21
	}
	return 80
}

// splitHostPort splits "host:port", "[v6]:port" or a bare host, using def
// as the port when none is given, and normalises the host.
func splitHostPort(s string, def uint16) (string, uint16, error) {
	return splitHostPortBytes([]byte(s), def)
}

// splitHostPortBytes is [splitHostPort] on bytes. The host it returns is
// lower case, without brackets or a trailing dot, and made only of the
// characters of host names and IP addresses.
func splitHostPortBytes(s []byte, def uint16) (string, uint16, error) {
	host, port, err := hostPort(s, def)
	if err != nil {
		return "", 0, err
	}
	return lowerString(host), port, nil
}

// hostPort is [splitHostPortBytes] returning the host as a validated slice
// of s, in its original case.
func hostPort(s []byte, def uint16) ([]byte, uint16, error) {
	host, port := s, def
	switch {
	case len(s) > 0 && s[0] == '[':
		end := bytes.IndexByte(s, ']')
		if end < 0 {
			return nil, 0, errors.New("bad host " + strconv.Quote(field(s)))
		}
		host = s[1:end]
		if rest := s[end+1:]; len(rest) > 0 {
			if rest[0] != ':' {
				return nil, 0, errors.New("bad host " + strconv.Quote(field(s)))
			}
			n, err := atoi(rest[1:])
			if err != nil || n > 65535 {
				return nil, 0, errors.New("bad port " + strconv.Quote(field(rest[1:])))
			}
			port = uint16(n)
		}
	case bytes.Count(s, []byte(":")) == 1:
		i := bytes.IndexByte(s, ':')
		host = s[:i]
		n, err := atoi(s[i+1:])
		if err != nil || n > 65535 {
			return nil, 0, errors.New("bad port " + strconv.Quote(field(s[i+1:])))
		}
		port = uint16(n)
	}
	for len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if len(host) == 0 {
		return nil, 0, errNoHost
	}
	if !validHost(host) {
		return nil, 0, errors.New("bad host " + strconv.Quote(field(host)))
	}
	return host, port, nil
}

// validHost reports whether h is made only of the characters of DNS names
// (letters, digits, '-', '_', '.') or is an IPv6 address without a zone,
// and is at most 253 bytes long with no empty label.
func validHost(h []byte) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	if bytes.IndexByte(h, ':') >= 0 {
		// A zone ("fe80::1%eth0") may hold any byte, and names an
		// interface of the host that logged it, not a destination.
		a, err := netip.ParseAddr(string(h))
		return err == nil && a.Zone() == ""
	}
	if h[0] == '.' || bytes.Contains(h, []byte("..")) {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// lowerString returns b in lower case as a new string.
func lowerString(b []byte) string {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return string(bytes.ToLower(b))
		}
	}
	return string(b)
}

// secretKeys are query parameters whose values are never reported.
var secretKeys = map[string]bool{
	"code": true, "state": true, "access_token": true, "id_token": true,
	"refresh_token": true, "client_secret": true, "password": true,
	"token": true, "assertion": true, "code_verifier": true, "apikey": true,
	"api_key": true, "key": true, "secret": true, "session": true, "sig": true,
	"passwd": true, "pwd": true, "auth": true, "authorization": true,
	"signature": true, "x-amz-signature": true, "x-amz-credential": true,
	"x-amz-security-token": true, "client_assertion": true, "sessionid": true,
}

// Redacted replaces a secret in a report.
const Redacted = "REDACTED"

// RedactPath removes secrets from a URL path with query: the values of
// secret parameters (OAuth codes and tokens, passwords) and of any
// parameter that looks like a bearer token are replaced by [Redacted], and
// the fragment is dropped.
func RedactPath(p string) string { return redactPath(p, false) }

// redactPath is [RedactPath], or p unchanged when keep is set.
func redactPath(p string, keep bool) string {
	if keep {
		return p
	}
	if i := strings.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	base, query, ok := strings.Cut(p, "?")
	if !ok || query == "" {
		return redactSegments(p)
	}
	params := strings.Split(query, "&")
	for i, kv := range params {
		k, v, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			if looksLikeToken(k) {
				params[i] = Redacted
			}
			continue
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if secretKeys[strings.ToLower(key)] || looksLikeToken(v) || looksLikeToken(unescape(v)) {
			params[i] = k + "=" + Redacted
		}
	}
	return redactSegments(base) + "?" + strings.Join(params, "&")
}

func unescape(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// redactSegments replaces path segments that look like bearer tokens (a
// JWT or a long opaque key put in the path) by [Redacted].
func redactSegments(p string) string { return redactSegmentsIf(p, looksLikeBearer) }

// redactSegmentsIf replaces the path segments secret reports true of by
// [Redacted].
func redactSegmentsIf(p string, secret func(string) bool) string {
	if len(p) < 24 || !strings.Contains(p, "/") {
		return p
	}
	segs := strings.Split(p, "/")
	changed := false
	for i, s := range segs {
		if secret(s) {
			segs[i], changed = Redacted, true
		}
	}
	if !changed {
		return p
	}
	return strings.Join(segs, "/")
}

// looksLikeBearer reports whether a path segment is a JWT (three base64url
// parts starting "eyJ") or a long token with the usual prefixes.
func looksLikeBearer(s string) bool {
	if strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2 && len(s) > 30 {
		return true
	}
	return len(s) >= 32 && looksLikeToken(s) && !isHexID(s)
}

// isHexID reports whether s is a UUID or a hex digest, which name objects
// and are not secrets.
func isHexID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// tokenPrefixes start the API keys and access tokens that services hand out
// in a recognisable form (GitHub, Slack, OpenAI-style, AWS access keys).
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "github_pat_", "xoxb-", "xoxp-", "xoxa-", "sk-", "AKIA", "ASIA"}

// looksLikeToken reports whether v could be a bearer token or similar
// secret: a JWT, a key with a known prefix, or a long run of base64url,
// hex or JWT characters that reads as random rather than as words. An
// ordinary file name (174px-Wikipedia_wordmark.svg.png) is long and mixes
// letters and digits too, so the test counts how often the character
// class (digit, lower, upper) changes: about two times in three in random
// base64, a few times in a whole file name.
func looksLikeToken(v string) bool {
	if len(v) < 20 {
		return false
	}
	if strings.HasPrefix(v, "eyJ") && len(v) >= 24 {
		return true
	}
	known := false
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(v, p) {
			known = true
			break
		}
	}
	if len(v) < 24 && !known {
		return false
	}
	digits, letters, changes := 0, 0, 0
	var last byte // class of the last letter or digit: 'd', 'l' or 'u'
	for i := 0; i < len(v); i++ {
		c := v[i]
		var class byte
		switch {
		case c >= '0' && c <= '9':
			digits++
			class = 'd'
		case c >= 'a' && c <= 'z':
			letters++
			class = 'l'
		case c >= 'A' && c <= 'Z':
			letters++
			class = 'u'
		case c == '-' || c == '_' || c == '.' || c == '%' || c == '+' || c == '/' || c == '=' || c == '~':
			continue
		default:
			return false
		}
		if last != 0 && class != last {
			changes++
		}
		last = class
	}
	if known {
		return letters > 0
	}
	if digits == 0 || letters == 0 || hasFileExtension(v) {
		return false
	}
	return changes >= len(v)/4
}

// mayBeToken reports whether v could hold a secret at all: long, and made
// only of base64url, hex or JWT characters, letters and digits mixed. It
// is what error messages, which need no exact value, redact: a password
// repeated in a broken field reads as words, not as random base64.
func mayBeToken(v string) bool {
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
		case c == '-' || c == '_' || c == '.' || c == '%' || c == '+' || c == '/' || c == '=' || c == '~':
		default:
			return false
		}
	}
	return digits > 0 && letters > 0 || strings.HasPrefix(v, "eyJ")
}

// hasFileExtension reports whether v ends like a file name: a dot and one
// to five lowercase letters or digits, at least one a letter (".png",
// ".mp4"), after a name.
func hasFileExtension(v string) bool {
	i := strings.LastIndexByte(v, '.')
	if i <= 0 || len(v)-i-1 < 1 || len(v)-i-1 > 5 {
		return false
	}
	letter := false
	for _, c := range []byte(v[i+1:]) {
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return letter
}

// redactForMessage returns a URL fit for an error message: the query and
// fragment are dropped, since they may hold secrets, and the result is
// bounded.
func redactForMessage(u []byte) string {
	if i := bytes.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := bytes.Index(u, []byte("://")); i >= 0 {
		if j := bytes.IndexByte(u[i+3:], '@'); j >= 0 && bytes.IndexByte(u[i+3:i+3+j], '/') < 0 {
			u = append(append([]byte(nil), u[:i+3]...), u[i+4+j:]...)
		}
	}
	if len(u) > 200 {
		u = u[:200]
	}
	return redactSegmentsIf(string(u), func(s string) bool {
		return looksLikeBearer(s) || mayBeToken(s) && !isHexID(s)
	})
}

// maxField bounds the part of an input field an error message quotes.
const maxField = 64

// field returns an input field fit for an error message: without a URL
// query or fragment, a token-looking value replaced by [Redacted], and at
// most maxField bytes, so that messages neither leak secrets nor grow
// with hostile input.
func field(b []byte) string {
	if i := bytes.IndexAny(b, "?#"); i >= 0 {
		b = b[:i]
	}
	if mayBeToken(string(b)) && !isHexID(string(b)) && bytes.IndexByte(b, '/') < 0 {
		return Redacted
	}
	if len(b) > maxField {
		return string(b[:maxField]) + "..."
	}
	return string(b)
}
