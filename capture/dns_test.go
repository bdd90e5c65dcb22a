package capture

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// dnsHeaderOffset is where the DNS message starts in a frame built by
// [capBuilder.udp] over IPv4: Ethernet 14, IPv4 20 and UDP 8 bytes.
const dnsHeaderOffset = 14 + 20 + 8

// TestDNSAnswerCut reads answers cut by the capture's snaplen at various
// points: each is paired with its question by ID, keeps its rcode and the
// records before the cut, and says it was cut instead of timing out.
func TestDNSAnswerCut(t *testing.T) {
	const name = "app.gtmhub.com"
	two := dnsAnswerMsg(9, name, layers.DNSResponseCodeNoErr, "203.0.113.5", "203.0.113.6")
	nx := dnsAnswerMsg(9, name, layers.DNSResponseCodeNXDomain)
	cases := []struct {
		name    string
		answer  []byte
		keep    int // bytes of the DNS message the capture keeps
		want    want
		answers int
	}{
		{"second_record_cut", two, len(two) - 2, want{kind: Lookup, host: name, source: SourceDNS,
			outcome: OutcomeOK, packet: 2, detail: "answer cut by the capture's snaplen at packet 2: 1 of 2 answer records read"}, 1},
		{"first_record_cut", two, len(two) - 30 - 3, want{kind: Lookup, host: name, source: SourceDNS,
			outcome: OutcomeOK, packet: 2, detail: "0 of 2 answer records read"}, 0},
		{"question_cut", two, 16, want{kind: Lookup, host: name, source: SourceDNS,
			outcome: OutcomeOK, packet: 2, detail: "0 of 2 answer records read"}, 0},
		{"nxdomain_header_only", nx, 12, want{kind: Lookup, host: name, source: SourceDNS,
			outcome: OutcomeBlocked, reason: DNSNXDomain, packet: 2, detail: "rcode NXDOMAIN; answer cut"}, 0},
		{"header_cut", two, 11, want{kind: Lookup, host: name, source: SourceDNS,
			outcome: OutcomeBlocked, reason: DNSTimeout, packet: 1, detail: "no answer in the capture"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCap(t)
			c.udp(labClient, labResolver, dnsQueryMsg(9, name))
			c.udp(labResolver, labClient, tc.answer)
			c.frames[1].capLen = dnsHeaderOffset + tc.keep
			obs, st := readAll(t, c.pcap(), nil)
			if len(obs) != 1 {
				t.Fatalf("got %d observations, want 1: %v", len(obs), obs)
			}
			if !matches(obs[0], tc.want) {
				t.Errorf("got %v detail %q, want %v detail %q", summary(obs[0]), obs[0].Detail, tc.want, tc.want.detail)
			}
			if len(obs[0].Answers) != tc.answers {
				t.Errorf("answers %v, want %d", obs[0].Answers, tc.answers)
			}
			if st.Failed != 0 || st.Records != 2 {
				t.Errorf("stats: %d records, %d failed, want 2 and 0", st.Records, st.Failed)
			}
		})
	}
}

// TestParseDNSPrefix checks what parseDNS keeps of every prefix of an
// answer: an error for each, and never an address from a cut record.
func TestParseDNSPrefix(t *testing.T) {
	msg := dnsAnswerMsg(7, "app.gtmhub.com", layers.DNSResponseCodeNoErr, "203.0.113.5", "2001:db8::5")
	// Header 12, question 16+4, A record 16+10+4, AAAA record 16+10+16.
	firstEnd := 12 + 20 + 30
	for i := 12; i < len(msg); i++ {
		var m dnsMessage
		err := parseDNS(msg[:i], &m)
		if !errors.Is(err, errDNSShort) {
			t.Fatalf("parseDNS(prefix %d) = %v, want errDNSShort", i, err)
		}
		if m.id != 7 || !m.response || m.ancount != 2 {
			t.Errorf("parseDNS(prefix %d): id %d response %v ancount %d, want 7 true 2", i, m.id, m.response, m.ancount)
		}
		wantAddrs := 0
		if i >= firstEnd {
			wantAddrs = 1
		}
		if len(m.answers) != wantAddrs || m.records != wantAddrs {
			t.Errorf("parseDNS(prefix %d) = %v (%d records), want %d", i, m.answers, m.records, wantAddrs)
		}
		if wantQ := i >= 12+16; (m.question == "app.gtmhub.com") != wantQ {
			t.Errorf("parseDNS(prefix %d): question %q", i, m.question)
		}
	}
}
