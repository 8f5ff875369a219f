//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/google/gopacket"
	"golang.org/x/sys/unix"
)

// packetSocket is an AF_PACKET socket bound to one interface, reading both
// directions, with the VLAN tag the kernel took off each frame (PACKET_AUXDATA) and
// its arrival time (SO_TIMESTAMPNS). It is what gopacket's pcapgo EthernetHandle is,
// without pcapgo's import of gopacket/layers, whose tables are built at the start of
// every process that links it: 10-40 ms of each cron "poll --once", for a capture it
// never takes.
type packetSocket struct {
	fd      int
	buf     []byte
	oob     []byte
	ancil   []any
	ifindex int
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// readBuffer is the largest frame a socket reads whole: GSO and GRO hand the socket
// frames far above the MTU.
const readBuffer = MaxSnapLen

// openPacketSocket opens and binds the socket of the interface named iface.
func openPacketSocket(iface string) (*packetSocket, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", iface, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind packet socket to %s: %w", iface, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("packet socket: auxiliary data: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) // else the time read
	return &packetSocket{fd: fd, buf: make([]byte, readBuffer), oob: make([]byte, 256), ancil: make([]any, 1),
		ifindex: ifc.Index}, nil
}

// readOne reads a frame into s.buf.
func (s *packetSocket) readOne() (gopacket.CaptureInfo, int, bool, error) {
	n, oobn, _, _, err := unix.Recvmsg(s.fd, s.buf, s.oob, unix.MSG_TRUNC)
	if err != nil {
		return gopacket.CaptureInfo{}, 0, false, fmt.Errorf("read packet: %w", err)
	}
	ci := gopacket.CaptureInfo{CaptureLength: min(n, len(s.buf)), Length: n, InterfaceIndex: s.ifindex}
	var vlan int
	var tagged bool
	msgs, err := unix.ParseSocketControlMessage(s.oob[:oobn])
	if err == nil {
		for _, m := range msgs {
			switch {
			case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= 20:
				// struct tpacket_auxdata: status, len, snaplen (u32); mac, net,
				// vlan_tci, vlan_tpid (u16).
				status := binary.NativeEndian.Uint32(m.Data[0:])
				ci.Length = int(binary.NativeEndian.Uint32(m.Data[4:]))
				vlan = int(binary.NativeEndian.Uint16(m.Data[16:]))
				tagged = status&unix.TP_STATUS_VLAN_VALID != 0
			case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16:
				ci.Timestamp = time.Unix(int64(binary.NativeEndian.Uint64(m.Data[0:])), int64(binary.NativeEndian.Uint64(m.Data[8:])))
			}
		}
	}
	if ci.Timestamp.IsZero() {
		ci.Timestamp = time.Now()
	}
	return ci, vlan, tagged, nil
}

// ReadPacketData reads a frame into a buffer of its own.
func (s *packetSocket) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, err
	}
	return append([]byte(nil), data...), ci, nil
}

// ZeroCopyReadPacketData reads a frame into the socket's buffer, valid until the
// next read.
func (s *packetSocket) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	if s.fd < 0 {
		return nil, gopacket.CaptureInfo{}, errors.New("read packet: socket closed")
	}
	ci, vlan, tagged, err := s.readOne()
	if err != nil {
		return nil, ci, err
	}
	if tagged {
		s.ancil[0] = vlan
		ci.AncillaryData = s.ancil
	}
	return s.buf[:ci.CaptureLength], ci, nil
}

// Close closes the socket.
func (s *packetSocket) Close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// Stats reads the kernel's counts of the socket (and resets them).
func (s *packetSocket) Stats() (*unix.TpacketStats, error) {
	return unix.GetsockoptTpacketStats(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
}
