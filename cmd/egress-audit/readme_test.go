package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestREADMEExamples runs the commands whose output README shows and checks
// that every member the README's example gives is in the real output with
// the same value, so that a shortened example stays true as the output
// changes. An array of the example matches when each of its elements
// matches some element of the real array.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const samples = "testdata/samples/"
	tests := []struct {
		name  string
		after string // the README text the example's block follows
		args  []string
		lines bool // the example and the output hold one JSON value a line, not one in all
	}{
		{"report_json", "An example, `audit -o json testdata/samples/token-dropped.pcap`",
			[]string{"audit", "-o", "json", samples + "token-dropped.pcap"}, false},
		{"extract_jsonl", "(`extract testdata/samples/token-dropped.pcap`",
			[]string{"extract", samples + "token-dropped.pcap"}, true},
		{"diff_json", "The lab's captures before\nand after the token endpoint",
			[]string{"diff", "-o", "json", samples + "before-token-dropped.pcap", samples + "after-token-allowed.pcap"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			example := jsonBlockAfter(t, string(readme), tc.after)
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if strings.HasPrefix(a, samples) {
					args[i] = filepath.Join("..", "..", a)
				}
			}
			r := runWith(t, nil, "", args...)
			if r.code == exitUsage {
				t.Fatalf("%v: exit %d, stderr: %s", tc.args, r.code, r.stderr)
			}
			// README names the samples from the repository's root.
			out := strings.ReplaceAll(r.stdout, "../../"+samples, samples)
			want, got := decodeAll(t, example), decodeAll(t, out)
			if !tc.lines && (len(want) != 1 || len(got) != 1) {
				t.Fatalf("want one JSON value in the example and the output, got %d and %d", len(want), len(got))
			}
			for _, w := range want {
				if !anyWithin(got, w) {
					b, _ := json.Marshal(w)
					t.Errorf("README's example %s is not in the output of %v:\n%s", b, tc.args, out)
				}
			}
		})
	}
}

// jsonBlockAfter returns the first ```json block of readme after the text
// after.
func jsonBlockAfter(t *testing.T, readme, after string) string {
	t.Helper()
	i := strings.Index(readme, after)
	if i < 0 {
		t.Fatalf("README lacks %q", after)
	}
	rest := readme[i:]
	start := strings.Index(rest, "```json\n")
	if start < 0 {
		t.Fatalf("no json block after %q", after)
	}
	rest = rest[start+len("```json\n"):]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("json block after %q does not end", after)
	}
	return rest[:end]
}

// decodeAll decodes the JSON values of s, one after the other.
func decodeAll(t *testing.T, s string) []any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var out []any
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decoding %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

// anyWithin reports whether want is within one of got.
func anyWithin(got []any, want any) bool {
	for _, g := range got {
		if within(want, g) {
			return true
		}
	}
	return false
}

// within reports whether every member of want is in got with a value
// within it: objects by their keys, arrays element by element in any
// order, anything else by equality.
func within(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !within(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || (len(w) == 0) != (len(g) == 0) {
			return false
		}
		for _, wv := range w {
			if !anyWithin(g, wv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// TestREADMETable checks that the table README opens with is what the audit
// of its sample prints, line for line.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ egress-audit audit testdata/samples/token-dropped.pcap\n"
	i := strings.Index(string(readme), prompt)
	if i < 0 {
		t.Fatalf("README lacks %q", prompt)
	}
	example, _, ok := strings.Cut(string(readme[i+len(prompt):]), "```")
	if !ok {
		t.Fatal("README's table example does not end")
	}
	r := runWith(t, nil, "", "audit", filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap"))
	if r.code != exitFindings {
		t.Fatalf("exit %d, want %d (a blocked call); stderr: %s", r.code, exitFindings, r.stderr)
	}
	out := strings.ReplaceAll(r.stdout, filepath.Join("..", "..")+"/", "")
	want, got := strings.Split(strings.TrimSpace(example), "\n"), strings.Split(strings.TrimSpace(out), "\n")
	for n := 0; n < len(want) || n < len(got); n++ {
		var w, g string
		if n < len(want) {
			w = strings.TrimRight(want[n], " ")
		}
		if n < len(got) {
			g = strings.TrimRight(got[n], " ")
		}
		if w != g {
			t.Errorf("line %d:\nREADME: %q\noutput: %q", n+1, w, g)
		}
	}
}
