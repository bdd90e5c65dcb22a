package report

import (
	"io"
	"testing"
)

func BenchmarkRender(b *testing.B) {
	r := scenarioReport("hostile")
	for _, w := range writers {
		b.Run(w.ext, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := w.write(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
