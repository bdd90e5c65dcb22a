package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/egress-audit/egress-audit/parsers"
)

// formatKeys are the keys of one entry of the formats list.
var formatKeys = []string{"name", "regex", "delimiter", "columns", "logformat", "time_layout", "comment"}

// customFormats builds the formats the configuration declares under
// "formats", e.g.
//
//	formats:
//	  - name: edge-proxy
//	    regex: '^(?P<time>\S+) (?P<client>\S+) (?P<method>\S+) (?P<url>\S+) (?P<status>\d+)'
//	  - name: csv-proxy
//	    delimiter: ","
//	    columns: [time, client, action, method, url, status]
//	  - name: squid-ext
//	    logformat: '%ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %mt'
//
// Errors name the entry by its index and name.
func customFormats(v *viper.Viper) ([]*parsers.Format, error) {
	raw := v.Get(keyFormats)
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, usagef("formats: want a list of formats, each with a name and a regex, delimiter and columns, or logformat")
	}
	var out []*parsers.Format
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, usagef("formats[%d]: want a map with keys %s", i, strings.Join(formatKeys, ", "))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !slices.Contains(formatKeys, k) {
				return nil, usagef("formats[%d]: unknown key %q: want one of %s", i, k, strings.Join(formatKeys, ", "))
			}
		}
		str := func(k string) string {
			if s, ok := m[k].(string); ok {
				return s
			}
			if m[k] != nil {
				return fmt.Sprint(m[k])
			}
			return ""
		}
		spec := parsers.CustomSpec{
			Name:       str("name"),
			Regex:      str("regex"),
			Delimiter:  str("delimiter"),
			LogFormat:  str("logformat"),
			TimeLayout: str("time_layout"),
			Comment:    str("comment"),
		}
		if cols, ok := m["columns"].([]any); ok {
			for _, c := range cols {
				spec.Columns = append(spec.Columns, fmt.Sprint(c))
			}
		} else if m["columns"] != nil {
			return nil, usagef("formats[%d]: columns: want a list of field names", i)
		}
		f, err := parsers.NewCustomFormat(spec)
		if err != nil {
			return nil, usagef("formats[%d]: %v", i, err)
		}
		for _, o := range out {
			if o.Name == f.Name {
				return nil, usagef("formats[%d]: format %q declared twice", i, f.Name)
			}
		}
		out = append(out, f)
	}
	return out, nil
}
