package parsers

import (
	"strconv"
)

// cacheMax bounds each cache of a [recordCache]; past it new values are
// built without being kept, so that a log of endless distinct hosts costs
// allocations but not memory.
const cacheMax = 1 << 14

// recordCache keeps the strings a parser built from its input (hosts,
// redacted paths, details), so that the many lines that repeat them do not
// allocate. It belongs to one parser and is not safe for concurrent use.
type recordCache struct {
	hosts   map[string]string
	paths   map[string]string
	details map[string]string
	buf     []byte
}

// host returns b in lower case as a string.
func (c *recordCache) host(b []byte) string {
	if s, ok := c.hosts[string(b)]; ok {
		return s
	}
	s := lowerString(b)
	if c.hosts == nil {
		c.hosts = make(map[string]string)
	}
	if len(c.hosts) < cacheMax {
		c.hosts[string(b)] = s
	}
	return s
}

// path returns the redacted form of path (with a leading slash); keep
// keeps its secrets.
func (c *recordCache) path(path []byte, keep bool) string {
	if s, ok := c.paths[string(path)]; ok && !keep {
		return s
	}
	raw := string(path)
	if len(raw) == 0 || raw[0] != '/' {
		raw = "/" + raw
	}
	s := redactPath(raw, keep)
	if keep {
		return s
	}
	if c.paths == nil {
		c.paths = make(map[string]string)
	}
	if len(c.paths) < cacheMax && len(path) < 512 {
		c.paths[string(path)] = s
	}
	return s
}

// detail returns "CODE/STATUS" (or "HTTP STATUS" without a code), with
// the status in three digits.
func (c *recordCache) detail(code []byte, status int) string {
	b := c.buf[:0]
	if len(code) == 0 {
		b = append(b, "HTTP "...)
	} else {
		b = append(b, code...)
		b = append(b, '/')
	}
	if status < 100 {
		b = append(b, '0')
	}
	if status < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(status), 10)
	c.buf = b
	if s, ok := c.details[string(b)]; ok {
		return s
	}
	s := string(b)
	if c.details == nil {
		c.details = make(map[string]string)
	}
	if len(c.details) < cacheMax {
		c.details[s] = s
	}
	return s
}
