package pipeline

// The end-to-end fault matrix: simulated agents on loopback → poller → Recorder → store.
// Each fault the simulator can inject must leave unknowns where the truth cannot be
// known, the true rate everywhere else, and never a stored rate above the interface speed.
// Every case runs twice: through one long-lived poller (the daemon), and through a new
// poller, recorder and store handle per cycle (cron's "poll --once"), which must store
// the same rows. Every device polls its packets and errors too, held to the same rules
// (their unicast and error counters against the simulator's truth).

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

const (
	faultStep   = time.Minute
	faultCycles = 10
	// faultSpeed caps the simulated peak below 2^32 octets per step, so that a 32-bit
	// counter wraps at most once between polls (and does wrap: the mean is near the cap).
	faultSpeed = 500_000_000
)

var faultT0 = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)

func faultDevices(n int) []snmpsim.DeviceConfig {
	var devs []snmpsim.DeviceConfig
	for d := range n {
		dev := snmpsim.DeviceConfig{Name: fmt.Sprintf("r%d", d+1), Seed: int64(d + 7)}
		for i := range 3 {
			dev.Interfaces = append(dev.Interfaces, snmpsim.Interface{
				Name: fmt.Sprintf("ge-0/0/%d", i), Speed: faultSpeed, Up: true, MeanBps: 1e12, // capped by the speed
			})
		}
		devs = append(devs, dev)
	}
	return devs
}

// faultRun is one case's network, poller and store, and what happened in each cycle.
type faultRun struct {
	t       *testing.T
	clock   *snmpsim.ManualClock
	agents  []*snmpsim.Agent
	p       *poller.Poller
	db      *rrd.DB
	rec     *Recorder
	results [][]poller.Result
	// cron makes every cycle a new process: the store is opened again, and a new
	// poller is given the memory the last cycle committed.
	cron bool
	cfg  []config.Device
	path string
	// truth[series][cycle] is the agent's 64-bit in and out counters at the poll.
	truth map[string][][2]uint64
}

func startFaultRun(t *testing.T, devices int, tune func(*config.Device), cron bool) *faultRun {
	t.Helper()
	clock := snmpsim.NewManualClock(faultT0)
	agents, cfg := startSim(t, faultDevices(devices), clock, []string{"ge-0/0/0", "ge-0/0/1", "ge-0/0/2"})
	for i := range cfg {
		cfg[i].Counters = config.Counters{Packets: true, Errors: true}
	}
	if tune != nil {
		for i := range cfg {
			tune(&cfg[i])
		}
	}
	db := openDB(t)
	return &faultRun{
		t: t, clock: clock, agents: agents, db: db, cron: cron, cfg: cfg, path: db.Path(),
		p:     poller.New(cfg, poller.Options{Now: clock.Now, Logger: quiet}),
		rec:   NewRecorder(db, faultStep, nil, quiet),
		truth: map[string][][2]uint64{},
	}
}

// process starts what "poll --once" starts: the store, a recorder, and a poller with
// the memory the store holds.
func (f *faultRun) process() {
	f.t.Helper()
	if err := f.db.Close(); err != nil {
		f.t.Fatal(err)
	}
	db, err := rrd.Open(f.path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	f.db = db
	f.p = poller.New(f.cfg, poller.Options{Now: f.clock.Now, Logger: quiet})
	if err := RestorePoller(db, f.p, quiet); err != nil {
		f.t.Fatal(err)
	}
	f.rec = NewRecorder(db, faultStep, nil, quiet)
}

// rows is every stored in/out row of every series over the run, for comparing runs.
func (f *faultRun) rows() map[string][]string {
	f.t.Helper()
	series, err := f.db.Series()
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, name := range series {
		res, err := f.db.Fetch(name, rrd.Average, cycleTime(0), cycleTime(len(f.results)-1), faultStep)
		if err != nil {
			f.t.Fatal(err)
		}
		for r := range res.Rows {
			out[name] = append(out[name], fmt.Sprintf("%s %.6g %.6g", res.Time(r).Format("15:04"), res.Rows[r][0], res.Rows[r][1]))
		}
	}
	return out
}

func cycleTime(i int) time.Time { return faultT0.Add(time.Duration(i) * faultStep) }

// cycle moves the clock to cycle i's boundary, polls and records.
func (f *faultRun) cycle(i int) []poller.Result {
	f.t.Helper()
	f.clock.Set(cycleTime(i))
	if f.cron && i > 0 {
		f.process()
	}
	rs := f.p.Poll(context.Background())
	if err := f.rec.Record(rs); err != nil {
		f.t.Fatalf("cycle %d: record: %v", i, err)
	}
	f.results = append(f.results, rs)
	for _, a := range f.agents {
		for pos := range 3 {
			name := fmt.Sprintf("ge-0/0/%d", pos)
			idx, _ := a.IfIndex(name)
			in, out := a.Counters(idx, cycleTime(i))
			s := series.Name(a.Name(), name)
			f.truth[s] = append(f.truth[s], [2]uint64{in, out})
			pks, errs := a.Groups(idx, cycleTime(i))
			ui, uo, ei, eo := pks[0], pks[1], errs[0], errs[1]
			pk, er := series.KindName(a.Name(), series.KindPackets, name), series.KindName(a.Name(), series.KindErrors, name)
			f.truth[pk] = append(f.truth[pk], [2]uint64{ui, uo})
			f.truth[er] = append(f.truth[er], [2]uint64{ei, eo})
		}
	}
	return rs
}

// sampleAt returns the sample of series want in cycle i, and whether it is a
// discontinuity of that series (the octets', or its counter group's).
func (f *faultRun) sampleAt(want string, i int) (s poller.Sample, disc, ok bool) {
	dev, kind, iface, _ := series.Parse(want)
	for _, r := range f.results[i] {
		for _, s := range r.Samples {
			if s.Device != dev || s.Interface != iface {
				continue
			}
			g := map[string]*poller.Group{series.KindPackets: s.Packets, series.KindErrors: s.Errors}[kind]
			switch {
			case kind == series.KindOctets:
				return s, s.Discontinuity, true
			case g != nil:
				return s, g.Discontinuity, true
			}
		}
	}
	return poller.Sample{}, false, false
}

// check compares the store with the truth. A slot (interval ending at cycle i) must be
// unknown when mustUnknown says so, or when the poller marked the sample ending it as a
// discontinuity, or when it ends a gap longer than the heartbeat; it may be unknown when
// mayUnknown says so; otherwise it must hold the true rate. No known slot may exceed the
// interface speed.
func (f *faultRun) check(mustUnknown, mayUnknown func(series string, i int) bool) (unknown int) {
	f.t.Helper()
	stored, err := f.db.Series()
	if err != nil {
		f.t.Fatal(err)
	}
	var want []string
	for s := range f.truth {
		want = append(want, s)
	}
	slices.Sort(want)
	slices.Sort(stored)
	if !slices.Equal(stored, want) {
		f.t.Errorf("store has series %v, want %v", stored, want)
	}
	n := len(f.results)
	for _, name := range want {
		limit := series.GroupSpecWith(series.KindPackets, faultStep, faultSpeed, 64, nil).DS[0].Max
		switch _, kind, _, _ := series.Parse(name); kind {
		case series.KindOctets:
			limit = float64(faultSpeed) / 8
		case series.KindErrors:
			limit = series.GroupSpecWith(kind, faultStep, faultSpeed, 64, nil).DS[0].Max
		}
		res, err := f.db.Fetch(name, rrd.Average, cycleTime(0), cycleTime(n-1), faultStep)
		if err != nil {
			f.t.Fatal(err)
		}
		stored := map[time.Time][2]float64{}
		for r := range res.Rows {
			stored[res.Time(r)] = [2]float64{res.Rows[r][0], res.Rows[r][1]}
		}
		prev := -1 // cycle of the previous sample
		for i := range n {
			_, disc, ok := f.sampleAt(name, i)
			if !ok {
				continue
			}
			if prev < 0 {
				prev = i
				continue
			}
			gap := i - prev
			known := !disc && time.Duration(gap)*faultStep <= 2*faultStep
			for k := prev + 1; k <= i; k++ {
				got, ok := stored[cycleTime(k)]
				if !ok {
					f.t.Errorf("%s cycle %d: no stored row", name, k)
					continue
				}
				for d := range 2 {
					v := got[d]
					at := fmt.Sprintf("%s %s cycle %d", name, []string{"in", "out"}[d], k)
					if !math.IsNaN(v) && v > limit*(1+1e-6) {
						f.t.Errorf("%s: stored %.0f B/s, above the speed %.0f B/s", at, v, limit)
					}
					if math.IsNaN(v) {
						if d == 0 {
							unknown++
						}
						if known && !(mayUnknown != nil && mayUnknown(name, k)) {
							f.t.Errorf("%s: unknown, want a rate", at)
						}
						continue
					}
					if !known || (mustUnknown != nil && mustUnknown(name, k)) {
						f.t.Errorf("%s: stored %.0f B/s, want unknown (disc %v, gap %d)", at, v, disc, gap)
						continue
					}
					tr := f.truth[name]
					rate := float64(tr[i][d]-tr[prev][d]) / (time.Duration(gap) * faultStep).Seconds()
					if math.Abs(v-rate) > 1e-4*rate+1 {
						f.t.Errorf("%s: stored %.1f B/s, true rate %.1f", at, v, rate)
					}
				}
			}
			prev = i
		}
	}
	return unknown
}

// faultsOf matches the octets and packets of the device's interface ("*": of all its
// interfaces) in the given cycles. The errors are left out: a fault that changes only
// the width of the other counters leaves them (32-bit only) as they were.
func faultsOf(device string, iface string, cycles ...int) func(string, int) bool {
	return func(name string, i int) bool {
		d, kind, n, _ := series.Parse(name)
		return d == device && (kind == series.KindOctets || kind == series.KindPackets) && (n == iface || iface == "*") &&
			slices.Contains(cycles, i)
	}
}

func TestFaultMatrix(t *testing.T) {
	mid := func(i int) time.Time { return cycleTime(i - 1).Add(faultStep / 2) }
	tests := []struct {
		name        string
		devices     int
		tune        func(*config.Device)
		before      func(f *faultRun, i int) // called before cycle i's poll
		after       func(t *testing.T, f *faultRun, i int, rs []poller.Result)
		final       func(t *testing.T, f *faultRun)
		mustUnknown func(string, int) bool
		mayUnknown  func(string, int) bool
		minUnknown  int // unknown in-slots expected at least, over the series
	}{
		{name: "no fault", devices: 1},
		{
			name: "reboot", devices: 2,
			before: func(f *faultRun, i int) {
				if i == 5 {
					f.clock.Set(mid(5))
					f.agents[0].Reboot()
				}
			},
			mustUnknown: faultsOf("r1", "*", 5), minUnknown: 3,
		},
		{
			name: "32-bit only, counters wrap", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 0 {
					f.agents[0].SetOnly32(true)
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				for _, s := range rs[0].Samples {
					if s.Bits != 32 {
						t.Errorf("cycle %d: %s read with %d bits, want 32", i, s.Interface, s.Bits)
					}
				}
			},
			final: func(t *testing.T, f *faultRun) {
				if wraps := f.inWraps(1); wraps < 3 {
					t.Errorf("%d wraps of ifInOctets seen, want several", wraps)
				}
			},
		},
		{
			name: "SNMPv1, counters wrap", devices: 1,
			tune: func(d *config.Device) { d.SNMP.Version = "1" },
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				if rs[0].Err != nil || len(rs[0].Samples) != 3 || rs[0].Samples[0].Bits != 32 {
					t.Errorf("cycle %d: Err %v, samples %+v; want three 32-bit samples", i, rs[0].Err, rs[0].Samples)
				}
			},
		},
		{
			name: "64-bit counters vanish", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 5 {
					f.agents[0].SetOnly32(true)
				}
			},
			// The series takes the new counter width: the step of the change is
			// unknown, and later 32-bit wraps are rates again.
			mustUnknown: faultsOf("r1", "*", 5), minUnknown: 3,
			final: func(t *testing.T, f *faultRun) {
				if wraps := f.inWraps(6); wraps < 2 {
					t.Errorf("%d wraps of ifInOctets after the change, want several", wraps)
				}
			},
		},
		{
			name: "ifIndex renumbering", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 5 {
					f.clock.Set(mid(5))
					if err := f.agents[0].ShiftIndexes(1000); err != nil {
						f.t.Fatal(err)
					}
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				for _, s := range rs[0].Samples {
					if want := map[bool]int{false: 1, true: 1001}[i >= 5] + int(s.Interface[len(s.Interface)-1]-'0'); s.Index != want {
						t.Errorf("cycle %d: %s at ifIndex %d, want %d", i, s.Interface, s.Index, want)
					}
				}
			},
			mustUnknown: faultsOf("r1", "*", 5), minUnknown: 3,
		},
		{
			name: "reboot with renumbering", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 4 {
					f.clock.Set(mid(4))
					f.agents[0].Reboot()
					if err := f.agents[0].Renumber([]int{30, 10, 20}); err != nil {
						f.t.Fatal(err)
					}
				}
			},
			mustUnknown: faultsOf("r1", "*", 4), minUnknown: 3,
		},
		{
			// net-snmp keeps a deleted interface under its name (down, counters
			// frozen) beside the re-created one at a higher ifIndex: the series
			// follows the live one from the step of the change.
			name: "deleted and re-created: dead twin", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 5 {
					f.clock.Set(mid(5))
					if _, _, err := f.agents[0].Recreate("ge-0/0/1"); err != nil {
						f.t.Fatal(err)
					}
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				live, _ := f.agents[0].IfIndex("ge-0/0/1")
				for _, s := range rs[0].Samples {
					if s.Interface == "ge-0/0/1" && s.Index != live {
						t.Errorf("cycle %d: ge-0/0/1 read at ifIndex %d, the live one is %d", i, s.Index, live)
					}
				}
			},
			mustUnknown: faultsOf("r1", "ge-0/0/1", 5), minUnknown: 1,
		},
		{
			// The sequence: a dead twin, then the agent restarts (the twin is
			// gone, every counter starts over).
			name: "dead twin, then agent restart", devices: 1,
			before: func(f *faultRun, i int) {
				switch i {
				case 3:
					f.clock.Set(mid(3))
					if _, _, err := f.agents[0].Recreate("ge-0/0/0"); err != nil {
						f.t.Fatal(err)
					}
				case 7:
					f.clock.Set(mid(7))
					f.agents[0].Reboot()
				}
			},
			mustUnknown: func(s string, i int) bool {
				return faultsOf("r1", "ge-0/0/0", 3)(s, i) || faultsOf("r1", "*", 7)(s, i)
			},
			minUnknown: 4,
		},
		{
			name: "counter clear", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 5 {
					f.clock.Set(mid(5))
					if err := f.agents[0].ClearCounters(2); err != nil {
						f.t.Fatal(err)
					}
				}
			},
			mustUnknown: faultsOf("r1", "ge-0/0/1", 5), minUnknown: 1,
		},
		{
			// A cleared 32-bit counter looks like a wrap; only ifCounterDiscontinuityTime
			// tells it apart.
			name: "counter clear, 32-bit", devices: 1,
			before: func(f *faultRun, i int) {
				switch i {
				case 0:
					f.agents[0].SetOnly32(true)
				case 5:
					f.clock.Set(mid(5))
					if err := f.agents[0].ClearCounters(2); err != nil {
						f.t.Fatal(err)
					}
				}
			},
			mustUnknown: faultsOf("r1", "ge-0/0/1", 5), minUnknown: 1,
		},
		{
			name: "tooBig above 150 octets", devices: 1,
			before: func(f *faultRun, i int) {
				if i == 3 {
					f.agents[0].SetMaxResponseSize(150)
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				if i == 4 && rs[0].Requests <= f.results[2][0].Requests {
					t.Errorf("cycle 4: %d requests, cycle 2: %d; want more PDUs once responses must be small",
						rs[0].Requests, f.results[2][0].Requests)
				}
			},
		},
		{
			name: "slow answer", devices: 2,
			before: func(f *faultRun, i int) {
				switch i {
				case 4:
					f.agents[0].SetDelay(30 * time.Millisecond)
				case 7:
					f.agents[0].SetDelay(0)
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				if i >= 4 && i < 7 && rs[0].Duration < time.Duration(rs[0].Requests)*30*time.Millisecond {
					t.Errorf("cycle %d: slow device took %v for %d requests delayed 30ms each", i, rs[0].Duration, rs[0].Requests)
				}
			},
		},
		{
			// Two cycles without an answer: a gap longer than the heartbeat, unknown up to
			// the next answer; the live device goes on at its own pace.
			name: "no answer", devices: 3,
			tune: func(d *config.Device) {
				if d.Name == "r1" {
					d.SNMP.Timeout, d.SNMP.Retries = 300*time.Millisecond, 1
				}
			},
			before: func(f *faultRun, i int) {
				switch i {
				case 4:
					f.agents[0].SetSilent(true)
				case 6:
					f.agents[0].SetSilent(false)
				}
			},
			after: func(t *testing.T, f *faultRun, i int, rs []poller.Result) {
				if i != 4 && i != 5 {
					return
				}
				dead := 300 * time.Millisecond * 2
				if rs[0].Err == nil || rs[0].Retries != 1 {
					t.Errorf("cycle %d: silent r1: Err %v, %d retries; want an error after 1 retry", i, rs[0].Err, rs[0].Retries)
				}
				if rs[0].Duration < dead {
					t.Errorf("cycle %d: silent r1 gave up after %v, before timeout × (retries+1) = %v", i, rs[0].Duration, dead)
				}
				// The live devices are not held up by the silent one: each is done
				// before it (no bound in milliseconds, which a busy machine can pass).
				for _, r := range rs[1:] {
					if r.Err != nil || r.Duration >= rs[0].Duration {
						t.Errorf("cycle %d: live %s: Err %v after %v; want samples before the silent r1 gives up (%v)", i, r.Device, r.Err, r.Duration, rs[0].Duration)
					}
				}
			},
			mustUnknown: faultsOf("r1", "*", 4, 5, 6), minUnknown: 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := map[bool]map[string][]string{}
			for _, cron := range []bool{false, true} {
				t.Run(map[bool]string{false: "daemon", true: "cron"}[cron], func(t *testing.T) {
					f := startFaultRun(t, tt.devices, tt.tune, cron)
					for i := range faultCycles {
						if tt.before != nil {
							tt.before(f, i)
						}
						rs := f.cycle(i)
						if tt.after != nil {
							tt.after(t, f, i, rs)
						}
					}
					if tt.final != nil {
						tt.final(t, f)
					}
					if got := f.check(tt.mustUnknown, tt.mayUnknown); got < tt.minUnknown {
						t.Errorf("%d unknown slots, want at least %d", got, tt.minUnknown)
					}
					stored[cron] = f.rows()
				})
			}
			if d, c := stored[false], stored[true]; d != nil && c != nil && !reflect.DeepEqual(d, c) {
				for name := range d {
					if !slices.Equal(d[name], c[name]) {
						t.Errorf("%s: cron stored\n%v\nthe daemon stored\n%v", name, c[name], d[name])
					}
				}
			}
		})
	}
}

// inWraps counts the ifInOctets of the first device that went backwards from cycle
// from on.
func (f *faultRun) inWraps(from int) int {
	wraps := 0
	for i := max(from, 1); i < len(f.results); i++ {
		for k, s := range f.results[i][0].Samples {
			if s.In < f.results[i-1][0].Samples[k].In {
				wraps++
			}
		}
	}
	return wraps
}
