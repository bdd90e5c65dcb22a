package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/rules"
)

func newCatalogCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog [flags]",
		Short: "Print the calls of the catalog for a data center",
		Long: `Catalog prints the calls an audit expects: for each, who makes it (the
server or the user's browser), the method and URL, whether it is required
and which calls it depends on. Without --catalog it prints the embedded
catalog of the Quantive OKRs for Jira plugin.

Exit codes:
  0  the catalog was printed
  2  usage error, or the catalog could not be read or is not valid`,
		Example: `  # The calls for an account in the US data center.
  $ egress-audit catalog --datacenter us

  # Check a catalog of your own.
  $ egress-audit catalog --catalog my-saas.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				return err
			}
			dcID := cfg.opts.Datacenter
			if dcID == "" || dcID == rules.DatacenterAuto {
				dcID = cfg.cat.Datacenters[0].ID
			}
			dc, _ := cfg.cat.Datacenter(dcID)
			w := e.stdout
			fmt.Fprintf(w, "%s %s (%s), data center %s\n\n", cfg.cat.Name, cfg.cat.Version, cfg.cat.Title, dc.ID)
			for _, c := range cfg.cat.Calls {
				req := "required"
				if !c.Required {
					req = "optional"
				}
				fmt.Fprintf(w, "%-16s %-7s %-6s %s://%s:%d%s  (%s)\n", c.ID, c.Side, c.Method, c.Scheme, cfg.cat.Host(&c, dc), c.Port, c.Path, req)
				fmt.Fprintf(w, "%-16s %s\n", "", c.Title)
				if len(c.DependsOn) > 0 {
					fmt.Fprintf(w, "%-16s after %s\n", "", strings.Join(c.DependsOn, ", "))
				}
			}
			if len(cfg.cat.VendorDomains) > 0 {
				fmt.Fprintf(w, "\nvendor domains: %s\n", strings.Join(cfg.cat.VendorDomains, ", "))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.String("datacenter", "auto", "data center: an id of the catalog (default its first)")
	fs.String("catalog", "", "catalog `file` (default the embedded Quantive catalog)")
	return cmd
}
