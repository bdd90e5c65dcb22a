// Command gencap writes a synthetic capture of realistic egress traffic:
//
//	go run ./testdata/bench/gencap/cmd/gencap -packets 1200000 -o bench.pcap
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/egress-audit/egress-audit/testdata/bench/gencap"
)

func main() {
	packets := flag.Int64("packets", 1_000_000, "number of `packets` to write (at least)")
	out := flag.String("o", "bench.pcap", "output `file`")
	seed := flag.Uint64("seed", 1, "random `seed`")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	st, err := gencap.Generate(f, *packets, *seed)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencap: %s: %d packets, %d flows, %d bytes\n", *out, st.Packets, st.Flows, st.Bytes)
}
