package poller

// One device's cycle: connect (keeping an SNMPv3 client across cycles), resolve the
// interfaces when needed, read the counters, notice an agent restart or a renumbered
// interface table, and account the requests, retries and timeouts in the Result.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// device is what the Poller knows about one agent between cycles. Only the goroutine
// polling it in the current cycle touches it.
type device struct {
	cfg     config.Device
	log     *slog.Logger
	maxOIDs int // PDU size the agent accepts; starts at the configured size
	window  int // GETBULKs of a read in flight at once (config's max_inflight)

	resolved bool
	ifaces   []iface
	missing  []string // configured names the last resolve did not find

	uptime     uint32 // sysUpTime of the last cycle, in hundredths of a second
	haveUptime bool
	change     uint32 // ifTableLastChange of the last cycle
	haveChange bool   // the last cycle read ifTableLastChange
	noChange   bool   // the agent lacks ifTableLastChange: stop asking
	number     uint32 // ifNumber of the last cycle
	haveNumber bool   // the last cycle read ifNumber
	noNumber   bool   // the agent lacks ifNumber: stop asking
	noDisc     bool   // the agent lacks ifCounterDiscontinuityTime: stop asking
	// haveDiscProbe: a resolve has asked for one ifCounterDiscontinuityTime.
	haveDiscProbe bool
	lastOK        time.Time       // end of the last cycle the device answered
	failed        bool            // the last cycle ended in an error
	bits32        map[string]bool // interfaces known to lack ifHC* counters, by name
	last          map[string]last // previous sample of each interface, by name
	readPlan      *readPlan       // how a cycle reads the counters; nil when the interfaces changed
	// rows are the agent's interface table rows (ifIndexes, ascending) as the last
	// resolve walked them: interfaces on consecutive rows are read with GETBULK.
	rows []int
	// resolveEvery is the number of cycles after which a device polling ["*"], or
	// missing some configured interfaces, resolves again to pick up new ones (<= 0: never).
	resolveEvery int
	sinceResolve int // cycles since the last resolve

	// client is kept between cycles for SNMPv3, so that engine discovery and key
	// localisation happen once; it is dropped after an error and dialled again.
	client snmp.Client
	cur    *session // the cycle in flight, which counts the datagrams client sends

	// mappingHash identifies the mapping last handed back in a Result (or restored),
	// so that it is handed back again only when it changes.
	mappingHash  uint64
	mappingStale bool // a resolve since the mapping was last encoded
	// distrust is set when the memory a previous process left was of another agent
	// (host, port, version, context or interface key changed) or unreadable: the first
	// sample of each interface is then a discontinuity. A device without any memory
	// (a new store, or one imported from MRTG, which ends on MRTG's last counters)
	// trusts the store, as a new daemon does.
	distrust bool

	// targetWarned holds the targets whose missing values were logged, until they
	// have them again.
	targetWarned map[string]bool
}

// iface is one polled interface as resolved.
type iface struct {
	name         string
	index        int
	speed        uint64
	descr, alias string
}

// DefaultResolveEvery is how many cycles pass before a device polling ["*"] (or missing
// some of its configured interfaces) walks its interface names again, when
// Options.ResolveEvery is 0: an hour at the usual five-minute step. Added or removed
// ifTable rows are noticed at once through ifNumber and ifTableLastChange; this catches
// interfaces that came up, and agents that keep neither.
const DefaultResolveEvery = 12

func newDevice(d config.Device, log *slog.Logger) *device {
	return &device{cfg: d, log: log, maxOIDs: snmp.MaxOIDs(d.SNMP), resolveEvery: DefaultResolveEvery, window: maxInflight(d),
		bits32: map[string]bool{}, last: map[string]last{}}
}

// maxBulk is the most varbinds the read's GETBULKs ask for: twice max_oids, up to
// snmp.MaxBulkOIDs (net-snmp answers 1,000 interfaces' octets, discontinuity times and
// states in 51 PDUs instead of 85, for about a quarter less CPU time here), unless the
// agent answered tooBig (in this process or one whose memory it has), which leaves
// max_oids as the agent taught it.
func (d *device) maxBulk() int {
	if d.maxOIDs < snmp.MaxOIDs(d.cfg.SNMP) {
		return 0
	}
	return min(2*d.maxOIDs, max(snmp.MaxBulkOIDs, d.maxOIDs))
}

// poll runs one cycle on the device with a client of its own.
func (d *device) poll(ctx context.Context, dial dialFunc, now func() time.Time) Result {
	start := time.Now() // wall time spent, whatever clock the samples are stamped with
	res := Result{Device: d.cfg.Name}
	s := &session{Session: snmp.Session{V1: d.cfg.SNMP.Version == "1", MaxOIDs: &d.maxOIDs, MaxBulk: d.maxBulk(), Now: now}}
	s.OnShrink = func(from, to int) {
		d.log.Info("agent answered tooBig; fewer OIDs per PDU", "from", from, "to", to)
	}
	err := ctx.Err()
	commands := d.commandTargets(ctx, now)
	if err == nil {
		d.cur = s
		err = d.cycle(ctx, dial, s, &res)
		d.cur = nil
	}
	if err != nil {
		res.Targets = nil // the SNMP targets' values of a failed cycle are not kept
	}
	res.Targets = append(res.Targets, commands()...)
	discovered := false
	if err != nil && d.client != nil {
		if e, ok := d.client.(engineKnower); ok {
			discovered = e.EngineKnown()
		}
		// A v3 session that failed may hold a stale engine time or boots: start over.
		_ = d.client.Close()
		d.client = nil
	}
	res.Requests = s.Requests
	res.Retries = max(s.sent-s.Requests, 0)
	res.Timeouts = res.Retries
	if snmp.TimedOut(err) {
		res.Timeouts++
	}
	res.Duration = time.Since(start)
	d.failed = err != nil
	if err == nil {
		d.lastOK = now()
	}
	res.LastSuccess = d.lastOK
	res.Mapping, res.State = d.memory(now())
	if err != nil {
		if d.cfg.SNMP.Version == "3" {
			err = snmp.USMError(err, d.cfg.SNMP, discovered)
		}
		res.Err = fmt.Errorf("poll %s: %w", d.cfg.Name, err)
		res.Samples = nil
		d.log.Warn("poll failed", "err", err, "requests", s.Requests, "retries", res.Retries, "duration", res.Duration)
	}
	return res
}

// connect returns the client for this cycle: a new one for v1 and v2c (closed by the
// caller through the returned func), the kept one for v3.
func (d *device) connect(ctx context.Context, dial dialFunc) (snmp.Client, func(), error) {
	if d.client != nil {
		if cs, ok := d.client.(contextSetter); ok {
			cs.SetContext(ctx)
		}
		return d.client, func() {}, nil
	}
	c, err := dial(ctx, d.cfg, func() {
		if d.cur != nil {
			d.cur.sent++
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if err := c.Connect(); err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	if d.cfg.SNMP.Version == "3" {
		// The first request of a new v3 client is preceded by engine discovery, one
		// more round trip: count it as a request, not as a retry.
		if d.cur != nil {
			d.cur.Requests++
		}
		d.client = c
		return c, func() {}, nil
	}
	return c, func() { _ = c.Close() }, nil
}

// close releases the client kept between cycles.
func (d *device) close() {
	if d.client != nil {
		_ = d.client.Close()
		d.client = nil
	}
}

func (d *device) cycle(ctx context.Context, dial dialFunc, s *session, res *Result) error {
	c, done, err := d.connect(ctx, dial)
	if err != nil {
		return err
	}
	defer done()
	s.Client = c
	if v := d.cfg.SNMP.Version; (v == "2c" || v == "") && d.window > 1 {
		s.window = d.window
		s.more = func(onSent func()) (snmp.Client, func(), error) {
			c, err := dial(ctx, d.cfg, onSent)
			if err != nil {
				return nil, nil, err
			}
			if err := c.Connect(); err != nil {
				return nil, nil, err
			}
			return c, func() { _ = c.Close() }, nil
		}
	}

	d.sinceResolve++
	if d.resolved && d.resolveEvery > 0 && d.sinceResolve >= d.resolveEvery &&
		(d.cfg.AllInterfaces() || len(d.missing) > 0) {
		d.log.Debug("resolving interfaces again to pick up new ones", "cycles", d.sinceResolve)
		d.resolved = false
	}
	if !d.resolved {
		if err := d.resolve(s); err != nil {
			return err
		}
	}
	rd, err := d.read(s)
	if err != nil {
		return err
	}
	up, ok := rd.uptime.Uint64()
	if rd.uptime.Absent() || !ok {
		return errors.New("get sysUpTime: agent has no sysUpTime.0")
	}
	change, haveChange := rd.change.Ticks()
	number, haveNumber := rd.number.Ticks()
	disc := d.haveUptime && uint32(up) < d.uptime
	moved := !disc && haveChange && d.haveChange && change != d.change
	grew := !disc && !moved && haveNumber && d.haveNumber && number != d.number
	if disc || moved || grew {
		// The agent restarted, or rows were added to or removed from ifTable: ifIndexes
		// may have moved, so resolve again and read the counters of the interfaces as
		// they are now numbered. After a restart every counter starts over; after a
		// renumbering only interfaces with a new ifIndex do (see sample).
		switch {
		case disc:
			d.log.Info("agent restarted (sysUpTime went back); resolving interfaces again",
				"uptime_before", d.uptime, "uptime_now", up)
		case moved:
			d.log.Info("ifTableLastChange moved; resolving interfaces again",
				"before", d.change, "now", change)
		default:
			d.log.Info("ifNumber changed; resolving interfaces again", "before", d.number, "now", number)
		}
		if err := d.resolve(s); err != nil {
			return err
		}
		if rd, err = d.read(s); err != nil {
			return err
		}
		if u, ok := rd.uptime.Uint64(); ok {
			up = u
		}
		change, haveChange = rd.change.Ticks()
		number, haveNumber = rd.number.Ticks()
	}
	d.uptime, d.haveUptime = uint32(up), true
	d.change, d.haveChange = change, haveChange
	d.number, d.haveNumber = number, haveNumber
	res.Uptime = time.Duration(uint32(up)) * 10 * time.Millisecond

	samples, vanished, err := d.samples(s, rd, disc)
	if err != nil {
		return err
	}
	res.Samples = samples
	res.Missing = append(slices.Clone(d.missing), vanished...)
	if res.Targets, err = d.readTargets(s, disc); err != nil {
		// The counters were read: a target the agent fails on costs its own samples
		// (a gap), not the interfaces'.
		d.log.Warn("targets not read this cycle", "err", err)
		res.Targets = nil
	}
	if len(vanished) > 0 {
		d.log.Warn("interfaces vanished; resolving again next cycle", "count", len(vanished), "interfaces", abbrev(vanished, 8))
		d.resolved = false
	}
	return nil
}

// abbrev keeps log lines short on devices with thousands of interfaces.
func abbrev(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ",")
	}
	return strings.Join(names[:n], ",") + fmt.Sprintf(",… (%d more)", len(names)-n)
}
