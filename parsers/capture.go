package parsers

import (
	"io"

	"github.com/egress-audit/egress-audit/capture"
)

// pcapFormat and pcapngFormat read packet captures; both are recognised
// by their magic numbers and read by [capture.Read].
var (
	pcapFormat = &Format{
		Name:   "pcap",
		Title:  "packet capture, pcap (tcpdump -w)",
		Detect: func(head []byte, _ [][]byte) int { return magicScore(capture.IsPcap(head)) },
		Read:   readCapture,
	}
	pcapngFormat = &Format{
		Name:   "pcapng",
		Title:  "packet capture, pcapng (Wireshark, dumpcap)",
		Detect: func(head []byte, _ [][]byte) int { return magicScore(capture.IsPcapng(head)) },
		Read:   readCapture,
	}
)

// magicScore beats any text format: a magic number is certain.
func magicScore(ok bool) int {
	if ok {
		return 1000
	}
	return 0
}

// captureKey keys the capture formats' shared run-wide state.
var captureKey Format

// captureState is the run-wide state of the capture formats: one name
// table, so that a DNS answer in one capture names a flow in another.
type captureState struct {
	names *capture.NameTable
}

func readCapture(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
	s := opts.State(&captureKey, func() any {
		return &captureState{names: capture.NewNameTable()}
	}).(*captureState)
	cfg := &capture.Config{Names: s.names, TLSIssuers: opts.TLSIssuers}
	return capture.Read(r, name, cfg, st, emit)
}
