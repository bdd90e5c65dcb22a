package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/rules"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of egress-audit and of its embedded catalog",
		Long: `Version prints two lines on standard output: the version of egress-audit
(set when it was built, else the module version, else "(devel)"), and the
name and version of the embedded call catalog that audits judge against
unless --catalog names another. Give both when reporting a verdict that
looks wrong: a report names its catalog's version too.

Exit codes:
  0  the versions were printed
  2  usage error (version takes no arguments)`,
		Example: `  # Which release and which catalog are installed?
  $ egress-audit version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := version
			if v == "" {
				v = "(devel)"
				if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
					v = bi.Main.Version
				}
			}
			cat := rules.DefaultCatalog()
			fmt.Fprintf(e.stdout, "egress-audit %s\ncatalog %s %s\n", v, cat.Name, cat.Version)
			return nil
		},
	}
}
