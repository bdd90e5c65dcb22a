package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// CustomSpec describes a log layout the user configured, in one of three
// ways: a regular expression with named groups, a delimiter with column
// names, or a Squid logformat. Groups and columns take the names of
// [CustomFields]; a column named "-" or a name starting with "x_" is
// ignored.
type CustomSpec struct {
	Name       string
	Regex      string   // RE2 syntax, with (?P<field>...) groups
	Delimiter  string   // one character, or "space" or "tab"
	Columns    []string // the column names, in order, with Delimiter
	LogFormat  string   // a Squid logformat specification
	TimeLayout string   // Go layout of the time field; empty to guess
	Comment    string   // prefix of lines to skip; empty for "#"
}

// CustomFields are the field names a configured format maps its groups or
// columns to.
var CustomFields = []string{
	"time", "client", "client_port", "method", "url", "scheme", "host",
	"port", "path", "query", "status", "action", "server", "server_port",
	"rule",
}

// NewCustomFormat builds the format a spec describes. Errors name the spec
// and the part of its pattern or columns at fault.
func NewCustomFormat(spec CustomSpec) (*Format, error) {
	name := spec.Name
	if name == "" {
		return nil, errors.New("format without a name")
	}
	if _, err := Lookup(name); err == nil {
		return nil, fmt.Errorf("format %q: the name of a built-in format", name)
	}
	set := 0
	for _, s := range []bool{spec.Regex != "", spec.Delimiter != "" || len(spec.Columns) > 0, spec.LogFormat != ""} {
		if s {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("format %q: want exactly one of regex, delimiter with columns, logformat", name)
	}
	if spec.LogFormat != "" {
		f, err := NewSquidLogFormat(name, spec.LogFormat)
		if err != nil {
			return nil, fmt.Errorf("format %q: %w", name, err)
		}
		return f, nil
	}
	c := &customLayout{name: name, layout: spec.TimeLayout, comment: []byte(spec.Comment)}
	if len(c.comment) == 0 {
		c.comment = []byte("#")
	}
	var names []string
	if spec.Regex != "" {
		re, err := regexp.Compile(spec.Regex)
		if err != nil {
			return nil, fmt.Errorf("format %q: regex: %w", name, err)
		}
		c.re = re
		names = re.SubexpNames()[1:]
		for i, n := range names {
			if n == "" {
				names[i] = "-"
			}
		}
	} else {
		switch spec.Delimiter {
		case "space", " ":
			c.delim = ' '
		case "tab", "\t":
			c.delim = '\t'
		default:
			if len(spec.Delimiter) != 1 {
				return nil, fmt.Errorf("format %q: delimiter %q: want one character, space or tab", name, spec.Delimiter)
			}
			c.delim = spec.Delimiter[0]
		}
		if len(spec.Columns) == 0 {
			return nil, fmt.Errorf("format %q: delimiter without columns", name)
		}
		names = spec.Columns
	}
	c.fields = make([]int, len(names))
	has := map[string]bool{}
	for i, n := range names {
		c.fields[i] = -1
		if n == "-" || strings.HasPrefix(n, "x_") {
			continue
		}
		k := slices.Index(CustomFields, n)
		if k < 0 {
			where := fmt.Sprintf("column %d", i+1)
			if c.re != nil {
				where = fmt.Sprintf("group %d", i+1)
			}
			return nil, fmt.Errorf("format %q: %s %q: want one of %s (or \"-\", or a name starting with x_ to ignore it)", name, where, n, strings.Join(CustomFields, ", "))
		}
		if has[n] {
			return nil, fmt.Errorf("format %q: field %q named twice", name, n)
		}
		has[n] = true
		c.fields[i] = k
	}
	if !has["url"] && !has["host"] {
		return nil, fmt.Errorf("format %q: no url or host field: the destination is needed", name)
	}
	title := "configured: regex " + spec.Regex
	if c.re == nil {
		title = fmt.Sprintf("configured: %q-delimited %s", spec.Delimiter, strings.Join(spec.Columns, ","))
	}
	return &Format{
		Name:  name,
		Title: title,
		Detect: func(_ []byte, lines [][]byte) int {
			p := c.newParser(&Options{})
			score := 0
			for _, l := range lines {
				var o capture.Observation
				if p.ParseLine(l, &o) == nil {
					score += 10
				}
			}
			return score
		},
		NewLine: func(opts *Options) LineParser { return c.newParser(opts) },
	}, nil
}

// customLayout is a compiled [CustomSpec].
type customLayout struct {
	name    string
	re      *regexp.Regexp
	delim   byte
	fields  []int // CustomFields index of each group or column, -1 to ignore
	layout  string
	comment []byte
}

func (c *customLayout) newParser(opts *Options) *customParser {
	return &customParser{c: c, keep: opts.KeepSecrets, loc: opts.location()}
}

type customParser struct {
	c    *customLayout
	keep bool
	loc  *time.Location
	rec  proxyRecord
	cols [][]byte
}

func (p *customParser) ParseLine(line []byte, o *capture.Observation) error {
	c := p.c
	if bytes.HasPrefix(line, c.comment) {
		return SkipComment
	}
	var vals [][]byte
	if c.re != nil {
		m := c.re.FindSubmatch(line)
		if m == nil {
			return fmt.Errorf("%s: line does not match the regex", c.name)
		}
		vals = m[1:]
	} else {
		p.cols = splitDelimited(line, c.delim, p.cols[:0])
		vals = p.cols
	}
	r := &p.rec
	r.reset()
	var tv []byte
	for i, v := range vals {
		if i >= len(c.fields) || c.fields[i] < 0 {
			continue
		}
		switch CustomFields[c.fields[i]] {
		case "time":
			tv = v
		case "client":
			r.client = v
		case "client_port":
			r.clientPort = v
		case "method":
			r.method = v
		case "url":
			r.url = v
		case "scheme":
			r.scheme = v
		case "host":
			r.host = v
		case "port":
			r.port = v
		case "path":
			r.path = v
		case "query":
			r.query = v
		case "status":
			r.status = v
		case "action":
			r.code = v
			r.denied = isDenyWord(v)
		case "server":
			r.server = v
		case "server_port":
			r.serverPort = v
		case "rule":
			r.rule = v
		}
	}
	if len(r.method) == 0 {
		r.method = []byte("GET")
		if len(r.url) == 0 && len(r.path) == 0 {
			r.method = []byte("CONNECT")
		}
	}
	if len(r.url) == 0 && len(r.path) > 0 {
		r.url = r.path
	}
	if tv = dash(tv); len(tv) > 0 {
		t, err := parseAnyTime(tv, c.layout, p.loc)
		if err != nil {
			return fmt.Errorf("%s: time %q: %w", c.name, field(tv), err)
		}
		r.time = t
	}
	if err := r.fill(o, p.keep); err != nil {
		var skip Skip
		if errors.As(err, &skip) {
			return err
		}
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// isDenyWord reports whether an action value says a request was refused.
func isDenyWord(v []byte) bool {
	v = dash(v)
	for _, w := range []string{"deny", "denied", "block", "blocked", "drop", "dropped", "reject", "rejected", "refused"} {
		if bytes.EqualFold(v, []byte(w)) {
			return true
		}
	}
	return false
}

// splitDelimited splits line at delim into dst; a field that starts with a
// double quote runs to the closing quote, and with a space or tab
// delimiter, runs of it count as one.
func splitDelimited(line []byte, delim byte, dst [][]byte) [][]byte {
	ws := delim == ' ' || delim == '\t'
	for i := 0; i <= len(line); {
		if ws {
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			if i == len(line) {
				break
			}
		}
		if i < len(line) && line[i] == '"' {
			end := indexQuote(line[i+1:])
			if end >= 0 {
				dst = append(dst, line[i+1:i+1+end])
				i += end + 2
				for i < len(line) && line[i] != delim {
					i++
				}
				i++
				continue
			}
		}
		j := i
		for j < len(line) && line[j] != delim && !(ws && line[j] == '\t') {
			j++
		}
		dst = append(dst, line[i:j])
		i = j + 1
		if len(dst) > 512 {
			break
		}
	}
	return dst
}

// parseAnyTime parses a time by layout when given, else as seconds or
// milliseconds since the epoch, RFC 3339, the common log format or
// "2006-01-02 15:04:05" in loc.
func parseAnyTime(b []byte, layout string, loc *time.Location) (time.Time, error) {
	s := string(b)
	if layout != "" {
		return time.ParseInLocation(layout, s, loc)
	}
	if len(b) == 13 {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), nil // milliseconds since the epoch
		}
	}
	if t, err := parseEpoch(b); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := parseCLFTime(b); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006/01/02 15:04:05", "Mon Jan _2 15:04:05 2006"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unknown time layout (set time_layout)")
}
