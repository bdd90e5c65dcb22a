package capture

import (
	"fmt"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// fragmentedUDP6 adds one UDP datagram as IPv6 fragments (RFC 8200,
// Section 4.5) of at most mtu bytes of fragmentable part, in the order
// given by order (indexes of the fragments; nil: in order).
func fragmentedUDP6(c *capBuilder, src, dst netipAddrPort, payload []byte, mtu int, id uint32, order []int) {
	l, nl, _ := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	u.SetNetworkLayerForChecksum(nl)
	whole := c.serialize(l, u, gopacket.Payload(payload))
	body := whole[40:] // the UDP header and payload: the fragmentable part
	var frags [][]byte
	for off := 0; off < len(body); off += mtu {
		end := min(off+mtu, len(body))
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8),
			MoreFragments: end < len(body), Identification: id}
		frags = append(frags, c.ether(layers.EthernetTypeIPv6, ip, fh, gopacket.Payload(body[off:end])))
	}
	if order == nil {
		for i := range frags {
			order = append(order, i)
		}
	}
	for _, i := range order {
		c.add(frags[i], 0)
	}
}

// bigAnswer is a DNS answer with n AAAA records for name, too long for one
// IPv6 packet of 1280 bytes once n passes about 30.
func bigAnswer(id uint16, name string, n int) []byte {
	var addrs []string
	for i := 1; i <= n; i++ {
		addrs = append(addrs, fmt.Sprintf("2001:db8:1::%x", i))
	}
	return dnsAnswerMsg(id, name, layers.DNSResponseCodeNoErr, addrs...)
}

func TestIPv6Fragments(t *testing.T) {
	resolver6 := netipPort(labServer6, 53)
	answer := bigAnswer(5, apiHost, 60) // 2560 bytes of UDP: fragments of 1232, 1232 and 96
	cases := []struct {
		name    string
		build   func(c *capBuilder)
		want    want
		answers int
		skipped map[string]int64
	}{
		{"in_order", func(c *capBuilder) {
			c.udp(labClient6, resolver6, dnsQueryMsg(5, apiHost))
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 1, nil)
		}, want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 4}, 60,
			map[string]int64{skipFragment: 2}},
		{"last_first", func(c *capBuilder) {
			c.udp(labClient6, resolver6, dnsQueryMsg(5, apiHost))
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 1, []int{2, 0, 1})
		}, want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 4}, 60,
			map[string]int64{skipFragment: 2}},
		{"duplicate_fragment", func(c *capBuilder) {
			c.udp(labClient6, resolver6, dnsQueryMsg(5, apiHost))
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 1, []int{0, 0, 1, 2})
		}, want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 5}, 60,
			map[string]int64{skipFragment: 3}},
		{"fragment_missing", func(c *capBuilder) {
			c.udp(labClient6, resolver6, dnsQueryMsg(5, apiHost))
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 1, []int{0, 2})
		}, want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeBlocked, reason: DNSTimeout, packet: 1}, 0,
			map[string]int64{skipFragment: 2}},
		{"identification_differs", func(c *capBuilder) {
			// Fragments of two packets never make one.
			c.udp(labClient6, resolver6, dnsQueryMsg(5, apiHost))
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 1, []int{0, 1})
			fragmentedUDP6(c, resolver6, labClient6, answer, 1232, 2, []int{2})
		}, want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeBlocked, reason: DNSTimeout, packet: 1}, 0,
			map[string]int64{skipFragment: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCap(t)
			tc.build(c)
			obs, st := readAll(t, c.pcap(), nil)
			if len(obs) != 1 {
				t.Fatalf("got %d observations, want 1: %v", len(obs), obs)
			}
			if !matches(obs[0], tc.want) || len(obs[0].Answers) != tc.answers {
				t.Errorf("got %v with %d answers, want %v with %d", summary(obs[0]), len(obs[0].Answers), tc.want, tc.answers)
			}
			if got := st.Records + st.SkippedTotal() + st.Failed; got != int64(len(c.frames)) {
				t.Errorf("counted %d packets, wrote %d", got, len(c.frames))
			}
			for reason, n := range tc.skipped {
				if st.Skipped[reason] != n {
					t.Errorf("skipped %q = %d, want %d (all: %v)", reason, st.Skipped[reason], n, st.Skipped)
				}
			}
		})
	}
}

// TestFragmentTableBound checks that fragments of more datagrams than the
// table holds are dropped and counted, and that the table stays bounded.
func TestFragmentTableBound(t *testing.T) {
	c := newCap(t)
	answer := bigAnswer(5, apiHost, 60)
	for id := range uint32(maxFragDatagrams + 10) {
		fragmentedUDP6(c, netipPort(labServer6, 53), labClient6, answer, 1232, id, []int{0})
	}
	obs, st := readAll(t, c.pcap(), nil)
	if len(obs) != 0 {
		t.Errorf("got %d observations from first fragments alone", len(obs))
	}
	if st.Skipped[skipFragment] != maxFragDatagrams || st.Skipped[skipFragDropped] != 10 {
		t.Errorf("skipped %v, want %d waiting and 10 dropped", st.Skipped, maxFragDatagrams)
	}
}

// TestFirstFragmentCut reads a DNS answer of which the capture holds only
// the first fragment, cut short: it cannot be reassembled, but its header
// and first records are read as an answer cut by the snaplen.
func TestFirstFragmentCut(t *testing.T) {
	answer := bigAnswer(5, apiHost, 60)
	for _, v6 := range []bool{false, true} {
		name := map[bool]string{false: "ipv4", true: "ipv6"}[v6]
		t.Run(name, func(t *testing.T) {
			c := newCap(t)
			client, resolver := labClient, labResolver
			if v6 {
				client, resolver = labClient6, netipPort(labServer6, 53)
			}
			c.udp(client, resolver, dnsQueryMsg(5, apiHost))
			if v6 {
				fragmentedUDP6(c, resolver, client, answer, 1232, 1, []int{0})
			} else {
				ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: 99,
					SrcIP: resolver.Addr().AsSlice(), DstIP: client.Addr().AsSlice(), Flags: layers.IPv4MoreFragments}
				u := &layers.UDP{SrcPort: layers.UDPPort(resolver.Port()), DstPort: layers.UDPPort(client.Port())}
				u.SetNetworkLayerForChecksum(ip)
				udp := c.serialize(u, gopacket.Payload(answer))
				c.add(c.ether(layers.EthernetTypeIPv4, ip, gopacket.Payload(udp[:1232])), 0)
			}
			c.frames[1].capLen = 200 // the header, the question and a few records
			obs, st := readAll(t, c.pcap(), nil)
			if len(obs) != 1 {
				t.Fatalf("got %d observations, want 1: %v", len(obs), obs)
			}
			w := want{kind: Lookup, host: apiHost, source: SourceDNS, outcome: OutcomeOK, packet: 2,
				detail: "answer cut by the capture's snaplen at packet 2"}
			if !matches(obs[0], w) || len(obs[0].Answers) == 0 {
				t.Errorf("got %v %q with %d answers, want %v with some", summary(obs[0]), obs[0].Detail, len(obs[0].Answers), w)
			}
			if st.Records != 2 || st.SkippedTotal() != 0 {
				t.Errorf("stats: %d records, skipped %v; want 2 and none", st.Records, st.Skipped)
			}
		})
	}
}
