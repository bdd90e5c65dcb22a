package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// stepClock returns a clock that moves step at every reading.
func stepClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name   string
		total  int64
		reads  []int
		step   time.Duration
		width  int
		input  string
		want   []string // in the last drawn line
		hidden bool
	}{
		{name: "half", total: 40 << 20, reads: []int{20 << 20}, step: 200 * time.Millisecond, width: 80,
			input: "capture.pcapng", want: []string{"reading capture.pcapng [", "]  50%  20.0 MiB of 40.0 MiB"}},
		{name: "redrawn_at_most_every_100ms", total: 40 << 20, reads: []int{20 << 20}, step: time.Millisecond, width: 80,
			input: "capture.pcapng", want: []string{"48%  19.5 MiB of 40.0 MiB"}},
		{name: "done", total: 1000, reads: []int{600, 400}, step: 2 * time.Second, width: 80,
			input: "access.log", want: []string{"=] 100%  0.0 MiB of 0.0 MiB"}},
		{name: "unknown_size", total: 0, reads: []int{3 << 20}, step: 2 * time.Second, width: 80,
			input: "-", want: []string{"reading -  3.0 MiB"}},
		{name: "small_and_quick", total: 1000, reads: []int{500, 500}, step: time.Millisecond, width: 80,
			input: "access.log", hidden: true},
		{name: "long_name_narrow", total: 40 << 20, reads: []int{10 << 20}, step: 2 * time.Second, width: 60,
			input: strings.Repeat("d/", 40) + "access.log", want: []string{"reading ...", "access.log", "25%"}},
		{name: "escape_in_name", total: 40 << 20, reads: []int{1}, step: 2 * time.Second, width: 80,
			input: "\x1b[31mevil.log", want: []string{`reading \x1b[31mevil.log`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &progress{w: &out, width: tc.width, name: tc.input, total: tc.total, now: stepClock(tc.step)}
			p.start = p.now()
			r := p.reader(zeros{})
			for _, n := range tc.reads {
				if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
					t.Fatal(err)
				}
			}
			p.finish()
			s := out.String()
			if tc.hidden {
				if s != "" {
					t.Errorf("progress of a small, quick input drawn: %q", s)
				}
				return
			}
			if !strings.HasSuffix(s, "\r\x1b[K") {
				t.Errorf("bar not cleared at the end: %q", s)
			}
			draws := strings.Split(strings.TrimSuffix(s, "\r\x1b[K"), "\r\x1b[K")
			last := draws[len(draws)-1]
			for _, w := range tc.want {
				if !strings.Contains(last, w) {
					t.Errorf("bar %q lacks %q", last, w)
				}
			}
			if n := len([]rune(last)); n >= tc.width {
				t.Errorf("bar of %d columns on a terminal of %d: %q", n, tc.width, last)
			}
			if strings.Contains(last, "\x1b[31m") {
				t.Errorf("escape from the input name drawn raw: %q", last)
			}
		})
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}
