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

// checkInterface returns an [*UnknownInterfaceError] when list does not
// hold name. An error from list itself is returned as it is.
func checkInterface(name string, list func() ([]net.Interface, error)) error {
	ifs, err := list()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	var names []string
	for _, ifc := range ifs {
		if ifc.Name == name {
			return nil
		}
		names = append(names, ifc.Name)
	}
	return &UnknownInterfaceError{Name: name, Available: names}
}
