package parsers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// awsNFW reads AWS Network Firewall flow and alert logs: JSON objects with
// firewall_name, availability_zone, event_timestamp and event, a Suricata
// EVE record. Alerts give the verdict (alert.action blocked or allowed) and
// often the server's name (tls.sni, http.hostname); netflow records say a
// flow passed the stateful engine, without a verdict.
var awsNFW = &Format{
	Name:   "aws-nfw",
	Title:  "AWS Network Firewall flow and alert log (JSON)",
	Detect: detectAWSNFW,
	Read: func(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
		return readJSONRecords(r, name, st, parseNFWRecord, emit)
	},
}

func detectAWSNFW(head []byte, _ [][]byte) int {
	if bytes.Contains(head, []byte(`"firewall_name"`)) && bytes.Contains(head, []byte(`"event_type"`)) {
		return 30
	}
	return 0
}

// eveRecord is the part of a Suricata EVE record the auditor reads.
type eveRecord struct {
	Timestamp string `json:"timestamp"`
	EventType string `json:"event_type"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int    `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int    `json:"dest_port"`
	Proto     string `json:"proto"`
	Alert     *struct {
		Action      string `json:"action"`
		SignatureID int64  `json:"signature_id"`
		Signature   string `json:"signature"`
	} `json:"alert"`
	HTTP *struct {
		Hostname string `json:"hostname"`
		URL      string `json:"url"`
		Method   string `json:"http_method"`
	} `json:"http"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	Netflow *struct {
		Pkts int64 `json:"pkts"`
	} `json:"netflow"`
}

type nfwRecord struct {
	FirewallName   string     `json:"firewall_name"`
	EventTimestamp string     `json:"event_timestamp"`
	Event          *eveRecord `json:"event"`
}

var errNFWAddr = errors.New("aws-nfw: src_ip or dest_ip is not an address")

func parseNFWRecord(raw []byte, o *capture.Observation) error {
	var r nfwRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return errors.New("aws-nfw: " + err.Error())
	}
	if r.Event == nil {
		return SkipNotFirewall
	}
	e := r.Event
	if err := setEVE(e, o); err != nil {
		return err
	}
	if o.Time.IsZero() {
		if t, ok := epochTime([]byte(r.EventTimestamp)); ok {
			o.Time = t
		}
	}
	prefix := "network firewall " + r.FirewallName
	switch {
	case e.Alert != nil:
		d := prefix + ": alert " + strconv.FormatInt(e.Alert.SignatureID, 10) + " " + e.Alert.Signature + ": " + e.Alert.Action
		switch e.Alert.Action {
		case "blocked", "drop", "reject":
			denied(o, d)
		case "allowed":
			o.Outcome, o.Detail = capture.OutcomeOK, d
		default:
			o.Outcome, o.Detail = capture.OutcomeUnknown, d
		}
	case e.EventType == "netflow" || e.EventType == "tls" || e.EventType == "http":
		o.Outcome, o.Detail = capture.OutcomeUnknown, prefix+": "+e.EventType
	default:
		return SkipNotTraffic
	}
	if notEgress(o.Server.Addr()) {
		return SkipMulticast
	}
	return nil
}

// setEVE sets the addresses, time and names of a Suricata EVE record.
func setEVE(e *eveRecord, o *capture.Observation) error {
	src, ok1 := parseAddr([]byte(e.SrcIP))
	dst, ok2 := parseAddr([]byte(e.DestIP))
	if !ok1 || !ok2 {
		if e.SrcIP == "" && e.DestIP == "" {
			return SkipNoAddresses
		}
		return errNFWAddr
	}
	if e.SrcPort < 0 || e.SrcPort > 65535 || e.DestPort < 0 || e.DestPort > 65535 {
		return errors.New("aws-nfw: port out of range")
	}
	o.Client = netip.AddrPortFrom(src, uint16(e.SrcPort))
	o.Server = netip.AddrPortFrom(dst, uint16(e.DestPort))
	o.Transport = transportOf([]byte(e.Proto))
	if t, ok := eveTime(e.Timestamp); ok {
		o.Time = t
	}
	switch {
	case e.TLS != nil && e.TLS.SNI != "":
		if h := normHost(e.TLS.SNI); h != "" {
			o.Host, o.HostSource = h, capture.SourceSNI
		}
	case e.HTTP != nil && e.HTTP.Hostname != "":
		if h := normHost(e.HTTP.Hostname); h != "" {
			o.Host, o.HostSource = h, capture.SourceHTTP
			o.Method = e.HTTP.Method
			if strings.HasPrefix(e.HTTP.URL, "/") {
				o.Path = RedactPath(e.HTTP.URL)
			}
		}
	}
	return nil
}

// normHost returns s as a lower-case host name without trailing dot, or ""
// when it is an address or not a name.
func normHost(s string) string {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if _, ok := parseAddr([]byte(s)); ok || !isHostName(s) {
		return ""
	}
	return s
}

// eveTime parses Suricata's "2021-11-08T14:22:12.637611+0000".
func eveTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, zoned, _, ok := parseRFC3339([]byte(s), time.UTC)
	return t, ok && zoned
}
