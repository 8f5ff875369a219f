package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// socketBuffer is the receive buffer asked of the kernel for each socket: exporters
// send in bursts (a router flushing its cache), and what the buffer cannot hold is
// dropped by the kernel before anyone sees it.
const socketBuffer = 8 << 20

// Exporter is what a Collector knows of one exporter (by source address).
type Exporter struct {
	Addr      netip.Addr
	Datagrams uint64
	Records   uint64
	Errors    uint64 // datagrams refused (see the Decoder's Stats for the reasons)
	LastSeen  time.Time
}

// Collector receives flow export datagrams on UDP sockets, decodes them with one
// Decoder and hands every record to its sink, in the order each socket received them.
// A datagram that cannot be decoded is counted and logged (once per exporter and
// reason a minute at most), never fatal.
type Collector struct {
	dec   *Decoder
	conns []*net.UDPConn
	sink  func(Record)
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	exporters map[netip.Addr]*Exporter
	logged    map[string]time.Time // "exporter reason" of the last error logged
}

// Listen opens a UDP socket on each address ("127.0.0.1:2055", "[::1]:4739") and
// returns a Collector that hands records to sink once Run is called. sink is called
// from one goroutine per socket.
func Listen(addrs []string, sink func(Record), log *slog.Logger) (*Collector, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{dec: NewDecoder(), sink: sink, log: log, now: time.Now,
		exporters: map[netip.Addr]*Exporter{}, logged: map[string]time.Time{}}
	for _, a := range addrs {
		ua, err := net.ResolveUDPAddr("udp", a)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("flows: listen %q: %w", a, err)
		}
		conn, err := net.ListenUDP("udp", ua)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("flows: %w", err)
		}
		if err := conn.SetReadBuffer(socketBuffer); err != nil {
			log.Warn("flows: socket receive buffer not enlarged", "addr", a, "err", err)
		}
		c.conns = append(c.conns, conn)
	}
	return c, nil
}

// Addrs are the addresses listened on (with the ports the kernel chose for ":0").
func (c *Collector) Addrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, conn := range c.conns {
		out = append(out, conn.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	return out
}

// Decoder is the Collector's decoder, for its statistics.
func (c *Collector) Decoder() *Decoder { return c.dec }

// Run receives until ctx is done, then closes the sockets. Every second it has the
// Decoder drop the data sets held too long for a template, so that an exporter that
// fell silent has them counted.
func (c *Collector) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, conn := range c.conns {
		wg.Go(func() { c.receive(conn) })
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-tick.C:
			c.dec.Expire(c.now())
		case <-ctx.Done():
			done = true
		}
	}
	c.Close()
	wg.Wait()
	return nil
}

// Close closes the sockets; Run returns.
func (c *Collector) Close() {
	for _, conn := range c.conns {
		_ = conn.Close()
	}
}

func (c *Collector) receive(conn *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.log.Error("flows: receive", "addr", conn.LocalAddr(), "err", err)
			}
			return
		}
		at := c.now()
		records := uint64(0)
		err = c.dec.Decode(buf[:n], from, at, func(r Record) {
			records++
			c.sink(r)
		})
		c.account(from, at, records, err)
	}
}

func (c *Collector) account(from netip.AddrPort, at time.Time, records uint64, err error) {
	addr := from.Addr().Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.exporters[addr]
	if e == nil {
		e = &Exporter{Addr: addr}
		c.exporters[addr] = e
		c.log.Info("flows: new exporter", "exporter", addr)
	}
	e.Datagrams++
	e.Records += records
	e.LastSeen = at
	if err == nil {
		return
	}
	e.Errors++
	var de *Error
	reason := "error"
	if errors.As(err, &de) {
		reason = de.Reason
	}
	key := addr.String() + " " + reason
	if at.Sub(c.logged[key]) >= time.Minute {
		c.logged[key] = at
		c.log.Warn("flows: datagram not decoded", "exporter", addr, "reason", reason, "err", err)
	}
}

// Exporters returns what is known of every exporter heard from, by address.
func (c *Collector) Exporters() []Exporter {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Exporter, 0, len(c.exporters))
	for _, e := range c.exporters {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Exporter) int { return a.Addr.Compare(b.Addr) })
	return out
}
