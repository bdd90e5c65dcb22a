package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/mattn/go-runewidth"
	"github.com/spf13/cobra"
	"golang.org/x/net/bpf"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// liveSource is a live capture: [capture.Interface], or a fake in tests.
type liveSource interface {
	LinkType() layers.LinkType
	Snaplen() int
	// ReadPacket waits for the next frame; its data is the caller's. An
	// error ends the capture (io.EOF: the source has no more).
	ReadPacket() ([]byte, gopacket.CaptureInfo, error)
	// Dropped returns how many frames were lost so far.
	Dropped() (uint64, error)
	// Close ends the capture and a ReadPacket that waits.
	Close() error
}

// liveRefresh is how often the live view and the wall clock of the flow
// table are brought up to date.
const liveRefresh = 250 * time.Millisecond

func newWatchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch -i <interface> [flags]",
		Short: "Capture live on an interface and judge the catalog calls as they happen",
		Long: `Watch captures on a network interface (Linux, through an AF_PACKET socket:
no libpcap needed) and judges the catalog calls while they happen: start it
on the Jira server, click "Connect" in Jira and see which call got through.

A filter in the kernel keeps only what the audit reads: DNS, ICMP errors,
and TCP and UDP to the ports of the catalog and of the forward proxies
(--proxy-port). A flow that is not answered is judged after 10 s of quiet.

Before capturing it resolves the catalog's hosts, so that a connection
whose name Jira resolved earlier, with no DNS on the wire, is still named
(marked "resolved by watch at start"); --no-resolve turns this off.

On a terminal the calls are shown updating in place (status, reason, last
evidence); otherwise one line is appended per change of a call's status.
With -o table this view goes to standard output, with any other form to
standard error. On exit (Ctrl-C, --duration, or --until once the call is
ok or blocked) the full report is printed in the chosen --output.

A live capture needs the CAP_NET_RAW capability: run it as root (sudo), or
grant the capability once with setcap cap_net_raw+ep.

` + exitCodesHelp,
		Example: `  # Watch the Jira server's traffic until the token exchange is settled.
  $ sudo egress-audit watch -i eth0 --until oauth-token

  # Granted the capability once, it runs without root.
  $ sudo setcap cap_net_raw+ep "$(command -v egress-audit)"
  $ egress-audit watch -i eth0 --until oauth-token -o json > report.json

  # Two minutes, keeping the capture to audit it again or send it on.
  $ sudo egress-audit watch -i eth0 --duration 2m --write oauth.pcap

  # The proxy listens on 3129: keep its traffic too.
  $ sudo egress-audit watch -i ens3 --proxy-port 3129 -o json > report.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.watch(cmd)
		},
	}
	fs := cmd.Flags()
	fs.StringP("interface", "i", "", "network `interface` to capture on, e.g. eth0")
	fs.Duration("duration", 0, "stop after this `time`, e.g. 90s or 5m (default until Ctrl-C)")
	fs.String("until", "", "stop once this `call` (an id of the catalog, e.g. oauth-token) is ok or blocked")
	fs.String("write", "", "save the captured packets to this pcap `file`")
	fs.Bool("no-resolve", false, "do not resolve the catalog's hosts at start: name flows only from the DNS answers captured and --hosts")
	fs.StringArray("proxy-port", []string{"3128", "8080"}, "`port` of a forward proxy to capture too (repeatable)")
	fs.SetAnnotation("proxy-port", annotationKey, []string{keyProxyPorts})
	addAuditFlags(fs)
	fs.StringP("output", "o", "table", "report `form`: "+strings.Join(outputs, ", "))
	return cmd
}

// watchOptions are the flags of one watch run.
type watchOptions struct {
	iface    string
	duration time.Duration
	until    string
	write    string
	ports    []uint16
	// learned holds the addresses of the catalog's hosts resolved at
	// start, by host; hosts counts the hosts looked up.
	learned map[string][]netip.Addr
	hosts   int
}

func (e *env) watch(cmd *cobra.Command) error {
	cfg, err := e.loadConfig(cmd)
	if err != nil {
		return err
	}
	if !slices.Contains(outputs, cfg.output) {
		return usagef("output %q: want one of %s", cfg.output, strings.Join(outputs, ", "))
	}
	fs := cmd.Flags()
	var o watchOptions
	o.iface, _ = fs.GetString("interface")
	o.duration, _ = fs.GetDuration("duration")
	o.until, _ = fs.GetString("until")
	o.write, _ = fs.GetString("write")
	if o.iface == "" {
		return usagef("--interface: name the interface to capture on, e.g. -i eth0")
	}
	if o.duration < 0 {
		return usagef("--duration %s: want a positive time such as 90s", o.duration)
	}
	if o.until != "" && !slices.ContainsFunc(cfg.cat.Calls, func(c rules.Call) bool { return c.ID == o.until }) {
		var ids []string
		for _, c := range cfg.cat.Calls {
			ids = append(ids, c.ID)
		}
		return usagef("--until %q: want a call of the catalog: %s", o.until, strings.Join(ids, ", "))
	}
	proxyPorts, err := parsePorts(list(cfg.v, keyProxyPorts))
	if err != nil {
		return err
	}
	o.ports = watchPorts(cfg.cat, proxyPorts)
	filter, err := capture.LiveFilter(o.ports)
	if err != nil {
		return usageError{err}
	}

	// The lookups come before the capture opens, so that their own DNS
	// traffic is not read as the Jira server's.
	if noResolve, _ := fs.GetBool("no-resolve"); !noResolve {
		resolve := e.resolve
		if resolve == nil {
			resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		hosts := catalogHosts(cfg.cat, cfg.opts.Datacenter)
		o.hosts = len(hosts)
		o.learned = resolveAtStart(hosts, resolve, cfg.log)
	}

	open := e.openLive
	if open == nil {
		open = openInterface
	}
	src, err := open(o.iface, filter)
	if err != nil {
		return usageError{err}
	}
	defer src.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := e.watchLive(ctx, cfg, o, src)
	if err != nil {
		return err
	}
	return e.writeReport(cfg, rep)
}

// openInterface opens a live capture on a network interface.
func openInterface(iface string, filter []bpf.RawInstruction) (liveSource, error) {
	c, err := capture.OpenInterface(iface, filter)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parsePorts reads the proxy ports of the configuration.
func parsePorts(vals []string) ([]uint16, error) {
	var out []uint16
	for _, s := range vals {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return nil, usagef("proxy_ports %q: want a port from 1 to 65535", s)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

// watchPorts returns the ports a live capture keeps: the catalog's calls'
// (every data center's) and the proxies', each once, in order.
func watchPorts(cat *rules.Catalog, proxies []uint16) []uint16 {
	var ports []uint16
	for _, c := range cat.Calls {
		ports = append(ports, uint16(c.Port))
	}
	ports = append(ports, proxies...)
	slices.Sort(ports)
	return slices.Compact(ports)
}

// learnedAtStart marks a flow named from the lookups watch made at start.
const learnedAtStart = "resolved by watch at start"

// startResolveTimeout bounds the lookups at start: a resolver that does not
// answer delays the capture by this much at most.
const startResolveTimeout = 2 * time.Second

// catalogHosts returns the hosts of the catalog's calls in the data center
// dc, or in every data center for auto, each once and sorted.
func catalogHosts(cat *rules.Catalog, dc string) []string {
	var hosts []string
	for _, d := range cat.Datacenters {
		if dc != "" && dc != rules.DatacenterAuto && d.ID != dc {
			continue
		}
		for i := range cat.Calls {
			hosts = append(hosts, cat.Host(&cat.Calls[i], d))
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// resolveAtStart looks up hosts at once, within [startResolveTimeout], and
// returns the addresses found by host. Java caches a lookup for about 30 s,
// so a connection attempt soon after another carries no DNS on the wire;
// these addresses still name it. A host that does not resolve is left out.
func resolveAtStart(hosts []string, resolve func(context.Context, string) ([]netip.Addr, error), log *slog.Logger) map[string][]netip.Addr {
	ctx, cancel := context.WithTimeout(context.Background(), startResolveTimeout)
	defer cancel()
	type answer struct {
		addrs []netip.Addr
		err   error
	}
	answers := make([]answer, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs, err := resolve(ctx, h)
			answers[i] = answer{addrs, err}
		}()
	}
	wg.Wait()

	learned := make(map[string][]netip.Addr)
	failed := 0
	var firstErr error
	for i, a := range answers {
		if a.err != nil || len(a.addrs) == 0 {
			failed++
			if firstErr == nil {
				firstErr = a.err
			}
			continue
		}
		learned[hosts[i]] = a.addrs
	}
	if failed > 0 {
		log.Info("some catalog hosts did not resolve at start", "hosts", len(hosts), "failed", failed, "first", firstErr)
	}
	return learned
}

// packetRead is one frame handed from the reading goroutine.
type packetRead struct {
	data []byte
	ci   gopacket.CaptureInfo
	err  error
}

// watchLive runs the capture until ctx ends, the duration passes, the
// until call is settled or the source ends, and returns the report.
func (e *env) watchLive(ctx context.Context, cfg *config, o watchOptions, src liveSource) (*rules.Report, error) {
	var pw *pcapgo.Writer
	var bw *bufio.Writer
	if o.write != "" {
		f, err := os.Create(o.write)
		if err != nil {
			return nil, usagef("--write: %v", err)
		}
		defer f.Close()
		bw = bufio.NewWriter(f)
		pw = pcapgo.NewWriter(bw)
		if err := pw.WriteFileHeader(uint32(src.Snaplen()), src.LinkType()); err != nil {
			return nil, fmt.Errorf("--write %s: %w", o.write, err)
		}
	}

	cl := rules.NewClassifier(cfg.cat, cfg.opts)
	learnHosts(cfg, cl.Names())
	for host, addrs := range o.learned {
		for _, a := range addrs {
			cl.Names().AddLearned(host, a, learnedAtStart)
		}
	}
	dirty := false
	live := capture.NewLive(o.iface, &capture.Config{TLSIssuers: cfg.cat.TLSIssuers}, func(ob *capture.Observation) {
		cl.Add(ob)
		dirty = true
	})

	viewOut := e.stdout
	if cfg.output != "table" {
		viewOut = e.stderr
	}
	view := newLiveView(e, viewOut, o.iface)
	view.update(cl.Report(nil), 0, 0)

	packets := make(chan packetRead, 256)
	done := make(chan struct{})
	go func() {
		defer close(packets)
		for {
			data, ci, err := src.ReadPacket()
			select {
			case packets <- packetRead{data, ci, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	stopReading := func() {
		close(done)
		src.Close()
		for range packets {
		}
	}

	var timeout <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		timeout = t.C
	}
	ticker := time.NewTicker(liveRefresh)
	defer ticker.Stop()

	var (
		n        int64
		dropped  uint64
		endNote  string
		writeErr error
	)
	refresh := func() bool {
		if d, err := src.Dropped(); err == nil {
			dropped = d
		}
		if bw != nil && writeErr == nil {
			writeErr = bw.Flush()
		}
		if !dirty && !view.tty {
			return false
		}
		dirty = false
		rep := cl.Report(nil)
		view.update(rep, n, dropped)
		return o.until != "" && settled(rep, o.until)
	}
loop:
	for {
		select {
		case p, ok := <-packets:
			if !ok {
				break loop
			}
			if p.err != nil {
				if !errors.Is(p.err, io.EOF) {
					endNote = fmt.Sprintf("the capture on %s ended early: %v", o.iface, p.err)
					cfg.log.Warn("capture ended", "interface", o.iface, "err", p.err)
				}
				break loop
			}
			n++
			live.Packet(src.LinkType(), p.data, p.ci)
			if pw != nil && writeErr == nil {
				writeErr = pw.WritePacket(p.ci, p.data)
			}
		case <-ticker.C:
			live.Tick(e.now())
			if refresh() {
				break loop
			}
		case <-timeout:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	// The socket's counts go with it: read them before it is closed.
	if d, err := src.Dropped(); err == nil {
		dropped = d
	} else {
		cfg.log.Warn("cannot read the count of dropped packets", "interface", o.iface, "err", err)
	}
	stopReading()
	st := live.Close()
	if bw != nil && writeErr == nil {
		writeErr = bw.Flush()
	}
	if writeErr != nil {
		cfg.log.Error("cannot write the capture", "file", o.write, "err", writeErr)
	}

	in := inputReport(o.iface, st)
	if dropped > 0 {
		if in.Reasons == nil {
			in.Reasons = make(map[string]int64)
		}
		in.Reasons[droppedReason] += int64(dropped)
		in.Skipped += int64(dropped)
	}
	rep := cl.Report([]rules.InputReport{in})
	view.update(rep, n, dropped)
	view.finish()
	if dropped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the capture socket on %s dropped %d packets (the kernel's buffer was full): evidence may be missing; audit a capture taken with tcpdump -B for a busy interface", o.iface, dropped))
	}
	if len(o.learned) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("watch resolved %d of the catalog's %d hosts at start, so that a flow to one is named without a DNS answer on the wire (marked %q); a capture saved with --write holds no such answer: --no-resolve turns this off", len(o.learned), o.hosts, learnedAtStart))
	}
	rep.Notes = append(rep.Notes, hostsNotes(cfg)...)
	if endNote != "" {
		rep.Notes = append(rep.Notes, endNote)
	}
	if writeErr != nil {
		return nil, fmt.Errorf("--write %s: %w", o.write, writeErr)
	}
	return rep, nil
}

// droppedReason counts, among an input's skipped records, the packets the
// capture socket dropped.
const droppedReason = "dropped by the capture socket (buffer full)"

// settled reports whether the call id is ok or blocked in rep.
func settled(rep *rules.Report, id string) bool {
	for _, c := range rep.Calls {
		if c.ID == id {
			return c.Status == rules.StatusOK || c.Status == rules.StatusBlocked
		}
	}
	return false
}

// liveView shows the calls while a capture runs: redrawn in place on a
// terminal, one appended line per change of a call's status elsewhere.
type liveView struct {
	w     io.Writer
	tty   bool
	width int
	color bool
	now   func() time.Time
	iface string

	drawn int               // lines drawn last time on a terminal
	shown string            // what they said
	last  map[string]string // call id -> status and reason, elsewhere
}

func newLiveView(e *env, w io.Writer, iface string) *liveView {
	v := &liveView{w: w, now: e.now, iface: iface}
	v.tty, v.width = e.tty(w)
	v.color = v.tty && e.useColor()
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// update shows rep; n counts the packets captured, dropped those lost.
func (v *liveView) update(rep *rules.Report, n int64, dropped uint64) {
	if v.tty {
		v.draw(rep, n, dropped)
		return
	}
	if v.last == nil {
		v.last = make(map[string]string)
		fmt.Fprintf(v.w, "%s watching %s\n", v.now().Format(time.TimeOnly), report.Clean(v.iface))
		for _, c := range rep.Calls {
			v.last[c.ID] = callState(c)
		}
		return
	}
	for _, c := range rep.Calls {
		s := callState(c)
		if v.last[c.ID] == s {
			continue
		}
		v.last[c.ID] = s
		line := fmt.Sprintf("%s %s %s", v.now().Format(time.TimeOnly), report.Clean(c.ID), s)
		if ev := lastEvidence(c); ev != "" {
			line += ": " + ev
		}
		fmt.Fprintln(v.w, line)
	}
}

// callState is a call's status and reason: "blocked no-response".
func callState(c rules.CallReport) string {
	if c.Reason == "" {
		return c.Status
	}
	return c.Status + " " + report.Clean(c.Reason)
}

// lastEvidence describes the last piece of evidence of c, cleaned.
func lastEvidence(c rules.CallReport) string {
	if len(c.Evidence) == 0 {
		return ""
	}
	ev := c.Evidence[len(c.Evidence)-1]
	s := ev.Detail
	if ev.Server != "" {
		s = ev.Server + " " + s
	}
	return report.Clean(strings.TrimSpace(s))
}

// ANSI sequences of the terminal view.
const (
	ansiUp        = "\x1b[%dA" // cursor up n lines
	ansiClearLine = "\r\x1b[2K"
	ansiReset     = "\x1b[0m"
	ansiRed       = "\x1b[31m"
	ansiGreen     = "\x1b[32m"
	ansiYellow    = "\x1b[33m"
	ansiDim       = "\x1b[2m"
)

// draw redraws the view in place when what it says has changed. Each line
// is cut to the terminal's width so that none wraps and the cursor
// movement stays right.
func (v *liveView) draw(rep *rules.Report, n int64, dropped uint64) {
	idW, statusW := len("call"), len("missing")
	for _, c := range rep.Calls {
		idW = max(idW, runewidth.StringWidth(report.Clean(c.ID)))
		statusW = max(statusW, len(c.Status))
	}
	head := fmt.Sprintf("watching %s: %d packets, %d dropped", report.Clean(v.iface), n, dropped)
	if u := rep.Summary.Unexpected; u > 0 {
		head += fmt.Sprintf(", %d unexpected destinations", u)
	}
	lines := []string{v.fit(head + " (Ctrl-C to stop)")}
	for _, c := range rep.Calls {
		id := report.Clean(c.ID)
		status := c.Status
		prefix := fmt.Sprintf("%s  %s  ", runewidth.FillRight(id, idW), runewidth.FillRight(status, statusW))
		rest := report.Clean(c.Reason)
		if ev := lastEvidence(c); ev != "" {
			if rest != "" {
				rest += ": "
			}
			rest += ev
		}
		line := v.fit(prefix + rest)
		if v.color {
			line = strings.Replace(line, runewidth.FillRight(status, statusW), v.paint(runewidth.FillRight(status, statusW), status), 1)
		}
		lines = append(lines, line)
	}
	text := strings.Join(lines, "\n")
	if text == v.shown {
		return
	}
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, ansiUp, v.drawn)
	}
	for _, l := range lines {
		b.WriteString(ansiClearLine)
		b.WriteString(l)
		b.WriteString("\n")
	}
	io.WriteString(v.w, b.String())
	v.drawn = len(lines)
	v.shown = text
}

// fit cuts s to the terminal's width, less one column.
func (v *liveView) fit(s string) string {
	if v.width <= 1 {
		return s
	}
	return runewidth.Truncate(s, v.width-1, "…")
}

// paint colours the padded status word s of status.
func (v *liveView) paint(s, status string) string {
	var c string
	switch status {
	case rules.StatusOK:
		c = ansiGreen
	case rules.StatusBlocked:
		c = ansiRed
	case rules.StatusMissing:
		c = ansiYellow
	default:
		c = ansiDim
	}
	return c + s + ansiReset
}

// finish leaves the view for the report that follows.
func (v *liveView) finish() {
	if v.tty && v.drawn > 0 {
		io.WriteString(v.w, "\n")
	}
}
