//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Interface is a live capture on one network interface through an
// AF_PACKET socket (no libpcap), with a BPF filter in the kernel. ReadPacket
// and Dropped may be called from different goroutines; Close ends a
// ReadPacket that waits.
type Interface struct {
	name    string
	h       *pcapgo.EthernetHandle
	dropped uint64
	snaplen int
}

// OpenInterface opens a live capture on the interface name, keeping only
// the frames filter accepts (see [LiveFilter]). On a loopback interface
// the frames the host sends are rejected too, as each is also received.
// A missing interface is an [*UnknownInterfaceError], a socket the process
// may not open a [*PermissionError].
func OpenInterface(name string, filter []bpf.RawInstruction) (*Interface, error) {
	loopback, err := checkInterface(name, net.Interfaces)
	if err != nil {
		return nil, err
	}
	if loopback {
		if filter, err = rejectOutgoing(filter); err != nil {
			return nil, err
		}
	}
	// pcapgo formats the socket's error as text: open one first to learn
	// whether privilege is what is missing.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError(name, err)
	}
	unix.Close(fd)
	h, err := pcapgo.NewEthernetHandle(name)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	if err := h.SetBPF(filter); err != nil {
		h.Close()
		return nil, fmt.Errorf("capture on %s: attach filter: %w", name, err)
	}
	return &Interface{name: name, h: h, snaplen: h.GetCaptureLength()}, nil
}

// LinkType returns the link type of the frames read: Ethernet.
func (c *Interface) LinkType() layers.LinkType { return layers.LinkTypeEthernet }

// Snaplen returns the most bytes of a frame the capture keeps.
func (c *Interface) Snaplen() int { return c.snaplen }

// ReadPacket waits for the next frame and returns a copy of it.
func (c *Interface) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	return c.h.ReadPacketData()
}

// Dropped returns how many frames the kernel dropped so far because the
// socket's buffer was full. It is not safe for concurrent use with itself.
func (c *Interface) Dropped() (uint64, error) {
	st, err := c.h.Stats()
	if err != nil {
		return c.dropped, fmt.Errorf("capture on %s: statistics: %w", c.name, err)
	}
	// The socket's counters restart at every reading.
	c.dropped += uint64(st.Drops)
	return c.dropped, nil
}

// Close closes the socket.
func (c *Interface) Close() error { return c.h.Close() }

// socketError explains a failure to open a packet socket: privilege, or
// anything else.
func socketError(name string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &PermissionError{Interface: name, Err: err}
	}
	return fmt.Errorf("capture on %s: open packet socket: %w", name, err)
}
