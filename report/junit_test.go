package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"
)

// junitAttrs lists the attributes Jenkins' junit-10.xsd, the schema CI
// systems validate JUnit reports against, allows on the elements a case
// holds.
var junitAttrs = map[string]map[string]bool{
	"failure": {"message": true, "type": true},
	"skipped": {"message": true},
}

// TestJUnitSchemaAttributes walks every JUnit report of the golden
// scenarios and of the checks, and asserts that <failure> and <skipped>
// carry only the attributes the schema has.
func TestJUnitSchemaAttributes(t *testing.T) {
	var docs [][]byte
	for _, s := range scenarios {
		var buf bytes.Buffer
		if err := JUnit(&buf, s.build()); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, buf.Bytes())
	}
	for _, s := range checkScenarios {
		var buf bytes.Buffer
		if err := CheckJUnit(&buf, buildCheck(t, s.name)); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, buf.Bytes())
	}
	seen := map[string]int{}
	for _, doc := range docs {
		dec := xml.NewDecoder(bytes.NewReader(doc))
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("JUnit does not parse: %v", err)
			}
			el, ok := tok.(xml.StartElement)
			if !ok || junitAttrs[el.Name.Local] == nil {
				continue
			}
			seen[el.Name.Local]++
			for _, a := range el.Attr {
				if !junitAttrs[el.Name.Local][a.Name.Local] {
					t.Errorf("<%s> has attribute %s=%q, which the schema lacks", el.Name.Local, a.Name.Local, a.Value)
				}
			}
		}
	}
	if seen["failure"] == 0 || seen["skipped"] == 0 {
		t.Errorf("elements seen %v: want both failures and skipped cases", seen)
	}
}
