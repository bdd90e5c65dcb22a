package rules

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// Vantage values: which side's calls an audit expects to see.
const (
	VantageServer  = "server"
	VantageBrowser = "browser"
	VantageAll     = "all"
)

// DatacenterAuto asks the classifier to infer the data center from the
// vendor hosts seen.
const DatacenterAuto = "auto"

// Options shape a classification. The zero value audits the server side,
// infers the data center and accepts every client.
type Options struct {
	Datacenter string         // a data center id or "auto" ("" means auto)
	Vantage    string         // server, browser or all ("" means server)
	Clients    []netip.Prefix // audited hosts; empty means every client
	Known      []string       // host patterns the user accepts: "*.atlassian.com", "api.example.com", "192.0.2.7"
}

// MaxDestinations bounds the destinations a classifier keeps. Past it,
// flows to new destinations are counted in the report's notes instead.
const MaxDestinations = 100000

// Classifier turns observations into a [Report]. Feed it with Add, in any
// order and from any number of inputs, then call Report once. Memory grows
// with the number of distinct destinations, not with the observations.
// It is not safe for concurrent use.
type Classifier struct {
	cat  *Catalog
	opts Options

	names *capture.NameTable
	// hosts maps every catalog host of every data center to its data center
	// ids, so that the data center can be inferred before it is known.
	hosts map[string][]string

	named   map[destKey]*aggregate // flows with a host name
	unnamed map[destKey]*aggregate // flows known only by address, named at the end
	lookups map[destKey]*aggregate // DNS lookups by question name
	dcSeen  map[string]int64

	// echNames are the names whose HTTPS or SVCB record publishes an
	// encrypted client hello configuration: their clients really hide them.
	echNames map[string]bool

	outsideClients int64
	overflow       int64
}

type destKey struct {
	host string
	addr netip.Addr
	port uint16
}

// tally counts observations by outcome and keeps a little evidence of each.
type tally struct {
	flows   int64
	ok      int64
	blocked int64
	reasons map[capture.Reason]int64

	okEvidence      []Evidence
	blockedEvidence []Evidence
	otherEvidence   []Evidence

	// cause is what the first blocked observation of the most frequent
	// reason said (an ICMP code, a proxy's status, SYN retries).
	cause map[capture.Reason]string
}

func (t *tally) add(outcome capture.Outcome, reason capture.Reason, ev *lazyEvidence) {
	t.addN(1, outcome, reason, ev)
}

// addN counts n observations of one outcome, with the evidence of one,
// which it makes only when it keeps it.
func (t *tally) addN(n int64, outcome capture.Outcome, reason capture.Reason, ev *lazyEvidence) {
	t.flows += n
	var kept *[]Evidence
	switch outcome {
	case capture.OutcomeOK:
		t.ok += n
		kept = &t.okEvidence
	case capture.OutcomeBlocked:
		t.blocked += n
		if t.reasons == nil {
			t.reasons = make(map[capture.Reason]int64)
		}
		t.reasons[reason] += n
		kept = &t.blockedEvidence
		if _, ok := t.cause[reason]; !ok && ev.detail() != "" {
			if t.cause == nil {
				t.cause = make(map[capture.Reason]string)
			}
			t.cause[reason] = ev.detail()
		}
	default:
		kept = &t.otherEvidence
	}
	if len(*kept) < MaxEvidence {
		*kept = append(*kept, ev.get())
	}
}

// lazyEvidence makes the evidence of an observation once, when it is first
// kept: most observations of a busy destination are only counted, and
// describing each cost most of the time of a large audit (measured
// 2026-12-03 on a squid log of a million lines).
type lazyEvidence struct {
	o     *capture.Observation
	ev    Evidence
	made  bool
	cause string // the observation's own detail, when o is not at hand
}

// detail is what the observation itself said of its outcome.
func (l *lazyEvidence) detail() string {
	if l.o != nil {
		return l.o.Detail
	}
	return l.cause
}

func (l *lazyEvidence) get() Evidence {
	if !l.made {
		l.ev, l.made = evidenceOf(l.o), true
	}
	return l.ev
}

// madeEvidence wraps evidence that exists already.
func madeEvidence(ev Evidence, cause string) *lazyEvidence {
	return &lazyEvidence{ev: ev, made: true, cause: cause}
}

func (t *tally) merge(o *tally) {
	t.flows += o.flows
	t.ok += o.ok
	t.blocked += o.blocked
	for r, n := range o.reasons {
		if t.reasons == nil {
			t.reasons = make(map[capture.Reason]int64)
		}
		t.reasons[r] += n
	}
	for r, c := range o.cause {
		if _, ok := t.cause[r]; !ok {
			if t.cause == nil {
				t.cause = make(map[capture.Reason]string)
			}
			t.cause[r] = c
		}
	}
	t.okEvidence = appendEvidence(t.okEvidence, o.okEvidence...)
	t.blockedEvidence = appendEvidence(t.blockedEvidence, o.blockedEvidence...)
	t.otherEvidence = appendEvidence(t.otherEvidence, o.otherEvidence...)
}

func (t tally) clone() tally {
	if t.reasons != nil {
		r := make(map[capture.Reason]int64, len(t.reasons))
		for k, v := range t.reasons {
			r[k] = v
		}
		t.reasons = r
	}
	if t.cause != nil {
		c := make(map[capture.Reason]string, len(t.cause))
		for k, v := range t.cause {
			c[k] = v
		}
		t.cause = c
	}
	t.okEvidence = append([]Evidence(nil), t.okEvidence...)
	t.blockedEvidence = append([]Evidence(nil), t.blockedEvidence...)
	t.otherEvidence = append([]Evidence(nil), t.otherEvidence...)
	return t
}

// evidence returns the evidence of t, blocked first, at most MaxEvidence.
func (t *tally) evidence() []Evidence {
	ev := make([]Evidence, 0, MaxEvidence)
	ev = appendEvidence(ev, t.blockedEvidence...)
	ev = appendEvidence(ev, t.okEvidence...)
	ev = appendEvidence(ev, t.otherEvidence...)
	return ev
}

// reason returns the most frequent blocking reason, ties broken by the
// order of [capture.Reasons].
func (t *tally) reason() capture.Reason {
	var best capture.Reason
	var n int64
	for _, r := range capture.Reasons {
		if t.reasons[r] > n {
			best, n = r, t.reasons[r]
		}
	}
	if best == "" {
		for r := range t.reasons {
			if best == "" || r < best {
				best = r
			}
		}
	}
	return best
}

// aggregate sums the observations of one destination or one lookup name.
type aggregate struct {
	host      string
	port      uint16
	source    capture.HostSource
	uncertain string // why the name given from DNS may be wrong
	outer     string // the public name of an encrypted ClientHello
	addrs     []netip.Addr
	first     time.Time
	last      time.Time

	all  tally // every observation
	bare tally // the observations that carried no method or path

	// urls keeps the observations that carried a method and path, so that
	// calls sharing a host can be told apart: the first of each method,
	// path and outcome, within maxURLs.
	urls []urlHit
}

type urlHit struct {
	method, path string
	outcome      capture.Outcome
	reason       capture.Reason
	ev           Evidence // of the first such request
	cause        string   // what the first such request's record said
	n            int64    // how many such requests
}

// maxECHNames bounds the names remembered as publishing ECH.
const maxECHNames = 1 << 16

// maxURLs bounds the distinct method and path pairs kept per destination.
const maxURLs = 256

func (a *aggregate) add(o *capture.Observation) {
	if addr := o.Server.Addr(); addr.IsValid() && o.Kind == capture.Connection {
		a.addAddr(addr.Unmap())
	}
	if !o.Time.IsZero() {
		if a.first.IsZero() || o.Time.Before(a.first) {
			a.first = o.Time
		}
		if o.Time.After(a.last) {
			a.last = o.Time
		}
	}
	if a.source == capture.SourceNone || sourceRank(o.HostSource) < sourceRank(a.source) {
		a.source = o.HostSource
	}
	ev := &lazyEvidence{o: o}
	a.all.add(o.Outcome, o.Reason, ev)
	if o.Path == "" && o.Method == "" || o.Method == "CONNECT" {
		a.bare.add(o.Outcome, o.Reason, ev)
		return
	}
	if !a.addURL(urlHit{method: o.Method, path: o.Path, outcome: o.Outcome, reason: o.Reason, n: 1}, ev) {
		a.bare.add(o.Outcome, o.Reason, ev)
	}
}

// addURL keeps u, or counts it with the kept request of the same method,
// path and outcome. Past maxURLs distinct requests, new ones count only at
// host level.
func (a *aggregate) addURL(u urlHit, ev *lazyEvidence) bool {
	for i := range a.urls {
		if k := &a.urls[i]; k.method == u.method && k.path == u.path && k.outcome == u.outcome {
			k.n += u.n
			return true
		}
	}
	if len(a.urls) >= maxURLs {
		return false
	}
	u.ev, u.cause = ev.get(), ev.detail()
	a.urls = append(a.urls, u)
	return true
}

func (a *aggregate) addAddr(addr netip.Addr) {
	if len(a.addrs) < 16 && !contains(a.addrs, addr) {
		a.addrs = append(a.addrs, addr)
	}
}

// clone returns a copy of a that shares nothing a may change.
func (a *aggregate) clone() *aggregate {
	b := *a
	b.addrs = append([]netip.Addr(nil), a.addrs...)
	b.urls = append([]urlHit(nil), a.urls...)
	b.all = a.all.clone()
	b.bare = a.bare.clone()
	return &b
}

// merge adds b's counts and evidence to a.
func (a *aggregate) merge(b *aggregate) {
	a.all.merge(&b.all)
	a.bare.merge(&b.bare)
	for _, x := range b.addrs {
		a.addAddr(x)
	}
	if !b.first.IsZero() && (a.first.IsZero() || b.first.Before(a.first)) {
		a.first = b.first
	}
	if b.last.After(a.last) {
		a.last = b.last
	}
	for _, u := range b.urls {
		if !a.addURL(u, madeEvidence(u.ev, u.cause)) {
			a.bare.addN(u.n, u.outcome, u.reason, madeEvidence(u.ev, u.cause))
		}
	}
	if a.uncertain == "" {
		a.uncertain = b.uncertain
	}
	if a.outer == "" {
		a.outer = b.outer
	}
	if a.source == capture.SourceNone || b.source != capture.SourceNone && sourceRank(b.source) < sourceRank(a.source) {
		a.source = b.source
	}
}

func appendEvidence(dst []Evidence, src ...Evidence) []Evidence {
	for _, e := range src {
		if len(dst) >= MaxEvidence {
			break
		}
		dst = append(dst, e)
	}
	return dst
}

// NewClassifier returns a classifier for the catalog. Check opts first
// with [ValidateOptions].
func NewClassifier(cat *Catalog, opts Options) *Classifier {
	if opts.Datacenter == "" {
		opts.Datacenter = DatacenterAuto
	}
	if opts.Vantage == "" {
		opts.Vantage = VantageServer
	}
	c := &Classifier{
		cat:     cat,
		opts:    opts,
		names:   capture.NewNameTable(),
		hosts:   make(map[string][]string),
		named:   make(map[destKey]*aggregate),
		unnamed: make(map[destKey]*aggregate),
		lookups: make(map[destKey]*aggregate),
		dcSeen:  make(map[string]int64),
	}
	for _, d := range cat.Datacenters {
		for i := range cat.Calls {
			h := cat.Host(&cat.Calls[i], d)
			if !contains(c.hosts[h], d.ID) {
				c.hosts[h] = append(c.hosts[h], d.ID)
			}
		}
	}
	return c
}

// ValidateOptions checks opts against the catalog and returns an error that
// names the offending setting and the values it takes.
func ValidateOptions(cat *Catalog, opts Options) error {
	if opts.Datacenter != "" && opts.Datacenter != DatacenterAuto {
		if _, ok := cat.Datacenter(opts.Datacenter); !ok {
			return fmt.Errorf("datacenter %q: want one of auto, %s", opts.Datacenter, strings.Join(cat.DatacenterIDs(), ", "))
		}
	}
	switch opts.Vantage {
	case "", VantageServer, VantageBrowser, VantageAll:
	default:
		return fmt.Errorf("vantage %q: want one of server, browser, all", opts.Vantage)
	}
	for _, k := range opts.Known {
		if _, err := path.Match(strings.ToLower(k), ""); err != nil || k == "" {
			return fmt.Errorf("known %q: not a host pattern", k)
		}
	}
	return nil
}

// Names returns the classifier's name table, filled by the lookups added.
func (c *Classifier) Names() *capture.NameTable { return c.names }

func (c *Classifier) audited(a netip.AddrPort) bool {
	if len(c.opts.Clients) == 0 || !a.IsValid() {
		return true
	}
	for _, p := range c.opts.Clients {
		if p.Contains(a.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// Add takes one observation into account. It keeps no reference to o.
func (c *Classifier) Add(o *capture.Observation) {
	if !c.audited(o.Client) {
		c.outsideClients++
		return
	}
	host := strings.TrimSuffix(strings.ToLower(o.Host), ".")
	for _, dc := range c.hosts[host] {
		c.dcSeen[dc]++
	}
	if o.Kind == capture.Lookup {
		if o.ECH && host != "" && len(c.echNames) < maxECHNames {
			if c.echNames == nil {
				c.echNames = make(map[string]bool)
			}
			c.echNames[host] = true
		}
		for _, a := range o.Answers {
			c.names.Add(host, a, o.Time, o.TTL)
		}
		if host != "" {
			c.aggregate(c.lookups, destKey{host: host}, host, o)
		}
		return
	}
	key := destKey{host: host, port: o.Server.Port()}
	m := c.named
	if o.ECH && o.Server.Addr().IsValid() {
		// The name of a ClientHello with encrypted_client_hello is the
		// outer, public one: name the flow from DNS evidence instead, and
		// fall back to the outer name only when there is none.
		key.host, key.addr, m = "", o.Server.Addr().Unmap(), c.unnamed
		c.aggregate(m, key, "", o)
		if a := m[key]; a != nil && a.outer == "" {
			a.outer = host
		}
		return
	}
	if host == "" {
		key.addr = o.Server.Addr().Unmap()
		m = c.unnamed
	}
	c.aggregate(m, key, host, o)
}

func (c *Classifier) aggregate(m map[destKey]*aggregate, key destKey, host string, o *capture.Observation) {
	a := m[key]
	if a == nil {
		if len(c.named)+len(c.unnamed)+len(c.lookups) >= MaxDestinations {
			c.overflow++
			return
		}
		a = &aggregate{host: host, port: key.port, source: o.HostSource}
		m[key] = a
	}
	a.add(o)
}

// sourceRank orders host sources from the most to the least direct.
func sourceRank(s capture.HostSource) int {
	switch s {
	case capture.SourceURL:
		return 0
	case capture.SourceConnect:
		return 1
	case capture.SourceSNI, capture.SourceQUIC:
		return 2
	case capture.SourceHTTP:
		return 3
	case capture.SourceLog:
		return 4
	case capture.SourceDNS:
		return 5
	}
	return 6
}

func evidenceOf(o *capture.Observation) Evidence {
	e := Evidence{
		Input:   o.Input,
		Locator: o.Locator.String(),
		Time:    o.Time.UTC(),
		Detail:  describe(o),
	}
	if o.Client.IsValid() {
		e.Client = addrPortString(o.Client)
	}
	if o.Server.IsValid() {
		e.Server = addrPortString(o.Server)
	}
	return e
}

func addrPortString(a netip.AddrPort) string {
	if a.Port() == 0 {
		return a.Addr().Unmap().String()
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).String()
}

// describe writes one line saying what an observation shows.
func describe(o *capture.Observation) string {
	var b strings.Builder
	if o.Kind == capture.Lookup {
		b.WriteString("DNS " + o.Host)
	} else {
		if o.Transport != "" {
			b.WriteString(string(o.Transport) + " ")
		}
		if o.Method != "" {
			b.WriteString(o.Method + " ")
		}
		switch {
		case o.Host != "" || o.Path != "":
			b.WriteString(o.Host + o.Path)
		case o.Server.IsValid():
			// An unnamed flow says where it went, so that the line
			// reads whole wherever it is shown without its flow.
			b.WriteString(addrPortString(o.Server))
		default:
			b.WriteString("(no address)")
		}
		if o.HostSource != "" {
			b.WriteString(" (" + string(o.HostSource) + ")")
		}
	}
	b.WriteString(": " + string(o.Outcome))
	if o.Reason != "" {
		b.WriteString(" " + string(o.Reason))
	}
	if o.Detail != "" {
		b.WriteString(", " + o.Detail)
	}
	return strings.TrimSpace(b.String())
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
