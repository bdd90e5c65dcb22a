package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// diffFailOnValues are the changes diff's --fail-on can name.
var diffFailOnValues = []string{"regressed", "new-unexpected", "still-blocked", "none"}

// diffOutputs lists the forms of diff's result.
var diffOutputs = []string{"table", "json", "markdown"}

func newDiffCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff {<before> <after> | --before <input>... --after <input>...} [flags]",
		Short: "Tell what a rule change fixed, broke and newly let out",
		Long: `Diff compares the traffic before a firewall or proxy rule change with the
traffic after it. Each side is either a report saved with
'egress-audit audit -o json' (recognised by its content, compressed or
not, also on standard input as -) or inputs
(captures, logs, directories) that diff audits itself, both sides with the
same configuration (--datacenter, --vantage, --client, --known, --catalog).
A saved report keeps the judgement it was saved with: those flags apply to
the sides given as inputs, with a warning when both sides are reports.

Give one file or directory per side as two arguments, or name the files of
each side with --before and --after, repeated as often as needed.

For every catalog call it says:
  fixed          blocked or missing before, ok after
  regressed      ok before, blocked or missing after
  still-blocked  blocked or missing on both sides (with both reasons when
                 they differ, e.g. reset became proxy-denied)
  unchanged      ok on both sides, or not expected from the vantage
  not-compared   in one catalog only, or expected on one side only
and for every destination: new, gone, changed (class or status) or
unchanged. A destination of class unexpected that traffic reaches after the
change but did not before is marked new-unexpected.

Reports of different catalog versions, data centers or vantages are
compared all the same, with a warning on stderr and in the result that
says what differs.

--fail-on names the changes that make the exit code 1:
  regressed       a call regressed, optional or required
  new-unexpected  an unexpected destination is newly reached
  still-blocked   a required call is blocked or missing after the change
  none            never exit 1
The default is regressed,new-unexpected.

Exit codes:
  0  the comparison found nothing that --fail-on names
  1  the comparison found something that --fail-on names
  2  usage error, or a side could not be read at all`,
		Example: `  # Two saved reports, before and after the proxy change.
  $ egress-audit audit -o json before.log > before.json
  $ egress-audit audit -o json after.log > after.json
  $ egress-audit diff before.json after.json

  # Audit the proxy logs of both days directly; markdown for the change request.
  $ egress-audit diff -o markdown access.log.1 access.log

  # Several files per side, and also fail while a required call is blocked.
  $ egress-audit diff --before mon.pcapng --before mon-proxy.log \
      --after tue.pcapng --after tue-proxy.log --fail-on regressed,new-unexpected,still-blocked

  # A saved report against a fresh capture, as JSON for a CI job.
  $ egress-audit diff -o json before.json capture-after.pcapng`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.diff(cmd, args)
		},
	}
	fs := cmd.Flags()
	fs.StringArray("before", nil, "`input` or saved report of the side before the change (repeatable)")
	fs.StringArray("after", nil, "`input` or saved report of the side after the change (repeatable)")
	audit := pflag.NewFlagSet("audit", pflag.ContinueOnError)
	addAuditFlags(audit)
	audit.VisitAll(func(f *pflag.Flag) {
		if f.Name != "fail-on" {
			fs.AddFlag(f)
		}
	})
	fs.String("fail-on", "regressed,new-unexpected", "changes that make the exit code 1: `list` of "+strings.Join(diffFailOnValues, ", "))
	_ = fs.SetAnnotation("fail-on", annotationKey, []string{keyDiffFailOn})
	fs.StringP("output", "o", "table", "result `form`: "+strings.Join(diffOutputs, ", "))
	return cmd
}

func (e *env) diff(cmd *cobra.Command, args []string) error {
	before, _ := cmd.Flags().GetStringArray("before")
	after, _ := cmd.Flags().GetStringArray("after")
	switch {
	case len(before) == 0 && len(after) == 0 && len(args) == 2:
		before, after = args[:1], args[1:]
	case len(before) == 0 && len(after) == 0:
		return usagef("diff: want two arguments, before and after, or --before and --after; got %d arguments", len(args))
	case len(args) > 0:
		return usagef("diff: arguments %q given with --before or --after: name every file with those flags", args)
	case len(before) == 0 || len(after) == 0:
		return usagef("diff: --before and --after go together: name the files of both sides")
	}
	if slices.Contains(before, parsers.Stdin) && slices.Contains(after, parsers.Stdin) {
		return usagef("diff: only one side can read standard input")
	}

	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if !slices.Contains(diffOutputs, cfg.output) {
		return usagef("output %q: want one of %s", cfg.output, strings.Join(diffOutputs, ", "))
	}
	failOn, err := failOnList(cfg.v, keyDiffFailOn, "fail-on", diffFailOnValues)
	if err != nil {
		return err
	}

	b, bsrc, bsaved, err := e.diffSide(cfg, "before", before)
	if err != nil {
		return err
	}
	a, asrc, asaved, err := e.diffSide(cfg, "after", after)
	if err != nil {
		return err
	}
	if bsaved && asaved {
		var given []string
		for _, f := range inputOnlyFlags {
			if cmd.Flags().Changed(f) {
				given = append(given, "--"+f)
			}
		}
		if len(given) > 0 {
			cfg.log.Warn("flags apply only to sides given as inputs; both sides are saved reports, compared as they were saved",
				"flags", strings.Join(given, ", "))
		}
	}
	d := report.Compare(b, a)
	d.Before.Source, d.After.Source = bsrc, asrc
	for _, w := range d.Warnings {
		cfg.log.Warn("sides judged differently", "detail", w)
	}

	switch cfg.output {
	case "json":
		err = report.DiffJSON(e.stdout, d)
	case "markdown":
		err = report.DiffMarkdown(e.stdout, d)
	default:
		err = report.DiffTable(e.stdout, d)
	}
	if err != nil {
		return err
	}
	s := d.Summary
	if (s.Regressed > 0 && slices.Contains(failOn, "regressed")) ||
		(s.NewUnexpected > 0 && slices.Contains(failOn, "new-unexpected")) ||
		(s.StillBlockedRequired > 0 && slices.Contains(failOn, "still-blocked")) {
		return errFindings
	}
	return nil
}

// inputOnlyFlags are the audit flags that change how inputs are read and
// judged; a saved report was judged when it was saved.
var inputOnlyFlags = []string{"datacenter", "vantage", "client", "known", "catalog", "format", "timezone", "keep-secrets", "hosts"}

// diffSide returns the report of one side: the saved report when names is
// one, or else the audit of the inputs. It also returns how to name the
// side, and whether it is a saved report.
func (e *env) diffSide(cfg *config, side string, names []string) (*rules.Report, string, bool, error) {
	var reports []string
	for _, n := range names {
		schema, err := e.jsonSchema(n)
		if err != nil {
			// Not a report that can be read: the audit of the side lists
			// it as unreadable beside the inputs it can read, as audit
			// does, and fails only when it reads none.
			continue
		}
		switch {
		case schema == rules.ReportSchema:
			reports = append(reports, n)
		case strings.HasPrefix(schema, "egress-audit/"):
			return nil, "", false, usagef("%s %s: a %s file, not a report (%s)", side, n, schema, rules.ReportSchema)
		}
	}
	switch {
	case len(reports) == 1 && len(names) == 1:
		r, err := e.readSavedReport(names[0])
		if err != nil {
			return nil, "", false, usagef("%s report %s: %v", side, names[0], err)
		}
		cfg.log.Info("report read", "side", side, "report", names[0])
		return r, names[0], true, nil
	case len(reports) > 0:
		return nil, "", false, usagef("%s: %s is a saved report: give it alone, not with other files", side, reports[0])
	}
	r, err := e.auditInputs(cfg, names)
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", side, err)
	}
	return r, strings.Join(names, ", "), false, nil
}

// readSavedReport decodes the saved report name (or standard input),
// gzip or zstd compressed or not.
func (e *env) readSavedReport(name string) (*rules.Report, error) {
	var r io.Reader = e.stdin
	if name != parsers.Stdin {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	dec, release, err := parsers.Decompressed(r)
	if err != nil {
		return nil, err
	}
	defer release()
	return report.ReadJSON(dec)
}

// sniffSize is how much of a side's input is looked at to tell a saved
// report; the report's schema is its first member.
const sniffSize = 64 << 10

// jsonSchema returns the "schema" member of the JSON object a file (or
// standard input) starts with, once decompressed, or "" when it does not
// start with a JSON object that has one early (a capture, a log) or is a
// directory. It only peeks at standard input, which stays whole for an
// audit to read.
func (e *env) jsonSchema(name string) (string, error) {
	var br *bufio.Reader
	if name == parsers.Stdin {
		br = bufio.NewReaderSize(e.stdin, sniffSize)
		e.stdin = br
	} else {
		fi, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		if !fi.Mode().IsRegular() {
			return "", nil
		}
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		br = bufio.NewReaderSize(f, sniffSize)
	}
	raw, _ := br.Peek(sniffSize)
	dec, release, err := parsers.Decompressed(bytes.NewReader(raw))
	if err != nil {
		return "", nil // not a report; reading it as an input will say what is wrong
	}
	defer release()
	head := make([]byte, sniffSize)
	n, _ := io.ReadFull(dec, head) // a compressed prefix decompresses as far as it goes
	return schemaOf(head[:n]), nil
}

// schemaOf returns the string value of the "schema" member of the JSON
// object head starts with, looking through its members in order until the
// first value that head cuts short.
func schemaOf(head []byte) string {
	d := json.NewDecoder(bytes.NewReader(head))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return ""
		}
		if k == "schema" {
			var s string
			if d.Decode(&s) != nil {
				return ""
			}
			return s
		}
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}
