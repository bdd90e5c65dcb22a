package parsers

import (
	"bytes"
	"fmt"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// envoy reads Envoy access logs used as a forward or egress proxy, in the
// default text format
//
//	[2025-12-03T09:00:01.000Z] "CONNECT app.gtmhub.com:443 HTTP/1.1" 200 - 0 0 52 - "192.0.2.10" "curl/8" "id" "app.gtmhub.com:443" "198.51.100.20:443"
//
// or as JSON with the usual keys (:authority or authority, method, path or
// x-envoy-origin-path, response_code, response_flags,
// downstream_remote_address, upstream_host, start_time). Lines as the
// Kubernetes container runtime stores them ("<time> stdout F <line>") are
// read too. Response flags such as UF or UH go to the detail; with no
// response code they mean the proxy could not reach the server.
var envoy = &Format{
	Name:      "envoy",
	Title:     "Envoy access log (default text or JSON)",
	Detect:    detectEnvoy,
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		return &envoyParser{keep: opts.KeepSecrets, text: newLogFormatParser("envoy", opts, envoyText)}
	},
}

// envoyText is Envoy's default text format, in logformat codes.
var envoyText = mustLogFormat(`[%tl] "%rm %ru %rv" %>Hs %Ss %st %st %tr %tr "%>a" "%{User-Agent}>h" "%{X-Request-Id}>h" "%{Host}>h" "%<a"`)

func detectEnvoy(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		l = stripContainerPrefix(l)
		switch {
		case len(l) > 0 && l[0] == '{' && bytes.Contains(l, []byte(`"response_code"`)) && bytes.Contains(l, []byte(`"upstream_host"`)):
			score += 10
		case len(l) > 26 && l[0] == '[' && l[5] == '-' && l[11] == 'T' && envoyText.match(l, &[lfMaxTokens][]byte{}):
			score += 10
		}
	}
	return score
}

// stripContainerPrefix removes the "<RFC 3339 time> stdout F " prefix the
// container runtime adds to each line.
func stripContainerPrefix(l []byte) []byte {
	if len(l) < 30 || l[4] != '-' || l[10] != 'T' {
		return l
	}
	i := bytes.IndexByte(l, ' ')
	if i < 0 || i > 40 {
		return l
	}
	rest := l[i+1:]
	for _, s := range [][]byte{[]byte("stdout F "), []byte("stderr F "), []byte("stdout P "), []byte("stderr P ")} {
		if bytes.HasPrefix(rest, s) {
			return rest[len(s):]
		}
	}
	return l
}

type envoyParser struct {
	keep    bool
	text    *logFormatParser
	scratch []byte
	rec     proxyRecord
	start   []byte
	flags   []byte
	origin  []byte
}

func (p *envoyParser) ParseLine(line []byte, o *capture.Observation) error {
	line = stripContainerPrefix(line)
	if len(line) == 0 || line[0] != '{' {
		return p.text.ParseLine(line, o)
	}
	r := &p.rec
	r.reset()
	p.start, p.flags, p.origin = nil, nil, nil
	err := scanJSON(line, &p.scratch, func(k, v []byte) {
		switch string(k) {
		case ":authority", "authority":
			r.host = v
		case "method":
			r.method = v
		case "path":
			r.path = v
		case "x-envoy-origin-path":
			p.origin = v
		case "response_code":
			r.status = v
		case "response_flags":
			p.flags = v
		case "downstream_remote_address":
			r.client = v
		case "upstream_host":
			if !bytes.Equal(v, []byte("null")) {
				r.server = v
			}
		case "start_time":
			p.start = v
		}
	})
	if err != nil {
		return fmt.Errorf("envoy: %w", err)
	}
	if len(r.path) == 0 {
		r.path = p.origin
	}
	if bytes.HasPrefix(r.path, []byte("http://")) || bytes.HasPrefix(r.path, []byte("https://")) {
		r.url, r.path = r.path, nil
	}
	if f := dash(p.flags); len(f) > 0 {
		r.code = f
	}
	// Envoy's own refusals (RBAC, ext_authz) carry a response flag and no
	// upstream host; an upstream host without a flag answered itself.
	r.origin = len(dash(r.server)) > 0 && len(dash(p.flags)) == 0
	if len(p.start) > 0 {
		t, err := time.Parse(time.RFC3339Nano, string(p.start))
		if err != nil {
			return fmt.Errorf("envoy: start_time %q: not RFC 3339", field(p.start))
		}
		r.time = t.UTC()
	}
	if err := r.fill(o, p.keep); err != nil {
		if _, ok := err.(Skip); ok {
			return err
		}
		return fmt.Errorf("envoy: %w", err)
	}
	return nil
}
