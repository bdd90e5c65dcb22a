package parsers

import (
	"errors"
	"unicode/utf8"
)

// scanJSON walks one JSON object (a log line) and calls fn with the key and
// value of every string, number, true, false or null member, at any depth
// of nested objects; arrays are passed over. A string value is given
// without its quotes, unescaped into scratch when it holds escapes, so the
// values alias line or scratch and are valid until the next call. It does
// not allocate unless scratch must grow.
//
// TODO(json): visitScanner in zeek_json.go walks JSON the same way but
// keeps the path of nested keys; one scanner giving paths should serve the
// proxy, firewall and sensor formats alike.
func scanJSON(line []byte, scratch *[]byte, fn func(key, val []byte)) error {
	s := jsonScanner{b: line, scratch: scratch}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errNotJSONObject
	}
	if (*scratch) != nil {
		*scratch = (*scratch)[:0]
	}
	return s.object(fn, 0)
}

var (
	errNotJSONObject = errors.New("not a JSON object")
	errBadJSON       = errors.New("malformed JSON")
)

// jsonMaxDepth bounds the nesting scanJSON follows.
const jsonMaxDepth = 16

type jsonScanner struct {
	b       []byte
	i       int
	scratch *[]byte
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

func (s *jsonScanner) object(fn func(key, val []byte), depth int) error {
	if depth > jsonMaxDepth {
		return errBadJSON
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errBadJSON
		}
		s.i++
		s.ws()
		if s.i >= len(s.b) {
			return errBadJSON
		}
		switch c := s.b[s.i]; {
		case c == '{':
			if err := s.object(fn, depth+1); err != nil {
				return err
			}
		case c == '[':
			if err := s.skipArray(depth + 1); err != nil {
				return err
			}
		case c == '"':
			v, err := s.str()
			if err != nil {
				return err
			}
			fn(key, v)
		default:
			j := s.i
			for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ' ' && s.b[s.i] != ']' {
				s.i++
			}
			if j == s.i {
				return errBadJSON
			}
			fn(key, s.b[j:s.i])
		}
		s.ws()
		if s.i >= len(s.b) {
			return errBadJSON
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		return errBadJSON
	}
}

func (s *jsonScanner) skipArray(depth int) error {
	if depth > jsonMaxDepth {
		return errBadJSON
	}
	s.i++ // [
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
			continue
		case '[':
			if err := s.skipArray(depth + 1); err != nil {
				return err
			}
			continue
		case ']':
			s.i++
			return nil
		}
		s.i++
	}
	return errBadJSON
}

// str reads a string at s.i, unescaping into the scratch buffer when needed.
func (s *jsonScanner) str() ([]byte, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, errBadJSON
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			v := s.b[start:s.i]
			s.i++
			return v, nil
		case '\\':
			return s.unescape(start)
		}
		s.i++
	}
	return nil, errBadJSON
}

func (s *jsonScanner) unescape(start int) ([]byte, error) {
	out := *s.scratch
	from := len(out)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch c {
		case '"':
			s.i++
			*s.scratch = out
			return out[from:], nil
		case '\\':
			if s.i+1 >= len(s.b) {
				return nil, errBadJSON
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case 'b', 'f':
				out = append(out, ' ')
			case 'u':
				if s.i+4 > len(s.b) {
					return nil, errBadJSON
				}
				r := 0
				for _, h := range s.b[s.i : s.i+4] {
					r <<= 4
					switch {
					case h >= '0' && h <= '9':
						r |= int(h - '0')
					case h >= 'a' && h <= 'f':
						r |= int(h-'a') + 10
					case h >= 'A' && h <= 'F':
						r |= int(h-'A') + 10
					default:
						return nil, errBadJSON
					}
				}
				s.i += 4
				out = utf8.AppendRune(out, rune(r))
			default:
				out = append(out, e)
			}
			continue
		}
		out = append(out, c)
		s.i++
	}
	return nil, errBadJSON
}
