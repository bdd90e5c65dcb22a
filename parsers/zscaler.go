package parsers

import (
	"bytes"
	"fmt"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// zscaler reads Zscaler NSS web logs in the JSON feed format SIEMs are
// usually given, with or without the {"sourcetype":..., "event":{...}}
// wrapper: cip (client), sip (server), eurl (URL without its scheme),
// proto, reqmethod, respcode, action (Allowed or Blocked), ruletype and
// rulelabel, and time as a zone-less "Fri Dec 31 07:07:07 2021" in the
// run's time zone. A Blocked action is a proxy-denied whatever respcode
// says; the rule that blocked goes to the detail.
var zscaler = &Format{
	Name:      "zscaler",
	Title:     "Zscaler NSS web log, JSON feed",
	Detect:    detectZscaler,
	Stateless: true,
	NewLine: func(opts *Options) LineParser {
		return &zscalerParser{keep: opts.KeepSecrets, loc: opts.location()}
	},
}

func detectZscaler(_ []byte, lines [][]byte) int {
	score := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"zscalernss-web"`)) {
			score += 20
		} else if bytes.Contains(l, []byte(`"eurl"`)) && bytes.Contains(l, []byte(`"cip"`)) {
			score += 10
		}
	}
	return score
}

type zscalerParser struct {
	keep    bool
	loc     *time.Location
	scratch []byte
	rec     proxyRecord
	tv      []byte
	ruleT   []byte
	ruleL   []byte
	proto   []byte
	action  []byte
	rulebuf []byte
}

func (p *zscalerParser) ParseLine(line []byte, o *capture.Observation) error {
	r := &p.rec
	r.reset()
	p.tv, p.ruleT, p.ruleL, p.proto, p.action = nil, nil, nil, nil, nil
	err := scanJSON(line, &p.scratch, func(k, v []byte) {
		switch string(k) {
		case "time", "datetime":
			p.tv = v
		case "cip":
			r.client = v
		case "sip":
			r.server = v
		case "eurl", "url":
			r.url = v
		case "hostname", "host":
			r.host = v
		case "proto", "protocol":
			p.proto = v
		case "reqmethod":
			r.method = v
		case "respcode":
			r.status = v
		case "action":
			p.action = v
		case "ruletype":
			p.ruleT = v
		case "rulelabel":
			p.ruleL = v
		}
	})
	if err != nil {
		return fmt.Errorf("zscaler: %w", err)
	}
	if len(r.url) == 0 && len(r.host) == 0 {
		return fmt.Errorf("zscaler: no eurl or hostname")
	}
	switch {
	case bytes.EqualFold(p.proto, []byte("HTTPS")), bytes.EqualFold(p.proto, []byte("SSL")):
		r.scheme = []byte("https")
	default:
		r.scheme = []byte("http")
	}
	r.code = p.action
	r.denied = bytes.EqualFold(p.action, []byte("Blocked"))
	// Zscaler logs its own refusals as Blocked; an Allowed request's status
	// is the server's.
	r.origin = bytes.EqualFold(p.action, []byte("Allowed"))
	if len(p.ruleL) > 0 && !bytes.EqualFold(p.ruleL, []byte("None")) {
		p.rulebuf = append(append(append(p.rulebuf[:0], p.ruleT...), ' '), p.ruleL...)
		r.rule = bytes.TrimSpace(p.rulebuf)
	}
	if len(p.tv) > 0 {
		t, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", string(p.tv), p.loc)
		if err != nil {
			return fmt.Errorf("zscaler: time %q: want \"Mon Jan 2 15:04:05 2006\"", field(p.tv))
		}
		r.time = t.UTC()
	}
	if err := r.fill(o, p.keep); err != nil {
		if _, ok := err.(Skip); ok {
			return err
		}
		return fmt.Errorf("zscaler: %w", err)
	}
	return nil
}
