package parsers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/egress-audit/egress-audit/capture"
)

// gcpFW reads Google Cloud VPC firewall rules logging: Cloud Logging
// LogEntry objects whose jsonPayload holds connection (src_ip, src_port,
// dest_ip, dest_port, protocol as IANA number or name), disposition
// (ALLOWED or DENIED) and rule_details (reference
// "network:NET/firewall:NAME", direction, priority). The connection is
// given in the order its first packet travelled, so src is the client in
// both directions.
var gcpFW = &Format{
	Name:   "gcp-fw",
	Title:  "Google Cloud VPC firewall rules log (Cloud Logging JSON)",
	Detect: detectGCPFW,
	Read: func(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
		return readJSONRecords(r, name, st, parseGCPRecord, emit)
	},
}

func detectGCPFW(head []byte, _ [][]byte) int {
	if bytes.Contains(head, []byte(`"disposition"`)) && bytes.Contains(head, []byte(`"connection"`)) {
		return 30
	}
	if bytes.Contains(head, []byte(`compute.googleapis.com%2Ffirewall`)) {
		return 30
	}
	return 0
}

type gcpEntry struct {
	Timestamp   string `json:"timestamp"`
	JSONPayload *struct {
		Connection *struct {
			SrcIP    string          `json:"src_ip"`
			SrcPort  int             `json:"src_port"`
			DestIP   string          `json:"dest_ip"`
			DestPort int             `json:"dest_port"`
			Protocol json.RawMessage `json:"protocol"`
		} `json:"connection"`
		Disposition string `json:"disposition"`
		RuleDetails *struct {
			Reference string `json:"reference"`
			Direction string `json:"direction"`
			Action    string `json:"action"`
			Priority  int    `json:"priority"`
		} `json:"rule_details"`
	} `json:"jsonPayload"`
}

func parseGCPRecord(raw []byte, o *capture.Observation) error {
	var e gcpEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return errors.New("gcp-fw: " + err.Error())
	}
	p := e.JSONPayload
	if p == nil || p.Connection == nil {
		return SkipNotFirewall
	}
	c := p.Connection
	src, ok1 := parseAddr([]byte(c.SrcIP))
	dst, ok2 := parseAddr([]byte(c.DestIP))
	if !ok1 || !ok2 {
		return errors.New("gcp-fw: src_ip or dest_ip is not an address")
	}
	if c.SrcPort < 0 || c.SrcPort > 65535 || c.DestPort < 0 || c.DestPort > 65535 {
		return errors.New("gcp-fw: port out of range")
	}
	o.Client = netip.AddrPortFrom(src, uint16(c.SrcPort))
	o.Server = netip.AddrPortFrom(dst, uint16(c.DestPort))
	o.Transport = transportOf(bytes.Trim(c.Protocol, `"`))
	if t, zoned, _, ok := parseRFC3339([]byte(e.Timestamp), nil); ok && zoned {
		o.Time = t
	}
	rule := "gcp firewall"
	if rd := p.RuleDetails; rd != nil {
		name := rd.Reference
		if i := strings.LastIndex(name, "firewall:"); i >= 0 {
			name = name[i+len("firewall:"):]
		}
		rule += " rule " + name + " (" + strings.ToLower(rd.Direction) + ", priority " + strconv.Itoa(rd.Priority) + ")"
	}
	switch p.Disposition {
	case "ALLOWED":
		o.Outcome, o.Detail = capture.OutcomeOK, rule+": allowed"
	case "DENIED":
		denied(o, rule+": denied")
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, rule+": "+strings.ToLower(p.Disposition)
	}
	if notEgress(dst) {
		return SkipMulticast
	}
	return nil
}
