package main

import (
	"fmt"
	"os"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/parsers"
)

// hostsFile is a hosts file given with --hosts: the server's own names for
// addresses, which it never asked DNS for.
type hostsFile struct {
	path    string
	entries []parsers.HostsEntry
	st      *capture.Stats
	names   int
}

func readHostsFile(path string) (*hostsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	defer f.Close()
	entries, st, err := parsers.ReadHosts(f, path)
	if err != nil {
		return nil, fmt.Errorf("hosts %s: %w", path, err)
	}
	h := &hostsFile{path: path, entries: entries, st: st}
	for _, e := range entries {
		h.names += len(e.Names)
	}
	return h, nil
}

// mark is how a flow named by the file is marked in the report.
func (h *hostsFile) mark() string { return "named by hosts file " + h.path }

// learnHosts gives names the bindings of every hosts file of cfg. A DNS
// answer in the inputs for the same name and address takes over.
func learnHosts(cfg *config, names *capture.NameTable) {
	for _, h := range cfg.hosts {
		for _, e := range h.entries {
			for _, n := range e.Names {
				names.AddLearned(n, e.Addr, h.mark())
			}
		}
	}
}

// hostsNotes says which hosts files named flows, and what of them was
// not read.
func hostsNotes(cfg *config) []string {
	var notes []string
	for _, h := range cfg.hosts {
		n := fmt.Sprintf("hosts file %s names %s (%s) for the flows that carry no name (marked %q)",
			h.path, count(len(h.entries), "address", "addresses"), count(h.names, "name", "names"), h.mark())
		if h.st.Failed > 0 {
			n += fmt.Sprintf("; %s could not be read, the first: %s", count(int(h.st.Failed), "line", "lines"), h.st.Problems[0].Err)
		}
		if k := h.st.Skipped[string(parsers.SkipHostsFull)]; k > 0 {
			n += fmt.Sprintf("; %s past the name table's %d names were left out", count(int(k), "line", "lines"), capture.MaxNames)
		}
		notes = append(notes, n)
	}
	return notes
}

// count is n with the noun of its number: "1 line", "2 lines".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
