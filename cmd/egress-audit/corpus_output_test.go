package main

import (
	"encoding/csv"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusOutputs audits the corpus's logs in one run (the inputs no
// parser knows are left out) and checks that every report form is well
// formed and prints no raw control character.
func TestCorpusOutputs(t *testing.T) {
	corpus := os.Getenv("EGRESS_AUDIT_CORPUS")
	if corpus == "" {
		t.Skip("set EGRESS_AUDIT_CORPUS to the corpus directory to audit its logs in every output form")
	}
	logs := filepath.Join(corpus, "logs")
	if _, err := os.Stat(logs); err != nil {
		t.Skipf("no logs in the corpus: %v", err)
	}
	for _, out := range outputs {
		t.Run(out, func(t *testing.T) {
			r := runCLI(t, piped, "", "audit", "--log-level", "error", "--fail-on", "none", "-o", out, logs)
			if r.code != exitOK {
				t.Fatalf("exit code %d; stderr %q", r.code, r.stderr)
			}
			for _, c := range r.stdout {
				if c != '\n' && c != '\t' && (c < 0x20 || c == 0x7f) {
					t.Fatalf("raw control character %U in %s output", c, out)
				}
			}
			switch out {
			case "csv":
				if _, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll(); err != nil {
					t.Errorf("csv: %v", err)
				}
			case "junit":
				if err := xml.Unmarshal([]byte(r.stdout), new(struct{})); err != nil {
					t.Errorf("junit: %v", err)
				}
			}
		})
	}
}
