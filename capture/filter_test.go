package capture

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ethFrame serialises an Ethernet frame holding the given layers above it.
func ethFrame(t *testing.T, ethType layers.EthernetType, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: ethType,
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for _, l := range ls {
		if n, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, nl := range ls {
				if nl, ok := nl.(gopacket.NetworkLayer); ok {
					n.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, opts, append([]gopacket.SerializableLayer{eth}, ls...)...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLiveFilter(t *testing.T) {
	prog, err := LiveFilter([]uint16{443, 3128})
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		ins[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	v4 := func(proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto,
			SrcIP: net.ParseIP("192.0.2.10"), DstIP: net.ParseIP("203.0.113.10")}
	}
	v6 := func(next layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
			SrcIP: net.ParseIP("2001:db8::10"), DstIP: net.ParseIP("2001:db8:1::10")}
	}
	payload := gopacket.Payload([]byte("x"))
	withOptions := v4(layers.IPProtocolTCP)
	withOptions.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}
	fragment := v4(layers.IPProtocolUDP)
	fragment.FragOffset = 185
	icmp4 := func(typ, code uint8) []byte {
		return ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)})
	}
	icmp6 := func(typ uint8) []byte {
		// The message body is four bytes of zeros: enough for the filter,
		// which reads only the type.
		return ethFrame(t, layers.EthernetTypeIPv6, v6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}, gopacket.Payload(make([]byte, 4)))
	}
	icmpWithOptions := v4(layers.IPProtocolICMPv4)
	icmpWithOptions.Options = withOptions.Options
	// A later piece of a fragmented ICMP error: its first bytes are the
	// quoted datagram, not an ICMP type, so it is kept for reassembly.
	icmpFragment := v4(layers.IPProtocolICMPv4)
	icmpFragment.FragOffset = 185
	tests := []struct {
		name  string
		frame []byte
		keep  bool
	}{
		{"tcp_443_syn", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true}), true},
		{"tcp_443_reply", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 443, DstPort: 40000, SYN: true, ACK: true}), true},
		{"tcp_proxy_port", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 3128}), true},
		{"tcp_ssh", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 22}), false},
		{"tcp_ip_options", ethFrame(t, layers.EthernetTypeIPv4, withOptions, &layers.TCP{SrcPort: 40000, DstPort: 443}), true},
		{"udp_dns", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 53}, payload), true},
		{"udp_quic", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 443}, payload), true},
		{"udp_ntp", ethFrame(t, layers.EthernetTypeIPv4, v4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 123, DstPort: 123}, payload), false},
		{"ipv4_fragment", ethFrame(t, layers.EthernetTypeIPv4, fragment, payload), true},
		{"icmp_unreachable", icmp4(3, 13), true},
		{"icmp_source_quench", icmp4(4, 0), true},
		{"icmp_redirect", icmp4(5, 1), true},
		{"icmp_time_exceeded", icmp4(11, 0), true},
		{"icmp_parameter_problem", icmp4(12, 0), true},
		{"icmp_echo_reply", icmp4(0, 0), false},
		{"icmp_echo_request", icmp4(8, 0), false},
		{"icmp_router_advertisement", icmp4(9, 0), false},
		{"icmp_timestamp", icmp4(13, 0), false},
		{"icmp_ip_options_unreachable", ethFrame(t, layers.EthernetTypeIPv4, icmpWithOptions, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 1)}), true},
		{"icmp_ip_options_echo", ethFrame(t, layers.EthernetTypeIPv4, icmpWithOptions, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}), false},
		{"icmp_later_fragment", ethFrame(t, layers.EthernetTypeIPv4, icmpFragment, payload), true},
		{"ipv6_tcp_443", ethFrame(t, layers.EthernetTypeIPv6, v6(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443}), true},
		{"ipv6_tcp_22", ethFrame(t, layers.EthernetTypeIPv6, v6(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 22}), false},
		{"ipv6_udp_dns_reply", ethFrame(t, layers.EthernetTypeIPv6, v6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 40000}, payload), true},
		{"icmpv6_reserved", icmp6(0), false},
		{"icmpv6_unreachable", icmp6(1), true},
		{"icmpv6_packet_too_big", icmp6(2), true},
		{"icmpv6_time_exceeded", icmp6(3), true},
		{"icmpv6_parameter_problem", icmp6(4), true},
		{"icmpv6_private_error", icmp6(100), false},
		{"icmpv6_echo_request", icmp6(128), false},
		{"icmpv6_echo_reply", icmp6(129), false},
		{"icmpv6_mld_report", icmp6(131), false},
		{"icmpv6_router_solicitation", icmp6(133), false},
		{"icmpv6_neighbor_solicitation", icmp6(135), false},
		{"icmpv6_neighbor_advertisement", icmp6(136), false},
		{"icmpv6_mldv2_report", icmp6(143), false},
		{"arp", ethFrame(t, layers.EthernetTypeARP, &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: make([]byte, 6), SourceProtAddress: make([]byte, 4), DstHwAddress: make([]byte, 6), DstProtAddress: make([]byte, 4)}), false},
	}
	for _, tc := range tests {
		n, err := vm.Run(tc.frame)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := n > 0; got != tc.keep {
			t.Errorf("%s: kept = %v, want %v", tc.name, got, tc.keep)
		}
	}
}

func TestLiveFilterTooManyPorts(t *testing.T) {
	if _, err := LiveFilter(make([]uint16, 100)); err == nil {
		t.Error("LiveFilter with 100 ports succeeded, want an error")
	}
}

func TestLiveFilterManyPorts(t *testing.T) {
	ports := make([]uint16, 39)
	for i := range ports {
		ports[i] = uint16(8000 + i)
	}
	if _, err := LiveFilter(ports); err != nil {
		t.Errorf("LiveFilter with 39 ports: %v", err)
	}
}

// runWithPacketType runs prog on frame as the kernel would for a frame of
// the given packet type: x/net/bpf's VM has no packet type, so each load of
// it becomes a load of the constant.
func runWithPacketType(t *testing.T, prog []bpf.RawInstruction, pktType uint32, frame []byte) int {
	t.Helper()
	ins := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		ins[i] = r.Disassemble()
		if ext, ok := ins[i].(bpf.LoadExtension); ok && ext.Num == bpf.ExtType {
			ins[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: pktType}
		}
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// On loopback the frames the host sends are rejected (each is received
// too), the ones it receives are judged by the filter as on Ethernet.
func TestRejectOutgoing(t *testing.T) {
	prog, err := LiveFilter([]uint16{443})
	if err != nil {
		t.Fatal(err)
	}
	lo, err := rejectOutgoing(prog)
	if err != nil {
		t.Fatal(err)
	}
	// Loopback frames carry an Ethernet header of zero addresses.
	v4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.ParseIP("127.0.0.1"), DstIP: net.ParseIP("127.0.0.1")}
	syn := ethFrame(t, layers.EthernetTypeIPv4, v4, &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true})
	ssh := ethFrame(t, layers.EthernetTypeIPv4, v4, &layers.TCP{SrcPort: 40000, DstPort: 22, SYN: true})
	// Packet types of linux/if_packet.h.
	const (
		host      = 0
		broadcast = 1
		otherHost = 3
		outgoing  = 4
	)
	tests := []struct {
		name    string
		prog    []bpf.RawInstruction
		pktType uint32
		frame   []byte
		keep    bool
	}{
		{"lo_received", lo, host, syn, true},
		{"lo_sent", lo, outgoing, syn, false},
		{"lo_received_other_port", lo, host, ssh, false},
		{"lo_broadcast", lo, broadcast, syn, true},
		{"lo_other_host", lo, otherHost, syn, true},
		// On Ethernet the host's own packets are what an audit reads.
		{"eth_sent", prog, outgoing, syn, true},
		{"eth_received", prog, host, syn, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := runWithPacketType(t, tc.prog, tc.pktType, tc.frame) > 0; got != tc.keep {
				t.Errorf("filter(packet type %d) kept = %v, want %v", tc.pktType, got, tc.keep)
			}
		})
	}

	// Without a filter of its own, loopback still loses the sent copy.
	all, err := rejectOutgoing(nil)
	if err != nil {
		t.Fatal(err)
	}
	for pktType, keep := range map[uint32]bool{host: true, outgoing: false} {
		if got := runWithPacketType(t, all, pktType, ssh) > 0; got != keep {
			t.Errorf("rejectOutgoing(nil)(packet type %d) kept = %v, want %v", pktType, got, keep)
		}
	}
}
