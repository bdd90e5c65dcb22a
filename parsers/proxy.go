package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// proxyRecord holds the fields of one proxy log record as found in the line,
// before they are normalised; every format of a forward proxy fills the ones
// it has and lets fill build the observation. The byte slices alias the line.
type proxyRecord struct {
	time time.Time

	client     []byte // client address, maybe with a port
	clientPort []byte
	method     []byte
	url        []byte // absolute URL, host:port for CONNECT, or a path
	scheme     []byte // when the URL comes in parts
	host       []byte // Host header, request domain or SNI when url lacks it
	port       []byte
	path       []byte
	query      []byte // with or without the leading '?'
	code       []byte // the proxy's result code (TCP_DENIED) or action word
	status     []byte // HTTP status
	server     []byte // address the proxy connected to, maybe with a port
	serverPort []byte

	// denied is set by formats whose action column says the request was
	// blocked by policy even when the status says otherwise.
	denied bool
	// rule names the policy that decided, for the detail.
	rule []byte
	// origin is set by formats whose record shows that the proxy passed
	// the request on and the server answered (Squid's hierarchy names a
	// peer, Envoy an upstream host with no response flag): a 401 or 403
	// is then the server's answer, not the proxy's refusal.
	origin bool

	cache *recordCache // kept across reset
}

// reset clears the fields of r, keeping its cache.
func (r *proxyRecord) reset() {
	c := r.cache
	*r = proxyRecord{cache: c}
	if r.cache == nil {
		r.cache = &recordCache{}
	}
}

// errNoRequest is the skip of a record that logs a connection the proxy
// never read a request from.
const errNoRequest Skip = "no request received (transaction ended before headers)"

// errNoDestination is the skip of a record whose request names no host,
// as a web server (not a forward proxy) logs it.
const errNoDestination Skip = "no destination host (not a proxy request)"

// fill builds o from r. keep keeps URL secrets. It returns a Skip for a
// record that holds no destination and an error for a malformed one.
func (r *proxyRecord) fill(o *capture.Observation, keep bool) error {
	if !r.time.IsZero() {
		o.Time = r.time
	}
	if c := dash(r.client); len(c) > 0 {
		if i := bytes.IndexByte(c, ','); i > 0 {
			c = c[:i] // X-Forwarded-For: the first address is the client
		}
		ap, err := parseAddrMaybePort(c)
		if err != nil {
			return fmt.Errorf("client %q: not an address", field(c))
		}
		if p := dash(r.clientPort); len(p) > 0 {
			n, err := atoi(p)
			if err != nil || n > 65535 {
				return fmt.Errorf("client port %q: not a port", field(p))
			}
			ap = netip.AddrPortFrom(ap.Addr(), uint16(n))
		}
		o.Client = ap
	}

	status := -1
	if s := dash(r.status); len(s) > 0 {
		n, err := atoi(s)
		if err != nil || n > 999 {
			return fmt.Errorf("status %q: not a number", field(s))
		}
		status = n
	}
	method := dash(r.method)
	if len(method) == 0 || bytes.HasPrefix(r.url, []byte("error:")) {
		return errNoRequest
	}
	o.Method = internMethod(method)
	if err := r.target(o, keep); err != nil {
		return err
	}

	if s := dash(r.server); len(s) > 0 {
		if i := bytes.Index(s, []byte("://")); i >= 0 {
			s = s[i+3:]
		}
		if ap, err := parseAddrMaybePort(s); err == nil {
			port := o.Server.Port()
			if ap.Port() != 0 {
				port = ap.Port()
			}
			o.Server = netip.AddrPortFrom(ap.Addr(), port)
		}
	}
	if p := dash(r.serverPort); len(p) > 0 {
		if n, err := atoi(p); err == nil && n > 0 && n <= 65535 {
			o.Server = netip.AddrPortFrom(o.Server.Addr(), uint16(n))
		}
	}
	code := dash(r.code)
	if status < 0 {
		status = 0
		if len(code) == 0 {
			status = 200 // a record with neither is taken as served
		}
	}
	setProxyOutcomeBytes(o, code, status, r.cache)
	if r.origin && !r.denied && (status == 401 || status == 403) && !isProxyRefusal(code) {
		// The request left through the proxy, so egress works; what the
		// server thought of it is for the detail.
		o.Outcome, o.Reason = capture.OutcomeOK, capture.ReasonNone
		o.Detail += " (answered by the server, not the proxy)"
	}
	if r.denied && o.Outcome != capture.OutcomeBlocked {
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyDenied
	}
	if len(r.rule) > 0 && o.Outcome == capture.OutcomeBlocked {
		o.Detail += ", rule " + string(r.rule)
	}
	return nil
}

// isProxyRefusal reports whether code is a result code by which a proxy
// says it refused the request itself (Squid's TCP_DENIED family, and the
// NONE codes of a request it never passed on).
func isProxyRefusal(code []byte) bool {
	return bytes.Contains(code, []byte("DENIED")) || bytes.HasPrefix(code, []byte("NONE")) ||
		bytes.HasPrefix(code, []byte("ERR_"))
}

// target sets host, port, path and host source from the URL or its parts.
func (r *proxyRecord) target(o *capture.Observation, keep bool) error {
	o.Transport = capture.TCP
	u := dash(r.url)
	if o.Method == "CONNECT" {
		t := u
		if len(t) == 0 || t[0] == '/' {
			t = dash(r.host)
		}
		h, port, err := hostPort(trimSlash(stripScheme(t)), 443)
		if err != nil {
			return fmt.Errorf("CONNECT target %q: %w", field(t), err)
		}
		host := r.cache.host(h)
		if p := dash(r.port); len(p) > 0 {
			if n, err := atoi(p); err == nil && n > 0 && n <= 65535 {
				port = uint16(n)
			}
		}
		o.Host, o.HostSource = host, capture.SourceConnect
		o.Server = netip.AddrPortFrom(netip.Addr{}, port)
		return nil
	}
	if len(u) > 0 && u[0] != '/' && u[0] != '*' {
		h, port, path, err := urlParts(u, dash(r.scheme))
		if err != nil {
			return fmt.Errorf("URL %q: %w", redactForMessage(u), err)
		}
		o.Host, o.HostSource = r.cache.host(h), capture.SourceURL
		o.Path = r.cache.path(path, keep)
		o.Server = netip.AddrPortFrom(netip.Addr{}, port)
		if p := dash(r.port); len(p) > 0 {
			if n, err := atoi(p); err == nil && n > 0 && n <= 65535 {
				o.Server = netip.AddrPortFrom(netip.Addr{}, uint16(n))
			}
		}
		return nil
	}
	// The URL is a path, or missing: the host comes from its own field.
	h := dash(r.host)
	if len(h) == 0 {
		return errNoDestination
	}
	def := uint16(80)
	if s := dash(r.scheme); bytes.EqualFold(s, []byte("https")) || bytes.EqualFold(s, []byte("ssl")) {
		def = 443
	}
	hb, port, err := hostPort(h, def)
	if err != nil {
		return fmt.Errorf("host %q: %w", field(h), err)
	}
	host := r.cache.host(hb)
	if p := dash(r.port); len(p) > 0 {
		if n, err := atoi(p); err == nil && n > 0 && n <= 65535 {
			port = uint16(n)
		}
	}
	o.Host, o.HostSource = host, capture.SourceURL
	o.Server = netip.AddrPortFrom(netip.Addr{}, port)
	path := u
	if p := dash(r.path); len(p) > 0 {
		path = p
	}
	if len(path) == 0 {
		path = []byte("/")
	}
	if q := dash(r.query); len(q) > 0 {
		buf := make([]byte, 0, len(path)+len(q)+1)
		buf = append(buf, path...)
		if q[0] != '?' {
			buf = append(buf, '?')
		}
		path = append(buf, q...)
	}
	o.Path = r.cache.path(path, keep)
	return nil
}

// dash returns b without surrounding spaces and quotes, and nil when what
// is left is "-", the usual mark of an empty field.
func dash(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '"') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '"') {
		b = b[:len(b)-1]
	}
	if len(b) == 1 && b[0] == '-' {
		return nil
	}
	return b
}

func stripScheme(b []byte) []byte {
	if i := bytes.Index(b, []byte("://")); i >= 0 && i < 10 {
		return b[i+3:]
	}
	return b
}

func trimSlash(b []byte) []byte {
	if i := bytes.IndexByte(b, '/'); i >= 0 {
		return b[:i]
	}
	return b
}

// atoi parses a non-negative decimal number of at most 9 digits without
// allocating.
func atoi(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, errBadNumber
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errBadNumber
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

var errBadNumber = errors.New("not a number")

// parseAddrMaybePort parses "addr", "addr:port", "[v6]:port", "addr#port"
// or a bare IPv6 address. A bare IPv4 address is parsed without
// allocating.
func parseAddrMaybePort(b []byte) (netip.AddrPort, error) {
	if a, ok := parseIPv4(b); ok {
		return netip.AddrPortFrom(a, 0), nil
	}
	if i := bytes.LastIndexAny(b, "#:"); i > 0 && bytes.IndexByte(b[:i], ':') < 0 {
		if a, ok := parseIPv4(b[:i]); ok {
			if n, err := atoi(b[i+1:]); err == nil && n <= 65535 {
				return netip.AddrPortFrom(a, uint16(n)), nil
			}
		}
	}
	if bytes.IndexByte(b, ':') < 0 {
		return netip.AddrPort{}, errNotAddress // neither IPv6 nor a port
	}
	if len(b) > 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = b[1 : len(b)-1]
	}
	s := string(b)
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 0), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	if i := bytes.LastIndexByte(b, '#'); i > 0 {
		a, err := netip.ParseAddr(s[:i])
		n, perr := strconv.ParseUint(s[i+1:], 10, 16)
		if err == nil && perr == nil {
			return netip.AddrPortFrom(a, uint16(n)), nil
		}
	}
	return netip.AddrPort{}, errNotAddress
}

var errNotAddress = errors.New("not an address")

// internMethod returns method as a string, without allocating for the
// common methods.
func internMethod(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "CONNECT":
		return "CONNECT"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	}
	if len(m) > 16 {
		m = m[:16]
	}
	return string(bytes.ToUpper(m))
}

// parseIPv4 parses a dotted-quad IPv4 address without allocating.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part++
			n, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || (digits == 1 && n == 0) {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}
