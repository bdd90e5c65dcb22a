package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/rules"
)

// wildcardCatalog is a catalog with a wildcard host and a port other than
// 443, to show the warnings the targets give.
const wildcardCatalog = `
name: example-saas
version: "1.0"
datacenters:
  - id: main
    vars: {}
calls:
  - id: login
    host: login.example.com
    method: POST
    path: /token
  - id: tenant-api
    host: "*.tenants.example.com"
    port: 8443
`

// allowCase is one allow-list input.
type allowCase struct {
	name  string
	allow func(t *testing.T) *Allow
}

func catalogAllow(dcID, vantage string) func(t *testing.T) *Allow {
	return func(t *testing.T) *Allow {
		cat := rules.DefaultCatalog()
		dc, ok := cat.Datacenter(dcID)
		if !ok {
			t.Fatalf("no data center %s", dcID)
		}
		return AllowFromCatalog(cat, dc, vantage)
	}
}

var allowCases = []allowCase{
	{"catalog_eu_server", catalogAllow("eu", rules.VantageServer)},
	{"catalog_us_all", catalogAllow("us", rules.VantageAll)},
	{"report_proxy_denied", func(*testing.T) *Allow { return AllowFromReport(scenarioReport("proxy_denied")) }},
	{"report_tls_interception", func(*testing.T) *Allow { return AllowFromReport(scenarioReport("tls_interception")) }},
	{"report_hostile", func(*testing.T) *Allow {
		r := scenarioReport("hostile")
		// A report file is input too: a forged host must not reach the rules.
		r.Calls[1].Host = "evil.example\nhttp_access allow all"
		r.Catalog.Name = "quantive\"; rm -rf /"
		return AllowFromReport(r)
	}},
	{"lab_token_dropped", func(t *testing.T) *Allow {
		return AllowFromReport(labReport(t, rules.Options{}, []string{"token-dropped.pcap"}))
	}},
	{"lab_proxy_denied", func(t *testing.T) *Allow {
		return AllowFromReport(labReport(t, rules.Options{}, []string{"proxy-denied-squid.log"}))
	}},
	{"lab_tls_intercepted", func(t *testing.T) *Allow {
		return AllowFromReport(labReport(t, rules.Options{}, []string{"tls-intercepted.pcap"}))
	}},
	{"wildcard_catalog", func(t *testing.T) *Allow {
		cat, err := rules.ParseCatalog("example.yaml", []byte(wildcardCatalog))
		if err != nil {
			t.Fatal(err)
		}
		return AllowFromCatalog(cat, cat.Datacenters[0], rules.VantageServer)
	}},
}

// allowOutput runs AllowList and returns the list, the notes and the
// warnings.
func allowOutput(t *testing.T, target string, a *Allow) ([]byte, []string, []string) {
	t.Helper()
	var buf bytes.Buffer
	notes, warnings, err := AllowList(&buf, target, a)
	if err != nil {
		t.Fatalf("AllowList(%s): %v", target, err)
	}
	return buf.Bytes(), notes, warnings
}

func TestGoldenAllowLists(t *testing.T) {
	for _, tc := range allowCases {
		for _, target := range AllowTargets {
			t.Run(tc.name+"."+target, func(t *testing.T) {
				out, notes, warnings := allowOutput(t, target, tc.allow(t))
				var b bytes.Buffer
				b.Write(out)
				b.WriteString("\n==== warnings ====\n")
				for _, w := range warnings {
					b.WriteString(Clean(w) + "\n")
				}
				if len(notes) > 0 {
					b.WriteString("==== notes ====\n")
				}
				for _, n := range notes {
					b.WriteString(Clean(n) + "\n")
				}
				golden(t, filepath.Join("allowlist", tc.name+"."+target), b.Bytes())
			})
		}
	}
}

func TestAllowListUnknownTarget(t *testing.T) {
	_, _, err := AllowList(&bytes.Buffer{}, "iptables", &Allow{})
	if err == nil || !strings.Contains(err.Error(), "want one of squid,") {
		t.Errorf("AllowList(iptables) = %v, want an error listing the targets", err)
	}
}

// TestAllowListsParse reads every generated list back with its target's
// grammar, and checks that each names the catalog and lets through
// exactly the expected hosts.
func TestAllowListsParse(t *testing.T) {
	for _, tc := range allowCases {
		a := tc.allow(t)
		var want []string
		for _, e := range a.Entries {
			if validAllowHost(e.Host) && !contains(want, e.Host) {
				want = append(want, e.Host)
			}
		}
		for _, target := range AllowTargets {
			t.Run(tc.name+"."+target, func(t *testing.T) {
				out, notes, warnings := allowOutput(t, target, a)
				hosts, err := allowParsers[target](out)
				if err != nil {
					t.Fatalf("parse %s output: %v\n%s", target, err, out)
				}
				wantHere := want
				if target == "pfsense" || target == "nftables" {
					wantHere = nil // no wildcards in these
					for _, h := range want {
						if !strings.HasPrefix(h, "*.") {
							wantHere = append(wantHere, h)
						}
					}
				}
				if strings.Join(hosts, " ") != strings.Join(wantHere, " ") {
					t.Errorf("%s lets through %q, want %q", target, hosts, wantHere)
				}
				// A PAN-OS list holds entries only: its catalog is in a note,
				// and no target warns of it.
				named := bytes.Contains(out, []byte(a.Catalog.Version)) || target == "panos-edl" && strings.Contains(strings.Join(notes, "\n"), a.Catalog.Version)
				if !named {
					t.Errorf("%s output does not name catalog version %s", target, a.Catalog.Version)
				}
				for _, w := range warnings {
					if strings.Contains(w, "lists hold entries only") {
						t.Errorf("%s: the catalog's name is a warning: %q", target, w)
					}
				}
				body := out
				if i, j := bytes.Index(out, []byte("<!--")), bytes.Index(out, []byte("-->")); i >= 0 && j > i {
					body = append(append([]byte{}, out[:i]...), out[j+3:]...)
				}
				for _, l := range lines(body) {
					if !strings.HasPrefix(l, "#") && strings.Contains(l, "allow all") {
						t.Errorf("%s output carries a rule forged in the report: %q", target, l)
					}
				}
				for _, h := range wantHere {
					if strings.HasPrefix(h, "*.") && !strings.Contains(strings.Join(warnings, "\n"), h) {
						t.Errorf("%s: no warning for wildcard %s: %q", target, h, warnings)
					}
				}
			})
		}
	}
}

// allowParsers read a target's output back and return the hosts it allows,
// as "*.domain" for a wildcard, in order of appearance.
var allowParsers = map[string]func([]byte) ([]string, error){
	"squid":     parseSquid,
	"panos-edl": parsePANOS,
	"fortigate": parseFortiGate,
	"aws-nfw":   parseAWSNFW,
	"azure-fw":  parseAzureFW,
	"pfsense":   parsePfSense,
	"nftables":  parseNftables,
	"plain":     parsePlain,
}

var (
	squidACL    = regexp.MustCompile(`^acl ([a-z0-9_-]+) (dstdomain|port) (\S+)$`)
	squidAccess = regexp.MustCompile(`^http_access allow ([a-z0-9_-]+) ([a-z0-9_-]+)$`)
)

func parseSquid(b []byte) ([]string, error) {
	acls := map[string]string{}
	var hosts []string
	allowed := map[string]bool{}
	var dst = map[string][]string{}
	for n, line := range lines(b) {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case squidACL.MatchString(line):
			m := squidACL.FindStringSubmatch(line)
			if t, ok := acls[m[1]]; ok && t != m[2] {
				return nil, fmt.Errorf("line %d: acl %s redefined as %s", n+1, m[1], m[2])
			}
			acls[m[1]] = m[2]
			if m[2] == "port" {
				if p, err := strconv.Atoi(m[3]); err != nil || p < 1 || p > 65535 {
					return nil, fmt.Errorf("line %d: port %q", n+1, m[3])
				}
				continue
			}
			h := m[3]
			if strings.HasPrefix(h, ".") {
				h = "*" + h
			}
			if !validAllowHost(h) {
				return nil, fmt.Errorf("line %d: dstdomain %q", n+1, m[3])
			}
			dst[m[1]] = append(dst[m[1]], h)
		case squidAccess.MatchString(line):
			m := squidAccess.FindStringSubmatch(line)
			if acls[m[1]] != "dstdomain" || acls[m[2]] != "port" {
				return nil, fmt.Errorf("line %d: http_access uses undefined acls", n+1)
			}
			allowed[m[1]] = true
			for _, h := range dst[m[1]] {
				if !contains(hosts, h) {
					hosts = append(hosts, h)
				}
			}
		default:
			return nil, fmt.Errorf("line %d: %q is no acl or http_access line", n+1, line)
		}
	}
	for name, typ := range acls {
		if typ == "dstdomain" && !allowed[name] {
			return nil, fmt.Errorf("acl %s is never allowed", name)
		}
	}
	return hosts, nil
}

func parsePANOS(b []byte) ([]string, error) {
	var hosts []string
	for n, line := range lines(b) {
		h, ok := strings.CutSuffix(line, "/")
		if !ok || !validAllowHost(h) {
			return nil, fmt.Errorf("line %d: %q is not a host entry ending in /", n+1, line)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseFortiGate reads the FortiOS CLI: config/edit/set/next/end blocks.
func parseFortiGate(b []byte) ([]string, error) {
	type object struct{ set map[string][]string }
	objects := map[string]map[string]*object{} // section -> name -> object
	var section string
	var cur *object
	var order []string
	for n, raw := range lines(b) {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := cliWords(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		switch {
		case words[0] == "config" && len(words) == 3 && section == "":
			section = words[1] + " " + words[2]
			if objects[section] == nil {
				objects[section] = map[string]*object{}
			}
		case words[0] == "edit" && len(words) == 2 && section != "" && cur == nil:
			cur = &object{set: map[string][]string{}}
			objects[section][words[1]] = cur
			if section == "firewall address" {
				order = append(order, words[1])
			}
		case words[0] == "set" && len(words) >= 3 && cur != nil:
			cur.set[words[1]] = words[2:]
		case words[0] == "next" && len(words) == 1 && cur != nil:
			cur = nil
		case words[0] == "end" && len(words) == 1 && cur == nil && section != "":
			section = ""
		default:
			return nil, fmt.Errorf("line %d: %q out of place", n+1, line)
		}
	}
	if section != "" || cur != nil {
		return nil, fmt.Errorf("unterminated config block")
	}
	var hosts []string
	for _, name := range order {
		o := objects["firewall address"][name]
		switch typ := strings.Join(o.set["type"], " "); typ {
		case "fqdn":
			hosts = append(hosts, strings.Join(o.set["fqdn"], " "))
		case "wildcard-fqdn":
			hosts = append(hosts, strings.Join(o.set["wildcard-fqdn"], " "))
		default:
			return nil, fmt.Errorf("address %s: type %q", name, typ)
		}
		if len(name) > 79 {
			return nil, fmt.Errorf("address name %q longer than 79", name)
		}
	}
	for _, h := range hosts {
		if !validAllowHost(h) {
			return nil, fmt.Errorf("fqdn %q", h)
		}
	}
	for gname, g := range objects["firewall addrgrp"] {
		for _, m := range g.set["member"] {
			if objects["firewall address"][m] == nil {
				return nil, fmt.Errorf("group %s: member %q undefined", gname, m)
			}
		}
	}
	if len(objects["firewall addrgrp"]) != 1 {
		return nil, fmt.Errorf("want one address group, got %d", len(objects["firewall addrgrp"]))
	}
	return hosts, nil
}

// cliWords splits a FortiOS CLI line into words; double-quoted words may
// hold spaces and backslash escapes.
func cliWords(line string) ([]string, error) {
	var words []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] != '"' {
			w, rest, _ := strings.Cut(line, " ")
			if strings.ContainsAny(w, `"'`) {
				return nil, fmt.Errorf("stray quote in %q", w)
			}
			words, line = append(words, w), rest
			continue
		}
		q, err := strconv.QuotedPrefix(line)
		if err != nil {
			return nil, fmt.Errorf("bad quoted word in %q", line)
		}
		w, _ := strconv.Unquote(q)
		words, line = append(words, w), line[len(q):]
	}
	return words, nil
}

func parseAWSNFW(b []byte) ([]string, error) {
	var rg awsRuleGroup
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rg); err != nil {
		return nil, err
	}
	l := rg.RuleGroup.RulesSource.RulesSourceList
	switch {
	case !regexp.MustCompile(`^[a-zA-Z0-9-]{1,128}$`).MatchString(rg.RuleGroupName):
		return nil, fmt.Errorf("RuleGroupName %q", rg.RuleGroupName)
	case rg.Type != "STATEFUL":
		return nil, fmt.Errorf("Type %q", rg.Type)
	case l.GeneratedRulesType != "ALLOWLIST":
		return nil, fmt.Errorf("GeneratedRulesType %q", l.GeneratedRulesType)
	case len(rg.Description) > 512:
		return nil, fmt.Errorf("Description longer than 512")
	case rg.Capacity < len(l.Targets)*len(l.TargetTypes) || rg.Capacity > 30000:
		return nil, fmt.Errorf("Capacity %d for %d targets", rg.Capacity, len(l.Targets))
	}
	for _, tt := range l.TargetTypes {
		if tt != "TLS_SNI" && tt != "HTTP_HOST" {
			return nil, fmt.Errorf("TargetTypes: %q", tt)
		}
	}
	for _, tag := range rg.Tags {
		if tag.Key == "" || len(tag.Key) > 128 || len(tag.Value) > 256 {
			return nil, fmt.Errorf("tag %q", tag.Key)
		}
	}
	var hosts []string
	for _, h := range l.Targets {
		if strings.HasPrefix(h, ".") {
			h = "*" + h
		}
		if !validAllowHost(h) {
			return nil, fmt.Errorf("target %q", h)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

func parseAzureFW(b []byte) ([]string, error) {
	type rule struct {
		RuleType  string `json:"ruleType"`
		Name      string `json:"name"`
		Protocols []struct {
			ProtocolType string `json:"protocolType"`
			Port         int    `json:"port"`
		} `json:"protocols"`
		Description     string   `json:"description"`
		SourceAddresses string   `json:"sourceAddresses"`
		TargetFqdns     []string `json:"targetFqdns"`
	}
	var tmpl struct {
		Schema         string            `json:"$schema"`
		ContentVersion string            `json:"contentVersion"`
		Metadata       map[string]string `json:"metadata"`
		Parameters     map[string]struct {
			Type         string `json:"type"`
			DefaultValue any    `json:"defaultValue"`
			Metadata     any    `json:"metadata"`
		} `json:"parameters"`
		Resources []struct {
			Type       string `json:"type"`
			APIVersion string `json:"apiVersion"`
			Name       string `json:"name"`
			Properties struct {
				Priority        string `json:"priority"`
				RuleCollections []struct {
					RuleCollectionType string            `json:"ruleCollectionType"`
					Name               string            `json:"name"`
					Priority           int               `json:"priority"`
					Action             map[string]string `json:"action"`
					Rules              []rule            `json:"rules"`
				} `json:"ruleCollections"`
			} `json:"properties"`
		} `json:"resources"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tmpl); err != nil {
		return nil, err
	}
	if !strings.Contains(tmpl.Schema, "deploymentTemplate.json") || tmpl.ContentVersion == "" || len(tmpl.Resources) != 1 {
		return nil, fmt.Errorf("not a deployment template with one resource")
	}
	for _, p := range []string{"firewallPolicyName", "sourceAddresses"} {
		if _, ok := tmpl.Parameters[p]; !ok {
			return nil, fmt.Errorf("parameter %s missing", p)
		}
	}
	res := tmpl.Resources[0]
	if res.Type != "Microsoft.Network/firewallPolicies/ruleCollectionGroups" || res.APIVersion == "" {
		return nil, fmt.Errorf("resource type %q", res.Type)
	}
	var hosts []string
	for _, rc := range res.Properties.RuleCollections {
		if rc.RuleCollectionType != "FirewallPolicyFilterRuleCollection" || rc.Action["type"] != "Allow" || rc.Priority < 100 || rc.Priority > 65000 {
			return nil, fmt.Errorf("rule collection %q", rc.Name)
		}
		for _, r := range rc.Rules {
			if r.RuleType != "ApplicationRule" || r.Name == "" || len(r.Name) > 80 || len(r.Protocols) == 0 {
				return nil, fmt.Errorf("rule %q", r.Name)
			}
			for _, p := range r.Protocols {
				if (p.ProtocolType != "Https" && p.ProtocolType != "Http") || p.Port < 1 || p.Port > 64000 {
					return nil, fmt.Errorf("rule %q: protocol %s:%d", r.Name, p.ProtocolType, p.Port)
				}
			}
			for _, h := range r.TargetFqdns {
				if !validAllowHost(h) {
					return nil, fmt.Errorf("rule %q: target %q", r.Name, h)
				}
				hosts = append(hosts, h)
			}
		}
	}
	return hosts, nil
}

func parsePfSense(b []byte) ([]string, error) {
	var doc struct {
		XMLName xml.Name `xml:"aliases"`
		Aliases []struct {
			Name    string `xml:"name"`
			Type    string `xml:"type"`
			Address string `xml:"address"`
			Descr   string `xml:"descr"`
			Detail  string `xml:"detail"`
		} `xml:"alias"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Aliases) != 1 {
		return nil, fmt.Errorf("want one alias, got %d", len(doc.Aliases))
	}
	al := doc.Aliases[0]
	if !regexp.MustCompile(`^[A-Za-z0-9_]{1,31}$`).MatchString(al.Name) || al.Type != "host" {
		return nil, fmt.Errorf("alias %q of type %q", al.Name, al.Type)
	}
	hosts := strings.Fields(al.Address)
	if n := len(strings.Split(al.Detail, "||")); al.Address != "" && n != len(hosts) {
		return nil, fmt.Errorf("%d details for %d addresses", n, len(hosts))
	}
	for _, h := range hosts {
		if !validAllowHost(h) || strings.HasPrefix(h, "*") {
			return nil, fmt.Errorf("address %q", h)
		}
	}
	return hosts, nil
}

// parseNftables checks the structure the generator writes and returns the
// host names from the sets' comments, whose sets the rules accept.
func parseNftables(b []byte) ([]string, error) {
	setRE := regexp.MustCompile(`^\tset ([a-z0-9_]+) \{$`)
	commentRE := regexp.MustCompile(`^\t\tcomment "([^"]*)"$`)
	ruleRE := regexp.MustCompile(`^add rule inet filter forward ip6? daddr @([a-z0-9_]+) tcp dport [0-9]+ accept comment "[^"]*"$`)
	sets := map[string][]string{}
	var set string
	var hosts []string
	used := map[string]bool{}
	depth := 0
	for n, line := range lines(b) {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "table inet filter {" && depth == 0:
			depth = 1
		case setRE.MatchString(line) && depth == 1:
			set = setRE.FindStringSubmatch(line)[1]
			sets[set] = []string{}
			depth = 2
		case depth == 2 && (line == "\t\ttype ipv4_addr" || line == "\t\ttype ipv6_addr" || line == "\t\tflags timeout"):
		case depth == 2 && commentRE.MatchString(line):
			sets[set] = strings.Fields(commentRE.FindStringSubmatch(line)[1])
		case depth == 2 && line == "\t}":
			depth = 1
		case depth == 1 && line == "}":
			depth = 0
		case depth == 0 && ruleRE.MatchString(line):
			s := ruleRE.FindStringSubmatch(line)[1]
			if _, ok := sets[s]; !ok {
				return nil, fmt.Errorf("line %d: rule uses undefined set %s", n+1, s)
			}
			used[s] = true
			for _, h := range sets[s] {
				if !validAllowHost(h) {
					return nil, fmt.Errorf("line %d: host %q", n+1, h)
				}
				if !contains(hosts, h) {
					hosts = append(hosts, h)
				}
			}
		default:
			return nil, fmt.Errorf("line %d: %q out of place", n+1, line)
		}
	}
	for s := range sets {
		if !used[s] {
			return nil, fmt.Errorf("set %s unused", s)
		}
	}
	return hosts, nil
}

func parsePlain(b []byte) ([]string, error) {
	var hosts []string
	for n, line := range lines(b) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !validAllowHost(line) {
			return nil, fmt.Errorf("line %d: %q", n+1, line)
		}
		hosts = append(hosts, line)
	}
	return hosts, nil
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestSquidParsesAllowList loads the generated ACLs into a minimal
// squid.conf and lets squid check it.
func TestSquidParsesAllowList(t *testing.T) {
	squid, err := exec.LookPath("squid")
	if err != nil {
		t.Skip("squid is not installed (apt-get install -y squid): skipping squid -k parse of the generated ACLs")
	}
	for _, tc := range allowCases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, _ := allowOutput(t, "squid", tc.allow(t))
			dir := t.TempDir()
			acl := filepath.Join(dir, "egress-audit.conf")
			if err := os.WriteFile(acl, out, 0o644); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "squid.conf")
			base := fmt.Sprintf("http_port 127.0.0.1:3128\npid_filename %s\ncache_log %s\naccess_log none\ninclude %s\nhttp_access deny all\n",
				filepath.Join(dir, "squid.pid"), filepath.Join(dir, "cache.log"), acl)
			if err := os.WriteFile(conf, []byte(base), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := exec.CommandContext(ctx, squid, "-k", "parse", "-f", conf).CombinedOutput()
			if err != nil {
				t.Fatalf("squid -k parse: %v\n%s", err, res)
			}
			for _, l := range lines(res) {
				if strings.Contains(l, "ERROR") || strings.Contains(l, "WARNING") || strings.Contains(l, "FATAL") {
					t.Errorf("squid -k parse: %s", l)
				}
			}
		})
	}
}

// TestNftChecksAllowList loads the generated rules with nft -c, on top of
// a base ruleset that has the inet filter table and forward chain.
func TestNftChecksAllowList(t *testing.T) {
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft is not installed (apt-get install -y nftables): skipping nft -c of the generated rules")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.nft")
	os.WriteFile(probe, []byte("table inet egress_audit_probe {\n}\n"), 0o644)
	if res, err := exec.Command(nft, "-c", "-f", probe).CombinedOutput(); err != nil {
		t.Skipf("nft -c cannot run here (%v: %s): skipping nft -c of the generated rules", err, bytes.TrimSpace(res))
	}
	for _, tc := range allowCases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, _ := allowOutput(t, "nftables", tc.allow(t))
			base := "table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}\n"
			file := filepath.Join(t.TempDir(), "allow.nft")
			if err := os.WriteFile(file, append([]byte(base), out...), 0o644); err != nil {
				t.Fatal(err)
			}
			if res, err := exec.Command(nft, "-c", "-f", file).CombinedOutput(); err != nil {
				t.Fatalf("nft -c -f: %v\n%s\n%s", err, res, out)
			}
		})
	}
}

// TestAllowListNothingToAllow asserts that with no entry left, no target
// writes a rule body (an empty FortiGate group, AWS target list or pfSense
// alias is invalid) and every one says why.
func TestAllowListNothingToAllow(t *testing.T) {
	okReport := scenarioReport("all_ok")
	for _, c := range okReport.Calls {
		if c.Status == rules.StatusBlocked {
			t.Fatalf("scenario all_ok has %s blocked", c.ID)
		}
	}
	forged := AllowFromReport(scenarioReport("proxy_denied"))
	for i := range forged.Entries {
		forged.Entries[i].Host = "<script>"
	}
	cases := []struct {
		name  string
		allow *Allow
		why   string
	}{
		{"report_nothing_blocked", AllowFromReport(okReport), "nothing to allow: the report found no call blocked"},
		{"every_entry_left_out", forged, "nothing to allow: every entry was left out"},
		{"catalog_no_call", &Allow{Datacenter: "eu", Vantage: "browser", Source: "catalog"}, "nothing to allow: the catalog has no call for data center eu and vantage browser"},
	}
	for _, tc := range cases {
		for _, target := range AllowTargets {
			t.Run(tc.name+"."+target, func(t *testing.T) {
				var buf bytes.Buffer
				_, _, err := AllowList(&buf, target, tc.allow)
				if !errors.Is(err, ErrNothingToAllow) || err.Error() != tc.why {
					t.Errorf("AllowList(%s) error = %v, want %q", target, err, tc.why)
				}
				if buf.Len() != 0 {
					t.Errorf("AllowList(%s) wrote %q, want nothing", target, buf.String())
				}
			})
		}
	}
}
