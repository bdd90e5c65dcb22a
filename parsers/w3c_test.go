package parsers

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// proxySGLog is written in the ProxySG ELFF layout: a denied CONNECT, a
// URL with an OAuth code, an authentication redirect and a tunnel, then a
// second #Fields directive with other columns in another order.
const proxySGLog = `#Software: SGOS 7.3.1.1
#Version: 1.0
#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username s-supplier-ip sc-filter-result cs-categories x-exception-id
2025-12-03 09:00:01 12 192.0.2.10 403 TCP_DENIED 3910 210 CONNECT tcp auth.gtmhub.com 443 / - - - DENIED "Business/Economy" policy_denied
2025-12-03 09:00:02 48 192.0.2.10 302 TCP_NC_MISS 1242 969 GET https auth.gtmhub.com 443 /authorize ?client_id=jira&code=SplxlOBeZQQYbYS6WxSbIA - 198.51.100.30 OBSERVED "Business/Economy" -
2025-12-03 09:00:03 0 192.0.2.10 407 TCP_AUTH_REDIRECT 0 0 GET http app.gtmhub.com 80 /api/v1/okrs - - - DENIED - authentication_failed
2025-12-03 09:00:04 1407 2001:db8::10 0 TUNNELED 4897 5784 unknown ssl app.gtmhub.com 443 / - - 198.51.100.20 OBSERVED "Business/Economy" -
#Fields: cs-method cs-uri c-ip sc-status s-action date time
POST https://app.gtmhub.com/api/v1/tasks?access_token=abc 192.0.2.10 503 TCP_ERR_MISS 2025-12-03 09:00:05
`

func TestW3C(t *testing.T) {
	p := w3c.NewLine(&Options{})
	var got []capture.Observation
	for i, l := range strings.Split(strings.TrimSpace(proxySGLog), "\n") {
		o := capture.Observation{Locator: capture.Line(int64(i + 1))}
		switch err := p.ParseLine([]byte(l), &o); err.(type) {
		case nil:
			got = append(got, o)
		case Skip:
		default:
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	wants := []want{
		{time: "2025-12-03T09:00:01Z", client: "192.0.2.10", host: "auth.gtmhub.com", server: ":443", source: capture.SourceConnect, method: "CONNECT", outcome: capture.OutcomeBlocked, reason: capture.ProxyDenied, detail: "TCP_DENIED/403, rule policy_denied"},
		{host: "auth.gtmhub.com", server: "198.51.100.30:443", source: capture.SourceURL, method: "GET", path: "/authorize?client_id=jira&code=REDACTED", outcome: capture.OutcomeOK},
		{host: "app.gtmhub.com", server: ":80", path: "/api/v1/okrs", outcome: capture.OutcomeBlocked, reason: capture.ProxyAuthRequired},
		{client: "2001:db8::10", host: "app.gtmhub.com", server: "198.51.100.20:443", method: "CONNECT", outcome: capture.OutcomeOK, detail: "TUNNELED/000"},
		{time: "2025-12-03T09:00:05Z", host: "app.gtmhub.com", method: "POST", path: "/api/v1/tasks?access_token=REDACTED", reason: capture.ProxyError},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d observations, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		t.Run(itoa(i+1), func(t *testing.T) { checkObservation(t, &got[i], w) })
	}
}

func TestW3CErrors(t *testing.T) {
	p := w3c.NewLine(&Options{})
	checkLine(t, p, "2025-12-03 09:00:01 192.0.2.10 GET http://x/", want{err: "before any #Fields"})
	p.ParseLine([]byte("#Fields: date time c-ip cs-method cs-uri"), &capture.Observation{})
	checkLine(t, p, "2025-13-03 09:00:01 192.0.2.10 GET http://x/", want{err: "want YYYY-MM-DD"})
	checkLine(t, p, "2025-12-03 09:00:01 nobody GET http://x/", want{err: "client"})
	checkLine(t, p, "2025-12-03 09:00:01 192.0.2.10 GET /relative", want{skip: string(errNoDestination)})

	// Found by FuzzParseW3CLine and FuzzReadInput: a cs-uri-path without
	// its leading slash.
	p.ParseLine([]byte("#Fields: date time c-ip cs-method cs-host cs-uri-path"), &capture.Observation{})
	checkLine(t, p, "2025-12-03 09:00:01 192.0.2.10 GET example.com x", want{host: "example.com", path: "/x"})
}

func TestW3CCorpus(t *testing.T) {
	dir := corpusDir(t, "w3c")
	t.Run("proxysg", func(t *testing.T) {
		obs, res := readFileAll(t, filepath.Join(dir, "elastic-integrations-proxysg-test-proxy-main.log"), nil, nil)
		if res.Stats.Format != "w3c" || res.Stats.Failed != 0 || len(obs) != 11 {
			t.Fatalf("format %s, %d observations, %d failed: %v", res.Stats.Format, len(obs), res.Stats.Failed, res.Stats.Problems)
		}
		checkObservation(t, &obs[0], want{time: "2024-03-22T16:16:01Z", client: "10.82.255.36", host: "pixel.tapad.com", server: ":443", method: "GET", path: "/idsync/ex/push?partner_id=2499&partner_device_id=REDACTED&partner_url=REDACTED", detail: "TCP_NC_MISS/302"})
		checkObservation(t, &obs[2], want{host: "token.rubiconproject.com", source: capture.SourceConnect, method: "CONNECT", outcome: capture.OutcomeOK})
		checkObservation(t, &obs[3], want{host: "rtb-csync.smartadserver.com", method: "CONNECT", outcome: capture.OutcomeOK})
	})
	t.Run("windows_firewall", func(t *testing.T) {
		obs, res := readFileAll(t, filepath.Join(dir, "msdocs-azure-stack-edge-pfirewall.log"), nil, nil)
		if res.Stats.Format != "w3c" || res.Stats.Skipped[string(SkipInboundTraffic)] != 13 || len(obs) != 1 {
			t.Fatalf("format %s, %d observations, skipped %v", res.Stats.Format, len(obs), res.Stats.Skipped)
		}
		checkObservation(t, &obs[0], want{client: "[fe80::3680:dff:fe01:9e88]:5353", server: "[ff02::fb]:5353", reason: capture.FirewallDeny})
	})
	t.Run("iis", func(t *testing.T) {
		// IIS logs record requests made to this web server (the source
		// tags them "web server"), not egress, and these lines carry no
		// #Fields directive that names their columns: they are out of
		// scope, and must be refused clearly, every line counted.
		var exp []struct {
			Text         string            `json:"text"`
			ExpectedTags map[string]string `json:"expectedTags"`
		}
		readJSON(t, filepath.Join(dir, "pylogsparser-IIS.expected.json"), &exp)
		for _, e := range exp {
			if e.ExpectedTags["taxonomy"] != "web server" {
				t.Fatalf("%q: taxonomy %q, want web server", e.Text, e.ExpectedTags["taxonomy"])
			}
		}
		file := filepath.Join(dir, "pylogsparser-IIS.log")
		if _, err := ReadFile(file, nil, &Options{}, func(*capture.Observation) {}); err == nil || !strings.Contains(err.Error(), "format not recognised") {
			t.Errorf("detection: %v, want format not recognised", err)
		}
		obs, res := readFileAll(t, file, w3c, nil)
		if len(obs) != 0 || res.Stats.Failed != int64(len(exp)) || len(res.Stats.Problems) == 0 ||
			!strings.Contains(res.Stats.Problems[0].Err, "pylogsparser-IIS.log:1: w3c: record before any #Fields: directive") {
			t.Errorf("read as w3c: %d observations, %d failed (%v); want none and the %d lines failed, naming the line",
				len(obs), res.Stats.Failed, res.Stats.Problems, len(exp))
		}
	})
}
