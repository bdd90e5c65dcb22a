package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/egress-audit/egress-audit/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites the file
// when -update is given.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s\n(run go test ./report -update after checking the change)", path, got)
	}
}

// writers are the report forms with golden files, by file extension.
var writers = []struct {
	ext   string
	write func(io.Writer, *rules.Report) error
}{
	{"txt", Table},
	{"tty.txt", TableOptions{Color: true, Width: 100}.Write},
	{"json", JSON},
	{"md", Markdown},
	{"html", HTML},
	{"csv", CSV},
	{"junit.xml", JUnit},
}

func TestGoldenReports(t *testing.T) {
	for _, s := range scenarios {
		rep := s.build()
		for _, w := range writers {
			t.Run(s.name+"."+w.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, rep); err != nil {
					t.Fatalf("write: %v", err)
				}
				golden(t, s.name+"."+w.ext, buf.Bytes())
			})
		}
	}
}
