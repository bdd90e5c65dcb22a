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

// azureFW reads Azure Firewall logs as diagnostic settings export them:
// JSON records with category, time and properties. The classic
// AzureFirewallNetworkRule and AzureFirewallApplicationRule categories put
// everything in one sentence,
//
//	"HTTPS request from 10.0.0.1:49553 to app.example.com:443. Action: Allow. Rule Collection: web. Rule: saas"
//
// while the structured AZFW* categories (AZFWNetworkRule,
// AZFWApplicationRule, AZFWNatRule, AZFWThreatIntel, AZFWIdpsSignature)
// have typed properties: SourceIp, SourcePort, DestinationIp,
// DestinationPort, Fqdn, TargetUrl, Protocol, Action, Rule... Log Analytics
// exports put the same names at the top level with the category in Type.
var azureFW = &Format{
	Name:   "azure-fw",
	Title:  "Azure Firewall log (AzureDiagnostics and structured AZFW* records, JSON)",
	Detect: detectAzureFW,
	Read: func(r io.Reader, name string, opts *Options, st *capture.Stats, emit func(*capture.Observation)) error {
		return readJSONRecords(r, name, st, parseAzureRecord, emit)
	},
}

func detectAzureFW(head []byte, _ [][]byte) int {
	if bytes.Contains(head, []byte(`"AzureFirewall`)) || bytes.Contains(head, []byte(`"AZFW`)) {
		return 30
	}
	return 0
}

// azfwProperties holds the typed properties of structured records.
type azfwProperties struct {
	Msg                 string          `json:"msg"`
	SourceIP            string          `json:"SourceIp"`
	SourcePort          json.RawMessage `json:"SourcePort"`
	DestinationIP       string          `json:"DestinationIp"`
	DestinationPort     json.RawMessage `json:"DestinationPort"`
	Fqdn                string          `json:"Fqdn"`
	TargetURL           string          `json:"TargetUrl"`
	Protocol            string          `json:"Protocol"`
	Action              string          `json:"Action"`
	ActionReason        string          `json:"ActionReason"`
	Policy              string          `json:"Policy"`
	RuleCollectionGroup string          `json:"RuleCollectionGroup"`
	RuleCollection      string          `json:"RuleCollection"`
	Rule                string          `json:"Rule"`
	TranslatedIP        string          `json:"TranslatedIp"`
}

type azfwRecord struct {
	Category      string          `json:"category"`
	Type          string          `json:"Type"`
	Time          string          `json:"time"`
	TimeGenerated string          `json:"TimeGenerated"`
	Properties    json.RawMessage `json:"properties"`
}

const skipAzureDNAT Skip = "inbound connection translated by a DNAT rule"

func parseAzureRecord(raw []byte, o *capture.Observation) error {
	var r azfwRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return errors.New("azure-fw: " + err.Error())
	}
	cat := r.Category
	props := []byte(r.Properties)
	if cat == "" {
		cat, props = r.Type, raw
	}
	if len(props) == 0 || !(strings.HasPrefix(cat, "AzureFirewall") || strings.HasPrefix(cat, "AZFW")) {
		return SkipNotFirewall
	}
	var p azfwProperties
	if err := json.Unmarshal(props, &p); err != nil {
		return errors.New("azure-fw: properties: " + err.Error())
	}
	ts := r.Time
	if ts == "" {
		ts = r.TimeGenerated
	}
	if t, _, _, ok := parseRFC3339([]byte(ts), nil); ok {
		o.Time = t
	}
	if p.Msg != "" {
		return azureMsg(p.Msg, o)
	}
	switch cat {
	case "AZFWNatRule":
		return skipAzureDNAT
	case "AZFWDnsQuery", "AZFWFqdnResolveFailure", "AZFWFatFlow", "AZFWFlowTrace":
		return SkipNotTraffic
	}
	src, ok := parseAddr([]byte(p.SourceIP))
	if !ok {
		return errors.New("azure-fw: SourceIp " + strconv.Quote(p.SourceIP) + " is not an address")
	}
	dst, _ := parseAddr([]byte(p.DestinationIP))
	o.Client = netip.AddrPortFrom(src, jsonPort(p.SourcePort))
	o.Server = netip.AddrPortFrom(dst, jsonPort(p.DestinationPort))
	o.Transport = azureTransport(p.Protocol)
	switch {
	case p.TargetURL != "" && strings.Contains(p.TargetURL, "://"):
		setURL(o, p.TargetURL)
	}
	switch {
	case o.Host != "":
	case p.Fqdn != "":
		if h := normHost(p.Fqdn); h != "" {
			o.Host, o.HostSource = h, azureSource(p.Protocol)
		}
	}
	if !dst.IsValid() && o.Host == "" {
		return SkipNoAddresses
	}
	rule := azureRule(cat, p.Policy, p.RuleCollectionGroup, p.RuleCollection, p.Rule)
	if p.ActionReason != "" {
		rule += " (" + p.ActionReason + ")"
	}
	setAzureAction(o, p.Action, rule)
	return nil
}

func jsonPort(raw json.RawMessage) uint16 {
	p, _ := parsePort(bytes.Trim(raw, `"`))
	return p
}

// azureTransport maps an Azure protocol name (TCP, UDP, ICMP, HTTP,
// HTTPS, MSSQL) to a transport.
func azureTransport(p string) capture.Transport {
	switch strings.ToUpper(p) {
	case "HTTP", "HTTPS", "MSSQL", "TCP":
		return capture.TCP
	}
	return transportOf([]byte(p))
}

// azureSource says how Azure learned an application rule's FQDN: from the
// TLS SNI for HTTPS, from the Host header for HTTP.
func azureSource(proto string) capture.HostSource {
	switch strings.ToUpper(proto) {
	case "HTTPS":
		return capture.SourceSNI
	case "HTTP":
		return capture.SourceHTTP
	}
	return capture.SourceLog
}

func azureRule(cat string, parts ...string) string {
	var b strings.Builder
	b.WriteString("azure firewall ")
	b.WriteString(cat)
	for _, s := range parts {
		if s != "" {
			b.WriteString(" / ")
			b.WriteString(s)
		}
	}
	return b.String()
}

func setAzureAction(o *capture.Observation, action, rule string) {
	a := strings.ToLower(strings.TrimRight(action, ". "))
	d := rule + ": " + a
	switch a {
	case "allow", "alert":
		o.Outcome, o.Detail = capture.OutcomeOK, d
	case "deny", "drop", "block":
		denied(o, d)
	default:
		o.Outcome, o.Detail = capture.OutcomeUnknown, d
	}
}

// azureMsg reads the sentence of a classic record.
func azureMsg(msg string, o *capture.Observation) error {
	proto, rest, ok := strings.Cut(msg, " ")
	if !ok {
		return errors.New("azure-fw: msg without words")
	}
	i := strings.Index(rest, "request from ")
	if i < 0 {
		return SkipNotTraffic
	}
	rest = rest[i+len("request from "):]
	from, rest, ok := strings.Cut(rest, " to ")
	if !ok {
		return errors.New("azure-fw: msg without \" to \"")
	}
	to, rest, _ := strings.Cut(rest, " ")
	to = strings.TrimSuffix(to, ".")
	if strings.HasPrefix(strings.TrimSpace(rest), "was DNAT'ed") {
		return skipAzureDNAT
	}
	src, sport := azureEndpoint(from)
	a, ok := parseAddr([]byte(src))
	if !ok {
		return errors.New("azure-fw: source " + strconv.Quote(src) + " is not an address")
	}
	o.Client = netip.AddrPortFrom(a, sport)
	dst, dport := azureEndpoint(to)
	if d, ok := parseAddr([]byte(dst)); ok {
		o.Server = netip.AddrPortFrom(d, dport)
	} else if h := normHost(dst); h != "" {
		o.Server = netip.AddrPortFrom(netip.Addr{}, dport)
		o.Host, o.HostSource = h, azureSource(proto)
	} else {
		return errors.New("azure-fw: destination " + strconv.Quote(dst) + " is neither address nor name")
	}
	o.Transport = azureTransport(proto)
	if u := azureField(rest, "Url"); u != "" {
		setURL(o, u)
	}
	rule := "azure firewall"
	for _, k := range []string{"Policy", "Rule Collection Group", "Rule Collection", "Rule", "Signature", "ThreatIntel", "Reason"} {
		if v := azureField(rest, k); v != "" {
			rule += " / " + k + " " + v
		}
	}
	action := azureField(rest, "Action")
	if action == "" {
		return SkipNotTraffic
	}
	setAzureAction(o, action, rule)
	return nil
}

// azureEndpoint splits "host:port" (the port may be empty) at its last
// colon; IPv6 addresses without port are returned whole.
func azureEndpoint(s string) (string, uint16) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	if _, ok := parseAddr([]byte(s)); ok {
		return s, 0
	}
	p, _ := parsePort([]byte(s[i+1:]))
	return s[:i], p
}

// azureField returns the value of "Key: value." in the rest of a msg.
func azureField(rest, key string) string {
	i := strings.Index(rest, ". "+key+": ")
	j := len(". " + key + ": ")
	if i < 0 {
		if strings.HasPrefix(rest, key+": ") {
			i, j = 0, len(key+": ")
		} else if i = strings.Index(rest, " "+key+": "); i >= 0 {
			j = len(" " + key + ": ")
		} else {
			return ""
		}
	}
	v := rest[i+j:]
	if k := strings.Index(v, ". "); k >= 0 {
		v = v[:k]
	}
	return strings.TrimSpace(strings.TrimRight(v, ". "))
}
