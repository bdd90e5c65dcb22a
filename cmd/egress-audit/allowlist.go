package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

func newAllowlistCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "allowlist --target {" + strings.Join(report.AllowTargets, "|") + "} [flags]",
		Short: "Print the firewall or proxy rules that let the catalog's calls through",
		Long: `Allowlist prints, in the syntax of a firewall or proxy, the rules that let
the catalog's calls through for a data center and vantage: exact host names
and their ports, never wider than the calls need. With --from-report it
allows only what an audit (egress-audit audit -o json) found blocked.

Targets:
  squid      acl ... dstdomain and http_access allow lines for squid.conf
  panos-edl  PAN-OS external dynamic list of type URL List
  fortigate  FortiGate FQDN address objects and a group (CLI)
  aws-nfw    AWS Network Firewall domain-list rule group (JSON for
             aws network-firewall create-rule-group --cli-input-json)
  azure-fw   Azure Firewall policy application rule collection (ARM template)
  pfsense    pfSense/OPNsense host alias (config.xml section)
  nftables   nftables sets and rules, with the resolved-address caveat
  plain      host names, one per line

Every output names the catalog and version it came from (panos-edl, whose
lists hold entries only, in a note on stderr). Warnings (a
wildcard or address-based rule that lets more through than the calls need,
calls left out) go to stderr, and into the output's comments where the
target has comments.

Exit codes:
  0  the rules were written (warnings, if any, on stderr)
  1  nothing to allow (the report found no call blocked, or every entry
     was left out): nothing is written to stdout, and stderr says why
  2  usage error, or the catalog or report could not be read`,
		Example: `  # The squid rules for the server side of an EU account.
  $ egress-audit allowlist --target squid

  # Only what an audit found blocked, as an AWS Network Firewall rule group.
  $ egress-audit audit -o json access.log > report.json
  $ egress-audit allowlist --target aws-nfw --from-report report.json > rg.json
  $ aws network-firewall create-rule-group --cli-input-json file://rg.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.allowlist(cmd)
		},
	}
	fs := cmd.Flags()
	fs.StringP("target", "t", "", "rule `syntax`: "+strings.Join(report.AllowTargets, ", "))
	fs.String("datacenter", "auto", "data center of the account: an id of the catalog (auto means its first, eu)")
	fs.String("vantage", "server", "whose calls to let through: server, browser or all")
	fs.String("catalog", "", "catalog `file` (default the embedded Quantive catalog)")
	fs.String("from-report", "", "JSON report `file` of an audit: allow only what it found blocked")
	return cmd
}

func (e *env) allowlist(cmd *cobra.Command) error {
	target, _ := cmd.Flags().GetString("target")
	if !slices.Contains(report.AllowTargets, target) {
		return usagef("--target %q: want one of %s", target, strings.Join(report.AllowTargets, ", "))
	}
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}

	var allow *report.Allow
	if path, _ := cmd.Flags().GetString("from-report"); path != "" {
		allow, err = allowFromReportFile(cmd, cfg, path)
		if err != nil {
			return err
		}
	} else {
		dcID := cfg.opts.Datacenter
		if dcID == "" || dcID == rules.DatacenterAuto {
			dcID = cfg.cat.Datacenters[0].ID
		}
		dc, _ := cfg.cat.Datacenter(dcID)
		vantage := cfg.opts.Vantage
		if vantage == "" {
			vantage = rules.VantageServer
		}
		allow = report.AllowFromCatalog(cfg.cat, dc, vantage)
	}

	notes, warnings, err := report.AllowList(e.stdout, target, allow)
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "egress-audit: note: %s\n", report.Clean(n))
	}
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "egress-audit: warning: %s\n", report.Clean(w))
	}
	if errors.Is(err, report.ErrNothingToAllow) {
		// Not a usage error, and no rules: a script that installs the
		// output must not go on with an empty list.
		fmt.Fprintf(e.stderr, "egress-audit: %v; no rules written\n", err)
		return errFindings
	}
	return err
}

// allowFromReportFile reads an audit's JSON report. The data center and
// vantage are the report's; flags that name others are an error.
func allowFromReportFile(cmd *cobra.Command, cfg *config, path string) (*report.Allow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--from-report: %v", err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return nil, usagef("--from-report %s: not a JSON report: %v", path, err)
	}
	if r.Schema != rules.ReportSchema {
		return nil, usagef("--from-report %s: schema %q: want %s", path, report.Clean(r.Schema), rules.ReportSchema)
	}
	if cmd.Flags().Changed("datacenter") && cfg.opts.Datacenter != rules.DatacenterAuto && cfg.opts.Datacenter != r.Datacenter {
		return nil, usagef("--datacenter %s: the report is for data center %s", cfg.opts.Datacenter, report.Clean(r.Datacenter))
	}
	if cmd.Flags().Changed("vantage") && cfg.opts.Vantage != r.Vantage {
		return nil, usagef("--vantage %s: the report is for vantage %s", cfg.opts.Vantage, report.Clean(r.Vantage))
	}
	return report.AllowFromReport(r), nil
}
