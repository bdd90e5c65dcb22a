package parsers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"

	"github.com/egress-audit/egress-audit/capture"
)

// A hosts file (/etc/hosts, Windows' drivers\etc\hosts) names addresses
// without DNS: a server whose hosts file pins a SaaS host sends no query,
// and a connection to it that was never answered carries no name either.
// Read with ReadHosts, it names such flows. Its lines are
//
//	203.0.113.10  auth.gtmhub.com  auth   # a comment
//	2001:db8::10  auth.gtmhub.com
//
// an address, then one or more names; '#' starts a comment.

// HostsEntry is one line of a hosts file: an address and its names, in
// lower case and without a trailing dot.
type HostsEntry struct {
	Addr  netip.Addr
	Names []string
}

// Skip reasons of hosts file lines.
const (
	SkipHostsComment Skip = "comment"
	SkipHostsFull    Skip = "more names than the name table holds"
)

// ReadHosts reads a hosts file from r, whose name is used in messages. A
// line that is not an address and names is failed with its number and the
// rest is still read; comments and blank lines are skipped. At most
// [capture.MaxNames] names are kept, the rest counted as skipped. The
// error is one of r only.
func ReadHosts(r io.Reader, name string) ([]HostsEntry, *capture.Stats, error) {
	st := &capture.Stats{Input: name, Format: "hosts"}
	lr := lineReader{r: bufio.NewReaderSize(r, 64<<10)}
	var entries []HostsEntry
	names := 0
	for lr.scan() {
		at := capture.Line(lr.n)
		if lr.size > MaxLineLength {
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at,
				Err: fmt.Errorf("line of %d bytes exceeds the limit of %d", lr.size, MaxLineLength)})
			continue
		}
		line := lr.line
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			if len(bytes.TrimSpace(line[:i])) == 0 {
				st.Skip(string(SkipHostsComment))
				continue
			}
			line = line[:i]
		}
		f := bytes.Fields(line)
		if len(f) == 0 {
			st.Skip(string(SkipBlank))
			continue
		}
		e, err := hostsEntry(f)
		if err != nil {
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: err})
			continue
		}
		if names+len(e.Names) > capture.MaxNames {
			st.Skip(string(SkipHostsFull))
			continue
		}
		names += len(e.Names)
		entries = append(entries, e)
		st.Records++
	}
	return entries, st, lr.err()
}

// hostsEntry reads the fields of one line.
func hostsEntry(f [][]byte) (HostsEntry, error) {
	addr, err := netip.ParseAddr(string(f[0]))
	if err != nil {
		return HostsEntry{}, fmt.Errorf("hosts: %q is not an address", field(f[0]))
	}
	if len(f) < 2 {
		return HostsEntry{}, fmt.Errorf("hosts: address %s without a name", addr)
	}
	e := HostsEntry{Addr: addr.WithZone("").Unmap()}
	for _, h := range f[1:] {
		h = trimDot(h)
		if _, err := netip.ParseAddr(string(h)); err == nil || !validHost(h) {
			return HostsEntry{}, fmt.Errorf("hosts: name %q: not a host name", field(h))
		}
		e.Names = append(e.Names, lowerString(h))
	}
	return e, nil
}
