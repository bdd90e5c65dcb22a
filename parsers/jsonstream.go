package parsers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/egress-audit/egress-audit/capture"
)

// recordParser decodes one JSON record (an object) into o, with the same
// results as [LineParser.ParseLine]: nil, a [Skip], or an error.
type recordParser func(raw []byte, o *capture.Observation) error

// readJSONRecords reads the JSON records of a cloud log export and passes
// each to parse. It takes one object per line (JSON lines, as streaming
// exports write them) as well as whole documents (a pretty-printed array,
// concatenated objects), and opens the wrappers exports put around records:
// {"records": [...]} (Azure diagnostic storage), {"events": [{"json": ...}]}
// (log shipper test fixtures), {"gcp": ...} (SIEM agents) and arrays.
//
// Each record is counted in st as parsed, skipped or failed, located by the
// line its object starts on. A document that stops being valid JSON ends
// the reading at that point, with a problem recorded; in JSON lines a bad
// line fails alone.
//
// TODO(json): a document that is one top-level array is held in memory
// whole before its records are read; streaming its elements with the
// decoder's tokens would bound memory by the largest record. JSON lines,
// the form exports stream, do not have this cost.
func readJSONRecords(r io.Reader, name string, st *capture.Stats, parse recordParser, emit func(*capture.Observation)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		// JSON lines; or a first line that cannot start a document, which
		// lines then read past.
		fl := bytes.TrimSpace(first[:i])
		if len(fl) > 0 && (fl[0] == '{' && json.Valid(fl) || fl[0] != '{' && fl[0] != '[') {
			return readJSONLines(br, name, st, parse, emit)
		}
	}
	lc := &lineCounter{r: br}
	dec := json.NewDecoder(lc)
	for {
		var raw json.RawMessage
		start := dec.InputOffset()
		err := dec.Decode(&raw)
		if err == io.EOF {
			return nil
		}
		// The value starts after the whitespace at start.
		line := lc.lineAt(start + int64(leadingSpace(lc, start)))
		if err != nil {
			at := capture.Line(line)
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: fmt.Errorf("json: %w", err)})
			if errors.Is(err, io.ErrUnexpectedEOF) {
				st.Truncated = "the JSON document ends inside a value"
			}
			return nil
		}
		unwrapJSON(raw, line, name, st, parse, emit)
	}
}

// readJSONLines reads one JSON value per line. A line longer than
// [MaxLineLength] fails without stopping the rest.
func readJSONLines(r *bufio.Reader, name string, st *capture.Stats, parse recordParser, emit func(*capture.Observation)) error {
	lr := lineReader{r: r}
	for lr.scan() {
		if lr.cut() {
			st.Skip(string(SkipCutOff))
			continue
		}
		at := capture.Line(lr.n)
		line := bytes.TrimSpace(lr.line)
		switch {
		case lr.size > MaxLineLength:
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: fmt.Errorf("line of %d bytes exceeds the limit of %d", lr.size, MaxLineLength)})
		case len(line) == 0:
			st.Skip(string(SkipBlank))
		case !json.Valid(line):
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: errors.New("json: not a valid JSON value")})
		default:
			unwrapJSON(line, lr.n, name, st, parse, emit)
		}
	}
	return lr.err()
}

// jsonWrapper holds the members wrappers put around records.
type jsonWrapper struct {
	Records []json.RawMessage `json:"records"`
	Events  []json.RawMessage `json:"events"`
	JSON    json.RawMessage   `json:"json"`
	GCP     json.RawMessage   `json:"gcp"`
}

// unwrapJSON passes raw, which starts on line, to parse, or the records it
// wraps, each located by its own line.
func unwrapJSON(raw []byte, line int64, name string, st *capture.Stats, parse recordParser, emit func(*capture.Observation)) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	var inner []json.RawMessage
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &inner); err != nil {
			at := capture.Line(line)
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: fmt.Errorf("json: %w", err)})
			return
		}
	case '{':
		var w jsonWrapper
		if bytes.Contains(raw, []byte(`"records"`)) || bytes.Contains(raw, []byte(`"events"`)) ||
			bytes.Contains(raw, []byte(`"json"`)) || bytes.Contains(raw, []byte(`"gcp"`)) {
			_ = json.Unmarshal(raw, &w)
		}
		switch {
		case len(w.Records) > 0:
			inner = w.Records
		case len(w.Events) > 0:
			inner = w.Events
		case len(w.JSON) > 0 && w.JSON[0] == '{':
			inner = []json.RawMessage{w.JSON}
		case len(w.GCP) > 0 && w.GCP[0] == '{':
			inner = []json.RawMessage{w.GCP}
		}
	default:
		at := capture.Line(line)
		st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: errors.New("json: a record is not an object")})
		return
	}
	if inner == nil {
		at := capture.Line(line)
		o := capture.Observation{Input: name, Locator: at}
		err := parse(raw, &o)
		var skip Skip
		switch {
		case err == nil:
			st.Records++
			emit(&o)
		case errors.As(err, &skip):
			st.Skip(string(skip))
		default:
			st.Fail(at, &capture.ProblemError{Input: name, Locator: at, Err: err})
		}
		return
	}
	// Locate each element in raw to give it its own line.
	cursor := 0
	l := line
	for _, e := range inner {
		pos := cursor
		if i := bytes.Index(raw[cursor:], e); i >= 0 {
			pos = cursor + i
		}
		l += int64(bytes.Count(raw[cursor:pos], []byte("\n")))
		unwrapJSON(e, l, name, st, parse, emit)
		l += int64(bytes.Count(e, []byte("\n")))
		cursor = min(pos+len(e), len(raw))
	}
}

// lineCounter counts the lines of what a JSON decoder reads, so that the
// offsets the decoder reports can be turned into line numbers. It keeps
// only the newline offsets not yet asked about.
type lineCounter struct {
	r     io.Reader
	off   int64   // bytes read so far
	nl    []int64 // offsets of newlines not yet passed by lineAt
	lines int64   // newlines before the last offset asked about
	buf   []byte  // the bytes after the last offset asked about, for leadingSpace
	base  int64   // offset of buf[0]
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			c.nl = append(c.nl, c.off+int64(i))
		}
	}
	c.buf = append(c.buf, p[:n]...)
	c.off += int64(n)
	return n, err
}

// lineAt returns the line, counted from 1, of offset off; offsets must not
// decrease from call to call.
func (c *lineCounter) lineAt(off int64) int64 {
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	c.lines += int64(i)
	c.nl = c.nl[i:]
	if drop := off - c.base; drop > 0 && drop <= int64(len(c.buf)) {
		c.buf = c.buf[drop:]
		c.base = off
	}
	return c.lines + 1
}

// leadingSpace returns how many white-space bytes follow offset off.
func leadingSpace(c *lineCounter, off int64) int {
	i := off - c.base
	n := 0
	for i >= 0 && i < int64(len(c.buf)) {
		switch c.buf[i] {
		case ' ', '\t', '\r', '\n':
			n++
			i++
			continue
		}
		break
	}
	return n
}
