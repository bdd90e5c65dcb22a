package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// Format is one input format: how to recognise it and how to read it.
//
// Most formats are line oriented and give NewLine; a format that needs the
// whole stream (a packet capture, a JSON document) gives Read instead.
type Format struct {
	Name  string // the name --format takes
	Title string // one line for help texts

	// Detect scores the first lines of an input (at most detectLines, each
	// without its line ending): 0 means "not this format", higher is surer.
	// head is the raw first bytes, for binary formats.
	Detect func(head []byte, lines [][]byte) int

	// NewLine returns a parser for one input's lines.
	NewLine func(opts *Options) LineParser

	// Stateless reports that each line can be parsed apart from the others
	// (no header, no record spread over lines), so that an input may be
	// split into chunks parsed by several parsers at once.
	Stateless bool

	// Read reads a whole input, calling emit for each observation; it fills
	// st with its counts. Used when NewLine is nil.
	Read func(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error

	// Flush, when set, is called once after the last input of a run, for
	// formats that join records across inputs (a connection log and the
	// TLS log beside it) and hold some back until every input was read.
	Flush func(opts *Options, emit func(*capture.Observation))
}

// Options are the settings of one run that reach every parser. A run is
// one command reading one or more inputs; Options carries the state that
// formats share across those inputs. The zero value is ready to use.
type Options struct {
	// Location is the time zone of logs whose times carry none.
	// nil means UTC.
	Location *time.Location
	// KeepSecrets keeps URL query values that are otherwise redacted.
	KeepSecrets bool
	// TLSIssuers lists the certificate issuers the catalog expects; a
	// capture that shows another issuer in clear is TLS interception.
	TLSIssuers []string
	// Custom lists formats the user configured for this run (see
	// [NewCustomFormat]); detection tries them before the built-in ones.
	Custom []*Format
	// Ref is the reference time for syslog stamps without a year: each
	// gets the year that does not put it in the future of Ref. Zero means
	// the time the input is read.
	Ref time.Time
	// ZoneUsed is set by parsers when they read a time without a zone in
	// Location, so that a report can say which zone it assumed. Callers
	// may reset it between inputs.
	ZoneUsed bool

	state map[*Format]any
}

// State returns the run-wide state of format f, creating it with init on
// first use.
func (o *Options) State(f *Format, init func() any) any {
	if o.state == nil {
		o.state = make(map[*Format]any)
	}
	s, ok := o.state[f]
	if !ok {
		s = init()
		o.state[f] = s
	}
	return s
}

// Flush calls the Flush of every format that has one; call it once after
// the last input of a run.
func (o *Options) Flush(emit func(*capture.Observation)) {
	for _, f := range formats {
		if f.Flush != nil {
			f.Flush(o, emit)
		}
	}
}

// location returns the time zone for zone-less times.
func (o *Options) location() *time.Location {
	if o == nil || o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// ref returns the reference time for year-less stamps.
func (o *Options) ref() time.Time {
	if o == nil || o.Ref.IsZero() {
		return time.Now()
	}
	return o.Ref
}

// LineParser decodes the lines of one input, in order. It may keep state
// between lines (a header that names the columns).
type LineParser interface {
	// ParseLine decodes line (without its line ending) into o, which the
	// caller has zeroed and filled with Input and Locator. It returns nil
	// when o is evidence, a [Skip] when the line is passed over on purpose
	// (a comment, a header, a record that says nothing about egress), or
	// another error when the line is malformed. The parser must not keep
	// line: the caller reuses its buffer.
	ParseLine(line []byte, o *capture.Observation) error
}

// lineEnder is a [LineParser] that holds some lines back until a later
// line settles them: a firewall's record of a connection opened waits for
// the record of how it ended, which alone tells whether it got through.
// Such a line is counted as skipped with [SkipJoined] when it is read; End,
// called once after the input's last line, gives each held record no later
// line settled, and it is then counted as a record instead.
type lineEnder interface {
	End(emit func(*capture.Observation))
}

// heldSkipper is a [lineEnder] that counts the lines it holds under a skip
// reason of its own rather than [SkipJoined].
type heldSkipper interface {
	heldSkip() Skip
}

// heldFlows holds the flow of each connection whose start a log recorded,
// by a key of the log's own, until the record of its end judges it.
type heldFlows map[string]capture.Observation

// end gives the flows still held, in the order of the lines that started
// them, and forgets them.
func (h heldFlows) end(emit func(*capture.Observation)) {
	open := make([]capture.Observation, 0, len(h))
	for _, o := range h {
		open = append(open, o)
	}
	clear(h)
	sort.Slice(open, func(i, j int) bool { return open[i].Locator.N < open[j].Locator.N })
	for i := range open {
		emit(&open[i])
	}
}

// SkipJoined is the skip reason of a connection's opening record that a
// later record of the same connection (its teardown, its end) stands for.
const SkipJoined Skip = "connection opened; the record of its end gives the outcome"

// Skip is the error of a line passed over on purpose; its text is the
// reason the input's counts report.
type Skip string

func (s Skip) Error() string { return string(s) }

// Common skip reasons.
const (
	SkipBlank   Skip = "blank line"
	SkipComment Skip = "comment or header"
	SkipCutOff  Skip = "last line cut off where the input ends early"
)

// formats lists every input format, in the order detection tries them.
var formats = []*Format{
	squidNative,
	pcapFormat,
	pcapngFormat,
	squidCombined,
	dnsmasq,
	bind,
	unbound,
	w3c,
	zscaler,
	envoy,
	haproxy,
	netfilter,
	pfsense,
	asa,
	panos,
	fortigate,
	awsVPC,
	awsNFW,
	azureFW,
	gcpFW,
	zeek,
	suricata,
}

// Formats returns the input formats, sorted by name.
func Formats() []*Format {
	out := append([]*Format(nil), formats...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FormatNames returns the names --format takes.
func FormatNames() []string {
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	return names
}

// Lookup returns the format with the given name.
func Lookup(name string) (*Format, error) {
	return LookupIn(name, nil)
}

// LookupIn returns the format with the given name among custom, then the
// built-in formats.
func LookupIn(name string, custom []*Format) (*Format, error) {
	for _, f := range custom {
		if f.Name == name {
			return f, nil
		}
	}
	for _, f := range formats {
		if f.Name == name {
			return f, nil
		}
	}
	names := FormatNames()
	for _, f := range custom {
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("format %q: want one of %s", name, strings.Join(names, ", "))
}

// detectLines is how many non-blank lines detection looks at first.
const detectLines = 20

// When the first lines match no format, detection looks again at up to
// detectDeepLines non-blank lines within detectDeepSize bytes, so that a
// log opening with a burst of junk (a pasted banner, a crash dump, lines
// of another program) is still recognised and its junk lines are failed
// one by one. The bounds keep the look-ahead's memory to one buffer.
const (
	detectDeepLines = 1000
	detectDeepSize  = 1 << 20
)

// ErrUnknownFormat is returned when no format recognises an input.
var ErrUnknownFormat = errors.New("format not recognised (use --format)")

// Detect returns the format that scores highest on an input's first bytes.
func Detect(head []byte) (*Format, error) { return detect(head, nil) }

// detect is [Detect] trying the custom formats first; a custom format wins
// ties.
func detect(head []byte, custom []*Format) (*Format, error) {
	return detectIn(head, custom, detectLines)
}

// detectIn is [detect] looking at up to maxLines non-blank lines of head.
func detectIn(head []byte, custom []*Format, maxLines int) (*Format, error) {
	var lines [][]byte
	rest := head
	for len(lines) < maxLines && len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			// The last line may be cut by the size of head; use it only if
			// it is all there is.
			if len(lines) == 0 {
				lines = append(lines, bytes.TrimRight(rest, "\r"))
			}
			break
		}
		if l := bytes.TrimRight(rest[:i], "\r"); len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
		rest = rest[i+1:]
	}
	var best *Format
	bestScore := 0
	for _, f := range append(custom[:len(custom):len(custom)], formats...) {
		if s := f.Detect(head, lines); s > bestScore {
			best, bestScore = f, s
		}
	}
	if best == nil {
		return nil, unknownFormat(lines)
	}
	return best, nil
}

// unknownFormat is [ErrUnknownFormat], with a hint when the lines look
// like the log of a program egress-audit reads in a layout of the user's
// own: a squid logformat is read once it is declared.
func unknownFormat(lines [][]byte) error {
	for _, l := range lines {
		var fa [32][]byte
		n := min(splitFields(l, fa[:]), len(fa))
		for _, f := range fa[:n] {
			if isSquidStatus(f) {
				return fmt.Errorf("%w; its lines hold squid result codes (%s), so it may be squid's access.log in a logformat of its own: declare that logformat under formats: in the configuration",
					ErrUnknownFormat, f)
			}
		}
	}
	return ErrUnknownFormat
}

// isSquidStatus reports whether f is a squid result code and HTTP status,
// such as TCP_MISS/200 or NONE_NONE/000.
func isSquidStatus(f []byte) bool {
	code, status, ok := bytes.Cut(f, []byte("/"))
	if !ok || len(status) != 3 || !(bytes.HasPrefix(code, []byte("TCP_")) || bytes.HasPrefix(code, []byte("UDP_")) || bytes.HasPrefix(code, []byte("NONE"))) {
		return false
	}
	for _, c := range code {
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	_, err := atoi(status)
	return err == nil
}
