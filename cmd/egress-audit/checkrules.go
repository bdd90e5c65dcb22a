package main

import (
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// checkOutputs lists the forms of check-rules' result.
var checkOutputs = []string{"table", "json", "markdown", "html", "csv", "junit"}

// checkWriters writes each form of check-rules' result.
var checkWriters = map[string]func(io.Writer, *rules.Check) error{
	"table":    report.CheckTable,
	"json":     report.CheckJSON,
	"markdown": report.CheckMarkdown,
	"html":     report.CheckHTML,
	"csv":      report.CheckCSV,
	"junit":    report.CheckJUnit,
}

// checkFailOnValues are the findings check-rules' --fail-on can name.
var checkFailOnValues = []string{"denied", "uncertain", "disagree", "none"}

func newCheckRulesCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check-rules {<policy>|-} [--report <report.json>] [flags]",
		Short: "Tell whether a proxy or firewall policy lets the catalog's calls through",
		Long: `Check-rules evaluates a proxy or firewall policy against the catalog,
without any traffic: for each call of the data center and vantage it says
whether the policy allows or denies it, and which rule decides (file:line),
or default-deny / default-allow when no rule matches. The policy "-" is
read from standard input.

Policies (the format is detected; --rules-format names it):
  squid        squid.conf: acl lines of the dstdomain, dstdom_regex, dst,
               src, port, method, url_regex, ssl::server_name,
               ssl::server_name_regex and at_step types, http_access rules
               in order, include files followed. The first matching
               http_access line decides; when none matches, squid does the
               opposite of the last line, and denies when there is none.
               ".example.com" matches example.com and its subdomains.
               HTTPS calls are checked as CONNECT host:443; when ssl_bump
               bumps the CONNECT (on an http_port with ssl-bump), the
               decrypted request, with the call's method and URL, must be
               allowed too.
  domains      a plain allow-list, one entry a line: "example.com" is the
               name only, ".example.com" the name and its subdomains,
               "*.example.com" its subdomains only; "host:port" and URLs
               are accepted.
  panos-edl    a PAN-OS external dynamic list of domains: "example.com"
               matches the name and its subdomains, "^example.com" the
               name only, "*.example.com" its subdomains. Detected by a
               caret entry or the .edl extension; else name it.
  aws-domains  an AWS Network Firewall domain-list rule group (JSON from
               describe-rule-group, CloudFormation or Terraform): HTTPS is
               matched by TLS_SNI; ".example.com" matches example.com and
               its subdomains.
  azure-app    Azure Firewall application rule collections (JSON: classic
               collections or firewall policy rule collection groups), in
               priority order; "*.example.com" matches subdomains only.

With several --client values (addresses or CIDRs), a call is allowed only
if it is allowed for every client; a CIDR that is only partly in a src acl
makes the verdict uncertain.

A rule that cannot be decided without traffic (a dst acl when the
host's addresses are unknown, proxy_auth and other types only the
running proxy knows) makes the verdict uncertain, naming the rule.

With --report, a report saved by 'egress-audit audit -o json', dst acls
are decided by the addresses the report saw each host at, and it says
where the prediction and the observed traffic disagree: a call the rules
allow but the capture shows blocked was stopped by another device on the
path. Only calls the report judged at the same host are compared: with a
report of another data center they are "not observed".

--fail-on (key check_fail_on) names the findings that make the exit
code 1:
  denied     a required call is denied (the default)
  uncertain  a required call's verdict rests on an assumption
  disagree   the report contradicts a verdict
  none       never

Exit codes:
  0  the check found nothing that --fail-on names
  1  the check found something that --fail-on names
  2  usage error, or the policy or report could not be read`,
		Example: `  # Will the proxy let the plugin's server calls out?
  $ egress-audit check-rules /etc/squid/squid.conf

  # The US data center, against the allow-list a firewall team keeps.
  $ egress-audit check-rules --datacenter us --rules-format panos-edl saas-domains.txt

  # Why does the token call fail although the proxy allows it?
  $ egress-audit audit -o json capture.pcapng > report.json
  $ egress-audit check-rules --report report.json /etc/squid/squid.conf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.checkRules(cmd, args[0])
		},
	}
	fs := cmd.Flags()
	fs.String("rules-format", "", "policy `format` instead of detecting it: "+strings.Join(rules.PolicyFormats, ", "))
	fs.String("report", "", "saved JSON `report` to compare the prediction with")
	fs.String("datacenter", "auto", "data center of the account: an id of the catalog (eu, us, as, sa); auto takes the report's, else the catalog's first")
	fs.String("vantage", "server", "whose calls to check: server, browser or all")
	fs.StringArray("client", nil, "`address` or CIDR of the requesting hosts, for source conditions (src acls, sourceAddresses); repeatable, each must be allowed")
	fs.String("catalog", "", "catalog `file` (default the embedded Quantive catalog)")
	fs.StringP("output", "o", "table", "result `form`: "+strings.Join(checkOutputs, ", "))
	fs.String("fail-on", "denied", "findings that make the exit code 1: `list` of "+strings.Join(checkFailOnValues, ", "))
	// The audit's fail_on key, which the name would bind to, holds other
	// values: check-rules has its own.
	_ = fs.SetAnnotation("fail-on", annotationKey, []string{keyCheckFailOn})
	return cmd
}

func (e *env) checkRules(cmd *cobra.Command, path string) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if !slices.Contains(checkOutputs, cfg.output) {
		return usagef("output %q: want one of %s", cfg.output, strings.Join(checkOutputs, ", "))
	}
	failOn, err := failOnList(cfg.v, keyCheckFailOn, "check_fail_on", checkFailOnValues)
	if err != nil {
		return err
	}
	format, _ := cmd.Flags().GetString("rules-format")
	if format != "" && !slices.Contains(rules.PolicyFormats, format) {
		return usagef("rules-format %q: want one of %s", format, strings.Join(rules.PolicyFormats, ", "))
	}
	var p rules.Policy
	if path == "-" {
		// Includes and value files named relatively are then taken from
		// the working directory, as squid takes them.
		path = "stdin"
		data, rerr := io.ReadAll(e.stdin)
		if rerr != nil {
			return usagef("policy stdin: %v", rerr)
		}
		p, err = rules.ParsePolicy(path, data, format, os.ReadFile)
	} else {
		p, err = rules.LoadPolicy(path, format)
	}
	if err != nil {
		return usageError{err}
	}

	var rep *rules.Report
	reportPath, _ := cmd.Flags().GetString("report")
	if reportPath != "" {
		f, err := os.Open(reportPath)
		if err != nil {
			return usageError{err}
		}
		rep, err = report.ReadJSON(f)
		f.Close()
		if err != nil || rep.Schema != rules.ReportSchema {
			return usagef("report %s: not a saved report (%s)", reportPath, rules.ReportSchema)
		}
	}

	opts := rules.CheckOptions{
		Datacenter: cfg.opts.Datacenter,
		Vantage:    cfg.opts.Vantage,
		Proxy:      p.Format() == rules.PolicySquid,
	}
	if rep != nil {
		if opts.Datacenter == rules.DatacenterAuto {
			opts.Datacenter = rep.Datacenter
		}
		opts.Addrs = rules.ReportAddrs(rep)
	}
	opts.Clients = cfg.opts.Clients
	c := rules.CheckPolicy(cfg.cat, p, path, opts)
	if rep != nil {
		c.Compare(rep, reportPath)
	}
	for _, cc := range c.Calls {
		if cc.Uncertain != "" {
			cfg.log.Info("verdict rests on an assumption", "call", cc.ID, "assumed", cc.Uncertain)
		}
	}

	if err := checkWriters[cfg.output](e.stdout, c); err != nil {
		return err
	}
	if checkFindings(c, failOn) > 0 {
		return errFindings
	}
	return nil
}

// checkFindings counts the calls that failOn names in c: required calls
// denied, required calls whose verdict rests on an assumption, calls the
// report contradicts.
func checkFindings(c *rules.Check, failOn []string) int {
	n := 0
	for _, cc := range c.Calls {
		if (cc.Required && cc.Verdict == rules.VerdictDenied && slices.Contains(failOn, "denied")) ||
			(cc.Required && cc.Uncertain != "" && slices.Contains(failOn, "uncertain")) ||
			(cc.Disagreement != "" && slices.Contains(failOn, "disagree")) {
			n++
		}
	}
	return n
}
