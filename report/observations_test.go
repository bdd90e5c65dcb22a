package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/egress-audit/egress-audit/capture"
)

// TestObservationEncoderECH checks the ech field of a JSON line: true for a
// ClientHello with Encrypted Client Hello, left out otherwise, so that a
// line without it reads as before.
func TestObservationEncoderECH(t *testing.T) {
	cases := []struct {
		name string
		ech  bool
	}{
		{"ech_outer_name", true},
		{"plain_sni", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &capture.Observation{
				Input: "lab.pcap", Locator: capture.Packet(4), Kind: capture.Connection,
				Client:    netip.MustParseAddrPort("192.0.2.10:40000"),
				Server:    netip.MustParseAddrPort("203.0.113.5:443"),
				Transport: capture.TCP, Host: "public.example", HostSource: capture.SourceSNI,
				Outcome: capture.OutcomeOK, ECH: tc.ech,
			}
			var buf bytes.Buffer
			if err := NewObservationEncoder(&buf).Encode(o); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("Encode wrote %q: %v", buf.String(), err)
			}
			got, present := line["ech"]
			if present != tc.ech || tc.ech && got != true {
				t.Errorf("Encode(ECH %v) ech = %v (present %v), want present %v", tc.ech, got, present, tc.ech)
			}
			if strings.Count(buf.String(), "\n") != 1 {
				t.Errorf("Encode wrote %q, want one line", buf.String())
			}
		})
	}
}

// TestObservationEndpoints checks how client and server are written: a
// server known by its port alone (a denied CONNECT) keeps the port.
func TestObservationEndpoints(t *testing.T) {
	cases := []struct {
		name        string
		server      netip.AddrPort
		json, table string
	}{
		{"addr_port", netip.MustParseAddrPort("203.0.113.5:443"), "203.0.113.5:443", "203.0.113.5:443"},
		{"ipv6", netip.MustParseAddrPort("[2001:db8::5]:443"), "[2001:db8::5]:443", "[2001:db8::5]:443"},
		{"port_only", netip.AddrPortFrom(netip.Addr{}, 8443), ":8443", ":8443"},
		{"addr_only", netip.AddrPortFrom(netip.MustParseAddr("203.0.113.5"), 0), "203.0.113.5", "203.0.113.5"},
		{"none", netip.AddrPort{}, "", "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &capture.Observation{
				Input: "access.log", Locator: capture.Line(3), Kind: capture.Connection,
				Client: netip.MustParseAddrPort("192.0.2.10:40000"), Server: tc.server,
				Transport: capture.TCP, Host: "app.gtmhub.com", HostSource: capture.SourceConnect,
				Outcome: capture.OutcomeBlocked, Reason: capture.ProxyDenied, Detail: "TCP_DENIED/403",
			}
			var buf bytes.Buffer
			if err := NewObservationEncoder(&buf).Encode(o); err != nil {
				t.Fatal(err)
			}
			var line struct{ Server string }
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("Encode wrote %q: %v", buf.String(), err)
			}
			if line.Server != tc.json {
				t.Errorf("Encode(server %v) server = %q, want %q", tc.server, line.Server, tc.json)
			}
			buf.Reset()
			if err := ObservationLine(&buf, o); err != nil {
				t.Fatal(err)
			}
			if want := "192.0.2.10:40000 -> " + tc.table + " "; !strings.Contains(buf.String(), want) {
				t.Errorf("ObservationLine(server %v) = %q, want it to contain %q", tc.server, buf.String(), want)
			}
		})
	}
}
