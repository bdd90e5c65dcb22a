package parsers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/klauspost/compress/zstd"

	"github.com/egress-audit/egress-audit/capture"
)

// MaxLineLength bounds one log line. A longer line is counted as failed and
// skipped, and reading goes on after it.
const MaxLineLength = 1 << 20

// headSize is how much of an input detection looks at.
const headSize = 16 << 10

// Stdin is the input name that stands for standard input.
const Stdin = "-"

// Expand turns the paths a user named into input files: a directory stands
// for the regular files below it, in lexical order; "-" is kept as is, and
// so is a path that cannot be examined (one that does not exist, say), so
// that reading it reports why beside the inputs that can be read.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == Stdin {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			out = append(out, p)
			continue
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// Result is what reading one input gave, besides its observations.
type Result struct {
	Stats  capture.Stats
	SHA256 string // of the bytes as stored (before decompression)
}

// ReadFile reads the named input ("-" for stdin) in the given format, or
// in the detected one when format is nil, and calls emit for every
// observation. emit must not keep the observation.
//
// An error means the input could not be read at all (it does not exist,
// its format is unknown). Damage inside an input is not an error: it is
// counted in the result's stats, and what could be read is kept.
func ReadFile(name string, format *Format, opts *Options, emit func(*capture.Observation)) (*Result, error) {
	var f io.Reader
	if name == Stdin {
		f = os.Stdin
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		f = file
	}
	return Read(f, name, format, opts, emit)
}

// Read is [ReadFile] on an open reader; name is used in messages and
// evidence.
func Read(r io.Reader, name string, format *Format, opts *Options, emit func(*capture.Observation)) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	res := &Result{Stats: capture.Stats{Input: name}}
	hr := newHashingReader(r)
	defer hr.close()
	raw := bufio.NewReaderSize(hr, 256<<10)

	dec, comp, closeDec, err := decompress(raw)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return cutShort(res, name, comp, format, hr, raw), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer closeDec()
	in := bufio.NewReaderSize(dec, 256<<10)
	head, err := in.Peek(headSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(head) == 0 {
			// A stream cut inside its first block decompresses to nothing;
			// that is not an empty input.
			return cutShort(res, name, comp, format, hr, raw), nil
		}
	}
	if format == nil {
		if len(head) == 0 {
			res.Stats.Format = "empty"
			res.SHA256 = hr.sum(raw)
			return res, nil
		}
		format, err = detect(head, opts.Custom)
		if errors.Is(err, ErrUnknownFormat) {
			format, in, err = detectDeeper(in, head, opts.Custom)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	res.Stats.Format = format.Name

	if format.NewLine != nil {
		var lines int64
		if format.Stateless && runtime.GOMAXPROCS(0) > 1 {
			lines, err = readLinesParallel(in, name, func() LineParser { return format.NewLine(opts) }, &res.Stats, emit)
		} else {
			lines, err = readLines(in, name, format.NewLine(opts), &res.Stats, emit)
		}
		if err != nil {
			// The lines before the damage were read; say where it stopped.
			where := "after"
			if res.Stats.Skipped[string(SkipCutOff)] > 0 {
				where = "inside"
			}
			res.Stats.Truncated = fmt.Sprintf("%s: the input ends early or is damaged %s line %d: %v", name, where, lines, err)
			res.SHA256 = hr.sum(raw)
			return res, nil
		}
	} else {
		err = format.Read(in, name, opts, &res.Stats, emit)
	}
	if err != nil {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if res.Stats.Truncated == "" {
			res.Stats.Truncated = "the input ends early (truncated compressed data)"
		}
	}
	res.SHA256 = hr.sum(raw)
	return res, nil
}

// cutShort fills res for a compressed input of which nothing could be
// decompressed because it ends inside its header or first block, as the
// first bytes of a log being written or copied do. Its format is the one
// forced, else the compression's, since there was nothing to detect.
func cutShort(res *Result, name, comp string, format *Format, hr *hashingReader, raw *bufio.Reader) *Result {
	res.Stats.Format = comp
	if format != nil {
		res.Stats.Format = format.Name
	}
	res.Stats.Truncated = fmt.Sprintf("%s: the %s stream is cut short before its first full block; nothing could be decompressed", name, comp)
	res.SHA256 = hr.sum(raw)
	return res
}

// Decompressed returns a reader of r's content, uncompressed when r starts
// with the gzip or the zstd magic, and a function that releases the
// decoder; callers that read a file of their own (a saved report) use it
// to accept the compressed files [Read] accepts.
func Decompressed(r io.Reader) (io.Reader, func(), error) {
	dec, _, release, err := decompress(bufio.NewReader(r))
	return dec, release, err
}

// decompress returns a reader of r's content, uncompressed when r starts
// with the gzip or the zstd magic, the compression's name ("" for none),
// and a function that releases the decoder.
func decompress(r *bufio.Reader) (io.Reader, string, func(), error) {
	magic, _ := r.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, "gzip", nil, fmt.Errorf("gzip: %w", err)
		}
		return z, "gzip", func() { z.Close() }, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		// One decoding goroutine: inputs are read one after the other, and
		// a bounded window keeps a hostile frame header from reserving
		// more memory than a log needs.
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, "zstd", nil, fmt.Errorf("zstd: %w", err)
		}
		return z, "zstd", z.Close, nil
	}
	return r, "", func() {}, nil
}

// lineReader reads lines of any length in bounded memory: a line longer
// than the bufio.Reader's buffer is gathered up to about [MaxLineLength]
// bytes, and its whole length is still counted so that it can be failed.
// Use it as a bufio.Scanner: scan, then line and size, and err at the end.
type lineReader struct {
	r    *bufio.Reader
	line []byte // the current line, with its newline if it had one
	size int    // the current line's whole length, without its newline
	n    int64  // the current line's number
	rerr error
}

// scan reads the next line and reports whether there was one. The line
// is valid until the next call.
func (lr *lineReader) scan() bool {
	if lr.rerr != nil {
		return false
	}
	var long []byte
	longLen := 0 // the whole length of a long line, of which long keeps the start
	for {
		line, err := lr.r.ReadSlice('\n')
		size := len(line)
		if err == bufio.ErrBufferFull || long != nil {
			if len(long) <= MaxLineLength {
				long = append(long, line...)
			}
			longLen += len(line)
			if err == bufio.ErrBufferFull {
				continue
			}
			line, size = long, longLen
		}
		lr.rerr = err
		if len(line) == 0 {
			return false // err is set: ReadSlice returns at least the newline
		}
		if err == nil {
			size-- // the newline, which a long line's kept start may not reach
		}
		lr.line, lr.size = line, size
		lr.n++
		return true
	}
}

// cut reports whether the current line is the partial last line of an
// input that ended early (a compressed stream cut short): it has no newline
// and a read error, not the end of input, followed it. Such a line is
// counted as [SkipCutOff], not failed: its end is missing, not wrong.
func (lr *lineReader) cut() bool {
	return lr.rerr != nil && lr.rerr != io.EOF && !bytes.HasSuffix(lr.line, []byte("\n"))
}

// err returns the error that ended the reading, nil at the end of input.
func (lr *lineReader) err() error {
	if lr.rerr == io.EOF {
		return nil
	}
	return lr.rerr
}

// readLines feeds p the lines of r and returns how many it read. Lines
// longer than MaxLineLength fail without stopping the rest; an error of r
// (damaged compressed data) stops the reading.
func readLines(r *bufio.Reader, name string, p LineParser, st *capture.Stats, emit func(*capture.Observation)) (int64, error) {
	h := lineHandler{name: name, p: p, st: st, emit: emit}
	lr := lineReader{r: r}
	for lr.scan() {
		if lr.cut() {
			st.Skip(string(SkipCutOff))
			continue
		}
		h.handle(lr.line, lr.size, lr.n)
	}
	if e, ok := p.(lineEnder); ok {
		held := SkipJoined
		if hs, ok := p.(heldSkipper); ok {
			held = hs.heldSkip()
		}
		e.End(func(o *capture.Observation) {
			if st.Skipped[string(held)]--; st.Skipped[string(held)] <= 0 {
				delete(st.Skipped, string(held))
			}
			st.Records++
			emit(o)
		})
	}
	return lr.n, lr.err()
}

// lineHandler parses one line and counts it in st: parsed (and emitted),
// skipped with its reason, or failed with its number.
type lineHandler struct {
	name string
	p    LineParser
	st   *capture.Stats
	emit func(*capture.Observation)
	o    capture.Observation
}

// handle takes line n (with or without its line ending) whose full length,
// without the newline, is size.
func (h *lineHandler) handle(line []byte, size int, n int64) {
	at := capture.Line(n)
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	switch {
	case size > MaxLineLength:
		h.st.Fail(at, &capture.ProblemError{Input: h.name, Locator: at, Err: fmt.Errorf("line of %d bytes exceeds the limit of %d", size, MaxLineLength)})
	case len(bytes.TrimSpace(line)) == 0:
		h.st.Skip(string(SkipBlank))
	default:
		h.o = capture.Observation{Input: h.name, Locator: at}
		switch perr := h.p.ParseLine(line, &h.o).(type) {
		case nil:
			h.st.Records++
			h.emit(&h.o)
		case Skip:
			// A direct type switch: errors.As would allocate per line.
			h.st.Skip(string(perr))
		default:
			var skip Skip
			if errors.As(perr, &skip) {
				h.st.Skip(string(skip))
			} else {
				h.st.Fail(at, &capture.ProblemError{Input: h.name, Locator: at, Err: perr})
			}
		}
	}
}

// detectDeeper detects the format of in, whose first lines (head, peeked
// from in) matched none, from up to detectDeepSize bytes and
// detectDeepLines lines. It returns the reader to go on reading from: it
// holds the bytes looked at, and any read error of in comes after them, as
// it would have.
func detectDeeper(in *bufio.Reader, head []byte, custom []*Format) (*Format, *bufio.Reader, error) {
	if len(head) < headSize {
		// head is all there is.
		f, err := detectIn(head, custom, detectDeepLines)
		return f, in, err
	}
	deep := bufio.NewReaderSize(in, detectDeepSize)
	head, _ = deep.Peek(detectDeepSize)
	f, err := detectIn(head, custom, detectDeepLines)
	return f, deep, err
}

// DetectFile returns the format of the named file as [Read] would detect
// it, reading only its first bytes, so that a caller can plan how to read
// several inputs before reading any. custom are configured formats, tried
// first.
func DetectFile(name string, custom []*Format) (*Format, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw := bufio.NewReaderSize(f, 64<<10)
	dec, _, closeDec, err := decompress(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer closeDec()
	in := bufio.NewReaderSize(dec, headSize)
	head, err := in.Peek(headSize)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, fmt.Errorf("%s: empty", name)
	}
	format, err := detect(head, custom)
	if errors.Is(err, ErrUnknownFormat) {
		format, _, err = detectDeeper(in, head, custom)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return format, nil
}
