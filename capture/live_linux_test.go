//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

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

// A capture on loopback reads each packet once, as tcpdump does, although
// the kernel hands a packet socket every loopback frame twice (sent and
// received). It runs in a network namespace of its own, so that nothing
// else on lo is counted; it needs root.
func TestOpenInterfaceLoopbackOnce(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capture on loopback: needs root, for a network namespace and a packet socket")
	}
	const port = 4433
	const sent = 4
	type result struct {
		frames int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		// The thread stays in the namespace and ends with the goroutine:
		// it is never unlocked.
		runtime.LockOSThread()
		n, err := loopbackFrames(port, sent)
		done <- result{n, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("capture on loopback did not end")
	}
	if errors.Is(res.err, unix.EPERM) {
		t.Skipf("capture on loopback: %v", res.err)
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.frames != sent {
		t.Errorf("capture on lo read %d frames of %d datagrams sent, want each once", res.frames, sent)
	}
}

// loopbackFrames moves the calling thread into a new network namespace,
// brings its lo up, captures on it while sending n UDP datagrams to
// 127.0.0.1:port, and returns the count of frames read to that port.
func loopbackFrames(port uint16, n int) (int, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return 0, fmt.Errorf("new network namespace: %w", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return 0, fmt.Errorf("lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return 0, fmt.Errorf("lo up: %w", err)
	}

	filter, err := LiveFilter([]uint16{port})
	if err != nil {
		return 0, err
	}
	c, err := OpenInterface("lo", filter)
	if err != nil {
		return 0, err
	}
	frames := make(chan int)
	go func() {
		count := 0
		for {
			data, _, err := c.ReadPacket()
			if err != nil {
				frames <- count
				return
			}
			// Ethernet (14 bytes), IPv4 without options (20), UDP.
			if len(data) >= 38 && data[23] == 17 && binary.BigEndian.Uint16(data[36:38]) == port {
				count++
			}
		}
	}()

	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)}
	ln, err := net.ListenUDP("udp4", addr)
	if err != nil {
		c.Close()
		return 0, err
	}
	defer ln.Close()
	conn, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		c.Close()
		return 0, err
	}
	defer conn.Close()
	for i := 0; i < n; i++ {
		if _, err := conn.Write([]byte("ping")); err != nil {
			c.Close()
			return 0, err
		}
	}
	// Loopback delivers at once; the wait is for the reading goroutine.
	time.Sleep(300 * time.Millisecond)
	c.Close()
	return <-frames, nil
}
