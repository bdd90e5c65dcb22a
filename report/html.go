package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"net/netip"
	"sort"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/egress-audit/egress-audit/capture"
	"github.com/egress-audit/egress-audit/rules"
)

//go:embed html.tmpl
var htmlTemplate string

//go:embed html.css
var htmlStyle string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"clean":       Clean,
	"skipReasons": skipReasons,
}).Parse(htmlTemplate))

// htmlCSP allows the page nothing but its own inline style: no script, no
// fetch, no image, no font, so that the file works offline and markup that
// slipped through could not load or run anything.
var htmlCSP = func() string {
	sum := sha256.Sum256([]byte(htmlStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'"
}()

// HTML writes r as one self-contained page: a summary, the calls in order
// as a timeline of the OAuth and API steps that marks where the chain
// broke, the destinations grouped by registrable domain, the evidence of
// each call with its packet or line locators, and the inputs with their
// SHA-256. The page loads nothing (a Content-Security-Policy forbids it)
// and runs no script. It is rendered with html/template, so every value
// from the input is escaped for where it lands; values are also cleaned of
// control characters (see [Clean]).
func HTML(w io.Writer, r *rules.Report) error {
	return htmlPage.Execute(w, newHTMLReport(r))
}

type htmlReport struct {
	R       *rules.Report
	CSP     string
	Style   template.CSS
	Hint    string
	Broken  bool   // a call was blocked
	Tone    string // of the verdict: bad, warn or good
	Counts  []htmlCount
	Steps   []htmlStep
	Domains []htmlDomain
}

type htmlCount struct {
	Label, Class string
	N            int
}

type htmlStep struct {
	N          int
	Phase      string // the host, on the first step of each run of steps on one host
	Call       rules.CallReport
	Break      bool // the first blocked call: where the chain broke
	NotReached bool // missing because a call it needs was blocked
	Evidence   []htmlEvidence
}

type htmlEvidence struct {
	Where, Time, When, Flow, Detail string
}

type htmlDomain struct {
	Name  string
	Dests []htmlDest
}

type htmlDest struct {
	D        rules.Destination
	HostPort string
	IPs      string
	Evidence []htmlEvidence
}

func newHTMLReport(r *rules.Report) *htmlReport {
	h := &htmlReport{R: r, CSP: htmlCSP, Style: template.CSS(htmlStyle), Hint: Hint(r)}
	counts := map[string]int{}
	for _, c := range r.Calls {
		counts[c.Status]++
	}
	for _, s := range []string{rules.StatusOK, rules.StatusBlocked, rules.StatusMissing, rules.StatusNotExpected} {
		h.Counts = append(h.Counts, htmlCount{Label: s, Class: "s-" + s, N: counts[s]})
	}
	h.Counts = append(h.Counts, htmlCount{Label: "unexpected destinations", Class: "s-unexpected", N: r.Summary.Destinations[rules.ClassUnexpected]})

	prevHost := ""
	for i, c := range r.Calls {
		st := htmlStep{N: i + 1, Call: c, Evidence: htmlEvidenceOf(c.Evidence)}
		if c.Host != prevHost {
			st.Phase = c.Host
			prevHost = c.Host
		}
		if c.Status == rules.StatusBlocked && !h.Broken {
			st.Break, h.Broken = true, true
		}
		st.NotReached = c.Status == rules.StatusMissing && c.Reason == string(capture.ReasonDependencyBlocked)
		h.Steps = append(h.Steps, st)
	}

	switch {
	case h.Broken:
		h.Tone = "bad"
	case counts[rules.StatusMissing] > 0 || r.Summary.Unexpected > 0 || r.Summary.Destinations[rules.ClassOtherDatacenter] > 0:
		h.Tone = "warn"
	default:
		h.Tone = "good"
	}

	byDomain := map[string]*htmlDomain{}
	rank := map[string]int{}
	for _, d := range r.Destinations {
		name := registrableDomain(d.Host)
		g := byDomain[name]
		if g == nil {
			g = &htmlDomain{Name: name}
			byDomain[name] = g
			rank[name] = classOrder(d.Class)
		}
		rank[name] = min(rank[name], classOrder(d.Class))
		g.Dests = append(g.Dests, htmlDest{
			D:        d,
			HostPort: hostPortRaw(d.Host, d.Port),
			IPs:      strings.Join(d.IPs, ", "),
			Evidence: htmlEvidenceOf(d.Evidence),
		})
	}
	for _, g := range byDomain {
		h.Domains = append(h.Domains, *g)
	}
	sort.Slice(h.Domains, func(i, j int) bool {
		a, b := h.Domains[i].Name, h.Domains[j].Name
		if rank[a] != rank[b] {
			return rank[a] < rank[b]
		}
		return a < b
	})
	return h
}

// Groups of destinations that have no registrable domain.
const (
	addressesGroup = "addresses without a name"
	oddNamesGroup  = "names that are not host names"
)

// registrableDomain returns the domain a host belongs to, one label below
// its public suffix ("gtmhub.com" for "app.us.gtmhub.com"), the host
// itself when it has none, [addressesGroup] for an address, and
// [oddNamesGroup] for a name with characters no host name has.
func registrableDomain(host string) string {
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return addressesGroup
	}
	if !hostLike(host) {
		return oddNamesGroup
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

func classOrder(class string) int {
	switch class {
	case rules.ClassCatalog:
		return 0
	case rules.ClassOtherDatacenter:
		return 1
	case rules.ClassUnexpected:
		return 2
	}
	return 3
}

func htmlEvidenceOf(ev []rules.Evidence) []htmlEvidence {
	out := make([]htmlEvidence, 0, len(ev))
	for _, e := range ev {
		x := htmlEvidence{
			Where:  strings.TrimSpace(e.Input + " " + e.Locator),
			Detail: e.Detail,
		}
		if !e.Time.IsZero() {
			x.Time = e.Time.UTC().Format("15:04:05.000")
			x.When = e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z")
		}
		if e.Client != "" || e.Server != "" {
			x.Flow = orDash(e.Client) + " → " + orDash(e.Server)
		}
		out = append(out, x)
	}
	return out
}

// hostLike reports whether s is made of host name characters only, with no
// empty label.
func hostLike(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= 'a' && c <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' || s[i] == '_') {
			return false
		}
	}
	return true
}
