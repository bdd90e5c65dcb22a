// Command genlogs writes a generated proxy or DNS log of any size for the
// benchmarks:
//
//	go run ./testdata/bench/genlogs -format squid -lines 5000000 > squid.log
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/egress-audit/egress-audit/testdata/bench/loggen"
)

func main() {
	format := flag.String("format", "squid", "log format: "+strings.Join(loggen.Formats, ", "))
	lines := flag.Int("lines", 1000000, "number of lines")
	seed := flag.Uint64("seed", 1, "random seed (the output is the same for the same seed)")
	flag.Parse()
	if err := loggen.Write(os.Stdout, *format, *lines, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genlogs:", err)
		os.Exit(2)
	}
}
