package ipfixexport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Exporter sends one observation domain's messages over UDP from a fixed source
// address to a collector, as a router's exporting process does.
type Exporter struct {
	conn *net.UDPConn
	to   netip.AddrPort
	enc  *Encoder
}

// Dial opens a UDP socket on local (a port of 0 lets the kernel choose) for sending
// to the collector. The socket is not connected: a collector not yet listening makes
// the kernel drop datagrams, not fail the next send.
func Dial(local, collector netip.AddrPort, domain uint32, o *Options) (*Exporter, error) {
	enc, err := NewEncoder(domain, o)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("ipfix exporter: %w", err)
	}
	return &Exporter{conn: conn, to: collector, enc: enc}, nil
}

// LocalAddr is the source address and port of the exports.
func (x *Exporter) LocalAddr() netip.AddrPort {
	return x.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Sequence is the sequence number of the next message (see Encoder.Sequence).
func (x *Exporter) Sequence() uint32 { return x.enc.Sequence() }

// Export encodes recs as messages exported at now and sends them, and returns the
// number of datagrams sent. It stops at the first send that fails; the records of the
// messages not sent still count in the sequence numbers, as lost datagrams do.
func (x *Exporter) Export(now time.Time, recs []Record) (int, error) {
	msgs, err := x.enc.Encode(now, recs)
	if err != nil {
		return 0, err
	}
	for i, m := range msgs {
		if _, err := x.conn.WriteToUDPAddrPort(m, x.to); err != nil {
			return i, fmt.Errorf("ipfix export to %s: %w", x.to, err)
		}
	}
	return len(msgs), nil
}

// Close closes the socket.
func (x *Exporter) Close() error {
	if err := x.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("ipfix exporter: %w", err)
	}
	return nil
}
