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
	// lastKey and last are the host asked for last, which the next line
	// often repeats; comparing it is cheaper than a map lookup.
	lastKey []byte
	last    string

	hosts   map[string]string
	paths   map[string]string
	details map[string]string
	buf     []byte
}

// host returns b in lower case as a string.
func (c *recordCache) host(b []byte) string {
	if c.last != "" && string(b) == string(c.lastKey) {
		return c.last
	}
	s, ok := c.hosts[string(b)]
	if !ok {
		s = c.newHost(b)
	}
	c.lastKey = append(c.lastKey[:0], b...)
	c.last = s
	return s
}

func (c *recordCache) newHost(b []byte) string {
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
	raw := escapeControls(path)
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
	return c.internDetail(b)
}

// internDetail returns b as a string, the same string for the same bytes
// while the cache has room, so that repeated details cost no allocation.
func (c *recordCache) internDetail(b []byte) string {
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

// escapeControls returns b as a string with control bytes, non-ASCII
// bytes and spaces percent-encoded, so that a path from a hostile log
// cannot act on a terminal and stays one token in every output.
func escapeControls(b []byte) string {
	clean := true
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(b)+8)
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			out = append(out, '%', hex[c>>4], hex[c&15])
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
