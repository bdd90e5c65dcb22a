//go:build !linux

package capture

import (
	"errors"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Interface is a live capture on one network interface. Only Linux has
// one: elsewhere [OpenInterface] fails.
type Interface struct{}

// errNoLive is the error of [OpenInterface] where live capture is missing.
var errNoLive = errors.New("live capture needs Linux (an AF_PACKET socket); capture with tcpdump and audit the file instead")

// OpenInterface fails with an [*UnknownInterfaceError] for a missing
// interface, and otherwise because live capture needs Linux.
func OpenInterface(name string, filter []bpf.RawInstruction) (*Interface, error) {
	if _, err := checkInterface(name, net.Interfaces); err != nil {
		return nil, err
	}
	return nil, errNoLive
}

// LinkType returns the link type of the frames read.
func (c *Interface) LinkType() layers.LinkType { return layers.LinkTypeEthernet }

// Snaplen returns the most bytes of a frame the capture keeps.
func (c *Interface) Snaplen() int { return 0 }

// ReadPacket fails: there is no live capture here.
func (c *Interface) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return nil, gopacket.CaptureInfo{}, errNoLive
}

// Dropped returns 0.
func (c *Interface) Dropped() (uint64, error) { return 0, nil }

// Close does nothing.
func (c *Interface) Close() error { return nil }
