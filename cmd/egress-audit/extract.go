package main

import (
	"bufio"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/report"
)

var extractOutputs = []string{"jsonl", "table"}

func newExtractCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "extract <input>... [flags]",
		Short: "Print the evidence found in captures and logs, one observation per line",
		Long: `Extract reads the same inputs as audit and prints every observation it
finds, without judging it: time, input, locator (packet or line), client,
server, transport, host, how the host was learned (sni, quic, dns, http,
connect, url, log), outcome and detail. With -o jsonl (the default) each
line is one JSON object, the building block for scripts; -o table prints a
line of text per observation.

Inputs are files, directories (every file below them) or - for standard
input, gzip- or zstd-compressed or not, as for audit. Damaged records are
counted and named on standard error, and the rest is still printed.

Exit codes:
  0  the observations of every input that could be read were printed
  2  usage error, or no input could be read at all`,
		Example: `  # Every destination name in a capture, with where it was found.
  $ egress-audit extract capture.pcapng

  # Only the blocked attempts of a compressed proxy log.
  $ egress-audit extract access.log.1.gz | jq 'select(.outcome == "blocked")'

  # A line of text per observation, for reading.
  $ egress-audit extract -o table capture.pcapng`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.extract(cmd, args)
		},
	}
	fs := cmd.Flags()
	fs.String("format", "", "input `format` instead of detecting it")
	fs.Bool("keep-secrets", false, "keep URL query values (OAuth codes, tokens) in the output, for local debugging only")
	fs.String("timezone", "local", "time `zone` of log times that carry none: local, UTC or an IANA name")
	fs.StringP("output", "o", "jsonl", "output `form`: "+strings.Join(extractOutputs, ", "))
	return cmd
}

func (e *env) extract(cmd *cobra.Command, args []string) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if !slices.Contains(extractOutputs, cfg.output) {
		return usagef("output %q: want one of %s", cfg.output, strings.Join(extractOutputs, ", "))
	}
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	defer w.Flush()
	var werr error
	var emit func(*capture.Observation)
	if cfg.output == "table" {
		emit = func(o *capture.Observation) {
			if werr == nil {
				werr = report.ObservationLine(w, o)
			}
		}
	} else {
		enc := report.NewObservationEncoder(w)
		emit = func(o *capture.Observation) {
			if werr == nil {
				werr = enc.Encode(o)
			}
		}
	}
	if _, err := e.readInputs(cfg, args, emit); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	return w.Flush()
}
