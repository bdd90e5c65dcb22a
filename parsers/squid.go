package parsers

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// squidNative reads Squid's native access.log format:
//
//	time elapsed client code/status bytes method URL user hierarchy/peer type
//
// time is seconds since the epoch with milliseconds; elapsed is
// right-aligned, so fields are separated by runs of spaces.
var squidNative = &Format{
	Name:    "squid",
	Title:   "Squid access.log, native format",
	Detect:  detectSquidNative,
	NewLine: func(*Options) LineParser { return squidNativeParser{} },
}

func detectSquidNative(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		var f [11][]byte
		n := splitFields(l, f[:])
		if n < 10 || n > 10 {
			continue
		}
		if _, err := parseEpoch(f[0]); err != nil {
			continue
		}
		if bytes.IndexByte(f[3], '/') < 0 {
			continue
		}
		score += 10
	}
	return score
}

type squidNativeParser struct{}

func (squidNativeParser) ParseLine(line []byte, o *capture.Observation) error {
	var f [11][]byte
	n := splitFields(line, f[:])
	if line[0] == '#' {
		return SkipComment
	}
	if n < 10 {
		return fmt.Errorf("squid: %d fields, want 10", n)
	}
	if n > 10 {
		return fmt.Errorf("squid: more than 10 fields")
	}
	t, err := parseEpoch(f[0])
	if err != nil {
		return fmt.Errorf("squid: time %q: %w", f[0], err)
	}
	o.Time = t
	client, err := netip.ParseAddr(string(f[2]))
	if err != nil {
		return fmt.Errorf("squid: client %q: not an address", f[2])
	}
	o.Client = netip.AddrPortFrom(client, 0)

	code, status, ok := bytes.Cut(f[3], []byte("/"))
	if !ok {
		return fmt.Errorf("squid: result %q: want CODE/STATUS", f[3])
	}
	st, err := strconv.Atoi(string(status))
	if err != nil || st < 0 || st > 999 {
		return fmt.Errorf("squid: status %q: not a number", status)
	}
	o.Method = string(f[5])
	if err := setSquidTarget(o, string(f[5]), string(f[6])); err != nil {
		return err
	}
	if _, peer, ok := bytes.Cut(f[8], []byte("/")); ok {
		if a, err := netip.ParseAddr(string(peer)); err == nil {
			o.Server = netip.AddrPortFrom(a, o.Server.Port())
		}
	}
	setProxyOutcome(o, string(code), st)
	return nil
}

// setSquidTarget sets the host, port, path and host source from a request's
// method and URL as a proxy logs them: host:port for CONNECT, an absolute
// URL otherwise.
func setSquidTarget(o *capture.Observation, method, target string) error {
	o.Transport = capture.TCP
	if method == "CONNECT" {
		host, port, err := splitHostPort(target, 443)
		if err != nil {
			return fmt.Errorf("CONNECT target %q: %w", target, err)
		}
		o.Host, o.HostSource = host, capture.SourceConnect
		o.Server = netip.AddrPortFrom(netip.Addr{}, port)
		o.Method = "CONNECT"
		return nil
	}
	u, err := parseURL(target)
	if err != nil {
		return fmt.Errorf("URL %q: %w", target, err)
	}
	o.Host, o.HostSource, o.Path = u.host, capture.SourceURL, RedactPath(u.path)
	o.Server = netip.AddrPortFrom(netip.Addr{}, u.port)
	return nil
}

// setProxyOutcome maps a proxy's result code and HTTP status to an outcome:
// 403 is a denial, 407 asks for authentication, 5xx and NONE_NONE mean the
// proxy could not reach the server, 000 means no answer was given.
func setProxyOutcome(o *capture.Observation, code string, status int) {
	o.Detail = fmt.Sprintf("%s/%03d", code, status)
	switch {
	case status == 407:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyAuthRequired
	case status == 403 || strings.HasPrefix(code, "TCP_DENIED"):
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyDenied
	case status >= 500 || code == "NONE_NONE" && status != 200:
		o.Outcome, o.Reason = capture.OutcomeBlocked, capture.ProxyError
	case status == 0:
		o.Outcome = capture.OutcomeUnknown
		o.Detail += " (aborted before an answer)"
	default:
		o.Outcome = capture.OutcomeOK
	}
}

// parseEpoch parses seconds since the epoch with an optional fraction.
func parseEpoch(b []byte) (time.Time, error) {
	sec, frac, _ := bytes.Cut(b, []byte("."))
	s, err := strconv.ParseInt(string(sec), 10, 64)
	if err != nil || s < 0 || len(sec) > 12 {
		return time.Time{}, fmt.Errorf("not seconds since the epoch")
	}
	var ns int64
	if len(frac) > 0 {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseInt(string(frac), 10, 64)
		if err != nil || f < 0 {
			return time.Time{}, fmt.Errorf("not seconds since the epoch")
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(s, ns).UTC(), nil
}

// splitFields splits b at runs of spaces and tabs into f, and returns the
// number of fields found; it counts one more than len(f) when b holds more.
// The fields alias b.
func splitFields(b []byte, f [][]byte) int {
	n := 0
	for i := 0; i < len(b); {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i == len(b) {
			break
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		if n == len(f) {
			return n + 1
		}
		f[n] = b[i:j]
		n++
		i = j
	}
	return n
}
