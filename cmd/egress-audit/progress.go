package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/egress-audit/egress-audit/report"
)

// fileTerminal reports whether w is a terminal, and its width in columns
// (0 when unknown). Only an *os.File can be one.
func fileTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return true, 0
	}
	return true, width
}

// tty reports whether w is a terminal and its width, through e.terminal,
// or [fileTerminal] when the env was built without one.
func (e *env) tty(w io.Writer) (bool, int) {
	if e.terminal == nil {
		return fileTerminal(w)
	}
	return e.terminal(w)
}

// useColor reports whether output to a terminal should be coloured:
// NO_COLOR (https://no-color.org) set to anything, or TERM=dumb, turns
// colour off.
func (e *env) useColor() bool {
	return e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// When the progress bar shows: at once for big inputs, and after a moment
// for the others (a slow pipe, a network file system); then it is redrawn
// at most every progressEvery.
const (
	progressBigInput = 16 << 20
	progressAfter    = time.Second
	progressEvery    = 100 * time.Millisecond
)

// progress draws a bar on a terminal while one input is read. The zero
// total means the size is unknown (standard input): the bar shows the
// bytes read so far. It is not safe for concurrent use.
type progress struct {
	w     io.Writer
	width int
	name  string
	total int64
	done  int64
	now   func() time.Time
	start time.Time
	drawn time.Time
	shown bool
}

// newProgress returns a bar for reading name, of size bytes (0 when
// unknown), or nil when cfg wants none.
func (e *env) newProgress(cfg *config, name string, size int64) *progress {
	if !cfg.progress {
		return nil
	}
	_, width := e.tty(e.stderr)
	if width <= 0 {
		width = 80
	}
	now := e.now
	if now == nil {
		now = time.Now
	}
	p := &progress{w: e.stderr, width: width, name: name, total: size, now: now}
	p.start = p.now()
	return p
}

// reader returns r counting into p.
func (p *progress) reader(r io.Reader) io.Reader {
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(n)
	return n, err
}

// add counts n more bytes read and redraws the bar when it is time.
func (p *progress) add(n int) {
	p.done += int64(n)
	t := p.now()
	switch {
	case !p.shown:
		if p.total < progressBigInput && t.Sub(p.start) < progressAfter {
			return
		}
		p.shown = true
	case t.Sub(p.drawn) < progressEvery:
		return
	}
	p.drawn = t
	p.draw()
}

// draw writes the bar over the current line:
//
//	reading capture.pcapng [=========>          ]  45%  12.3 MiB of 27.1 MiB
func (p *progress) draw() {
	var tail string
	pct := -1
	if p.total > 0 {
		pct = int(min(p.done, p.total) * 100 / p.total)
		tail = fmt.Sprintf(" %3d%%  %s of %s", pct, mib(p.done), mib(p.total))
	} else {
		tail = "  " + mib(p.done)
	}
	name := report.Clean(p.name)
	// Leave the last column free, so that no terminal wraps the line.
	room := p.width - 1 - len("reading ") - len(tail) - len(" []")
	// The name keeps up to 24 columns before the bar takes any.
	bar := 0
	if pct >= 0 {
		if bar = min(30, room-min(len([]rune(name)), 24)); bar < 5 {
			bar = 0
		}
	}
	if maxName, r := room-bar, []rune(name); len(r) > maxName {
		if maxName < 4 {
			name = ""
		} else {
			name = "..." + string(r[len(r)-maxName+3:])
		}
	}
	var b strings.Builder
	b.WriteString("\r\x1b[Kreading " + name)
	if bar > 0 {
		fill := pct * bar / 100
		b.WriteString(" [" + strings.Repeat("=", fill))
		if fill < bar {
			b.WriteString(">" + strings.Repeat(" ", bar-fill-1))
		}
		b.WriteString("]")
	}
	b.WriteString(tail)
	io.WriteString(p.w, b.String())
}

// finish clears the bar, if it was shown.
func (p *progress) finish() {
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
	}
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// sharedProgress is one bar counting the bytes of several inputs read at
// once. It is safe for concurrent use.
type sharedProgress struct {
	mu sync.Mutex
	p  *progress
}

// reader returns r counting into s.
func (s *sharedProgress) reader(r io.Reader) io.Reader {
	return &sharedReader{r: r, s: s}
}

// finish clears the bar, if it was shown.
func (s *sharedProgress) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.finish()
}

type sharedReader struct {
	r io.Reader
	s *sharedProgress
}

func (sr *sharedReader) Read(b []byte) (int, error) {
	n, err := sr.r.Read(b)
	sr.s.mu.Lock()
	sr.s.p.add(n)
	sr.s.mu.Unlock()
	return n, err
}
