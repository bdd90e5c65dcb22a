package rules

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// BenchmarkClassifierAdd feeds the classifier observations of a few busy
// destinations, as a day of proxy log gives it: most are only counted.
func BenchmarkClassifierAdd(b *testing.B) {
	hosts := []string{"auth.gtmhub.com", "app.gtmhub.com", "marketplace.atlassian.com", "crl.example.net"}
	obs := make([]capture.Observation, 1024)
	for i := range obs {
		obs[i] = capture.Observation{
			Time:       t0.Add(time.Duration(i) * time.Millisecond),
			Input:      "access.log",
			Locator:    capture.Line(int64(i + 1)),
			Client:     netip.MustParseAddrPort("192.0.2.10:0"),
			Server:     netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 4)}), 443),
			Transport:  capture.TCP,
			Host:       hosts[i%len(hosts)],
			HostSource: capture.SourceURL,
			Method:     "GET",
			Path:       []string{"/api/v1/goals", "/api/v2/sessions", "/oauth/token", "/"}[i%4],
			Outcome:    []capture.Outcome{capture.OutcomeOK, capture.OutcomeBlocked}[i%2],
			Reason:     []capture.Reason{"", capture.ProxyDenied}[i%2],
			Detail:     "TCP_MISS/200",
		}
	}
	cl := NewClassifier(DefaultCatalog(), Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cl.Add(&obs[i%len(obs)])
		i++
	}
}
