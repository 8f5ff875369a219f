//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// rcvBuf is the receive buffer a capture asks for its socket (the kernel's default
// is about 200 KiB): room for a burst while the capture writes.
const rcvBuf = 4 << 20

// openEthernet is the default Options.Open: an AF_PACKET socket on the interface,
// both directions, in the calling thread's network namespace.
func openEthernet(iface string) (Source, error) {
	s, err := openPacketSocket(iface)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkInterface reports an interface that does not exist, or whose frames have no
// Ethernet header (a tun device, WireGuard): the files are of link type Ethernet.
func checkInterface(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return fmt.Errorf("interface %s: %w", name, err)
	}
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		return nil // no sysfs here: the socket will tell
	}
	switch t := strings.TrimSpace(string(b)); t {
	case "1", "772": // ARPHRD_ETHER (Ethernet, veth, bridge, bond, VLAN), ARPHRD_LOOPBACK
		return nil
	default:
		return fmt.Errorf("interface %s carries no Ethernet frames (ARPHRD type %s)", name, t)
	}
}

// pollWaiter waits on a packet socket and an eventfd that wake writes.
type pollWaiter struct {
	fds [2]unix.PollFd // the socket, the eventfd
}

// newWaiter returns a waiter for a packet socket of openEthernet, which it makes
// non-blocking, and nil for another Source (which must unblock on Close).
func newWaiter(src Source) (waiter, error) {
	ps, ok := src.(*packetSocket)
	if !ok {
		return nil, nil
	}
	if ps == nil || ps.fd < 0 {
		return nil, errors.New("a closed packet socket")
	}
	fd := ps.fd
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf) // up to net.core.rmem_max
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &pollWaiter{fds: [2]unix.PollFd{
		{Fd: int32(fd), Events: unix.POLLIN},
		{Fd: int32(efd), Events: unix.POLLIN},
	}}, nil
}

// maxPoll bounds one poll's timeout (poll takes milliseconds in a C int).
const maxPoll = time.Hour

func (w *pollWaiter) wait(deadline time.Time) (bool, error) {
	for {
		d := min(time.Until(deadline), maxPoll)
		if d <= 0 {
			return false, nil
		}
		w.fds[0].Revents, w.fds[1].Revents = 0, 0
		n, err := unix.Poll(w.fds[:], int((d+time.Millisecond-1)/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, err
		}
		if n == 0 || w.fds[1].Revents != 0 {
			return false, nil
		}
		return w.fds[0].Revents != 0, nil
	}
}

// wake makes the eventfd readable for good: every later wait returns at once.
func (w *pollWaiter) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(int(w.fds[1].Fd), one[:])
}

func (w *pollWaiter) close() { unix.Close(int(w.fds[1].Fd)) }

// kernelDrops reads the frames the kernel dropped on src's socket since the last
// call (PACKET_STATISTICS resets at each read).
func kernelDrops(src Source) (uint64, bool) {
	s, ok := src.(interface {
		Stats() (*unix.TpacketStats, error)
	})
	if !ok {
		return 0, false
	}
	st, err := s.Stats()
	if err != nil {
		return 0, false
	}
	return uint64(st.Drops), true
}
