package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// LiveFilter returns a BPF program for Ethernet frames that keeps what an
// audit needs and drops the rest in the kernel: ICMP and ICMPv6 errors
// (they name the flows they answer; echoes, neighbour discovery and MLD
// name none), DNS over UDP and TCP, TCP and UDP to or from the given ports
// (the catalog's and the proxy's), and IP fragments (a fragmented DNS
// answer has no ports past its first piece). Frames with an 802.1Q tag are
// kept whole, for the decoder to judge.
func LiveFilter(ports []uint16) ([]bpf.RawInstruction, error) {
	ports = append([]uint16{53}, ports...)
	if len(ports) > 40 {
		return nil, fmt.Errorf("live filter: %d ports, at most 40", len(ports)-1)
	}
	var a asm
	a.op(bpf.LoadAbsolute{Off: 12, Size: 2}) // EtherType
	a.jeq(0x0800, "ipv4", "")
	a.jeq(0x86dd, "ipv6", "")
	a.jeq(0x8100, "accept", "")
	a.jeq(0x88a8, "accept", "reject")

	a.label("ipv4")
	a.op(bpf.LoadAbsolute{Off: 23, Size: 1}) // protocol
	a.jeq(1, "ipv4-icmp", "")
	a.jeq(6, "ipv4-ports", "")
	a.jeq(17, "ipv4-ports", "reject")
	a.label("ipv4-ports")
	a.op(bpf.LoadAbsolute{Off: 20, Size: 2}) // flags and fragment offset
	a.jset(0x1fff, "accept", "")
	a.op(bpf.LoadMemShift{Off: 14}) // X = IPv4 header length
	a.op(bpf.LoadIndirect{Off: 14, Size: 2})
	a.ports(ports, "accept", "")
	a.op(bpf.LoadIndirect{Off: 16, Size: 2})
	a.ports(ports, "accept", "reject")

	// RFC 792 and RFC 1122, Section 3.2.2: destination unreachable (3),
	// source quench (4), redirect (5), time exceeded (11) and parameter
	// problem (12) quote the datagram they answer.
	a.label("ipv4-icmp")
	a.op(bpf.LoadAbsolute{Off: 20, Size: 2})
	a.jset(0x1fff, "accept", "") // a later fragment carries no type
	a.op(bpf.LoadMemShift{Off: 14})
	a.op(bpf.LoadIndirect{Off: 14, Size: 1}) // ICMP type
	a.ports([]uint16{3, 4, 5, 11, 12}, "accept", "reject")

	a.label("ipv6")
	a.op(bpf.LoadAbsolute{Off: 20, Size: 1}) // next header
	a.jeq(58, "ipv6-icmp", "")
	a.jeq(44, "accept", "")
	a.jeq(6, "ipv6-ports", "")
	a.jeq(17, "ipv6-ports", "reject")

	// RFC 4443, Section 2.1: the error messages are types 1 to 4
	// (unreachable, packet too big, time exceeded, parameter problem).
	a.label("ipv6-icmp")
	a.op(bpf.LoadAbsolute{Off: 54, Size: 1}) // ICMPv6 type
	a.jeq(0, "reject", "")
	a.jgt(4, "reject", "accept")

	a.label("ipv6-ports")
	a.op(bpf.LoadAbsolute{Off: 54, Size: 2})
	a.ports(ports, "accept", "")
	a.op(bpf.LoadAbsolute{Off: 56, Size: 2})
	a.ports(ports, "accept", "reject")

	a.label("accept")
	a.op(bpf.RetConstant{Val: filterSnaplen})
	a.label("reject")
	a.op(bpf.RetConstant{Val: 0})
	return a.assemble()
}

// packetOutgoing is the packet type of a frame the host sends
// (PACKET_OUTGOING in linux/if_packet.h).
const packetOutgoing = 4

// rejectOutgoing returns prog preceded by a test that rejects the frames
// the host sends, by the packet type the kernel gives the filter (the
// ancillary field SKF_AD_PKTTYPE). On loopback every frame is handed to a
// packet socket twice, once sent and once received; libpcap drops the sent
// copy the same way, so that a capture on lo shows each packet once. An
// empty prog keeps every other frame.
func rejectOutgoing(prog []bpf.RawInstruction) ([]bpf.RawInstruction, error) {
	head, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		return nil, fmt.Errorf("live filter: %w", err)
	}
	if len(prog) == 0 {
		raw, err := bpf.RetConstant{Val: filterSnaplen}.Assemble()
		if err != nil {
			return nil, fmt.Errorf("live filter: %w", err)
		}
		prog = []bpf.RawInstruction{raw}
	}
	return append(head, prog...), nil
}

// filterSnaplen is what the filter keeps of a frame it accepts: all of it
// (the socket's own snaplen cuts it, if anything).
const filterSnaplen = 262144

// asm is a tiny assembler for BPF programs with named jump targets; "" as
// a target means the next instruction.
type asm struct {
	ins    []bpf.Instruction
	jumps  map[int][2]string // instruction -> true and false targets
	labels map[string]int
}

func (a *asm) op(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) jump(i bpf.JumpIf, t, f string) {
	if a.jumps == nil {
		a.jumps = make(map[int][2]string)
	}
	a.jumps[len(a.ins)] = [2]string{t, f}
	a.ins = append(a.ins, i)
}

func (a *asm) jeq(v uint32, t, f string)  { a.jump(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, t, f) }
func (a *asm) jset(v uint32, t, f string) { a.jump(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v}, t, f) }
func (a *asm) jgt(v uint32, t, f string)  { a.jump(bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: v}, t, f) }

// ports jumps to t when A holds one of ports (or of any small values, such
// as ICMP types), else to f.
func (a *asm) ports(ports []uint16, t, f string) {
	for i, p := range ports {
		if i == len(ports)-1 {
			a.jeq(uint32(p), t, f)
		} else {
			a.jeq(uint32(p), t, "")
		}
	}
}

func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	for at, targets := range a.jumps {
		j := a.ins[at].(bpf.JumpIf)
		for k, name := range targets {
			skip := 0
			if name != "" {
				to, ok := a.labels[name]
				if !ok {
					return nil, fmt.Errorf("live filter: no label %q", name)
				}
				skip = to - at - 1
			}
			if skip < 0 || skip > 255 {
				return nil, fmt.Errorf("live filter: jump of %d instructions", skip)
			}
			if k == 0 {
				j.SkipTrue = uint8(skip)
			} else {
				j.SkipFalse = uint8(skip)
			}
		}
		a.ins[at] = j
	}
	return bpf.Assemble(a.ins)
}
