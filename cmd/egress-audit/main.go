// Command egress-audit tells, from packet captures, proxy logs and firewall
// logs, whether a SaaS integration's calls get out through a firewall, and
// if not, where and why they stop.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
