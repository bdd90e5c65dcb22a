package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/report"
	"github.com/egress-audit/egress-audit/rules"
)

// fakeLive plays the packets of a pcap file as a live capture. When hold is
// set it waits for Close after the last packet instead of ending.
type fakeLive struct {
	frames  [][]byte
	infos   []gopacket.CaptureInfo
	dropped uint64
	hold    bool

	mu     sync.Mutex
	next   int
	closed chan struct{}
	once   sync.Once
	filter []bpf.RawInstruction
}

func newFakeLive(t *testing.T, path string) *fakeLive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s: link type %s, want Ethernet", path, r.LinkType())
	}
	fl := &fakeLive{closed: make(chan struct{})}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fl.frames = append(fl.frames, data)
		fl.infos = append(fl.infos, ci)
	}
	return fl
}

func (f *fakeLive) LinkType() layers.LinkType { return layers.LinkTypeEthernet }
func (f *fakeLive) Snaplen() int              { return 262144 }

// Dropped fails once the capture is closed, as the socket's statistics do.
func (f *fakeLive) Dropped() (uint64, error) {
	select {
	case <-f.closed:
		return 0, errors.New("statistics: bad file descriptor")
	default:
		return f.dropped, nil
	}
}

func (f *fakeLive) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	f.mu.Lock()
	i := f.next
	f.next++
	f.mu.Unlock()
	if i < len(f.frames) {
		return slices.Clone(f.frames[i]), f.infos[i], nil
	}
	if f.hold {
		<-f.closed
		return nil, gopacket.CaptureInfo{}, errors.New("use of closed file")
	}
	return nil, gopacket.CaptureInfo{}, io.EOF
}

func (f *fakeLive) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// last returns the time of the last packet.
func (f *fakeLive) last() time.Time { return f.infos[len(f.infos)-1].Timestamp }

// runWatch runs the command line with src as the live capture, on the fake
// terminal tm, with a clock a minute past the capture's last packet.
func runWatch(t *testing.T, tm fakeTerm, src *fakeLive, open func(string, []bpf.RawInstruction) (liveSource, error), args ...string) cliResult {
	t.Helper()
	return runWatchResolving(t, tm, src, open, offlineResolver, args...)
}

// offlineResolver resolves nothing, as on a host without DNS, so that the
// tests do not depend on the network.
func offlineResolver(context.Context, string) ([]netip.Addr, error) {
	return nil, errors.New("no resolver in tests")
}

// runWatchResolving is runWatch with resolve as the resolver of the
// lookups at start.
func runWatchResolving(t *testing.T, tm fakeTerm, src *fakeLive, open func(string, []bpf.RawInstruction) (liveSource, error),
	resolve func(context.Context, string) ([]netip.Addr, error), args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfgDir := t.TempDir()
	if open == nil {
		open = func(_ string, filter []bpf.RawInstruction) (liveSource, error) {
			src.filter = filter
			return src, nil
		}
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if src != nil {
		now = src.last().Add(time.Minute)
	}
	e := &env{
		stdin:     strings.NewReader(""),
		stdout:    &stdout,
		stderr:    &stderr,
		getenv:    func(k string) string { return tm.env[k] },
		configDir: func() (string, error) { return cfgDir, nil },
		terminal: func(w io.Writer) (bool, int) {
			switch w {
			case io.Writer(&stdout):
				return tm.stdoutTTY, tm.width
			case io.Writer(&stderr):
				return tm.stderrTTY, tm.width
			}
			return false, 0
		},
		now:      func() time.Time { return now },
		openLive: open,
		resolve:  resolve,
	}
	code := e.run(args)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// callVerdicts returns "status[:reason]" by call id.
func callVerdicts(rep *rules.Report) map[string]string {
	m := make(map[string]string)
	for _, c := range rep.Calls {
		v := c.Status
		if c.Reason != "" && c.Status != rules.StatusOK {
			v += ":" + c.Reason
		}
		m[c.ID] = v
	}
	return m
}

func readReport(t *testing.T, s string) *rules.Report {
	t.Helper()
	rep, err := report.ReadJSON(strings.NewReader(s))
	if err != nil {
		t.Fatalf("report: %v\n%s", err, s)
	}
	return rep
}

// Watching a capture's packets gives the verdicts auditing it gives, and
// the saved capture audits the same again.
func TestWatchSameAsAudit(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		token  string
		code   int
	}{
		{"token_dropped", "token-dropped.pcap", "blocked:no-response", exitFindings},
		{"token_reset", "token-reset.pcap", "blocked:reset", exitFindings},
		{"after_token_allowed", "after-token-allowed.pcap", "ok", exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sample := filepath.Join("..", "..", "testdata", "samples", tc.sample)
			saved := filepath.Join(t.TempDir(), "watch.pcap")
			res := runWatch(t, piped, newFakeLive(t, sample), nil, "watch", "-i", "eth0", "-o", "json", "--write", saved)
			if res.code != tc.code {
				t.Fatalf("watch = %d, want %d\nstderr: %s", res.code, tc.code, res.stderr)
			}
			liveRep := readReport(t, res.stdout)
			live := callVerdicts(liveRep)
			if live["oauth-token"] != tc.token {
				t.Errorf("watch: oauth-token = %q, want %q", live["oauth-token"], tc.token)
			}
			// The plain view went to stderr: one line per change.
			if !strings.Contains(res.stderr, "oauth-token "+strings.Replace(tc.token, ":", " ", 1)) {
				t.Errorf("watch stderr lacks the oauth-token change to %s:\n%s", tc.token, res.stderr)
			}
			for _, path := range []string{sample, saved} {
				a := runCLI(t, piped, "", "audit", "-o", "json", path)
				if a.code != tc.code {
					t.Fatalf("audit %s = %d, want %d\nstderr: %s", path, a.code, tc.code, a.stderr)
				}
				audited := readReport(t, a.stdout)
				if got := callVerdicts(audited); !equalMaps(got, live) {
					t.Errorf("audit %s = %v, watch = %v", filepath.Base(path), got, live)
				}
				if got, want := packetsOf(audited), packetsOf(liveRep); got != want {
					t.Errorf("audit %s: %d packets, watch read %d", filepath.Base(path), got, want)
				}
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The filter keeps the catalog's port and the proxy ports of the flags, of
// the environment or of the configuration file.
func TestWatchFilterPorts(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap")
	conf := filepath.Join(t.TempDir(), "egress-audit.yaml")
	if err := os.WriteFile(conf, []byte("proxy_ports: [3130, 8081]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		term fakeTerm
		args []string
		want []uint16
	}{
		{name: "default", want: []uint16{443, 3128, 8080}},
		{name: "flag", args: []string{"--proxy-port", "3129"}, want: []uint16{443, 3129}},
		{name: "env", term: fakeTerm{env: map[string]string{"EGRESS_AUDIT_PROXY_PORTS": "3131,443"}}, want: []uint16{443, 3131}},
		{name: "config", args: []string{"-c", conf}, want: []uint16{443, 3130, 8081}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newFakeLive(t, sample)
			args := append([]string{"watch", "-i", "eth0", "--fail-on", "none"}, tc.args...)
			if res := runWatch(t, tc.term, src, nil, args...); res.code != exitOK {
				t.Fatalf("watch %q = %d\n%s", tc.args, res.code, res.stderr)
			}
			want, err := capture.LiveFilter(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(src.filter, want) {
				t.Errorf("watch %q: filter differs from LiveFilter(%v)", tc.args, tc.want)
			}
		})
	}
}

// On a terminal the view is redrawn in place, coloured unless NO_COLOR;
// piped it is appended lines without escapes. The report follows.
func TestWatchView(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap")
	tests := []struct {
		name    string
		term    fakeTerm
		want    []string
		notWant []string
	}{
		{name: "tty_color", term: fakeTerm{stdoutTTY: true, width: 100},
			want: []string{"\x1b[7A", "\r\x1b[2K", "\x1b[31mblocked", "watching eth0: 9 packets, 0 dropped", "oauth-token", "no-response: 203.0.113.10:443"}},
		{name: "tty_no_color", term: fakeTerm{stdoutTTY: true, width: 100, env: map[string]string{"NO_COLOR": "1"}},
			want: []string{"\x1b[7A", "\r\x1b[2K", "oauth-token"}, notWant: []string{"\x1b[31m"}},
		{name: "tty_narrow", term: fakeTerm{stdoutTTY: true, width: 40},
			want: []string{"…"}},
		{name: "piped", term: piped,
			want:    []string{"watching eth0\n", "oauth-token blocked no-response: 203.0.113.10:443", "list-okrs missing dependency-blocked"},
			notWant: []string{"\x1b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runWatch(t, tc.term, newFakeLive(t, sample), nil, "watch", "-i", "eth0")
			if res.code != exitFindings {
				t.Fatalf("watch = %d, want %d\nstderr: %s", res.code, exitFindings, res.stderr)
			}
			mustContain(t, res.stdout, tc.want...)
			mustContain(t, res.stdout, "CALL", "input eth0 (live): 7 records, 2 skipped")
			for _, s := range tc.notWant {
				if strings.Contains(res.stdout, s) {
					t.Errorf("stdout contains %q:\n%s", s, res.stdout)
				}
			}
			if tc.term.stdoutTTY {
				view, _, _ := strings.Cut(res.stdout, "Catalog ")
				for _, l := range strings.Split(view, "\n") {
					if w := len([]rune(stripANSI(l))); w > tc.term.width {
						t.Errorf("line of %d columns on a %d-column terminal: %q", w, tc.term.width, l)
					}
				}
			}
		})
	}
}

// stripANSI removes the escape sequences the view writes.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z') {
				i++
			}
			continue
		}
		if s[i] == '\r' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// --until stops a capture that would go on once the call is settled.
func TestWatchUntil(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap")
	src := newFakeLive(t, sample)
	src.hold = true
	done := make(chan cliResult)
	go func() {
		done <- runWatch(t, piped, src, nil, "watch", "-i", "eth0", "-o", "json", "--until", "oauth-token")
	}()
	var res cliResult
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		src.Close()
		t.Fatal("watch --until oauth-token did not stop once the call was blocked")
	}
	if res.code != exitFindings {
		t.Fatalf("watch = %d, want %d\nstderr: %s", res.code, exitFindings, res.stderr)
	}
	if got := callVerdicts(readReport(t, res.stdout))["oauth-token"]; got != "blocked:no-response" {
		t.Errorf("oauth-token = %q, want blocked:no-response", got)
	}
}

// Packets the socket dropped are counted in the input and noted, although
// the count, as the socket's, cannot be read once the capture is closed.
func TestWatchDropped(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap")
	src := newFakeLive(t, sample)
	src.dropped = 7
	res := runWatch(t, piped, src, nil, "watch", "-i", "eth0", "-o", "json")
	rep := readReport(t, res.stdout)
	if len(rep.Inputs) != 1 || rep.Inputs[0].Reasons[droppedReason] != 7 || rep.Inputs[0].Skipped < 7 {
		t.Errorf("inputs = %+v, want 7 %q", rep.Inputs, droppedReason)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "dropped 7 packets") }) {
		t.Errorf("notes = %q, want one about 7 dropped packets", rep.Notes)
	}

	// The table, which a person reads after the live view, says it too.
	src = newFakeLive(t, sample)
	src.dropped = 7
	res = runWatch(t, piped, src, nil, "watch", "-i", "eth0", "-o", "table")
	if want := "note: the capture socket on eth0 dropped 7 packets"; !strings.Contains(res.stdout, want) {
		t.Errorf("watch -o table: stdout lacks %q:\n%s", want, res.stdout)
	}
	if want := "input eth0 (live): "; !strings.Contains(res.stdout, want) {
		t.Errorf("watch -o table: stdout lacks %q:\n%s", want, res.stdout)
	}
}

func TestWatchErrors(t *testing.T) {
	perm := func(iface string, _ []bpf.RawInstruction) (liveSource, error) {
		return nil, &capture.PermissionError{Interface: iface, Err: os.ErrPermission}
	}
	tests := []struct {
		name string
		open func(string, []bpf.RawInstruction) (liveSource, error)
		args []string
		want []string
	}{
		{name: "no_privilege", open: perm, args: []string{"-i", "eth0"},
			want: []string{"capture on eth0", "CAP_NET_RAW", "sudo", "setcap cap_net_raw+ep"}},
		{name: "unknown_interface", open: openInterface, args: []string{"-i", "ea-no-such-if0"},
			want: []string{`interface "ea-no-such-if0": no such interface: want one of`, "lo"}},
		{name: "no_interface", open: perm, args: nil, want: []string{"--interface"}},
		{name: "unknown_call", open: perm, args: []string{"-i", "eth0", "--until", "nope"},
			want: []string{`--until "nope"`, "oauth-token"}},
		{name: "bad_proxy_port", open: perm, args: []string{"-i", "eth0", "--proxy-port", "99999"},
			want: []string{`proxy_ports "99999"`}},
		{name: "bad_output", open: perm, args: []string{"-i", "eth0", "-o", "xml"},
			want: []string{`output "xml"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runWatch(t, piped, nil, tc.open, append([]string{"watch"}, tc.args...)...)
			if res.code != exitUsage {
				t.Errorf("watch %q = %d, want %d", tc.args, res.code, exitUsage)
			}
			if res.stdout != "" {
				t.Errorf("watch %q: stdout %q, want nothing", tc.args, res.stdout)
			}
			mustContain(t, res.stderr, tc.want...)
		})
	}
}

// withoutDNS drops the frames to or from UDP port 53 (IPv4, no options),
// as when the client's resolver cache answered before the capture began.
func (f *fakeLive) withoutDNS() *fakeLive {
	var frames [][]byte
	var infos []gopacket.CaptureInfo
	for i, fr := range f.frames {
		if len(fr) >= 38 && fr[12] == 0x08 && fr[13] == 0x00 && fr[23] == 17 &&
			(fr[34] == 0 && fr[35] == 53 || fr[36] == 0 && fr[37] == 53) {
			continue
		}
		frames = append(frames, fr)
		infos = append(infos, f.infos[i])
	}
	f.frames, f.infos = frames, infos
	return f
}

// A flow to an address the catalog's host resolved to before watch began
// carries no DNS on the wire: the lookups watch makes at start name it,
// marked as such, unless --no-resolve.
func TestWatchResolveAtStart(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "samples", "token-dropped.pcap")
	type lookups struct {
		mu    sync.Mutex
		hosts []string
	}
	resolver := func(l *lookups) func(context.Context, string) ([]netip.Addr, error) {
		return func(_ context.Context, host string) ([]netip.Addr, error) {
			l.mu.Lock()
			l.hosts = append(l.hosts, host)
			l.mu.Unlock()
			if host == "auth.gtmhub.com" {
				return []netip.Addr{netip.MustParseAddr("203.0.113.10")}, nil
			}
			return nil, errors.New("no such host")
		}
	}
	tests := []struct {
		name      string
		args      []string
		token     string
		dest      string // the destination of the SYNs
		uncertain string
		asked     []string
	}{
		{name: "resolved", token: "blocked:no-response", dest: "auth.gtmhub.com", uncertain: learnedAtStart,
			asked: []string{"app.as.gtmhub.com", "app.gtmhub.com", "app.sa.gtmhub.com", "app.us.gtmhub.com",
				"auth.as.gtmhub.com", "auth.gtmhub.com", "auth.sa.gtmhub.com", "auth.us.gtmhub.com"}},
		{name: "datacenter", args: []string{"--datacenter", "eu"}, token: "blocked:no-response",
			dest: "auth.gtmhub.com", uncertain: learnedAtStart, asked: []string{"app.gtmhub.com", "auth.gtmhub.com"}},
		{name: "other_datacenter", args: []string{"--datacenter", "us"}, token: "missing",
			dest: "203.0.113.10", asked: []string{"app.us.gtmhub.com", "auth.us.gtmhub.com"}},
		{name: "no_resolve", args: []string{"--no-resolve"}, token: "missing", dest: "203.0.113.10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l lookups
			src := newFakeLive(t, sample).withoutDNS()
			args := append([]string{"watch", "-i", "eth0", "-o", "json", "--fail-on", "none"}, tc.args...)
			res := runWatchResolving(t, piped, src, nil, resolver(&l), args...)
			if res.code != exitOK {
				t.Fatalf("watch %q = %d\nstderr: %s", tc.args, res.code, res.stderr)
			}
			rep := readReport(t, res.stdout)
			if got := callVerdicts(rep)["oauth-token"]; !strings.HasPrefix(got, tc.token) {
				t.Errorf("watch %q: oauth-token = %q, want %q", tc.args, got, tc.token)
			}
			i := slices.IndexFunc(rep.Destinations, func(d rules.Destination) bool { return d.Port == 443 })
			if i < 0 {
				t.Fatalf("watch %q: no destination on port 443: %+v", tc.args, rep.Destinations)
			}
			if d := rep.Destinations[i]; d.Host != tc.dest || d.Uncertain != tc.uncertain {
				t.Errorf("watch %q: destination %s (uncertain %q), want %s (uncertain %q)", tc.args, d.Host, d.Uncertain, tc.dest, tc.uncertain)
			}
			slices.Sort(l.hosts)
			if !slices.Equal(l.hosts, tc.asked) {
				t.Errorf("watch %q looked up %q, want %q", tc.args, l.hosts, tc.asked)
			}
			noted := slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "hosts at start") })
			if want := tc.uncertain != ""; noted != want {
				t.Errorf("watch %q: notes %q: a note on the lookups at start %v, want %v", tc.args, rep.Notes, noted, want)
			}
		})
	}
}

// The lookups at start give up after their timeout: a resolver that never
// answers does not hold the capture back for long.
func TestResolveAtStartTimeout(t *testing.T) {
	hang := func(ctx context.Context, _ string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	learned := resolveAtStart([]string{"auth.gtmhub.com", "app.gtmhub.com"}, hang, slog.New(slog.DiscardHandler))
	if len(learned) != 0 {
		t.Errorf("resolveAtStart with a resolver that hangs = %v, want nothing", learned)
	}
	if d := time.Since(start); d > startResolveTimeout+time.Second {
		t.Errorf("resolveAtStart took %s, want at most about %s", d, startResolveTimeout)
	}
}

// watch judges certificates by the catalog's tls_issuers, as audit does: a
// TLS 1.2 certificate from another issuer is tls-interception.
func TestWatchTLSIssuers(t *testing.T) {
	corpus := os.Getenv("EGRESS_AUDIT_CORPUS")
	if corpus == "" {
		t.Skip("set EGRESS_AUDIT_CORPUS to the corpus directory to watch a TLS 1.2 capture of it")
	}
	// A TLS 1.2 connection to www.ntop.org:443 whose certificate is in
	// clear and accepted.
	sample := filepath.Join(corpus, "pcap", "ndpi_443-safari.pcap")
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("corpus: %v", err)
	}
	embedded, err := os.ReadFile(filepath.Join("..", "..", "rules", "quantive.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	catalog := filepath.Join(t.TempDir(), "catalog.yaml")
	withIssuers := append([]byte("tls_issuers: [\"Example Public CA\"]\n"), embedded...)
	if err := os.WriteFile(catalog, withIssuers, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"embedded_catalog", nil, rules.DestAllowed},
		{"issuers_expected", []string{"--catalog", catalog}, rules.DestBlocked + ":" + string(capture.TLSInterception)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-o", "json", "--fail-on", "none"}, tc.args...)
			res := runWatch(t, piped, newFakeLive(t, sample), nil, append([]string{"watch", "-i", "eth0"}, args...)...)
			if res.code != exitOK {
				t.Fatalf("watch %q = %d\nstderr: %s", tc.args, res.code, res.stderr)
			}
			a := runCLI(t, piped, "", append(append([]string{"audit"}, args...), sample)...)
			if a.code != exitOK {
				t.Fatalf("audit %q = %d\nstderr: %s", tc.args, a.code, a.stderr)
			}
			for name, out := range map[string]string{"watch": res.stdout, "audit": a.stdout} {
				rep := readReport(t, out)
				i := slices.IndexFunc(rep.Destinations, func(d rules.Destination) bool { return d.Host == "www.ntop.org" })
				if i < 0 {
					t.Fatalf("%s %q: no destination www.ntop.org: %+v", name, tc.args, rep.Destinations)
				}
				d := rep.Destinations[i]
				got := d.Status
				if d.Reason != "" {
					got += ":" + d.Reason
				}
				if got != tc.want {
					t.Errorf("%s %q: www.ntop.org %s, want %s", name, tc.args, got, tc.want)
				}
			}
		})
	}
}
