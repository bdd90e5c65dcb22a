package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit <input>... [flags]",
		Short: "Judge every catalog call and destination seen in captures and logs",
		Long: `Audit reads packet captures (pcap, pcapng), proxy logs and firewall logs,
and reports each call of the catalog as ok, blocked (with the reason and the
evidence) or missing, and every other destination by class and status.

Inputs are files, directories (every file below them) or - for standard
input; gzip- and zstd-compressed inputs are read as they are. The format of
each is detected from its content unless --format names it; a log layout of
your own is declared under formats: in the configuration file. Secrets in
logged URLs (OAuth codes, tokens, passwords) are redacted unless
--keep-secrets is given.

Blocking reasons: no-response, reset, icmp-prohibited, icmp-unreachable,
dns-nxdomain, dns-servfail, dns-refused, dns-timeout, proxy-denied,
proxy-auth-required, proxy-error, tls-alert, tls-interception,
firewall-deny, closed-early. A missing call is not-seen, or
dependency-blocked when a call it needs was blocked.

` + exitCodesHelp,
		Example: `  # Why did the Jira server's OAuth fail? Audit the proxy's log.
  $ egress-audit audit /var/log/squid/access.log

  # The same as JSON, for a script, for the US data center only.
  $ egress-audit audit --datacenter us -o json access.log.1.gz

  # Only the Jira server's traffic, accepting Atlassian's own hosts.
  $ egress-audit audit --client 192.0.2.10 --known '*.atlassian.com' capture.pcapng`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.audit(cmd, args)
		},
	}
	fs := cmd.Flags()
	addAuditFlags(fs)
	fs.StringP("output", "o", "table", "report `form`: "+strings.Join(outputs, ", "))
	fs.BoolP("quiet", "q", false, "no progress bar on stderr")
	return cmd
}

func (e *env) audit(cmd *cobra.Command, args []string) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if !slices.Contains(outputs, cfg.output) {
		return usagef("output %q: want one of %s", cfg.output, strings.Join(outputs, ", "))
	}
	quiet, _ := cmd.Flags().GetBool("quiet")
	errTTY, _ := e.tty(e.stderr)
	cfg.progress = errTTY && !quiet
	rep, err := e.auditInputs(cfg, args)
	if err != nil {
		return err
	}
	return e.writeReport(cfg, rep)
}

// writeReport prints rep in the form cfg.output names and returns
// errFindings when it holds what --fail-on names.
func (e *env) writeReport(cfg *config, rep *rules.Report) error {
	var err error
	switch cfg.output {
	case "json":
		err = report.JSON(e.stdout, rep)
	case "markdown":
		err = report.Markdown(e.stdout, rep)
	case "html":
		err = report.HTML(e.stdout, rep)
	case "csv":
		err = report.CSV(e.stdout, rep)
	case "junit":
		err = report.JUnit(e.stdout, rep)
	default:
		var opts report.TableOptions
		if tty, width := e.tty(e.stdout); tty {
			opts = report.TableOptions{Color: e.useColor(), Width: width}
		}
		err = opts.Write(e.stdout, rep)
	}
	if err != nil {
		return err
	}
	if n := findings(rep, cfg.failOn); n > 0 {
		return errFindings
	}
	return nil
}

// auditInputs reads the inputs named in args and judges them with cfg.
func (e *env) auditInputs(cfg *config, args []string) (*rules.Report, error) {
	names, err := parsers.Expand(args)
	if err != nil {
		return nil, usageError{err}
	}
	var inputs []rules.InputReport
	var cl *rules.Classifier
	if alone := e.parallelInputs(cfg, names); len(alone) >= 2 {
		cl, inputs, err = e.readParallel(cfg, names, alone)
	} else {
		cl = rules.NewClassifier(cfg.cat, cfg.opts)
		inputs, err = e.readNames(cfg, names, cl.Add)
	}
	if err != nil {
		return nil, err
	}
	learnHosts(cfg, cl.Names())
	rep := cl.Report(inputs)
	rep.Notes = append(rep.Notes, zoneNotes(inputs)...)
	rep.Notes = append(rep.Notes, hostsNotes(cfg)...)
	return rep, nil
}

// parallelInputs returns which inputs can be read on their own, in parallel
// with the others: files (not standard input) whose format joins nothing
// across inputs. It returns nil when there is one core, or when the
// inputs are read one after the other anyway.
func (e *env) parallelInputs(cfg *config, names []string) map[int]bool {
	if runtime.GOMAXPROCS(0) < 2 || len(names) < 2 {
		return nil
	}
	alone := make(map[int]bool)
	for i, name := range names {
		if name == parsers.Stdin {
			continue
		}
		f := cfg.format
		if f == nil {
			var err error
			if f, err = parsers.DetectFile(name, cfg.custom); err != nil {
				continue // read with the others, which reports the error
			}
		}
		if f.Flush == nil {
			alone[i] = true
		}
	}
	return alone
}

// readParallel reads the inputs named in alone on as many goroutines as
// there are cores, each into a classifier of its own, and the others one
// after the other into one more. The classifiers are merged in input order,
// so that the report does not depend on which input finished first.
func (e *env) readParallel(cfg *config, names []string, alone map[int]bool) (*rules.Classifier, []rules.InputReport, error) {
	quiet := *cfg
	quiet.progress = false // bars of several inputs at once would garble stderr
	if cfg.progress {
		// One bar for all of them instead, over the files' total size.
		var total int64
		for _, name := range names {
			if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
				total += fi.Size()
			}
		}
		quiet.bar = &sharedProgress{p: e.newProgress(cfg, fmt.Sprintf("%d inputs", len(names)), total)}
		defer quiet.bar.finish()
	}
	type result struct {
		cl  *rules.Classifier
		in  []rules.InputReport
		err error
	}
	results := make([]result, len(names))
	var rest []string
	first := -1 // the position of the inputs read together
	for i, name := range names {
		if !alone[i] {
			rest = append(rest, name)
			if first < 0 {
				first = i
			}
		}
	}
	var wg sync.WaitGroup
	if len(rest) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := rules.NewClassifier(cfg.cat, cfg.opts)
			in, err := e.readNames(&quiet, rest, cl.Add)
			results[first] = result{cl, in, err}
		}()
	}
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cl := rules.NewClassifier(cfg.cat, cfg.opts)
				in, err := e.readNames(&quiet, names[i:i+1], cl.Add)
				results[i] = result{cl, in, err}
			}
		}()
	}
	for i := range names {
		if alone[i] {
			next <- i
		}
	}
	close(next)
	wg.Wait()

	cl := rules.NewClassifier(cfg.cat, cfg.opts)
	var inputs []rules.InputReport
	read := false
	for _, r := range results {
		if r.cl == nil {
			continue
		}
		// The inputs that could not be read stay in the list, with why.
		inputs = append(inputs, r.in...)
		if r.err == nil {
			cl.Merge(r.cl)
			read = true
		}
	}
	if !read {
		return nil, nil, errNoInput
	}
	return cl, inputs, nil
}

// errNoInput is the error of a run in which not one input could be read.
var errNoInput = errors.New("no input could be read")

// readInputs reads every input, passing each observation to emit. An input
// that cannot be read is reported on stderr and listed with its error;
// only when none can be read is that an error.
func (e *env) readInputs(cfg *config, args []string, emit func(*capture.Observation)) ([]rules.InputReport, error) {
	names, err := parsers.Expand(args)
	if err != nil {
		return nil, usageError{err}
	}
	return e.readNames(cfg, names, emit)
}

// readNames reads the named inputs one after the other, with options shared
// across them (formats that join records of several inputs need that). The
// inputs it returns include those that could not be read, with their error,
// also when the error is [errNoInput] because none could.
func (e *env) readNames(cfg *config, names []string, emit func(*capture.Observation)) ([]rules.InputReport, error) {
	var out []rules.InputReport
	failed := 0
	opts := &parsers.Options{KeepSecrets: cfg.keepSecrets, Custom: cfg.custom, Location: cfg.loc, TLSIssuers: cfg.cat.TLSIssuers}
	for _, name := range names {
		opts.ZoneUsed = false
		res, err := e.readInput(cfg, name, opts, emit)
		if err != nil {
			failed++
			cfg.log.Error("cannot read input", "input", name, "err", err)
			out = append(out, rules.InputReport{Path: name, Error: err.Error()})
			continue
		}
		st := &res.Stats
		in := inputReport(name, st)
		in.SHA256 = res.SHA256
		if opts.ZoneUsed {
			in.TimeZone = zoneName(cfg.loc)
		}
		if st.Failed > 0 {
			cfg.log.Warn("skipped malformed records", "input", name, "count", st.Failed, "first", st.Problems[0].Err)
		}
		if st.Format == "empty" {
			cfg.log.Warn("input is empty", "input", name)
		}
		if st.Truncated != "" {
			cfg.log.Warn("input ends early", "input", name, "detail", st.Truncated)
		}
		cfg.log.Info("input read", "input", name, "format", st.Format, "records", st.Records,
			"skipped", in.Skipped, "failed", st.Failed)
		out = append(out, in)
	}
	opts.Flush(emit)
	if len(names) > 0 && failed == len(names) {
		return out, errNoInput
	}
	return out, nil
}

// readInput reads one input, through a progress bar when cfg asks for one.
func (e *env) readInput(cfg *config, name string, opts *parsers.Options, emit func(*capture.Observation)) (*parsers.Result, error) {
	var r io.Reader = e.stdin
	var size int64
	if name != parsers.Stdin {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		r = f
	}
	if p := e.newProgress(cfg, name, size); p != nil {
		defer p.finish()
		r = p.reader(r)
	} else if cfg.bar != nil && name != parsers.Stdin {
		r = cfg.bar.reader(r)
	}
	return parsers.Read(r, name, cfg.format, opts, emit)
}

// findings counts what failOn names in rep: required calls blocked or
// missing, unexpected destinations, destinations of another data center.
func findings(rep *rules.Report, failOn []string) int {
	n := 0
	for _, c := range rep.Calls {
		if !c.Required {
			continue
		}
		if (c.Status == rules.StatusBlocked && slices.Contains(failOn, "blocked")) ||
			(c.Status == rules.StatusMissing && slices.Contains(failOn, "missing")) {
			n++
		}
	}
	for _, d := range rep.Destinations {
		if (d.Class == rules.ClassUnexpected && slices.Contains(failOn, "unexpected")) ||
			(d.Class == rules.ClassOtherDatacenter && slices.Contains(failOn, "other-datacenter")) {
			n++
		}
	}
	return n
}

// zoneName names loc for a report: "UTC", "Europe/Berlin", or the local
// zone with its current offset.
func zoneName(loc *time.Location) string {
	if loc == time.Local {
		return "local time (" + time.Now().Format("MST, UTC-07:00") + ")"
	}
	return loc.String()
}

// zoneNotes says in which zone the times of inputs without a zone were read.
func zoneNotes(inputs []rules.InputReport) []string {
	byZone := make(map[string][]string)
	var zones []string
	for _, in := range inputs {
		if in.TimeZone == "" {
			continue
		}
		if byZone[in.TimeZone] == nil {
			zones = append(zones, in.TimeZone)
		}
		byZone[in.TimeZone] = append(byZone[in.TimeZone], in.Path)
	}
	var notes []string
	for _, z := range zones {
		// A zone abbreviation other than these names no one zone (CST,
		// IST), so the parsers read such a time as one without a zone.
		notes = append(notes, fmt.Sprintf("times in %s were read as %s where they had no zone, or a zone abbreviation other than UTC, GMT or that zone's own (set --timezone)",
			strings.Join(byZone[z], ", "), z))
	}
	return notes
}

// inputReport is the report's row of the input name, read with the counts
// of st.
func inputReport(name string, st *capture.Stats) rules.InputReport {
	in := rules.InputReport{
		Path:          name,
		Format:        st.Format,
		Records:       st.Records,
		Skipped:       st.SkippedTotal(),
		Errors:        st.Failed,
		Reasons:       st.Skipped,
		Truncated:     st.Truncated,
		Evicted:       st.Evicted,
		Unreassembled: st.Unreassembled,
		OutOfOrder:    st.OutOfOrder,
	}
	for _, p := range st.Problems {
		in.Problems = append(in.Problems, p.Err)
	}
	return in
}
