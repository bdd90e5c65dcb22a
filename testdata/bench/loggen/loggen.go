// Package loggen writes realistic proxy and DNS logs of any size, for
// benchmarks and the comparison script in testdata/bench. The output is
// deterministic for a seed.
package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Formats lists the formats Write can produce.
var Formats = []string{"squid", "combined", "w3c", "dnsmasq", "bind", "unbound", "zscaler", "envoy", "haproxy"}

// hosts are the destinations: the catalog's own, common SaaS and update
// hosts, and a long tail of generated names.
var baseHosts = []string{
	"auth.gtmhub.com", "app.gtmhub.com", "app.us.gtmhub.com", "marketplace.atlassian.com",
	"api.atlassian.com", "www.google.com", "update.example.net", "crl.example.org",
	"login.microsoftonline.com", "github.com", "api.github.com", "s3.amazonaws.com",
}

var paths = []string{
	"/", "/authorize?client_id=jira&response_type=code&state=a1b2c3", "/oauth/token",
	"/api/v1/okrs?limit=50", "/api/v1/sessions", "/api/v2/search?q=goals", "/rest/api/3/issue",
	"/static/app.js", "/ca.crl", "/favicon.ico", "/api/v1/tasks",
}

type gen struct {
	r     *rand.Rand
	hosts []string
	t     time.Time
}

func newGen(seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t: time.Date(2025, 12, 3, 0, 0, 0, 0, time.UTC)}
	g.hosts = append(g.hosts, baseHosts...)
	for i := 0; i < 2000; i++ {
		g.hosts = append(g.hosts, fmt.Sprintf("svc%d.cdn%d.example.com", i, i%37))
	}
	return g
}

func (g *gen) host() string {
	// A few hosts take most of the traffic, as in real logs.
	if g.r.IntN(4) > 0 {
		return g.hosts[g.r.IntN(len(baseHosts))]
	}
	return g.hosts[g.r.IntN(len(g.hosts))]
}

func (g *gen) client() string { return fmt.Sprintf("192.0.2.%d", 10+g.r.IntN(40)) }
func (g *gen) server() string { return fmt.Sprintf("198.51.100.%d", 1+g.r.IntN(250)) }

func (g *gen) tick() time.Time {
	g.t = g.t.Add(time.Duration(g.r.IntN(20)) * time.Millisecond)
	return g.t
}

// result picks a squid result code and status: mostly tunnels and hits,
// some denials, auth challenges and errors.
func (g *gen) result(connect bool) (string, int) {
	switch n := g.r.IntN(100); {
	case n < 5:
		return "TCP_DENIED", 403
	case n < 7:
		return "TCP_DENIED", 407
	case n < 9:
		return "NONE_NONE", 503
	case n < 10:
		return "TCP_MISS_ABORTED", 0
	case connect:
		return "TCP_TUNNEL", 200
	case n < 40:
		return "TCP_HIT", 200
	default:
		return "TCP_MISS", 200
	}
}

// Write writes n lines of format to w.
func Write(w io.Writer, format string, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := newGen(seed)
	if format == "w3c" {
		fmt.Fprintf(bw, "#Software: SGOS 7.3.1.1\n#Version: 1.0\n#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username s-supplier-ip sc-filter-result cs-categories x-exception-id\n")
	}
	for i := 0; i < n; i++ {
		var err error
		switch format {
		case "squid":
			err = g.squid(bw)
		case "combined":
			err = g.combined(bw)
		case "w3c":
			err = g.w3c(bw)
		case "dnsmasq":
			err = g.dnsmasq(bw)
		case "bind":
			err = g.bind(bw)
		case "unbound":
			err = g.unbound(bw)
		case "zscaler":
			err = g.zscaler(bw)
		case "envoy":
			err = g.envoy(bw)
		case "haproxy":
			err = g.haproxy(bw)
		default:
			return fmt.Errorf("format %q: want one of %v", format, Formats)
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

func (g *gen) squid(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	code, status := g.result(connect)
	h := g.host()
	peer := "HIER_DIRECT/" + g.server()
	if code == "TCP_DENIED" || code == "NONE_NONE" {
		peer = "HIER_NONE/-"
	}
	if connect {
		_, err := fmt.Fprintf(w, "%d.%03d %6d %s %s/%03d %d CONNECT %s:443 - %s -\n",
			t.Unix(), t.Nanosecond()/1e6, g.r.IntN(90000), g.client(), code, status, g.r.IntN(200000), h, peer)
		return err
	}
	_, err := fmt.Fprintf(w, "%d.%03d %6d %s %s/%03d %d GET http://%s%s - %s text/html\n",
		t.Unix(), t.Nanosecond()/1e6, g.r.IntN(90000), g.client(), code, status, g.r.IntN(200000), h, paths[g.r.IntN(len(paths))], peer)
	return err
}

func (g *gen) combined(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	code, status := g.result(connect)
	req := fmt.Sprintf("CONNECT %s:443 HTTP/1.1", g.host())
	if !connect {
		req = fmt.Sprintf("GET http://%s%s HTTP/1.1", g.host(), paths[g.r.IntN(len(paths))])
	}
	_, err := fmt.Fprintf(w, "%s - - [%s] \"%s\" %d %d \"-\" \"Apache-HttpClient/4.5.14 (Java/17)\" %s:HIER_DIRECT\n",
		g.client(), t.Format("02/Jan/2006:15:04:05 -0700"), req, status, g.r.IntN(200000), code)
	return err
}

func (g *gen) w3c(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	code, status := g.result(connect)
	filter, ex := "OBSERVED", "-"
	if status == 403 {
		filter, ex = "DENIED", "policy_denied"
	}
	if connect {
		_, err := fmt.Fprintf(w, "%s %d %s %d %s %d %d CONNECT tcp %s 443 / - - %s %s \"Business/Economy\" %s\n",
			t.Format("2006-01-02 15:04:05"), g.r.IntN(900), g.client(), status, code, g.r.IntN(9000), g.r.IntN(900), g.host(), g.server(), filter, ex)
		return err
	}
	_, err := fmt.Fprintf(w, "%s %d %s %d %s %d %d GET https %s 443 /api/v1/okrs ?limit=50 - %s %s \"Business/Economy\" %s\n",
		t.Format("2006-01-02 15:04:05"), g.r.IntN(900), g.client(), status, code, g.r.IntN(9000), g.r.IntN(900), g.host(), g.server(), filter, ex)
	return err
}

func (g *gen) dnsmasq(w *bufio.Writer) error {
	t := g.tick().Format("Jan _2 15:04:05")
	h := g.host()
	var err error
	switch g.r.IntN(4) {
	case 0:
		_, err = fmt.Fprintf(w, "%s dnsmasq[811]: query[A] %s from %s\n", t, h, g.client())
	case 1:
		_, err = fmt.Fprintf(w, "%s dnsmasq[811]: forwarded %s to 192.0.2.53\n", t, h)
	case 2:
		if g.r.IntN(20) == 0 {
			_, err = fmt.Fprintf(w, "%s dnsmasq[811]: reply %s is NXDOMAIN\n", t, h)
		} else {
			_, err = fmt.Fprintf(w, "%s dnsmasq[811]: reply %s is %s\n", t, h, g.server())
		}
	default:
		_, err = fmt.Fprintf(w, "%s dnsmasq[811]: cached %s is %s\n", t, h, g.server())
	}
	return err
}

func (g *gen) bind(w *bufio.Writer) error {
	t := g.tick().Format("02-Jan-2006 15:04:05.000")
	h := g.host()
	if g.r.IntN(20) == 0 {
		_, err := fmt.Fprintf(w, "%s client @0x7f65100ee4d8 %s#%d (%s): query failed (SERVFAIL) for %s/IN/A at query.c:7375\n", t, g.client(), 1024+g.r.IntN(60000), h, h)
		return err
	}
	_, err := fmt.Fprintf(w, "%s queries: info: client @0x7f65100ee4d8 %s#%d (%s): query: %s IN A +E(0)K (192.0.2.53)\n", t, g.client(), 1024+g.r.IntN(60000), h, h)
	return err
}

func (g *gen) unbound(w *bufio.Writer) error {
	t := g.tick()
	rc := "NOERROR"
	if g.r.IntN(20) == 0 {
		rc = "NXDOMAIN"
	}
	_, err := fmt.Fprintf(w, "[%d] unbound[811:0] info: %s %s. A IN %s 0.%06d 0 93\n", t.Unix(), g.client(), g.host(), rc, g.r.IntN(100000))
	return err
}

func (g *gen) zscaler(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	_, status := g.result(connect)
	action := "Allowed"
	if status == 403 {
		action = "Blocked"
	}
	method, url := "CONNECT", g.host()
	if !connect {
		method, url = "GET", g.host()+paths[g.r.IntN(len(paths))]
	}
	_, err := fmt.Fprintf(w, `{"sourcetype":"zscalernss-web","event":{"time":"%s","login":"jira@example.com","proto":"HTTPS","eurl":"%s","action":"%s","appname":"General Browsing","reqsize":"600","respsize":"65","urlcat":"Corporate Marketing","cip":"%s","sip":"%s","reqmethod":"%s","respcode":"%d","ua":"Java/17","ruletype":"None","rulelabel":"None"}}`+"\n",
		t.Format("Mon Jan _2 15:04:05 2006"), url, action, g.client(), g.server(), method, status)
	return err
}

func (g *gen) envoy(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	_, status := g.result(connect)
	h := g.host()
	req := fmt.Sprintf("CONNECT %s:443 HTTP/1.1", h)
	if !connect {
		req = fmt.Sprintf("GET http://%s%s HTTP/1.1", h, paths[g.r.IntN(len(paths))])
	}
	flags := "-"
	if status == 503 {
		flags = "UF"
	}
	_, err := fmt.Fprintf(w, "[%s] \"%s\" %d %s %d %d %d - \"%s\" \"Java/17\" \"%08x-1\" \"%s\" \"%s:443\"\n",
		t.Format("2006-01-02T15:04:05.000Z"), req, status, flags, g.r.IntN(9000), g.r.IntN(90000), g.r.IntN(900), g.client(), g.r.Uint32(), h, g.server())
	return err
}

func (g *gen) haproxy(w *bufio.Writer) error {
	t := g.tick()
	connect := g.r.IntN(3) > 0
	_, status := g.result(connect)
	h := g.host()
	req := fmt.Sprintf("CONNECT %s:443 HTTP/1.1", h)
	if !connect {
		req = fmt.Sprintf("GET http://%s%s HTTP/1.1", h, paths[g.r.IntN(len(paths))])
	}
	_, err := fmt.Fprintf(w, "%s:%d [%s] egress egress/proxy 0/0/1/%d/%d %d %d - - ---- 1/1/0/0/0 0/0 \"%s\"\n",
		g.client(), 1024+g.r.IntN(60000), t.Format("02/Jan/2006:15:04:05.000"), g.r.IntN(900), g.r.IntN(900), status, g.r.IntN(200000), req)
	return err
}
