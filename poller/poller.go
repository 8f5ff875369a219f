// Package poller turns configured devices into interface counter samples over SNMP v1,
// v2c or v3. It resolves interfaces by their configured key (ifName, ifDescr, ifAlias,
// MAC or ifIndex) to ifIndex, choosing the live row where several share a name, reads
// sysUpTime and the octet counters of every interface with its ifAdminStatus and
// ifOperStatus, and the packet and error counters a device asks for (counters.go), in
// one read (GETBULK over consecutive rows of the agent's table, up to max_inflight of
// them at once on sockets of their own, GET for the rest), and flags discontinuities;
// it never writes the store: samples go back to the caller (Poll) or to a sink once per
// cycle (Run). A device's targets that are not interfaces (any OID, an averaged column,
// ENTITY-SENSOR-MIB temperatures, a program's output) are read in the same cycle
// (target.go, sensor.go, command.go) and handed back raw in Result.Targets. The SNMP itself (dialling,
// USM, tooBig-safe GETs, walks, decoding values) is internal/snmp's; the poller decides
// what to ask and what the answers mean.
//
// A Poller keeps per-device state between cycles (resolved indexes, counter width, the
// last sysUpTime, ifTableLastChange, ifNumber and ifCounterDiscontinuityTime, the last
// counters, the PDU size the agent accepts, and for SNMPv3 the client with its
// discovered engine): names are resolved again when the agent restarts, when
// ifTableLastChange or ifNumber moves, when a polled interface vanishes, and every
// Options.ResolveEvery cycles on devices polling ["*"]. Each Result hands that state
// back (State, Mapping) so that the caller can keep it with the cycle it stored, and a
// Poller in a later process (cron's "poll --once") is given it with Restore and decides
// exactly as a long-lived one would. Poll and Run must not be called concurrently on
// the same Poller.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// Sample is one interface's counters as read in one cycle.
type Sample struct {
	Device, Interface string    // configured names
	Index             int       // ifIndex the name resolved to in this cycle
	Time              time.Time // when the GET answer carrying the counters arrived
	In, Out           uint64    // octets
	Bits              int       // 64 (ifHC*) or 32 (ifIn/OutOctets fallback)
	Speed             uint64    // bits/s, 0 unknown
	Descr, Alias      string    // ifDescr and ifAlias, for the pages
	// Discontinuity is set when the counters cannot be compared with the previous
	// sample of the interface: the agent restarted (sysUpTime went back, on every
	// sample of the device), the interface has another ifIndex or counter width than
	// last time, or a 64-bit counter went backwards.
	Discontinuity bool
	// Packets and Errors are the counter groups the device polls beyond the octets
	// (config.Counters), nil when it polls none or the agent has none (counters.go).
	Packets, Errors *Group
	// Admin and Oper are ifAdminStatus and ifOperStatus (StatusUp, StatusDown, ...),
	// 0 where the agent did not say.
	Admin, Oper int
}

// Result is what one device gave in one cycle.
type Result struct {
	Device  string
	Samples []Sample
	// Targets are the device's targets that are not interfaces (target.go), those
	// read by commands also when the SNMP part of the cycle failed.
	Targets  []TargetSample
	Missing  []string      // configured interfaces the agent doesn't have (or no longer has)
	Err      error         // nil if the device answered
	Duration time.Duration // wall time spent on the device in this cycle (real time, not Options.Now)
	Requests int           // PDUs sent
	Retries  int           // PDUs sent again after a timeout (counted with a real agent only)
	// Timeouts counts the datagrams that got no answer in time: one before each retry,
	// and the last one when the device gave up on a request.
	Timeouts int
	// LastSuccess is when the device last answered a whole cycle: the end of this one if
	// Err is nil, zero if it never has since the Poller was made.
	LastSuccess time.Time
	// Uptime is the agent's sysUpTime in this cycle (it wraps after 497 days).
	Uptime time.Duration
	// State is the device's memory after this cycle (the agent's clocks, counter
	// widths and last counters), and Mapping its resolved interfaces, set only in a
	// cycle that changed them. A caller that keeps both (the latest of each) and hands
	// them to Restore in a later process makes that process decide as this one would.
	State, Mapping []byte
}

// Options tunes a Poller. The zero value works: the real clock, a discarding logger and
// DefaultParallel devices polled at once.
type Options struct {
	Now      func() time.Time // clock for sample times and durations
	Logger   *slog.Logger     // narrowed per device; never given a community or secret
	Parallel int              // devices polled at once; 0 means DefaultParallel
	// Spread makes Run start the devices evenly over the first half of each step
	// instead of all at its beginning, each at the same offset every cycle.
	Spread bool
	// ResolveEvery is the number of cycles after which devices polling ["*"] (or
	// missing configured interfaces) walk their interface names again; 0 means
	// DefaultResolveEvery, a negative value never.
	ResolveEvery int
}

// DefaultParallel is the number of devices polled at once when Options.Parallel is 0.
// Each device in flight holds one UDP socket.
const DefaultParallel = 256

// Poller polls a fixed list of devices, keeping what it learnt about each between cycles.
type Poller struct {
	devices  []*device
	now      func() time.Time
	log      *slog.Logger
	parallel int
	spread   bool
	dial     dialFunc
	mu       sync.Mutex // serialises cycles: device state belongs to one cycle at a time
}

// New returns a Poller for devices. It does no I/O: names are resolved on the first Poll.
func New(devices []config.Device, opts Options) *Poller {
	return newPoller(devices, opts, dialSNMP)
}

func newPoller(devices []config.Device, opts Options, dial dialFunc) *Poller {
	p := &Poller{
		now:      opts.Now,
		log:      opts.Logger,
		parallel: opts.Parallel,
		spread:   opts.Spread,
		dial:     dial,
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.parallel <= 0 {
		p.parallel = DefaultParallel
	}
	for _, d := range devices {
		dev := newDevice(d, p.log.With("device", d.Name))
		if opts.ResolveEvery != 0 {
			dev.resolveEvery = opts.ResolveEvery
		}
		p.devices = append(p.devices, dev)
	}
	return p
}

// Restore gives each device the memory a previous process handed back in its last
// Result (State, and the latest Mapping), before the first Poll: memory returns them for
// a device name, nil for a device it knows nothing of. Memory learnt under another host,
// port, SNMP version, context or interface key is ignored, and a mapping resolved for
// other interfaces or speeds is walked again. A malformed blob leaves its device as new
// and is reported in the returned error; the other devices are restored.
func (p *Poller) Restore(memory func(device string) (state, mapping []byte)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, d := range p.devices {
		state, mapping := memory(d.cfg.Name)
		if err := d.restore(mapping, state); err != nil {
			fresh := newDevice(d.cfg, d.log)
			fresh.resolveEvery = d.resolveEvery
			fresh.distrust = true
			*d = *fresh
			errs = append(errs, fmt.Errorf("restore %s: %w", d.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Close releases the clients kept between cycles (SNMPv3 sessions). The Poller may be
// used again afterwards: it dials anew.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.devices {
		d.close()
	}
	return nil
}

// Poll runs one cycle over all devices, concurrently (at most Options.Parallel at once),
// and returns one Result per device in configuration order. A device that does not answer
// costs only its own timeout × (retries+1) and is reported in its Result's Err; in the
// next cycle it starts after the devices that answered. Cancelling ctx aborts requests in
// flight; devices not started yet report ctx's error.
func (p *Poller) Poll(ctx context.Context) []Result {
	return p.poll(ctx, 0, 0)
}

// poll starts device i at spread×i/len(devices) after the call (and once a slot among
// Options.Parallel is free), so that over a step the requests do not leave in one burst.
// A positive budget is each device's deadline, counted from its own start.
func (p *Poller) poll(ctx context.Context, spread, budget time.Duration) []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now() // real time, not Options.Now: this schedules timers
	results := make([]Result, len(p.devices))
	sem := make(chan struct{}, p.parallel)
	var wg sync.WaitGroup
	for k, i := range p.order(spread > 0) {
		d := p.devices[i]
		if spread > 0 && k > 0 {
			wait := spread*time.Duration(k)/time.Duration(len(p.devices)) - time.Since(start)
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done(): // the devices left report ctx's error at once
				}
				t.Stop()
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			dctx := ctx
			if budget > 0 {
				var cancel context.CancelFunc
				dctx, cancel = context.WithTimeout(ctx, budget)
				defer cancel()
			}
			results[i] = d.poll(dctx, p.dial, p.now)
		}()
	}
	wg.Wait()
	return results
}

// order is the order devices start in: configuration order when spread (each device
// keeps its offset in the step), else the devices that answered last time first, so
// that when more than Options.Parallel devices are down, waiting out their timeouts
// does not hold up the devices that answer.
func (p *Poller) order(spread bool) []int {
	order := make([]int, 0, len(p.devices))
	for i, d := range p.devices {
		if spread || !d.failed {
			order = append(order, i)
		}
	}
	if spread {
		return order
	}
	for i, d := range p.devices {
		if d.failed {
			order = append(order, i)
		}
	}
	return order
}

// Run polls on step boundaries (wall-clock multiples of step, as cron would) and hands each
// cycle's results to sink. Each device has its own deadline inside the step: half a step
// from its start with Options.Spread (devices start over the first half of the step, so
// all are done by its end), nine tenths of a step otherwise (leaving the rest to the
// sink); a device still busy then is cut off and reports the deadline, and the others
// are not held up by it. When ctx is cancelled Run
// finishes the cycle in flight, including its sink call (which gets a context that is not
// cancelled), and returns nil. A sink error stops Run and is returned.
func (p *Poller) Run(ctx context.Context, step time.Duration, sink func(context.Context, []Result) error) error {
	if step <= 0 {
		return fmt.Errorf("run poller: step %v is not positive", step)
	}
	if sink == nil {
		return errors.New("run poller: nil sink")
	}
	for {
		now := p.now()
		next := now.Truncate(step).Add(step)
		timer := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		cycle, cancel := context.WithTimeout(context.WithoutCancel(ctx), step)
		spread, budget := time.Duration(0), step*9/10
		if p.spread {
			spread, budget = step/2, step/2
		}
		results := p.poll(cycle, spread, budget)
		cancel()
		if err := sink(context.WithoutCancel(ctx), results); err != nil {
			return fmt.Errorf("hand cycle %s to sink: %w", next.UTC().Format(time.RFC3339), err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}
