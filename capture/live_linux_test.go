//go:build linux

package capture

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSocketError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		perm bool
	}{
		{"eperm", unix.EPERM, true},
		{"eacces", unix.EACCES, true},
		{"eafnosupport", unix.EAFNOSUPPORT, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := socketError("eth0", tc.err)
			var pe *PermissionError
			if got := errors.As(err, &pe); got != tc.perm {
				t.Errorf("socketError(%v) = %v: permission error %v, want %v", tc.err, err, got, tc.perm)
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), "eth0") {
				t.Errorf("socketError(%v) = %v, want it to wrap the error and name eth0", tc.err, err)
			}
		})
	}
}

func TestOpenInterfaceUnknown(t *testing.T) {
	_, err := OpenInterface("ea-no-such-if0", nil)
	var ue *UnknownInterfaceError
	if !errors.As(err, &ue) {
		t.Fatalf("OpenInterface(ea-no-such-if0) = %v, want an UnknownInterfaceError", err)
	}
	if !strings.Contains(err.Error(), "lo") {
		t.Errorf("OpenInterface(ea-no-such-if0) = %q, want the list to name lo", err)
	}
}
