package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"golang.org/x/net/bpf"

	"github.com/egress-audit/egress-audit/parsers"
	"github.com/egress-audit/egress-audit/rules"
)

// Exit codes.
const (
	exitOK       = 0 // the audit found nothing that --fail-on names
	exitFindings = 1 // the audit found something that --fail-on names
	exitUsage    = 2 // a usage error, or no input could be read
)

const exitCodesHelp = `Exit codes:
  0  the audit ran and found nothing that --fail-on names
  1  the audit ran and found something that --fail-on names
  2  usage error, or no input could be read at all`

// usageError marks errors that exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// findingsError is returned when the audit ran and found what --fail-on names.
var errFindings = errors.New("findings")

// env is what a command run sees of the world; tests replace every part.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// environ lists the environment as KEY=value strings; nil means none.
	environ func() []string
	// warnedEnv is set once the environment's unknown variables were
	// warned about, so that a command building several configurations
	// warns once.
	warnedEnv bool
	// configDir returns the user's configuration directory.
	configDir func() (string, error)
	// terminal reports whether w is a terminal, and its width in columns
	// (0 when unknown).
	terminal func(w io.Writer) (tty bool, width int)
	// now is the clock of progress reports.
	now func() time.Time
	// openLive opens a live capture (watch); nil means a capture on a
	// network interface.
	openLive func(iface string, filter []bpf.RawInstruction) (liveSource, error)
	// resolve looks up a host's addresses (watch, at start); nil means
	// the system's resolver.
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// run executes the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, environ: os.Environ, configDir: os.UserConfigDir, terminal: fileTerminal, now: time.Now}
	return e.run(args)
}

func (e *env) run(args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFindings):
		return exitFindings
	}
	fmt.Fprintf(e.stderr, "egress-audit: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitUsage
}

// isCobraUsage reports whether err comes from cobra's own argument and
// flag checks.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown ") || strings.Contains(s, "flag") || strings.Contains(s, "arg(s)")
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "egress-audit <command> [flags]",
		Short: "Tell whether a SaaS integration's calls get out through the firewall",
		Long: `egress-audit reads packet captures, proxy logs and firewall logs, finds the
destinations in them (TLS SNI, DNS answers, HTTP Host, CONNECT targets,
URLs) and judges every call of a catalog (by default the Quantive OKRs for
Jira plugin) as ok, blocked (with the reason and the evidence) or missing,
and every other destination as unexpected.

Configuration comes from flags, then EGRESS_AUDIT_* environment variables,
then a configuration file (--config, else ./egress-audit.yaml, else
egress-audit/egress-audit.yaml in the user's configuration directory).

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().StringP("config", "c", "", "configuration `file` (default ./egress-audit.yaml)")
	root.PersistentFlags().String("log-level", "warn", "log `level` on stderr: debug, info, warn, error")
	root.PersistentFlags().String("log-format", "text", "log `format` on stderr: text or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(
		newAuditCmd(e),
		newExtractCmd(e),
		newCatalogCmd(e),
		newDiffCmd(e),
		newCheckRulesCmd(e),
		newVersionCmd(e),
		newAllowlistCmd(e),
		newWatchCmd(e),
	)
	return root
}

// addAuditFlags adds the flags that shape an audit, grouped for help.
func addAuditFlags(fs *pflag.FlagSet) {
	fs.String("datacenter", "auto", "data center of the account: auto or an id of the catalog (eu, us, as, sa)")
	fs.String("vantage", "server", "whose calls are expected: server, browser or all")
	fs.StringArray("client", nil, "`CIDR` of an audited host, e.g. 192.0.2.10/32 (repeatable; default every client)")
	fs.StringArray("known", nil, "host `pattern` accepted as expected, e.g. '*.atlassian.com' (repeatable)")
	fs.String("catalog", "", "catalog `file` (default the embedded Quantive catalog)")
	fs.String("fail-on", "blocked,missing", "findings that make the exit code 1: `list` of blocked, missing, unexpected, other-datacenter, none")
	fs.String("format", "", "input `format` instead of detecting it: "+strings.Join(parsers.FormatNames(), ", ")+", or a name from the formats of the configuration")
	fs.Bool("keep-secrets", false, "keep URL query values (OAuth codes, tokens) in the output, for local debugging only")
	fs.String("timezone", "local", "time `zone` of log times that carry none: local, UTC or an IANA name such as Europe/Berlin")
	fs.StringArray("hosts", nil, "hosts `file` of the audited server (its /etc/hosts): names flows to the addresses it pins (repeatable)")
}

// config is the resolved configuration of one command run.
type config struct {
	v      *viper.Viper
	log    *slog.Logger
	opts   rules.Options
	cat    *rules.Catalog
	failOn []string
	output string
	format *parsers.Format
	// custom are the formats the configuration declares; keepSecrets
	// keeps URL secrets (--keep-secrets).
	custom      []*parsers.Format
	keepSecrets bool
	loc         *time.Location // zone of log times that carry none
	// progress asks for a progress bar on stderr while inputs are read.
	progress bool
	// hosts are the hosts files of --hosts, read.
	hosts []*hostsFile
	// bar, when set, counts the files read into one bar for all of them,
	// as inputs read in parallel share one.
	bar *sharedProgress
}

// flagKeys maps flag names to configuration keys where they differ.
var flagKeys = map[string]string{
	"client":     keyClients,
	"fail-on":    keyFailOn,
	"log-level":  keyLogLevel,
	"log-format": keyLogFormat,
}

// newViper builds the configuration of a command: the file first (so that
// its keys can be checked alone), then defaults, environment and flags.
func (e *env) newViper(cmd *cobra.Command) (*viper.Viper, error) {
	v := viper.New()
	path, _ := cmd.Flags().GetString("config")
	explicit := path != ""
	if !explicit {
		if _, err := os.Stat(configName); err == nil {
			path = configName
		} else if dir, err := e.configDir(); err == nil {
			p := filepath.Join(dir, "egress-audit", configName)
			if _, err := os.Stat(p); err == nil {
				path = p
			}
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, usagef("config %s: %v", path, err)
		}
		for _, k := range v.AllKeys() {
			if !slices.Contains(configKeys, k) {
				return nil, usagef("config %s: unknown key %q: want one of %s", path, k, strings.Join(configKeys, ", "))
			}
		}
		if err := checkConfigTypes(v, path); err != nil {
			return nil, err
		}
	}
	e.warnUnknownEnv()
	var bindErr error
	bound := make(map[string]string) // key -> flag name
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		if k, ok := flagKeys[f.Name]; ok {
			key = k
		}
		if k := f.Annotations[annotationKey]; len(k) == 1 {
			key = k[0]
		}
		if !slices.Contains(configKeys, key) {
			return
		}
		bound[key] = f.Name
		if err := v.BindPFlag(key, f); err != nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return nil, bindErr
	}
	for _, k := range configKeys {
		name, ok := bound[k]
		if !ok {
			name = flagFor(k)
		}
		if val := e.getenv(envPrefix + "_" + strings.ToUpper(k)); val != "" && !cmd.Flags().Changed(name) {
			v.Set(k, val)
		}
	}
	return v, nil
}

// checkConfigTypes checks that each key of the configuration file at path
// holds the kind of value its key reads: viper would read a list given for
// a one-value key as empty, or as its printed form, and silently fall back
// to the default.
func checkConfigTypes(v *viper.Viper, path string) error {
	for _, k := range scalarKeys {
		if x := v.Get(k); !isScalar(x) {
			return usagef("config %s: %s: want one value, not %s", path, k, kindOf(x))
		}
	}
	for _, k := range listKeys {
		switch x := v.Get(k).(type) {
		case []any:
			for i, el := range x {
				if !isScalar(el) {
					return usagef("config %s: %s[%d]: want a value, not %s", path, k, i, kindOf(el))
				}
			}
		default:
			if !isScalar(x) {
				return usagef("config %s: %s: want a list of values, not %s", path, k, kindOf(x))
			}
		}
	}
	return nil
}

// isScalar reports whether x, as YAML decodes it, is one value (or absent).
func isScalar(x any) bool {
	switch x.(type) {
	case nil, string, bool, int, int64, uint64, float64:
		return true
	}
	return false
}

// kindOf names the YAML kind of x for an error message.
func kindOf(x any) string {
	switch x.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", x)
}

// warnUnknownEnv warns about each EGRESS_AUDIT_ variable that names no
// key, since a misspelt one would otherwise be ignored unnoticed; it does
// not fail, as the environment is often shared with other tools.
func (e *env) warnUnknownEnv() {
	if e.environ == nil || e.warnedEnv {
		return
	}
	e.warnedEnv = true
	var known []string
	for _, k := range configKeys {
		known = append(known, envPrefix+"_"+strings.ToUpper(k))
	}
	for _, kv := range e.environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix+"_") && !slices.Contains(known, name) {
			fmt.Fprintf(e.stderr, "egress-audit: warning: environment variable %s sets no configuration key; want one of %s\n", name, strings.Join(known, ", "))
		}
	}
}

// annotationKey annotates a flag with the configuration key it sets when
// that differs from the key its name maps to in every other command (diff's
// --fail-on sets diff_fail_on).
const annotationKey = "egress-audit/config-key"

// flagFor returns the flag name of a configuration key.
func flagFor(key string) string {
	for f, k := range flagKeys {
		if k == key {
			return f
		}
	}
	return strings.ReplaceAll(key, "_", "-")
}

// list returns a list-valued key, accepting a YAML list, repeated flags or a
// comma-separated string (the form environment variables take).
func list(v *viper.Viper, key string) []string {
	var raw []string
	switch x := v.Get(key).(type) {
	case nil:
	case string:
		raw = strings.Split(x, ",")
	case []string:
		for _, s := range x {
			raw = append(raw, strings.Split(s, ",")...)
		}
	case []any:
		for _, s := range x {
			raw = append(raw, strings.Split(fmt.Sprint(s), ",")...)
		}
	default:
		raw = strings.Split(fmt.Sprint(x), ",")
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// failOnValues are the findings --fail-on can name.
var failOnValues = []string{"blocked", "missing", "unexpected", "other-datacenter", "none"}

// outputs lists the report forms of audit.
var outputs = []string{"table", "json", "markdown", "html", "csv", "junit"}

// loadConfig resolves the configuration of an audit-like command.
func (e *env) loadConfig(cmd *cobra.Command) (*config, error) {
	v, err := e.newViper(cmd)
	if err != nil {
		return nil, err
	}
	c := &config{v: v}
	if c.log, err = e.logger(v); err != nil {
		return nil, err
	}
	c.opts.Datacenter = v.GetString(keyDatacenter)
	c.opts.Vantage = v.GetString(keyVantage)
	c.opts.Known = list(v, keyKnown)
	for _, s := range list(v, keyClients) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, usagef("clients %q: want a CIDR such as 192.0.2.0/24 or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.opts.Clients = append(c.opts.Clients, p.Masked())
	}
	if path := v.GetString(keyCatalog); path != "" {
		if c.cat, err = rules.LoadCatalog(path); err != nil {
			return nil, usageError{err}
		}
	} else {
		c.cat = rules.DefaultCatalog()
	}
	if err := rules.ValidateOptions(c.cat, c.opts); err != nil {
		return nil, usageError{err}
	}
	if c.failOn, err = failOnList(v, keyFailOn, "fail_on", failOnValues); err != nil {
		return nil, err
	}
	if c.custom, err = customFormats(v); err != nil {
		return nil, err
	}
	if f := cmd.Flags().Lookup("keep-secrets"); f != nil {
		c.keepSecrets = f.Value.String() == "true"
	}
	if name := v.GetString(keyFormat); name != "" {
		if c.format, err = parsers.LookupIn(name, c.custom); err != nil {
			return nil, usageError{err}
		}
	}
	switch tz := v.GetString(keyTimezone); strings.ToLower(tz) {
	case "", "local":
		c.loc = time.Local
	default:
		if c.loc, err = time.LoadLocation(tz); err != nil {
			return nil, usagef("timezone %q: want local, UTC or an IANA zone name such as Europe/Berlin", tz)
		}
	}
	for _, path := range list(v, keyHosts) {
		h, err := readHostsFile(path)
		if err != nil {
			return nil, usageError{err}
		}
		if h.st.Failed > 0 {
			c.log.Warn("skipped malformed hosts file lines", "hosts", path, "count", h.st.Failed, "first", h.st.Problems[0].Err)
		}
		c.hosts = append(c.hosts, h)
	}
	c.output = v.GetString(keyOutput)
	return c, nil
}

func (e *env) logger(v *viper.Viper) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v.GetString(keyLogLevel))); err != nil {
		return nil, usagef("log_level %q: want one of debug, info, warn, error", v.GetString(keyLogLevel))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := v.GetString(keyLogFormat); f {
	case "text", "":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	default:
		return nil, usagef("log_format %q: want text or json", f)
	}
}

// failOnList reads the list of what fails a command from key, named name in
// errors: each value must be one of allowed, and "none" names nothing.
func failOnList(v *viper.Viper, key, name string, allowed []string) ([]string, error) {
	var failOn []string
	for _, f := range list(v, key) {
		if !slices.Contains(allowed, f) {
			return nil, usagef("%s %q: want a list of %s", name, f, strings.Join(allowed, ", "))
		}
		if f != "none" {
			failOn = append(failOn, f)
		}
	}
	return failOn, nil
}
