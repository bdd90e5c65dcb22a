package capture

import (
	"fmt"
	"net"
	"strings"
)

// PermissionError reports that the process may not open a packet socket.
type PermissionError struct {
	Interface string
	Err       error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("capture on %s: %v: a live capture needs the CAP_NET_RAW capability (or root); "+
		"run it with sudo, or grant the capability to the binary once: "+
		"sudo setcap cap_net_raw+ep \"$(command -v egress-audit)\"", e.Interface, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// UnknownInterfaceError reports an interface name the system does not
// have, with the names it has.
type UnknownInterfaceError struct {
	Name      string
	Available []string
}

func (e *UnknownInterfaceError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("interface %q: no such interface, and none is available", e.Name)
	}
	return fmt.Sprintf("interface %q: no such interface: want one of %s", e.Name, strings.Join(e.Available, ", "))
}

// checkInterface reports whether the interface name that list holds is a
// loopback interface, and returns an [*UnknownInterfaceError] when list
// does not hold it. An error from list itself is wrapped.
func checkInterface(name string, list func() ([]net.Interface, error)) (loopback bool, err error) {
	ifs, err := list()
	if err != nil {
		return false, fmt.Errorf("list interfaces: %w", err)
	}
	var names []string
	for _, ifc := range ifs {
		if ifc.Name != name {
			continue
		}
		// TODO(live): frames of interfaces without a link-layer address
		// other than loopback (tun, WireGuard, PPP) start at the IP header, which neither the
		// filter nor the decoder expect; reading them needs the socket's
		// link type and a filter without the Ethernet offsets.
		if len(ifc.HardwareAddr) == 0 && ifc.Flags&net.FlagLoopback == 0 {
			return false, fmt.Errorf("interface %q has no Ethernet header (a tunnel?): live capture reads Ethernet interfaces only; capture it with tcpdump -i %s -w FILE and audit the file", name, name)
		}
		return ifc.Flags&net.FlagLoopback != 0, nil
	}
	for _, ifc := range ifs {
		names = append(names, ifc.Name)
	}
	return false, &UnknownInterfaceError{Name: name, Available: names}
}
