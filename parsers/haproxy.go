package parsers

import (
	"bytes"
	"fmt"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// haproxy reads HAProxy's HTTP log format (option httplog), usually behind
// a syslog header:
//
//	haproxy[811]: 192.0.2.10:50123 [03/Dec/2025:09:00:01.123] egress egress/proxy 0/0/1/30/31 200 512 - - ---- 1/1/0/0/0 0/0 {app.gtmhub.com} "CONNECT app.gtmhub.com:443 HTTP/1.1"
//
// The destination is the request's absolute URL or CONNECT target, else
// the first captured request header when it is a host name (capture the
// Host header first to audit a reverse-proxy style setup). A 503 from
// <NOSRV> or a termination state starting with S (the server failed) is a
// proxy-error. Accept dates carry no zone and are read in the run's zone.
var haproxy = &Format{
	Name:      "haproxy",
	Title:     "HAProxy HTTP log (option httplog)",
	Detect:    detectHAProxy,
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		return &haproxyParser{keep: opts.KeepSecrets, loc: opts.location()}
	},
}

func detectHAProxy(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		if i := bytes.Index(l, []byte(" [")); i > 0 && len(l) > i+26 && l[i+4] == '/' && l[i+8] == '/' && l[i+13] == ':' {
			if bytes.Count(l[i:], []byte("/")) >= 6 && bytes.IndexByte(l, '"') > 0 {
				score += 10
			}
		}
	}
	return score
}

type haproxyParser struct {
	keep bool
	loc  *time.Location
	rec  proxyRecord
}

func (p *haproxyParser) ParseLine(line []byte, o *capture.Observation) error {
	if i := bytes.Index(line, []byte("]: ")); i >= 0 && bytes.Contains(line[:i], []byte("haproxy[")) {
		line = line[i+3:]
	}
	// client:port [date] frontend backend/server timers status bytes ...
	client, rest, _ := bytes.Cut(line, []byte(" ["))
	date, rest, ok := bytes.Cut(rest, []byte("] "))
	if !ok {
		return fmt.Errorf("haproxy: no [accept date]")
	}
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return SkipHAProxyEvent
	}
	var f [12][]byte
	n := splitFields(rest[:q], f[:])
	if n < 5 {
		return fmt.Errorf("haproxy: %d fields before the request, want at least 5", n)
	}
	r := &p.rec
	r.reset()
	t, err := parseCLFTimeIn(date, p.loc)
	if err != nil {
		return fmt.Errorf("haproxy: accept date %q: %w", field(date), err)
	}
	r.time = t
	r.client = client
	r.status = f[3]
	if f[3][0] == '-' {
		r.status = nil
	}
	backend, server, _ := bytes.Cut(f[1], []byte("/"))
	_ = backend
	if bytes.Equal(server, []byte("<NOSRV>")) {
		r.code = []byte("NOSRV")
	}
	// HAProxy's own denials (http-request deny) reach no server and log
	// <NOSRV>; a named server means the status is that server's.
	r.origin = len(server) > 0 && server[0] != '<'
	if n > 7 && len(f[6]) == 4 && f[6][0] == 'S' && len(r.status) == 0 {
		r.status = []byte("503")
	}
	for i := 7; i < n && i < len(f); i++ {
		if c := f[i]; len(c) > 2 && c[0] == '{' && c[len(c)-1] == '}' {
			h, _, _ := bytes.Cut(c[1:len(c)-1], []byte("|"))
			if validHost(trimSlash(h)) || bytes.IndexByte(h, ':') > 0 {
				r.host = h
			}
			break
		}
	}
	req := bytes.Trim(rest[q:], "\" ")
	m, after, _ := bytes.Cut(req, []byte(" "))
	u, _, _ := bytes.Cut(after, []byte(" "))
	r.method, r.url = m, u
	if bytes.Equal(m, []byte("<BADREQ>")) {
		return errNoRequest
	}
	if err := r.fill(o, p.keep); err != nil {
		if _, ok := err.(Skip); ok {
			return err
		}
		return fmt.Errorf("haproxy: %w", err)
	}
	return nil
}

// SkipHAProxyEvent is the skip of an HAProxy message that is not a request
// (a TLS handshake failure, a server going down).
const SkipHAProxyEvent Skip = "haproxy event without a request"
