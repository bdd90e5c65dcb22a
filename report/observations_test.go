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
