package rules

import (
	"encoding/json"
	"testing"
)

// TestMergeEqualsSequential checks that classifying two halves apart and
// merging gives the report that one classifier gives on the whole.
func TestMergeEqualsSequential(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			whole := NewClassifier(DefaultCatalog(), sc.opts)
			first := NewClassifier(DefaultCatalog(), sc.opts)
			second := NewClassifier(DefaultCatalog(), sc.opts)
			half := len(sc.obs) / 2
			for i, o := range sc.obs {
				whole.Add(o.observation(i))
				if i < half {
					first.Add(o.observation(i))
				} else {
					second.Add(o.observation(i))
				}
			}
			first.Merge(second)
			a, _ := json.Marshal(whole.Report(nil))
			b, _ := json.Marshal(first.Report(nil))
			if string(a) != string(b) {
				t.Errorf("merged report differs:\n%s\nwant\n%s", b, a)
			}
		})
	}
}

// TestReportTwice checks that making a report changes nothing: a live
// audit reports again and again as observations arrive.
func TestReportTwice(t *testing.T) {
	for _, sc := range scenarios {
		cl := NewClassifier(DefaultCatalog(), sc.opts)
		for i, o := range sc.obs {
			cl.Add(o.observation(i))
		}
		a, _ := json.Marshal(cl.Report(nil))
		b, _ := json.Marshal(cl.Report(nil))
		if string(a) != string(b) {
			t.Errorf("%s: second report differs:\n%s\nwant\n%s", sc.name, b, a)
		}
	}
}
