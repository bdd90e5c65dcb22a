package parsers

import (
	"bufio"
	"bytes"
	"io"
	"runtime"

	"github.com/egress-audit/egress-audit/capture"
)

// chunkSize is how much of an input one parsing goroutine takes at a time.
// It is below MaxLineLength, so only a chunk's last line can be overlong.
const chunkSize = 512 << 10

// chunk is a run of whole lines of an input and what parsing them gave.
type chunk struct {
	data     []byte
	first    int64 // the number of the line before the chunk's first
	lastSize int   // the full length of the last line when it was cut, else -1
	lastNL   bool  // the last line ended with a newline
	err      error // the read error after this chunk, if any

	obs  []capture.Observation
	st   capture.Stats
	done chan struct{}
}

// readLinesParallel is [readLines] for a [Format] whose lines are
// independent: one goroutine cuts the input into chunks at line ends,
// GOMAXPROCS parsers parse them, and the calling goroutine emits the
// observations and merges the counts chunk by chunk in input order, so the
// result is the same as reading line by line.
func readLinesParallel(r *bufio.Reader, name string, newParser func() LineParser, st *capture.Stats, emit func(*capture.Observation)) (int64, error) {
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *chunk, workers)
	ordered := make(chan *chunk, 2*workers)
	free := make(chan *chunk, 3*workers+1)
	stop := make(chan struct{})
	defer close(stop)

	go cutChunks(r, work, ordered, free, stop)
	for i := 0; i < workers; i++ {
		go func() {
			p := newParser()
			for c := range work {
				parseChunk(c, name, p)
				close(c.done)
			}
		}()
	}

	var lines int64
	for c := range ordered {
		<-c.done
		for i := range c.obs {
			emit(&c.obs[i])
		}
		st.Records += c.st.Records
		st.Failed += c.st.Failed
		for k, v := range c.st.Skipped {
			if st.Skipped == nil {
				st.Skipped = make(map[string]int64)
			}
			st.Skipped[k] += v
		}
		for _, p := range c.st.Problems {
			if len(st.Problems) < capture.MaxProblems {
				st.Problems = append(st.Problems, p)
			}
		}
		lines = c.first + int64(bytes.Count(c.data, []byte("\n")))
		if !c.lastNL && len(c.data) > 0 {
			lines++
		}
		if c.err != nil {
			if c.err == io.EOF {
				return lines, nil
			}
			return lines, c.err
		}
		select {
		case free <- c:
		default:
		}
	}
	return lines, nil
}

// cutChunks reads r into chunks of whole lines and hands each to the
// workers and, in order, to the emitting goroutine.
func cutChunks(r *bufio.Reader, work, ordered, free chan *chunk, stop chan struct{}) {
	defer close(work)
	defer close(ordered)
	var line int64
	for {
		var c *chunk
		select {
		case c = <-free:
		default:
			c = &chunk{data: make([]byte, 0, chunkSize+4096)}
		}
		n, err := fill(r, c.data[:chunkSize])
		c.data = c.data[:n]
		c.first, c.lastSize, c.err = line, -1, nil
		c.obs, c.st = c.obs[:0], capture.Stats{}
		c.done = make(chan struct{})
		if err == nil && (n == 0 || c.data[n-1] != '\n') {
			err = c.finishLine(r)
		}
		c.lastNL = len(c.data) > 0 && c.data[len(c.data)-1] == '\n'
		c.err = err
		line += int64(bytes.Count(c.data, []byte("\n")))
		select {
		case ordered <- c:
		case <-stop:
			return
		}
		select {
		case work <- c:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// finishLine appends to c the rest of its last line, keeping at most
// MaxLineLength+1 bytes of a longer one and noting its full length.
func (c *chunk) finishLine(r *bufio.Reader) error {
	start := bytes.LastIndexByte(c.data, '\n') + 1
	size := len(c.data) - start
	for {
		frag, err := r.ReadSlice('\n')
		size += len(frag)
		if keep := MaxLineLength + 1 - (len(c.data) - start); keep > 0 {
			c.data = append(c.data, frag[:min(keep, len(frag))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if size > MaxLineLength {
			c.lastSize = size
			if err == nil {
				c.lastSize-- // the newline
				if c.data[len(c.data)-1] != '\n' {
					c.data = append(c.data, '\n')
				}
			}
		}
		return err
	}
}

// fill reads into b until it is full or r fails; unlike io.ReadFull it
// passes every error of r on as it is (io.EOF at the end, a decompressor's
// io.ErrUnexpectedEOF for truncated data).
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// parseChunk parses the lines of c with p.
func parseChunk(c *chunk, name string, p LineParser) {
	h := lineHandler{name: name, p: p, st: &c.st, emit: func(o *capture.Observation) {
		c.obs = append(c.obs, *o)
	}}
	data := c.data
	n := c.first
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		size := 0
		if i < 0 {
			line, data = data, nil
			size = len(line)
		} else {
			line, data = data[:i], data[i+1:]
			size = i
		}
		n++
		if len(data) == 0 && c.lastSize >= 0 {
			size = c.lastSize
		}
		if i < 0 && c.err != nil && c.err != io.EOF {
			// The input ended early inside this line: see [lineReader.cut].
			c.st.Skip(string(SkipCutOff))
			continue
		}
		h.handle(line, size, n)
	}
}
