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
// A document's top-level array, and the array a {"records": ...} or
// {"events": ...} wrapper holds, are read element by element, so memory is
// bounded by the largest record, not by the document: a 68 MB GCP export
// held whole took 335 MB.
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
	d := &jsonDoc{lc: &lineCounter{r: br}, name: name, st: st, parse: parse, emit: emit}
	d.dec = json.NewDecoder(d.lc)
	for d.dec.More() {
		var err error
		switch d.peek() {
		case '[':
			_, err = d.elements()
		case '{':
			err = d.object()
		default:
			var raw json.RawMessage
			line := d.line()
			if err = d.dec.Decode(&raw); err == nil {
				unwrapJSON(raw, line, name, st, parse, emit)
			}
		}
		if err != nil {
			d.fail(err)
			return nil
		}
	}
	// More reports false on a syntax error as well as at the end.
	if _, err := d.dec.Token(); err != nil && err != io.EOF {
		d.fail(err)
	}
	return nil
}

// jsonDoc walks a JSON document with a decoder's tokens, decoding whole
// only the values that are records.
type jsonDoc struct {
	dec   *json.Decoder
	lc    *lineCounter
	name  string
	st    *capture.Stats
	parse recordParser
	emit  func(*capture.Observation)
}

// next returns the offset and first byte of the next value, past the
// white space and separators the decoder has not yet consumed, looking
// into the bytes the decoder has not read yet if need be; byte 0 if there
// is none within the reader's buffer.
func (d *jsonDoc) next() (int64, byte) {
	c := d.lc
	// After a failed decode the decoder's offset may lie before the value
	// already asked about.
	off := max(d.dec.InputOffset(), c.base)
	for ; off-c.base < int64(len(c.buf)); off++ {
		if b := c.buf[off-c.base]; !isJSONSep(b) {
			return off, b
		}
	}
	ahead, _ := c.r.Peek(c.r.Size())
	for _, b := range ahead {
		if !isJSONSep(b) {
			return off, b
		}
		off++
	}
	return off, 0
}

func isJSONSep(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == ',' || b == ':'
}

// peek returns the first byte of the next value.
func (d *jsonDoc) peek() byte {
	_, b := d.next()
	return b
}

// line returns the line the next value starts on. It must be called before
// the value is decoded.
func (d *jsonDoc) line() int64 {
	off, _ := d.next()
	return d.lc.lineAt(off)
}

// fail records err, the end of the document's readable part, at the line
// the decoder stopped on.
func (d *jsonDoc) fail(err error) {
	at := capture.Line(d.line())
	d.st.Fail(at, &capture.ProblemError{Input: d.name, Locator: at, Err: fmt.Errorf("json: %w", err)})
	if errors.Is(err, io.ErrUnexpectedEOF) {
		d.st.Truncated = "the JSON document ends inside a value"
	}
}

// elements reads the array that comes next, one element at a time, and
// returns how many elements it held.
func (d *jsonDoc) elements() (int, error) {
	if _, err := d.dec.Token(); err != nil {
		return 0, err
	}
	n := 0
	for d.dec.More() {
		var raw json.RawMessage
		line := d.line()
		if err := d.dec.Decode(&raw); err != nil {
			return n, err
		}
		unwrapJSON(raw, line, d.name, d.st, d.parse, d.emit)
		n++
	}
	_, err := d.dec.Token()
	return n, err
}

// jsonMember is one member of an object read by tokens.
type jsonMember struct {
	key string
	raw json.RawMessage
}

// object reads the object that comes next. The array of a "records" or
// "events" member is streamed; an object without one is a record (or a
// small wrapper), rebuilt from its members and passed on whole.
func (d *jsonDoc) object() error {
	line := d.line()
	if _, err := d.dec.Token(); err != nil {
		return err
	}
	var members []jsonMember
	streamed := 0
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if (key == "records" || key == "events") && d.peek() == '[' {
			n, err := d.elements()
			if err != nil {
				return err
			}
			if n == 0 {
				members = append(members, jsonMember{key, json.RawMessage("[]")})
			}
			streamed += n
			continue
		}
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return err
		}
		members = append(members, jsonMember{key, raw})
	}
	if _, err := d.dec.Token(); err != nil {
		return err
	}
	if streamed > 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.raw)
	}
	b.WriteByte('}')
	unwrapJSON(b.Bytes(), line, d.name, d.st, d.parse, d.emit)
	return nil
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
	r     *bufio.Reader
	off   int64   // bytes read so far
	nl    []int64 // offsets of newlines not yet passed by lineAt
	lines int64   // newlines before the last offset asked about
	buf   []byte  // the bytes after the last offset asked about, for jsonDoc.next
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
	if drop := min(off-c.base, int64(len(c.buf))); drop > 0 {
		c.buf = c.buf[drop:]
		c.base += drop
	}
	return c.lines + 1
}
