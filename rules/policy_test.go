package rules

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// proxyConnect is how a proxy sees an HTTPS call.
func proxyConnect(host string) PolicyRequest {
	return PolicyRequest{Scheme: "https", Method: "CONNECT", Host: host, Port: 443}
}

// files is an in-memory file system for includes and acl value files.
type files map[string]string

func (f files) read(name string) ([]byte, error) {
	if s, ok := f[name]; ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
}

// decision is the part of a PolicyDecision the tables compare.
func decision(d PolicyDecision) string {
	v := "deny"
	if d.Allowed {
		v = "allow"
	}
	if d.Source != "" {
		return v + " " + d.Source
	}
	return v + " " + d.Rule
}

const squidBase = `# egress proxy
acl SSL_ports port 443
acl Safe_ports port 80 443 1025-65535
acl saas dstdomain .gtmhub.com
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow CONNECT saas
http_access deny all
`

func TestSquidPolicy(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		files files
		req   PolicyRequest
		want  string
	}{
		{"dot_matches_subdomain", squidBase, nil, proxyConnect("auth.gtmhub.com"), "allow squid.conf:7"},
		{"dot_matches_domain_itself", squidBase, nil, proxyConnect("gtmhub.com"), "allow squid.conf:7"},
		{"dot_not_a_suffix_of_label", squidBase, nil, proxyConnect("evilgtmhub.com"), "deny squid.conf:8"},
		{"case_and_trailing_dot", squidBase, nil, proxyConnect("AUTH.GTMHUB.COM."), "allow squid.conf:7"},
		{"ssl_port_rule", squidBase, nil, PolicyRequest{Method: "CONNECT", Host: "auth.gtmhub.com", Port: 8443}, "deny squid.conf:6"},
		{"unsafe_port", squidBase, nil, PolicyRequest{Method: "CONNECT", Host: "auth.gtmhub.com", Port: 25}, "deny squid.conf:5"},
		{"exact_domain_only", "acl a dstdomain app.gtmhub.com\nhttp_access allow a\n", nil, proxyConnect("auth.gtmhub.com"), "deny default-deny"},
		{"exact_domain", "acl a dstdomain app.gtmhub.com\nhttp_access allow a\n", nil, proxyConnect("app.gtmhub.com"), "allow squid.conf:2"},
		{"default_opposite_of_last_deny", "acl bad dstdomain .example.net\nhttp_access deny bad\n", nil, proxyConnect("auth.gtmhub.com"), "allow default-allow"},
		{"default_opposite_of_last_allow", "acl good dstdomain .example.net\nhttp_access allow good\n", nil, proxyConnect("auth.gtmhub.com"), "deny default-deny"},
		{"no_rules_denies", "acl good dstdomain .gtmhub.com\n", nil, proxyConnect("auth.gtmhub.com"), "deny default-deny"},
		{"first_match_wins", "acl g dstdomain .gtmhub.com\nhttp_access deny g\nhttp_access allow g\n", nil, proxyConnect("app.gtmhub.com"), "deny squid.conf:2"},
		{"and_of_acls", "acl g dstdomain .gtmhub.com\nacl get method GET\nhttp_access allow g get\nhttp_access deny all\n", nil, proxyConnect("app.gtmhub.com"), "deny squid.conf:4"},
		{"regex_case_insensitive", "acl r dstdom_regex -i ^AUTH\\.GTMHUB\\.com$\nhttp_access allow r\n", nil, proxyConnect("auth.gtmhub.com"), "allow squid.conf:2"},
		{"regex_case_sensitive", "acl r dstdom_regex ^AUTH\\.\nhttp_access allow r\n", nil, proxyConnect("auth.gtmhub.com"), "deny default-deny"},
		{"continuation_line", "acl g dstdomain \\\n  .gtmhub.com\nhttp_access allow g\n", nil, proxyConnect("auth.gtmhub.com"), "allow squid.conf:3"},
		{"acl_values_file", "acl g dstdomain \"saas.txt\"\nhttp_access allow g\n", files{"saas.txt": "# vendor\napp.gtmhub.com\n.quantive.com # renamed\n"}, proxyConnect("x.quantive.com"), "allow squid.conf:2"},
		{"include", "include conf.d/saas.conf\nhttp_access deny all\n", files{"conf.d/saas.conf": "acl g dstdomain .gtmhub.com\n\nhttp_access allow CONNECT g\n"}, proxyConnect("auth.gtmhub.com"), "allow conf.d/saas.conf:3"},
		{"src_client_in", "acl lan src 192.0.2.0/24\nacl g dstdomain .gtmhub.com\nhttp_access allow lan g\n", nil,
			PolicyRequest{Method: "CONNECT", Host: "auth.gtmhub.com", Port: 443, Client: netip.MustParseAddr("192.0.2.10")}, "allow squid.conf:3"},
		{"src_client_out", "acl lan src 192.0.2.0/255.255.255.0\nacl g dstdomain .gtmhub.com\nhttp_access allow lan g\n", nil,
			PolicyRequest{Method: "CONNECT", Host: "auth.gtmhub.com", Port: 443, Client: netip.MustParseAddr("198.51.100.1")}, "deny default-deny"},
		{"dst_address", "acl lab dst 203.0.113.0-203.0.113.9\nhttp_access allow lab\n", nil, proxyConnect("203.0.113.5"), "allow squid.conf:2"},
		// End-of-line comments as Debian's stock squid.conf writes them: a
		// token starting with # ends the line, quotes and all.
		{"comment_after_values", "acl lan src 192.0.2.0/24\t# RFC 5737 \"test\" net (LAN)\nacl Safe_ports port 443\t\t# https\nhttp_access deny !Safe_ports\nhttp_access allow lan # the office\n", nil,
			PolicyRequest{Method: "CONNECT", Host: "auth.gtmhub.com", Port: 443, Client: netip.MustParseAddr("192.0.2.10")}, "allow squid.conf:4"},
		{"comment_value_not_a_port", "acl p port 80 # 443\nhttp_access allow p\n", nil, proxyConnect("auth.gtmhub.com"), "deny default-deny"},
		{"hash_inside_token_kept", "acl r url_regex ^auth.gtmhub.com:443#x$ ^auth.gtmhub.com:443$\nhttp_access allow r\n", nil, proxyConnect("auth.gtmhub.com"), "allow squid.conf:2"},
		{"quoted_file_without_quoted_values", "acl g dstdomain \"saas.txt\" # \"other\"\nhttp_access allow g\n", files{"saas.txt": ".gtmhub.com two words\n"}, proxyConnect("auth.gtmhub.com"), "allow squid.conf:2"},
		{"quoted_values_on", "configuration_includes_quoted_values on\nacl g dstdomain \"auth.gtmhub.com\" '#not-a-comment'\nhttp_access allow g\n", nil, proxyConnect("auth.gtmhub.com"), "allow squid.conf:3"},
		{"quoted_values_on_parameters_file", "configuration_includes_quoted_values on\nacl g dstdomain parameters(\"saas.txt\")\nhttp_access allow g\n", files{"saas.txt": "# vendor\n.gtmhub.com\n"}, proxyConnect("app.gtmhub.com"), "allow squid.conf:3"},
		{"connect_builtin", "acl g dstdomain .gtmhub.com\nhttp_access allow CONNECT g\n", nil,
			PolicyRequest{Scheme: "http", Method: "GET", Host: "app.gtmhub.com", Port: 80}, "deny default-deny"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("squid.conf", []byte(tc.conf), PolicySquid, tc.files.read)
			if err != nil {
				t.Fatal(err)
			}
			if got := decision(p.Decide(tc.req)); got != tc.want {
				t.Errorf("Decide(%s) = %q, want %q", tc.req, got, tc.want)
			}
		})
	}
}

// TestSquidStockConfig reads the squid.conf a distribution installs, which
// squid -k parse accepts: its comments, includes and built-in acls must
// read too. The stock rules let only localhost through (their allow
// localnet line is commented out), and CONNECT only to SSL ports.
func TestSquidStockConfig(t *testing.T) {
	const stock = "/etc/squid/squid.conf"
	if _, err := os.Stat(stock); err != nil {
		t.Skipf("no stock configuration: %v", err)
	}
	p, err := LoadPolicy(stock, "")
	if err != nil {
		t.Fatalf("LoadPolicy(%s): %v", stock, err)
	}
	for _, tc := range []struct {
		client string
		port   int
		allow  bool
	}{
		{"127.0.0.1", 443, true},
		{"127.0.0.1", 25, false}, // not a CONNECT to an SSL port
		{"203.0.113.7", 443, false},
	} {
		req := proxyConnect("auth.gtmhub.com")
		req.Port, req.Client = tc.port, netip.MustParseAddr(tc.client)
		if d := p.Decide(req); d.Allowed != tc.allow || d.Uncertain != "" {
			t.Errorf("Decide(%s from %s) = %+v, want allowed %v with nothing assumed", req, tc.client, d, tc.allow)
		}
	}
}

// TestSquidOldBuiltins reads the acl lines configurations written for
// squid 3.1 and older carry: squid ignores them with a warning, as their
// acls are built in with the same meaning, and says so.
func TestSquidOldBuiltins(t *testing.T) {
	conf := "acl all src all\nacl all src 0.0.0.0/0.0.0.0\nacl manager proto cache_object\nacl g dstdomain .gtmhub.com\nhttp_access deny manager\nhttp_access allow g\nhttp_access deny all\n"
	p, err := ParsePolicy("squid.conf", []byte(conf), PolicySquid, nil)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{"auth.gtmhub.com": "allow squid.conf:6", "example.net": "deny squid.conf:7"} {
		if got := decision(p.Decide(proxyConnect(host))); got != want {
			t.Errorf("Decide(%s) = %q, want %q", host, got, want)
		}
	}
	notes := p.(PolicyNoter).Notes()
	if len(notes) != 3 || !strings.HasPrefix(notes[0], "squid.conf:1: acl all is built into squid") || !strings.HasPrefix(notes[2], "squid.conf:3: acl manager is built into squid") {
		t.Errorf("Notes = %q, want one for each of lines 1 to 3", notes)
	}
}

// TestSquidSSLBump covers CONNECTs squid decrypts: the request inside is
// checked against http_access again, with its own method and URL.
func TestSquidSSLBump(t *testing.T) {
	const access = "acl post method POST\nacl g dstdomain .gtmhub.com\nhttp_access deny post\nhttp_access allow g\nhttp_access deny all\n"
	const port = "http_port 3128 ssl-bump\n"
	const step1 = "acl step1 at_step SslBump1\n"
	connect := func(method, path string) PolicyRequest {
		r := proxyConnect("app.gtmhub.com")
		r.Inner = &PolicyRequest{Scheme: "https", Method: method, Host: "app.gtmhub.com", Port: 443, Path: path}
		return r
	}
	tests := []struct {
		name, conf string
		req        PolicyRequest
		want       string
		uncertain  string
	}{
		{"bump_post_denied", port + access + "ssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "deny squid.conf:4", ""},
		{"bump_get_allowed", port + access + "ssl_bump bump all\n", connect("GET", "/api/v1/goals"), "allow squid.conf:5", ""},
		{"stare_then_bump", port + step1 + access + "ssl_bump stare step1\nssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "deny squid.conf:5", ""},
		{"peek_step1_then_bump", port + step1 + access + "ssl_bump peek step1\nssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "deny squid.conf:5", ""},
		{"stare_only_bumps", port + access + "ssl_bump stare all\n", connect("POST", "/api/v1/tasks"), "deny squid.conf:4", ""},
		{"splice_not_rechecked", port + access + "ssl_bump splice all\n", connect("POST", "/api/v1/tasks"), "allow squid.conf:5", ""},
		{"peek_only_splices", port + access + "ssl_bump peek all\n", connect("POST", "/api/v1/tasks"), "allow squid.conf:5", ""},
		{"peek_then_bump_cannot", port + access + "ssl_bump peek all\nssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "allow squid.conf:5", "squid.conf:8 (ssl_bump bump all): squid cannot bump after peeking at step 2"},
		{"spliced_host_not_bumped", port + access + "acl keep ssl::server_name .gtmhub.com\nssl_bump splice keep\nssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "allow squid.conf:5", ""},
		{"terminate", port + access + "ssl_bump terminate all\n", connect("GET", "/api/v1/goals"), "deny squid.conf:7", ""},
		{"no_ssl_bump_port", access + "ssl_bump bump all\n", connect("POST", "/api/v1/tasks"), "allow squid.conf:4", ""},
		{"unknown_acl_named", port + access + "acl auth proxy_auth REQUIRED\nssl_bump bump auth\n", connect("POST", "/api/v1/tasks"), "deny squid.conf:4", "squid.conf:8 (ssl_bump bump auth): acl auth of type proxy_auth cannot be evaluated"},
		{"url_pattern_assumed", port + "acl tasks url_regex ^https://app.gtmhub.com/api/v1/tasks\nhttp_access deny tasks\n" + access + "ssl_bump bump all\n", connect("GET", "/api/v1/tasks*"), "deny squid.conf:3",
			"acl tasks (url_regex) is matched against https://app.gtmhub.com/api/v1/tasks, the call's URL up to its first *"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("squid.conf", []byte(tc.conf), PolicySquid, nil)
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide(tc.req)
			if got := decision(d); got != tc.want {
				t.Errorf("Decide(%s inside %s) = %q (%s), want %q", tc.req.Inner.Method, tc.req, got, d.Why, tc.want)
			}
			if (tc.uncertain == "") != (d.Uncertain == "") || !strings.Contains(d.Uncertain, tc.uncertain) {
				t.Errorf("Decide(%s).Uncertain = %q, want %q", tc.req, d.Uncertain, tc.uncertain)
			}
		})
	}
}

func TestSquidUncertain(t *testing.T) {
	conf := "acl lan src 192.0.2.0/24\nacl auth proxy_auth REQUIRED\nacl g dstdomain .gtmhub.com\nhttp_access allow lan auth g\n"
	p, err := ParsePolicy("squid.conf", []byte(conf), PolicySquid, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Decide(proxyConnect("auth.gtmhub.com"))
	if !d.Allowed || !strings.Contains(d.Uncertain, "acl lan (src; give --client)") || !strings.Contains(d.Uncertain, "acl auth of type proxy_auth") {
		t.Errorf("Decide = %+v, want allowed with both assumptions named", d)
	}
}

// TestSquidDst covers a dst acl, which squid matches on the addresses the
// requested name resolves to: without them, every rule that names one must
// show in the verdict's assumptions, also when it is taken as not matching.
func TestSquidDst(t *testing.T) {
	const conf = "acl bad dst 127.0.0.2/32\nacl gt dstdomain .gtmhub.com\nhttp_access deny bad\nhttp_access allow gt\n"
	addrs := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	tests := []struct {
		name      string
		conf      string
		addrs     []netip.Addr
		want      string
		uncertain string // a part of the Uncertain wanted, or "" for none
	}{
		{"unknown_address_deny_rule_skipped", conf, nil, "allow squid.conf:4", "squid.conf:3 (http_access deny bad): acl bad (dst) needs the address auth.gtmhub.com resolves to"},
		{"address_in_acl", conf, addrs("127.0.0.2"), "deny squid.conf:3", ""},
		{"one_of_several_addresses", conf, addrs("203.0.113.7", "127.0.0.2"), "deny squid.conf:3", ""},
		{"address_outside_acl", conf, addrs("203.0.113.7"), "allow squid.conf:4", ""},
		{"decided_acl_settles_rule", "acl bad dst 127.0.0.2/32\nacl get method GET\nacl gt dstdomain .gtmhub.com\nhttp_access deny bad get\nhttp_access allow gt\n", nil, "allow squid.conf:5", ""},
		{"decided_acl_first_settles_rule", "acl bad dst 127.0.0.2/32\nacl get method GET\nacl gt dstdomain .gtmhub.com\nhttp_access deny get bad\nhttp_access allow gt\n", nil, "allow squid.conf:5", ""},
		{"negated_unknown_matches", "acl ok dst 10.0.0.0/8\nhttp_access allow !ok\n", nil, "allow squid.conf:2", "squid.conf:2 (http_access allow !ok): acl ok (dst)"},
		{"builtin_to_localhost", "acl gt dstdomain .gtmhub.com\nhttp_access deny to_localhost\nhttp_access allow gt\n", nil, "allow squid.conf:3", "squid.conf:2 (http_access deny to_localhost): acl to_localhost (dst)"},
		{"unknown_type_on_rule_not_taken", "acl auth proxy_auth REQUIRED\nacl ex dstdomain .example.net\nacl gt dstdomain .gtmhub.com\nhttp_access deny auth ex\nhttp_access allow gt\n", nil, "allow squid.conf:5", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("squid.conf", []byte(tc.conf), PolicySquid, nil)
			if err != nil {
				t.Fatal(err)
			}
			req := proxyConnect("auth.gtmhub.com")
			req.Addrs = tc.addrs
			d := p.Decide(req)
			if got := decision(d); got != tc.want {
				t.Errorf("Decide(%s, %v) = %q, want %q", req, tc.addrs, got, tc.want)
			}
			if tc.uncertain == "" && d.Uncertain != "" || !strings.Contains(d.Uncertain, tc.uncertain) {
				t.Errorf("Decide(%s, %v).Uncertain = %q, want %q", req, tc.addrs, d.Uncertain, tc.uncertain)
			}
		})
	}
}

func TestReportAddrs(t *testing.T) {
	r := &Report{Destinations: []Destination{
		{Host: "Auth.GTMHUB.com.", IPs: []string{"203.0.113.10", "::ffff:203.0.113.9"}, Port: 443},
		{Host: "auth.gtmhub.com", IPs: []string{"203.0.113.10", "not an address"}, Port: 80},
		{Host: "198.51.100.4", IPs: []string{"198.51.100.4"}},
		{Host: "", IPs: []string{"198.51.100.5"}},
	}}
	got := ReportAddrs(r)
	if len(got) != 1 || fmt.Sprint(got["auth.gtmhub.com"]) != "[203.0.113.9 203.0.113.10]" {
		t.Errorf("ReportAddrs = %v, want auth.gtmhub.com at [203.0.113.9 203.0.113.10] only", got)
	}
}

func TestSquidErrors(t *testing.T) {
	tests := []struct {
		name, conf string
		files      files
		want       string
	}{
		{"undefined_acl", "http_access allow nothere\n", nil, `squid.conf:1: http_access: acl "nothere" is not defined above`},
		{"bad_action", "http_access permit all\n", nil, "squid.conf:1: http_access: want allow or deny"},
		{"bad_port", "acl p port 99999\n", nil, `squid.conf:1: acl p: port "99999"`},
		{"bad_regex", "acl r dstdom_regex (\n", nil, "squid.conf:1: acl r: regular expression"},
		{"type_clash", "acl a dstdomain x.com\nacl a port 80\n", nil, "squid.conf:2: acl a: type port, but it was defined as dstdomain at squid.conf:1"},
		{"missing_include", "include nothere.conf\n", nil, "squid.conf:1: include: open nothere.conf"},
		{"all_redefined_narrower", "acl all src 10.0.0.0/8\n", nil, "squid.conf:1: acl all: type src, but it was defined as all at built-in"},
		{"manager_redefined_other", "acl manager proto http\n", nil, "squid.conf:1: acl manager: type proto, but it was defined as url_regex at built-in"},
		{"unclosed_quote", "configuration_includes_quoted_values on\nacl g dstdomain \"x.com\n", nil, `squid.conf:2: quoted value "x.com: no closing "`},
		{"include_loop", "include squid.conf\n", files{"squid.conf": "include squid.conf\n"}, "include nested more than 16 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy("squid.conf", []byte(tc.conf), PolicySquid, tc.files.read)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParsePolicy error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSquidIncludeGlob(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("squid.conf", "include conf.d/*.conf\nhttp_access deny all\n")
	write("conf.d/10-deny.conf", "acl bad dstdomain auth.gtmhub.com\nhttp_access deny bad\n")
	write("conf.d/20-allow.conf", "acl g dstdomain .gtmhub.com\nhttp_access allow g\n")
	p, err := LoadPolicy(filepath.Join(dir, "squid.conf"), "")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"auth.gtmhub.com": "deny " + filepath.Join(dir, "conf.d/10-deny.conf") + ":2",
		"app.gtmhub.com":  "allow " + filepath.Join(dir, "conf.d/20-allow.conf") + ":2",
		"example.net":     "deny " + filepath.Join(dir, "squid.conf") + ":2",
	} {
		if got := decision(p.Decide(proxyConnect(host))); got != want {
			t.Errorf("Decide(%s) = %q, want %q", host, got, want)
		}
	}
}

func TestDomainLists(t *testing.T) {
	tests := []struct {
		name, format, list, host string
		port                     int
		want                     string
	}{
		{"plain_exact", PolicyDomains, "# saas\nauth.gtmhub.com\n", "auth.gtmhub.com", 443, "allow list:2"},
		{"plain_exact_not_sub", PolicyDomains, "gtmhub.com\n", "auth.gtmhub.com", 443, "deny default-deny"},
		{"plain_dot", PolicyDomains, ".gtmhub.com\n", "gtmhub.com", 443, "allow list:1"},
		{"plain_dot_sub", PolicyDomains, ".gtmhub.com\n", "a.b.gtmhub.com", 443, "allow list:1"},
		{"plain_star_sub", PolicyDomains, "*.gtmhub.com\n", "app.gtmhub.com", 443, "allow list:1"},
		{"plain_star_not_domain", PolicyDomains, "*.gtmhub.com\n", "gtmhub.com", 443, "deny default-deny"},
		{"plain_url", PolicyDomains, "https://app.gtmhub.com/api/v1\n", "app.gtmhub.com", 443, "allow list:1"},
		{"plain_port", PolicyDomains, "app.gtmhub.com:8443\n", "app.gtmhub.com", 443, "deny default-deny"},
		{"plain_port_match", PolicyDomains, "app.gtmhub.com:443 # api\n", "app.gtmhub.com", 443, "allow list:1"},
		{"plain_everything", PolicyDomains, "*\n", "anything.example", 443, "allow list:1"},
		{"edl_implicit_sub", PolicyEDL, "gtmhub.com\n", "auth.gtmhub.com", 443, "allow list:1"},
		{"edl_caret_exact", PolicyEDL, "^gtmhub.com\n", "auth.gtmhub.com", 443, "deny default-deny"},
		{"edl_caret_match", PolicyEDL, "^auth.gtmhub.com\n", "auth.gtmhub.com", 443, "allow list:1"},
		{"edl_star", PolicyEDL, "*.gtmhub.com\n", "app.gtmhub.com", 443, "allow list:1"},
		{"edl_url_host_exact", PolicyEDL, "gtmhub.com/\n", "auth.gtmhub.com", 443, "deny default-deny"},
		{"edl_url_host", PolicyEDL, "auth.gtmhub.com/\n", "auth.gtmhub.com", 443, "allow list:1"},
		{"edl_url_path", PolicyEDL, "app.gtmhub.com/api/v1\n", "app.gtmhub.com", 443, "allow list:1"},
		{"edl_url_star", PolicyEDL, "*.gtmhub.com/\n", "app.gtmhub.com", 443, "allow list:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("list", []byte(tc.list), tc.format, nil)
			if err != nil {
				t.Fatal(err)
			}
			req := PolicyRequest{Scheme: "https", Method: "GET", Host: tc.host, Port: tc.port}
			if got := decision(p.Decide(req)); got != tc.want {
				t.Errorf("Decide(%s) = %q, want %q", req, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"example.com:x\n", "*.*\n", "a..b\n", "https:///x\n"} {
		if _, err := ParsePolicy("list", []byte(bad), PolicyDomains, nil); err == nil {
			t.Errorf("ParsePolicy(%q) = nil error, want one", bad)
		}
	}
}

const awsAllow = `{
  "RuleGroup": {
    "RulesSource": {
      "RulesSourceList": {
        "Targets": [
          "auth.gtmhub.com",
          ".quantive.com"
        ],
        "TargetTypes": ["TLS_SNI", "HTTP_HOST"],
        "GeneratedRulesType": "ALLOWLIST"
      }
    }
  },
  "RuleGroupResponse": {"RuleGroupName": "jira-egress", "Type": "STATEFUL"}
}
`

const awsTerraform = `{"resource": {"aws_networkfirewall_rule_group": {"deny": {"rule_group": [{"rules_source": [{
  "rules_source_list": [{"generated_rules_type": "DENYLIST", "target_types": ["TLS_SNI"], "targets": [".gtmhub.com"]}]
}]}]}}}}
`

func TestAWSPolicy(t *testing.T) {
	tests := []struct {
		name, doc, host, scheme string
		want                    string
	}{
		{"allow_exact", awsAllow, "auth.gtmhub.com", "https", "allow aws.json:6"},
		{"allow_exact_not_sub", awsAllow, "app.gtmhub.com", "https", "deny default-deny"},
		{"allow_dot_domain_itself", awsAllow, "quantive.com", "https", "allow aws.json:7"},
		{"allow_dot_sub", awsAllow, "acme.quantive.com", "https", "allow aws.json:7"},
		{"terraform_denylist", awsTerraform, "app.gtmhub.com", "https", "deny aws.json:2"},
		{"terraform_denylist_other", awsTerraform, "example.net", "https", "allow default-allow"},
		{"not_inspected", awsTerraform, "app.gtmhub.com", "http", "allow default-allow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("aws.json", []byte(tc.doc), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format() != PolicyAWS {
				t.Fatalf("detected %s, want %s", p.Format(), PolicyAWS)
			}
			req := PolicyRequest{Scheme: tc.scheme, Method: "GET", Host: tc.host, Port: 443}
			if got := decision(p.Decide(req)); got != tc.want {
				t.Errorf("Decide(%s) = %q, want %q", req, got, tc.want)
			}
		})
	}
}

const azureClassic = `[
  {
    "name": "deny-auth",
    "properties": {
      "priority": 100,
      "action": {"type": "Deny"},
      "rules": [{"name": "no-auth", "protocols": [{"protocolType": "Https", "port": 443}],
                 "targetFqdns": ["auth.gtmhub.com"], "sourceAddresses": ["*"]}]
    }
  },
  {
    "name": "jira-egress",
    "properties": {
      "priority": 200,
      "action": {"type": "Allow"},
      "rules": [
        {"name": "quantive", "protocols": [{"protocolType": "Https", "port": 443}],
         "targetFqdns": ["*.gtmhub.com", "*quantive.com"], "sourceAddresses": ["192.0.2.0/24"]},
        {"name": "plain", "protocols": [{"protocolType": "Http", "port": 80}],
         "targetFqdns": ["*"], "sourceAddresses": ["*"]}
      ]
    }
  }
]
`

const azurePolicyGroup = `{
  "properties": {
    "priority": 300,
    "ruleCollections": [
      {
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": "saas",
        "priority": 110,
        "action": {"type": "Allow"},
        "rules": [
          {"ruleType": "ApplicationRule", "name": "gtmhub",
           "protocols": [{"protocolType": "Https", "port": 443}],
           "targetFqdns": ["app.gtmhub.com"], "sourceAddresses": ["*"]}
        ]
      }
    ]
  }
}
`

func TestAzurePolicy(t *testing.T) {
	lan := netip.MustParseAddr("192.0.2.10")
	tests := []struct {
		name, doc, host string
		port            int
		client          netip.Addr
		want            string
	}{
		{"priority_deny_first", azureClassic, "auth.gtmhub.com", 443, lan, "deny azure.json:8"},
		{"star_dot_sub", azureClassic, "app.gtmhub.com", 443, lan, "allow azure.json:18"},
		{"star_dot_not_domain", azureClassic, "gtmhub.com", 443, lan, "deny default-deny"},
		{"star_suffix_domain", azureClassic, "quantive.com", 443, lan, "allow azure.json:18"},
		{"source_outside", azureClassic, "app.gtmhub.com", 443, netip.MustParseAddr("198.51.100.7"), "deny default-deny"},
		{"http_rule_not_https", azureClassic, "example.net", 443, lan, "deny default-deny"},
		{"policy_group", azurePolicyGroup, "app.gtmhub.com", 443, lan, "allow azure.json:13"},
		{"policy_group_other", azurePolicyGroup, "auth.gtmhub.com", 443, lan, "deny default-deny"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("azure.json", []byte(tc.doc), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format() != PolicyAzure {
				t.Fatalf("detected %s, want %s", p.Format(), PolicyAzure)
			}
			req := PolicyRequest{Scheme: "https", Method: "GET", Host: tc.host, Port: tc.port, Client: tc.client}
			if got := decision(p.Decide(req)); got != tc.want {
				t.Errorf("Decide(%s) = %q, want %q", req, got, tc.want)
			}
		})
	}
}

func TestDetectPolicy(t *testing.T) {
	tests := []struct{ name, file, data, want string }{
		{"squid", "proxy.conf", "# c\nacl a dstdomain x\n", PolicySquid},
		{"squid_include_only", "squid.conf", "include /etc/squid/conf.d/*.conf\n", PolicySquid},
		{"plain", "allow.txt", "# list\n.gtmhub.com\n", PolicyDomains},
		{"edl_by_caret", "list.txt", "^auth.gtmhub.com\n", PolicyEDL},
		{"edl_by_name", "quantive.edl", "gtmhub.com\n", PolicyEDL},
		{"edl_by_url_entry", "list.txt", "# x\nauth.gtmhub.com/\n", PolicyEDL},
		{"aws", "rg.json", awsAllow, PolicyAWS},
		{"azure", "az.json", azurePolicyGroup, PolicyAzure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectPolicy(tc.file, []byte(tc.data))
			if err != nil || got != tc.want {
				t.Errorf("DetectPolicy(%s) = %q, %v, want %q", tc.file, got, err, tc.want)
			}
		})
	}
	if _, err := DetectPolicy("x.json", []byte(`{"a": 1}`)); err == nil {
		t.Error("DetectPolicy(unrelated JSON) = nil error, want one")
	}
}

func TestCheckPolicy(t *testing.T) {
	p, err := ParsePolicy("squid.conf", []byte("acl a dstdomain auth.gtmhub.com\nhttp_access allow CONNECT a\n"), PolicySquid, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := CheckPolicy(DefaultCatalog(), p, "squid.conf", CheckOptions{Datacenter: "eu", Proxy: true})
	want := map[string]string{
		"oauth-authorize": StatusNotExpected,
		"oauth-token":     VerdictAllowed + " squid.conf:2",
		"list-sessions":   VerdictDenied + " default-deny",
		"search":          VerdictDenied + " default-deny",
	}
	for _, cc := range c.Calls {
		w, ok := want[cc.ID]
		if !ok {
			continue
		}
		got := cc.Verdict
		if cc.Source != "" {
			got += " " + cc.Source
		} else if cc.Rule != "" {
			got += " " + cc.Rule
		}
		if got != w {
			t.Errorf("%s: %q, want %q", cc.ID, got, w)
		}
		if cc.ID == "oauth-token" && cc.Request != "CONNECT auth.gtmhub.com:443" {
			t.Errorf("oauth-token request %q", cc.Request)
		}
	}

	// The report saw the token call blocked and the sessions call ok.
	rep := &Report{Datacenter: "eu", Calls: []CallReport{
		{ID: "oauth-token", Host: "auth.gtmhub.com", Status: StatusBlocked, Reason: "reset"},
		{ID: "list-sessions", Host: "app.gtmhub.com", Status: StatusOK},
		{ID: "list-okrs", Host: "APP.gtmhub.com.", Status: StatusBlocked, Reason: "proxy-denied"},
	}}
	c.Compare(rep, "report.json")
	if c.Disagreements != 2 {
		t.Errorf("Disagreements = %d, want 2", c.Disagreements)
	}
	for _, cc := range c.Calls {
		switch cc.ID {
		case "oauth-token":
			if !strings.Contains(cc.Disagreement, "another device on the path") {
				t.Errorf("oauth-token disagreement %q", cc.Disagreement)
			}
		case "list-sessions":
			if !strings.Contains(cc.Disagreement, "did not pass this device") {
				t.Errorf("list-sessions disagreement %q", cc.Disagreement)
			}
		case "list-okrs":
			if cc.Disagreement != "" || cc.Observed != StatusBlocked {
				t.Errorf("list-okrs = %+v, want blocked and agreeing", cc)
			}
		}
	}
}

// TestCheckCompareOtherDatacenter compares a check of the US data center
// with a report of the EU one: the report judged the calls at other hosts,
// so none is compared, and each says why.
func TestCheckCompareOtherDatacenter(t *testing.T) {
	p, err := ParsePolicy("list", []byte("auth.gtmhub.com\n"), PolicyDomains, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := CheckPolicy(DefaultCatalog(), p, "list", CheckOptions{Datacenter: "us"})
	rep := &Report{Datacenter: "eu", Calls: []CallReport{
		{ID: "oauth-token", Host: "auth.gtmhub.com", Status: StatusOK},
		{ID: "list-sessions", Host: "app.gtmhub.com", Status: StatusOK},
	}}
	c.Compare(rep, "eu.json")
	if c.Disagreements != 0 {
		t.Errorf("Disagreements = %d, want 0", c.Disagreements)
	}
	for _, cc := range c.Calls {
		if cc.ID != "oauth-token" && cc.ID != "list-sessions" {
			continue
		}
		if cc.Observed != ObservedNot || cc.ObservedReason != "report of data center eu" || cc.Disagreement != "" {
			t.Errorf("%s at %s = observed %q (%s), disagreement %q; want not observed, report of data center eu", cc.ID, cc.Host, cc.Observed, cc.ObservedReason, cc.Disagreement)
		}
	}
}

// TestCheckClients checks several clients and client ranges: a call is
// allowed only if every client is let through, and a range that straddles
// a src acl leaves the verdict uncertain.
func TestCheckClients(t *testing.T) {
	conf := "acl lan src 192.0.2.0/24\nacl g dstdomain .gtmhub.com\nhttp_access allow lan g\nhttp_access deny all\n"
	p, err := ParsePolicy("squid.conf", []byte(conf), PolicySquid, nil)
	if err != nil {
		t.Fatal(err)
	}
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	tests := []struct {
		name           string
		clients        []netip.Prefix
		want, why, unc string
	}{
		{"one_inside", pfx("192.0.2.10/32"), "allowed squid.conf:3", "", ""},
		{"range_inside", pfx("192.0.2.128/25"), "allowed squid.conf:3", "", ""},
		{"range_outside", pfx("198.51.100.0/24"), "denied squid.conf:4", "", ""},
		{"range_straddles", pfx("192.0.0.0/16"), "allowed squid.conf:3", "", "client range 192.0.0.0/16 is only partly in acl lan (src)"},
		{"every_client_must_pass", pfx("192.0.2.10/32", "198.51.100.4/32"), "denied squid.conf:4", "denied for client 198.51.100.4; allowed for 192.0.2.10", ""},
		{"first_denied", pfx("198.51.100.4/32", "192.0.2.10/32"), "denied squid.conf:4", "denied for client 198.51.100.4; allowed for 192.0.2.10", ""},
		{"all_pass", pfx("192.0.2.10/32", "192.0.2.11/32"), "allowed squid.conf:3", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckPolicy(DefaultCatalog(), p, "squid.conf", CheckOptions{Datacenter: "eu", Proxy: true, Clients: tc.clients})
			for _, cc := range c.Calls {
				if cc.ID != "oauth-token" {
					continue
				}
				if got := cc.Verdict + " " + cc.Source; got != tc.want || cc.Why != tc.why || !strings.Contains(cc.Uncertain, tc.unc) || (tc.unc == "") != (cc.Uncertain == "") {
					t.Errorf("clients %v: %q why %q uncertain %q; want %q why %q uncertain %q", tc.clients, got, cc.Why, cc.Uncertain, tc.want, tc.why, tc.unc)
				}
			}
		})
	}
}

func TestRangePrefixes(t *testing.T) {
	got := rangePrefixes(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.9"))
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	want := "192.0.2.1/32 192.0.2.2/31 192.0.2.4/30 192.0.2.8/31"
	if strings.Join(s, " ") != want {
		t.Errorf("rangePrefixes = %v, want %s", s, want)
	}
}

func FuzzParseSquid(f *testing.F) {
	f.Add(squidBase)
	f.Add("acl r dstdom_regex -i ^a\\.\nhttp_access allow r\nhttp_access deny !r CONNECT\n")
	f.Add("acl x src 192.0.2.0-192.0.2.255/24\nacl y dst ::1\n")
	f.Add("acl p port 443 # \"https\"\nconfiguration_includes_quoted_values on\nacl q dstdomain 'a # b' \"c\\\"d\"\nhttp_access allow p\n")
	f.Add("http_port 3128 ssl-bump\nacl s at_step SslBump1\nacl post method POST\nhttp_access deny post\nhttp_access allow all\nssl_bump peek s\nssl_bump bump all\n")
	f.Fuzz(func(t *testing.T, conf string) {
		p, err := ParsePolicy("squid.conf", []byte(conf), PolicySquid, files{}.read)
		if err != nil {
			return
		}
		req := proxyConnect("auth.gtmhub.com")
		req.Inner = &PolicyRequest{Scheme: "https", Method: "POST", Host: "auth.gtmhub.com", Port: 443, Path: "/oauth/token*"}
		d := p.Decide(req)
		if d.Rule == "" {
			t.Errorf("Decide gave no rule: %+v", d)
		}
		if (d.Source == "") != (d.Rule == DefaultDeny || d.Rule == DefaultAllow) {
			t.Errorf("Decide = %+v: a source exactly when a rule matched", d)
		}
	})
}

func FuzzParseDomainList(f *testing.F) {
	f.Add("# saas\nauth.gtmhub.com\n.quantive.com\n*.gtmhub.com\nhttps://app.gtmhub.com:443/api\n", false)
	f.Add("gtmhub.com\n^auth.gtmhub.com\n*.gtmhub.com/\napp.gtmhub.com/api\n", true)
	f.Fuzz(func(t *testing.T, list string, edl bool) {
		format := PolicyDomains
		if edl {
			format = PolicyEDL
		}
		p, err := ParsePolicy("list", []byte(list), format, nil)
		if err != nil {
			return
		}
		l := p.(*domainList)
		for _, e := range l.entries {
			// Every entry that names a domain lets that domain or its
			// subdomains through.
			host := e.domain
			if e.match == matchSubdomains {
				host = "x." + host
			}
			req := PolicyRequest{Scheme: "https", Method: "GET", Host: host, Port: 443}
			if e.port != 0 {
				req.Port = e.port
			}
			if d := p.Decide(req); !d.Allowed || d.Source == "" {
				t.Errorf("entry %q: Decide(%s) = %+v, want allowed by a line", e.text, req, d)
			}
		}
	})
}

func FuzzParsePolicyJSON(f *testing.F) {
	f.Add(awsAllow)
	f.Add(awsTerraform)
	f.Add(azureClassic)
	f.Add(azurePolicyGroup)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, format := range []string{PolicyAWS, PolicyAzure} {
			p, err := ParsePolicy("policy.json", []byte(doc), format, nil)
			if err != nil {
				continue
			}
			d := p.Decide(PolicyRequest{Scheme: "https", Method: "GET", Host: "auth.gtmhub.com", Port: 443})
			if d.Rule == "" || (d.Source == "") != (d.Rule == DefaultDeny || d.Rule == DefaultAllow) {
				t.Errorf("%s: Decide = %+v: want a rule, and a source exactly when a rule matched", format, d)
			}
		}
	})
}

func BenchmarkPolicyDecide(b *testing.B) {
	var big strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&big, "acl a%d dstdomain .example%d.net\nhttp_access deny a%d\n", i, i, i)
	}
	big.WriteString(squidBase)
	cases := []struct{ name, format, doc string }{
		{"squid", PolicySquid, squidBase},
		{"squid_2000_lines", PolicySquid, big.String()},
		{"domains", PolicyDomains, "auth.gtmhub.com\n.quantive.com\n*.gtmhub.com\n"},
		{"aws", PolicyAWS, awsAllow},
		{"azure", PolicyAzure, azureClassic},
	}
	req := proxyConnect("app.gtmhub.com")
	for _, tc := range cases {
		p, err := ParsePolicy("policy", []byte(tc.doc), tc.format, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.doc)))
			for b.Loop() {
				p.Decide(req)
			}
		})
	}
}
