package capture

import (
	"bytes"
	"strconv"
)

// maxHosts bounds the distinct Host headers kept per flow.
const maxHosts = 8

// appInfo is what the first bytes of a TCP flow's streams said.
type appInfo struct {
	kind appKind

	// HTTP requests.
	hosts    []string
	method   string
	path     string
	requestN int64
	connect  string // CONNECT target as sent, host:port
	viaProxy bool   // a request with an absolute URL: sent to a proxy
	status   int    // first status code from the server
	statusN  int64

	// offsets where TLS starts inside a CONNECT tunnel
	clientTLSOff, serverTLSOff int

	dnsClientMsgs, dnsServerMsgs int // DNS over TCP messages handled

	tls tlsInfo
}

type appKind uint8

const (
	appUnknown appKind = iota
	appTLS
	appHTTP
	appDNS
	appOther
)

// clientData analyses the client's contiguous prefix after it grew.
func (d *decoder) clientData(f *flow, p *packet) {
	a := &f.app
	b := f.cs.data()
	if a.kind == appUnknown {
		switch {
		case looksTLS(b):
			a.kind = appTLS
		case looksHTTPRequest(b):
			a.kind = appHTTP
		case f.server.Port() == 53 || f.client.Port() == 53:
			a.kind = appDNS
		case len(b) >= 8:
			a.kind = appOther
		default:
			return
		}
	}
	switch a.kind {
	case appTLS:
		d.tlsClient(f, b, p.n)
		if a.tls.hello && (a.tls.clientEnc > 1 || a.tls.clientAlert.seen || a.tls.clientEnc == 1 && a.tls.clientEncLen >= 32) {
			f.cs.release(&d.bufs)
		}
	case appHTTP:
		d.httpRequests(f, b, p.n)
		if a.connect != "" && a.clientTLSOff > 0 && a.clientTLSOff < len(b) {
			d.tlsClient(f, b[a.clientTLSOff:], p.n)
		}
	case appDNS:
		a.dnsClientMsgs = d.dnsOverTCP(f, b, a.dnsClientMsgs, true, p)
	default:
		f.cs.release(&d.bufs)
	}
}

// serverData analyses the server's contiguous prefix after it grew.
func (d *decoder) serverData(f *flow, p *packet) {
	a := &f.app
	b := f.ss.data()
	switch {
	case a.kind == appDNS || a.kind == appUnknown && (f.server.Port() == 53 || f.client.Port() == 53):
		a.dnsServerMsgs = d.dnsOverTCP(f, b, a.dnsServerMsgs, false, p)
	case a.kind == appTLS || a.kind == appUnknown && looksTLS(b):
		d.tlsServer(f, b, p.n)
		if a.tls.serverHello && (a.tls.serverEnc > 0 || a.tls.serverCCS || a.tls.serverAlert.seen) && a.tls.version != 0 {
			if a.tls.version == 0x0304 || a.tls.issuer != "" || a.tls.serverCCS {
				f.ss.release(&d.bufs)
			}
		}
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		if a.status == 0 {
			if end := bytes.IndexByte(b, '\n'); end > 0 {
				line := b[:end]
				if len(line) >= 12 {
					if s, err := strconv.Atoi(string(line[9:12])); err == nil {
						a.status, a.statusN = s, p.n
					}
				}
			}
		}
		if a.connect == "" {
			if a.status != 0 {
				f.ss.release(&d.bufs)
				if len(a.hosts) > 0 {
					// Later requests are read from their own segments.
					f.cs.release(&d.bufs)
				}
			}
			return
		}
		if a.serverTLSOff == 0 {
			if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
				a.serverTLSOff = i + 4
			}
		}
		if a.serverTLSOff > 0 && a.serverTLSOff < len(b) {
			d.tlsServer(f, b[a.serverTLSOff:], p.n)
		}
	case len(b) >= 8:
		f.ss.release(&d.bufs)
	}
}

// lateClientSegment looks at a client segment past the reassembled
// prefix: a new HTTP request on a kept-alive connection names its host.
func (d *decoder) lateClientSegment(f *flow, p *packet) {
	if f.app.kind != appHTTP || len(f.app.hosts) >= maxHosts || !looksHTTPRequest(p.payload) {
		return
	}
	d.httpRequests(f, p.payload, p.n)
}

// looksHTTPRequest reports whether b starts with an HTTP/1.x request
// line's method: upper-case letters, then a space.
func looksHTTPRequest(b []byte) bool {
	for i := 0; i < len(b) && i < 17; i++ {
		c := b[i]
		if c == ' ' {
			return i >= 3 && isMethod(b[:i])
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return false
}

func isMethod(m []byte) bool {
	switch string(m) {
	case "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT":
		return true
	}
	return false
}

// httpRequests reads the requests at the start of b: request line, Host
// header, body skipped by Content-Length, the next request.
func (d *decoder) httpRequests(f *flow, b []byte, n int64) {
	a := &f.app
	for len(b) > 0 && looksHTTPRequest(b) {
		hdrEnd := bytes.Index(b, []byte("\r\n\r\n"))
		sep := 4
		if hdrEnd < 0 {
			hdrEnd = bytes.Index(b, []byte("\n\n"))
			sep = 2
		}
		head := b
		if hdrEnd >= 0 {
			head = b[:hdrEnd]
		}
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		method, target, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return
		}
		target, _, _ = bytes.Cut(target, []byte(" "))
		var host []byte
		contentLength := 0
		for len(rest) > 0 {
			var h []byte
			h, rest, _ = bytes.Cut(rest, []byte("\n"))
			h = bytes.TrimRight(h, "\r")
			name, value, ok := bytes.Cut(h, []byte(":"))
			if !ok {
				continue
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("host")):
				host = value
			case bytes.EqualFold(name, []byte("content-length")):
				contentLength, _ = strconv.Atoi(string(value))
			}
		}
		if string(method) == "CONNECT" {
			if a.connect == "" {
				a.connect = lowerASCII(string(target))
				a.requestN = n
				if hdrEnd >= 0 {
					a.clientTLSOff = hdrEnd + sep
				}
			}
			return
		}
		if len(host) > 0 {
			h, _ := splitHostPort(string(host))
			h = lowerASCII(h)
			if !containsString(a.hosts, h) && len(a.hosts) < maxHosts {
				a.hosts = append(a.hosts, h)
			}
			if a.requestN == 0 {
				a.viaProxy = bytes.HasPrefix(target, []byte("http://"))
				a.method = string(method)
				a.path = pathOf(target)
				a.requestN = n
			}
		}
		if hdrEnd < 0 || contentLength < 0 {
			return
		}
		next := hdrEnd + sep + contentLength
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

// pathOf returns the path of a request target without its query, which
// may hold secrets.
func pathOf(target []byte) string {
	if i := bytes.Index(target, []byte("://")); i >= 0 {
		rest := target[i+3:]
		if j := bytes.IndexByte(rest, '/'); j >= 0 {
			target = rest[j:]
		} else {
			target = []byte("/")
		}
	}
	if i := bytes.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return string(target)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
