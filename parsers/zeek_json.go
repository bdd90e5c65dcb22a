package parsers

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The sensor logs (Zeek's JSON writer, Suricata's eve.json) are one JSON
// object per line, and only a dozen of their keys matter here. Decoding
// them with encoding/json would build a map or struct for every line; the
// scanner below walks the bytes once and hands each scalar to a callback
// together with its dotted path, so nothing is allocated for the keys that
// are not wanted.

// jsonKind is the kind of a value the scanner reports.
type jsonKind uint8

const (
	jsonString jsonKind = iota + 1 // raw is the text between the quotes, still escaped
	jsonNumber                     // raw is the number as written
	jsonTrue
	jsonFalse
	jsonNull
	// jsonElem opens an object inside an array; path ends in "[]". The
	// values of its members follow with paths "x[].member".
	jsonElem
	// jsonBare is an unquoted token that is not JSON, such as the masked
	// time stamps (XXXXXXXXXX.XXXXXX) of Zeek's test baselines.
	jsonBare
)

// maxJSONDepth bounds nesting, so that hostile input cannot exhaust the
// stack.
const maxJSONDepth = 16

var errJSONDepth = errors.New("json: nested too deep")

// jsonVisit receives each scalar of a scanned object. path aliases a
// buffer the scanner reuses, raw aliases the line; escaped reports whether
// a string holds backslash escapes (decode it with [jsonUnquote]).
type jsonVisit func(path []byte, kind jsonKind, raw []byte, escaped bool)

// visitScanner walks one JSON object. Its zero value is ready to use; keep
// one per reader to reuse its path buffer.
type visitScanner struct {
	data []byte
	i    int
	path []byte
	fn   jsonVisit
}

// scan walks the object in data, calling fn for every scalar, and returns
// an error naming the offset when data is not one well-formed object
// (trailing blanks allowed).
func (s *visitScanner) scan(data []byte, fn jsonVisit) error {
	s.data, s.i, s.path, s.fn = data, 0, s.path[:0], fn
	s.skipSpace()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return fmt.Errorf("json: want an object at offset %d", s.i)
	}
	if err := s.object(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.i != len(s.data) {
		return fmt.Errorf("json: unexpected %q after the object at offset %d", s.data[s.i], s.i)
	}
	return nil
}

func (s *visitScanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *visitScanner) errAt(what string) error {
	if s.i >= len(s.data) {
		return fmt.Errorf("json: %s: line ends at offset %d", what, s.i)
	}
	return fmt.Errorf("json: %s: unexpected %q at offset %d", what, s.data[s.i], s.i)
}

// object reads an object starting at '{'; s.path is the object's path.
func (s *visitScanner) object(depth int) error {
	if depth > maxJSONDepth {
		return errJSONDepth
	}
	s.i++ // {
	base := len(s.path)
	s.skipSpace()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return s.errAt("object key")
		}
		key, _, err := s.str()
		if err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return s.errAt("after object key")
		}
		s.i++
		if base > 0 {
			s.path = append(s.path, '.')
		}
		s.path = append(s.path, key...)
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:base]
		s.skipSpace()
		if s.i >= len(s.data) {
			return s.errAt("object")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errAt("object")
		}
	}
}

// array reads an array starting at '['; its elements get the path "p[]".
func (s *visitScanner) array(depth int) error {
	if depth > maxJSONDepth {
		return errJSONDepth
	}
	s.i++ // [
	base := len(s.path)
	s.path = append(s.path, "[]"...)
	defer func() { s.path = s.path[:base] }()
	s.skipSpace()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if s.i < len(s.data) && s.data[s.i] == '{' {
			s.fn(s.path, jsonElem, nil, false)
		}
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.data) {
			return s.errAt("array")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errAt("array")
		}
	}
}

func (s *visitScanner) value(depth int) error {
	s.skipSpace()
	if s.i >= len(s.data) {
		return s.errAt("value")
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		raw, esc, err := s.str()
		if err != nil {
			return err
		}
		s.fn(s.path, jsonString, raw, esc)
		return nil
	default:
		start := s.i
		for s.i < len(s.data) && isBareByte(s.data[s.i]) {
			s.i++
		}
		tok := s.data[start:s.i]
		if len(tok) == 0 {
			return s.errAt("value")
		}
		s.fn(s.path, bareKind(tok), tok, false)
		return nil
	}
}

// str reads a string starting at '"' and returns its raw content. It
// looks for the closing quote with bytes.IndexByte rather than byte by
// byte: strings are most of an eve.json line. Raw control characters are
// let through, as a lenient reader may.
func (s *visitScanner) str() (raw []byte, escaped bool, err error) {
	s.i++ // "
	start := s.i
	for {
		q := bytes.IndexByte(s.data[s.i:], '"')
		if q < 0 {
			return nil, false, fmt.Errorf("json: string starting at offset %d does not end", start-1)
		}
		b := bytes.IndexByte(s.data[s.i:s.i+q], '\\')
		if b < 0 {
			raw = s.data[start : s.i+q]
			s.i += q + 1
			return raw, escaped, nil
		}
		// An escape before the quote: step over it and look again.
		escaped = true
		s.i += b + 2
		if s.i > len(s.data) {
			s.i = len(s.data)
		}
	}
}

func isBareByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '.' || c == '-' || c == '+' || c == '_'
}

func bareKind(tok []byte) jsonKind {
	switch string(tok) {
	case "true":
		return jsonTrue
	case "false":
		return jsonFalse
	case "null":
		return jsonNull
	}
	c := tok[0]
	if c == '-' || c >= '0' && c <= '9' {
		for _, c := range tok {
			if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+') {
				return jsonBare
			}
		}
		return jsonNumber
	}
	return jsonBare
}

// jsonUnquote appends the decoded form of the raw string content raw to
// dst. Invalid escapes decode to U+FFFD rather than failing: a damaged
// name is still better evidence than none.
func jsonUnquote(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			break
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := hex4(raw[i+1:])
			i += n
			if n == 4 && r >= 0xd800 && r < 0xdc00 && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2, n2 := hex4(raw[i+3:]); n2 == 4 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					i += 2 + n2
				}
			}
			if n != 4 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst
}

// hex4 decodes up to four hex digits; n is how many were used (4 when
// valid).
func hex4(b []byte) (r rune, n int) {
	for n < 4 && n < len(b) {
		c := b[n]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return utf8.RuneError, n
		}
		n++
	}
	return r, n
}
