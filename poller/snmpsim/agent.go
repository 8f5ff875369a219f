package snmpsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// DefaultUptime is how long before Start an agent pretends to have booted
// when Options.BootTime is zero: long enough to back-fill a year of history
// from one boot, short enough that sysUpTime (32-bit hundredths of a
// second, wrapping after 497 days) has not wrapped.
const DefaultUptime = 400 * 24 * time.Hour

// DefaultMaxResponseSize is the largest response an agent sends before
// SetMaxResponseSize lowers it: what fits in one UDP datagram.
const DefaultMaxResponseSize = 65507

// maxRequestSize bounds the requests an agent reads (longer datagrams are
// truncated and dropped as malformed): a 60-OID GET is about 2 KB, and
// a smaller buffer keeps 1,000 idle agents small.
const maxRequestSize = 16384

// Options tunes an agent. A nil *Options means all defaults.
type Options struct {
	// Now is the agent's clock; nil means time.Now. Every value the agent
	// serves (sysUpTime, counters) is computed from it.
	Now func() time.Time
	// Logger receives request errors at debug level; nil discards them.
	Logger *slog.Logger
	// BootTime is when the device last booted; zero means Now() minus
	// DefaultUptime at Start.
	BootTime time.Time
}

// iface is the static, computed part of an interface.
type iface struct {
	cfg          Interface
	descr        string
	ifType, mtu  int
	mac          string // ifPhysAddress octets
	shape        phases
	in, out      profile
	inPkt, outPk float64 // mean packet sizes in octets
}

// Agent serves one simulated device on one UDP socket. Its fault methods
// are safe to call while it serves.
type Agent struct {
	conn   *net.UDPConn
	dev    DeviceConfig
	now    func() time.Time
	log    *slog.Logger
	offset int64 // seconds east of UTC of the daily rhythm
	ifs    []iface
	cols   []column
	// objectID is sysObjectID, parsed.
	objectID []uint32

	mu          sync.RWMutex
	boot        time.Time
	bootMarks   [][2]mark // per interface, the integral at boot for in and out
	cleared     map[int]time.Time
	indexes     []int       // by position: current ifIndex
	sorted      []int       // current ifIndexes, ascending
	posOf       map[int]int // ifIndex → position
	tableChange time.Time   // last renumbering; zero: none since boot
	// frozen holds the counters of dead twins: positions past the configured
	// interfaces, each a deleted interface the agent keeps under its name (down,
	// counters frozen) until it restarts, as net-snmp does.
	frozen  map[int][2]uint64
	only32  bool
	silent  bool
	delay   time.Duration
	maxSize int

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (a loopback address such as "127.0.0.1:0") and
// serves dev until ctx is done or Close is called.
func Start(ctx context.Context, addr string, dev DeviceConfig, opts *Options) (*Agent, error) {
	if err := dev.validate(); err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("start agent %s: resolve %q: %w", dev.Name, addr, err)
	}
	if udpAddr.IP == nil || !udpAddr.IP.IsLoopback() {
		return nil, fmt.Errorf("start agent %s: address %q is not loopback", dev.Name, addr)
	}
	a := newAgent(dev, opts)
	conn, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("start agent %s: listen: %w", dev.Name, err)
	}
	a.conn = conn
	a.wg.Add(1)
	go a.serve()
	go func() {
		select {
		case <-ctx.Done():
			_ = a.Close()
		case <-a.done:
		}
	}()
	return a, nil
}

// newAgent builds the agent's state without a socket.
func newAgent(dev DeviceConfig, opts *Options) *Agent {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if dev.Community == "" {
		dev.Community = "public"
	}
	if dev.Descr == "" {
		dev.Descr = "mrtgo snmpsim simulated device " + dev.Name
	}
	if dev.ObjectID == "" {
		dev.ObjectID = ".1.3.6.1.4.1.8072.3.2.10"
	}
	a := &Agent{
		dev:     dev,
		now:     o.Now,
		log:     o.Logger.With("device", dev.Name),
		offset:  dev.zoneOffset(),
		ifs:     make([]iface, len(dev.Interfaces)),
		cols:    mibColumns(),
		maxSize: DefaultMaxResponseSize,
		done:    make(chan struct{}),
	}
	a.objectID, _ = parseOID(dev.ObjectID) // checked by validate
	for i, cfg := range dev.Interfaces {
		a.ifs[i] = newIface(uint64(dev.Seed), i, cfg)
	}
	a.indexes = make([]int, len(dev.Interfaces))
	for i := range a.indexes {
		a.indexes[i] = dev.ifIndex(i)
	}
	a.reindex()
	boot := o.BootTime
	if boot.IsZero() {
		boot = o.Now().Add(-DefaultUptime)
	}
	a.setBoot(boot)
	return a
}

func newIface(seed uint64, pos int, cfg Interface) iface {
	key := mix(seed*0x2545f4914f6cdd1d ^ uint64(pos)*0x9e3779b97f4a7c15)
	f := iface{cfg: cfg, descr: cfg.Descr, ifType: cfg.Type, mtu: cfg.MTU, mac: string(cfg.MAC)}
	if f.descr == "" {
		f.descr = cfg.Name
	}
	if f.ifType == 0 {
		f.ifType = 6
	}
	if f.mtu == 0 {
		f.mtu = 1500
	}
	if cfg.MAC == nil {
		h := mix(key ^ 0xac)
		f.mac = string([]byte{0x02, byte(h >> 32), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)})
	}
	inBps, outBps := cfg.MeanBps, cfg.MeanOutBps
	if outBps == 0 {
		outBps = inBps * (0.5 + 0.4*unitFloat(mix(key^0x07)))
	}
	if !cfg.Up {
		inBps, outBps = 0, 0
	}
	f.shape = newPhases(key)
	f.in = newProfile(inBps, cfg.Speed, mix(key^1), &f.shape)
	f.out = newProfile(outBps, cfg.Speed, mix(key^2), &f.shape)
	f.inPkt = 400 + 800*unitFloat(mix(key^3))
	f.outPk = 400 + 800*unitFloat(mix(key^4))
	return f
}

// setBoot records a boot at t: counters restart at zero. Callers hold mu
// (or own the agent exclusively).
func (a *Agent) setBoot(t time.Time) {
	a.boot = t
	a.cleared = nil
	a.tableChange = time.Time{}
	in := at(t, a.offset)
	if a.bootMarks == nil {
		a.bootMarks = make([][2]mark, len(a.ifs))
	}
	for i := range a.ifs {
		a.bootMarks[i] = a.ifs[i].marks(in)
	}
}

// reindex rebuilds the ifIndex lookups from a.indexes.
func (a *Agent) reindex() {
	a.sorted = slices.Clone(a.indexes)
	slices.Sort(a.sorted)
	a.posOf = make(map[int]int, len(a.indexes))
	for pos, idx := range a.indexes {
		a.posOf[idx] = pos
	}
}

// Addr returns the address the agent listens on.
func (a *Agent) Addr() *net.UDPAddr {
	return a.conn.LocalAddr().(*net.UDPAddr)
}

// Port returns the UDP port the agent listens on.
func (a *Agent) Port() int {
	return a.Addr().Port
}

// Name returns the device name.
func (a *Agent) Name() string {
	return a.dev.Name
}

// Community returns the read community the agent answers.
func (a *Agent) Community() string {
	return a.dev.Community
}

// Close stops the agent and waits for its goroutines.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		close(a.done)
		if err := a.conn.Close(); err != nil {
			a.closeErr = fmt.Errorf("close agent %s: %w", a.dev.Name, err)
		}
		a.wg.Wait()
	})
	return a.closeErr
}

func (a *Agent) serve() {
	defer a.wg.Done()
	buf := make([]byte, maxRequestSize)
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.log.Debug("read request", "err", err)
			continue
		}
		resp := a.handle(buf[:n])
		if resp == nil {
			continue
		}
		a.mu.RLock()
		delay := a.delay
		a.mu.RUnlock()
		if delay <= 0 {
			a.send(resp, from)
			continue
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
				a.send(resp, from)
			case <-a.done:
			}
		}()
	}
}

func (a *Agent) send(resp []byte, to *net.UDPAddr) {
	if _, err := a.conn.WriteToUDP(resp, to); err != nil && !errors.Is(err, net.ErrClosed) {
		a.log.Debug("send response", "err", err)
	}
}

// Counters returns the 64-bit octet counters of the interface that has
// ifIndex now, as the agent serves them at t (zero before the last boot or
// for an unknown ifIndex). It is deterministic and takes constant time, so
// history can be back-filled from it.
func (a *Agent) Counters(ifIndex int, t time.Time) (in, out uint64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	pos, ok := a.posOf[ifIndex]
	if !ok {
		return 0, 0
	}
	return a.octets(pos, t)
}

// octets is the counter pair of position pos at t. Callers hold mu.
func (a *Agent) octets(pos int, t time.Time) (in, out uint64) {
	if c, ok := a.frozen[pos]; ok {
		return c[0], c[1]
	}
	f := &a.ifs[pos]
	start, base := a.boot, a.bootMarks[pos]
	if c, ok := a.cleared[pos]; ok {
		start, base = c, f.marks(at(c, a.offset))
	}
	if !t.After(start) {
		return 0, 0
	}
	now := f.marks(at(t, a.offset))
	return octetsBetween(base[0], now[0]), octetsBetween(base[1], now[1])
}

// marks is the integral of in and out traffic up to x.
func (f *iface) marks(x instant) [2]mark {
	frac := f.shape.fraction(x)
	return [2]mark{f.in.mark(x, frac), f.out.mark(x, frac)}
}

// Rate returns the instantaneous traffic of the interface that has ifIndex
// now, in bits per second, at t (zero for an unknown ifIndex).
func (a *Agent) Rate(ifIndex int, t time.Time) (in, out float64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	pos, ok := a.posOf[ifIndex]
	if !ok {
		return 0, 0
	}
	f := &a.ifs[pos]
	x := at(t, a.offset)
	level := f.shape.level(x)
	return 8 * f.in.rate(x, level), 8 * f.out.rate(x, level)
}

// IfIndex returns the current ifIndex of the interface named name.
func (a *Agent) IfIndex(name string) (int, bool) {
	for pos, f := range a.ifs {
		if f.cfg.Name == name {
			a.mu.RLock()
			defer a.mu.RUnlock()
			return a.indexes[pos], true
		}
	}
	return 0, false
}

// Indexes returns the current ifIndex of every interface, in configuration
// order.
func (a *Agent) Indexes() []int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return slices.Clone(a.indexes[:len(a.dev.Interfaces)])
}

// BootTime returns when the agent last booted.
func (a *Agent) BootTime() time.Time {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.boot
}

// Reboot restarts the simulated device now: sysUpTime and every counter
// start again from zero, and cleared counters, renumbering and dead twins
// are forgotten (interfaces keep their current ifIndex).
func (a *Agent) Reboot() {
	t := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.dev.Interfaces)
	a.ifs, a.indexes, a.frozen = a.ifs[:n], a.indexes[:n], nil
	a.bootMarks = a.bootMarks[:n]
	a.reindex()
	a.setBoot(t)
}

// Recreate deletes the interface named name and creates it again now, as
// when a tunnel, VLAN or LAG member is rebuilt, the way net-snmp shows it: the
// deleted row stays in the interface table under the same name, admin and
// oper down with its counters frozen, until the agent restarts; the new one
// gets the next free ifIndex, counters from zero and an
// ifCounterDiscontinuityTime of now. ifNumber grows by one and
// ifTableLastChange moves. It returns the dead twin's ifIndex and the new one.
func (a *Agent) Recreate(name string) (dead, live int, err error) {
	t := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	pos := -1
	for p := range a.dev.Interfaces {
		if a.ifs[p].cfg.Name == name {
			pos = p
			break
		}
	}
	if pos < 0 {
		return 0, 0, fmt.Errorf("recreate %s %s: no such interface", a.dev.Name, name)
	}
	twin := a.ifs[pos]
	twin.cfg.Up = false
	in, out := a.octets(pos, t)
	dead = a.indexes[pos]
	live = a.sorted[len(a.sorted)-1] + 1
	if a.frozen == nil {
		a.frozen = map[int][2]uint64{}
	}
	a.frozen[len(a.ifs)] = [2]uint64{in, out}
	a.ifs = append(a.ifs, twin)
	a.bootMarks = append(a.bootMarks, a.bootMarks[pos])
	a.indexes = append(a.indexes, dead)
	a.indexes[pos] = live
	a.reindex()
	if a.cleared == nil {
		a.cleared = make(map[int]time.Time)
	}
	a.cleared[pos] = t
	a.tableChange = t
	return dead, live, nil
}

// ClearCounters resets the counters of the interface with ifIndex to zero
// now, like "clear counters" on a router, and sets its
// ifCounterDiscontinuityTime to the current sysUpTime.
func (a *Agent) ClearCounters(ifIndex int) error {
	t := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	pos, ok := a.posOf[ifIndex]
	if !ok {
		return fmt.Errorf("clear counters of %s ifIndex %d: no such interface", a.dev.Name, ifIndex)
	}
	if a.cleared == nil {
		a.cleared = make(map[int]time.Time)
	}
	a.cleared[pos] = t
	return nil
}

// SetOnly32 hides (true) or restores the 64-bit ifHCInOctets and
// ifHCOutOctets, like an agent without HC counters.
func (a *Agent) SetOnly32(only bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.only32 = only
}

// Renumber gives the interfaces new ifIndexes: indexes[i] becomes the
// ifIndex of the i-th configured interface. The values must be distinct and
// positive. ifTableLastChange is set to the current sysUpTime. Dead twins
// keep theirs.
func (a *Agent) Renumber(indexes []int) error {
	n := len(a.dev.Interfaces)
	if len(indexes) != n {
		return fmt.Errorf("renumber %s: got %d indexes, want %d", a.dev.Name, len(indexes), n)
	}
	seen := make(map[int]bool, len(indexes))
	a.mu.RLock()
	for _, idx := range a.indexes[n:] {
		seen[idx] = true
	}
	a.mu.RUnlock()
	for _, idx := range indexes {
		if idx <= 0 || idx > 2147483647 {
			return fmt.Errorf("renumber %s: ifIndex %d out of range", a.dev.Name, idx)
		}
		if seen[idx] {
			return fmt.Errorf("renumber %s: ifIndex %d used twice", a.dev.Name, idx)
		}
		seen[idx] = true
	}
	t := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	copy(a.indexes, indexes)
	a.reindex()
	a.tableChange = t
	return nil
}

// ShiftIndexes adds n to every ifIndex.
func (a *Agent) ShiftIndexes(n int) error {
	idx := a.Indexes()
	for i := range idx {
		idx[i] += n
	}
	return a.Renumber(idx)
}

// SetSilent makes the agent drop every request (true) or answer again.
func (a *Agent) SetSilent(silent bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.silent = silent
}

// SetDelay holds every response back for d (real time, not the agent's
// clock); 0 answers at once. Requests keep being read meanwhile.
func (a *Agent) SetDelay(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delay = d
}

// SetMaxResponseSize makes the agent answer tooBig to a GET or GETNEXT
// whose response would exceed n octets, and cut GETBULK responses to fit;
// n <= 0 restores DefaultMaxResponseSize.
func (a *Agent) SetMaxResponseSize(n int) {
	if n <= 0 {
		n = DefaultMaxResponseSize
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.maxSize = n
}
