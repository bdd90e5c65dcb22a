// Command egress-audit tells, from packet captures, proxy logs and firewall
// logs, whether a SaaS integration's calls get out through a firewall, and
// if not, where and why they stop.
//
// main.go runs the command and exits with its code. root.go builds the
// cobra root, the viper configuration (flag, environment, file, default)
// and the logger, and maps errors to exit codes; config.go names every
// configuration key. One file per subcommand: audit.go (also the input
// reading shared by the others, in parallel where formats allow), extract.go,
// catalog.go, diff.go, checkrules.go, allowlist.go, watch.go, version.go.
// formats.go builds the input formats the configuration declares, and
// progress.go draws the progress bar on a terminal.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
