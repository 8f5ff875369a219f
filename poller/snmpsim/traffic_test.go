package snmpsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// offline builds an agent without a socket, booted a year before t0.
func offline(t *testing.T, dev DeviceConfig) *Agent {
	t.Helper()
	if err := dev.validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return newAgent(dev, &Options{Now: func() time.Time { return t0 }, BootTime: t0.AddDate(-1, 0, 0)})
}

func TestDemoNetwork(t *testing.T) {
	devs := DemoNetwork()
	total, down := 0, 0
	names := map[string]bool{}
	for _, d := range devs {
		if err := d.validate(); err != nil {
			t.Errorf("DemoNetwork %s: %v", d.Name, err)
		}
		if names[d.Name] {
			t.Errorf("DemoNetwork: duplicate device %s", d.Name)
		}
		names[d.Name] = true
		for _, ifc := range d.Interfaces {
			total++
			if !ifc.Up {
				down++
			}
		}
	}
	if len(devs) < 3 || total < 24 || down < 2 {
		t.Errorf("DemoNetwork: %d devices, %d interfaces, %d down; want >= 3, >= 24, >= 2", len(devs), total, down)
	}
	net := Network(3, 10, 7)
	if len(net) != 3 || len(net[2].Interfaces) != 10 {
		t.Fatalf("Network(3, 10, 7): got %d devices", len(net))
	}
	for _, d := range net {
		if err := d.validate(); err != nil {
			t.Errorf("Network %s: %v", d.Name, err)
		}
	}
}

// TestRateBelowSpeed samples every interface of the demo network every five
// minutes for two weeks.
func TestRateBelowSpeed(t *testing.T) {
	for _, dev := range DemoNetwork() {
		a := offline(t, dev)
		for i, ifc := range dev.Interfaces {
			idx := dev.ifIndex(i)
			for tm := t0; tm.Before(t0.AddDate(0, 0, 14)); tm = tm.Add(5 * time.Minute) {
				in, out := a.Rate(idx, tm)
				if in > float64(ifc.Speed) || out > float64(ifc.Speed) || in < 0 || out < 0 {
					t.Fatalf("%s %s at %v: rate in %.0f out %.0f outside [0, %d]", dev.Name, ifc.Name, tm, in, out, ifc.Speed)
				}
				if ifc.Up != (in > 0) {
					t.Fatalf("%s %s (up %v) at %v: rate in %.0f", dev.Name, ifc.Name, ifc.Up, tm, in)
				}
			}
		}
	}
}

func TestWeeklyMean(t *testing.T) {
	dev := testDevice()
	a := offline(t, dev)
	week := 7 * 24 * time.Hour
	for i, ifc := range dev.Interfaces {
		idx := i + 1
		in0, _ := a.Counters(idx, t0)
		in1, _ := a.Counters(idx, t0.Add(week))
		got := float64(in1-in0) * 8 / week.Seconds()
		want := min(ifc.MeanBps, float64(ifc.Speed)*speedMargin/maxFactor)
		if !ifc.Up {
			want = 0
		}
		if math.Abs(got-want) > 1e-3*want {
			t.Errorf("%s: weekly mean %.0f bit/s, want %.0f", ifc.Name, got, want)
		}
	}
}

func TestDailyRhythm(t *testing.T) {
	a := offline(t, testDevice())
	mean := func(from time.Time, d time.Duration) float64 {
		in0, _ := a.Counters(1, from)
		in1, _ := a.Counters(1, from.Add(d))
		return float64(in1-in0) * 8 / d.Seconds()
	}
	wed := time.Date(2026, time.March, 18, 0, 0, 0, 0, time.UTC)
	sat := time.Date(2026, time.March, 21, 0, 0, 0, 0, time.UTC)
	night := mean(wed.Add(3*time.Hour), 2*time.Hour)
	evening := mean(wed.Add(19*time.Hour), 2*time.Hour)
	if night*2 > evening {
		t.Errorf("Wednesday 03-05 h %.0f bit/s, 19-21 h %.0f bit/s; want the night below half the evening", night, evening)
	}
	weekday, weekend := mean(wed, 24*time.Hour), mean(sat, 24*time.Hour)
	if weekend > 0.7*weekday {
		t.Errorf("Saturday %.0f bit/s, Wednesday %.0f bit/s; want the weekend well below", weekend, weekday)
	}
}

func TestZoneShiftsRhythm(t *testing.T) {
	utc := testDevice()
	east := testDevice()
	east.Zone = time.FixedZone("UTC+5", 5*3600)
	a, b := offline(t, utc), offline(t, east)
	for h := range 48 {
		tm := t0.Add(time.Duration(h) * 37 * time.Minute)
		got, _ := b.Rate(1, tm)
		want, _ := a.Rate(1, tm.Add(5*time.Hour))
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("UTC+5 rate at %v: got %.0f, want the UTC rate five hours later %.0f", tm, got, want)
		}
	}
}

func TestCountersDeterministicAndMonotonic(t *testing.T) {
	dev := testDevice()
	a, b := offline(t, dev), offline(t, dev)
	other := dev
	other.Seed++
	c := offline(t, other)
	rng := rand.New(rand.NewPCG(1, 2))
	tm := a.BootTime()
	var lastIn, lastOut uint64
	differs := false
	for i := range 20000 {
		// Mostly small steps, some of hours, a few of nanoseconds.
		var step time.Duration
		switch i % 3 {
		case 0:
			step = time.Duration(rng.IntN(1000)) * time.Nanosecond
		case 1:
			step = time.Duration(rng.IntN(600)) * time.Second
		default:
			step = time.Duration(rng.IntN(36)) * time.Hour
		}
		tm = tm.Add(step)
		in, out := a.Counters(3, tm)
		if in < lastIn || out < lastOut {
			t.Fatalf("Counters(3, %v) = %d, %d after %d, %d: went back", tm, in, out, lastIn, lastOut)
		}
		lastIn, lastOut = in, out
		if bin, bout := b.Counters(3, tm); bin != in || bout != out {
			t.Fatalf("Counters(3, %v): %d, %d from one agent, %d, %d from its twin", tm, in, out, bin, bout)
		}
		if cin, _ := c.Counters(3, tm); cin != in {
			differs = true
		}
	}
	if !differs {
		t.Errorf("a different seed gave the same counters")
	}
	if in, out := a.Counters(3, a.BootTime().Add(-time.Hour)); in != 0 || out != 0 {
		t.Errorf("Counters before boot: %d, %d; want 0, 0", in, out)
	}
	if in, out := a.Counters(999, t0); in != 0 || out != 0 {
		t.Errorf("Counters of unknown ifIndex: %d, %d; want 0, 0", in, out)
	}
}

// maxStepChange bounds how much an interface's rate may move from one
// 5-minute step to the next, as a fraction of its mean. The noise alone
// can move the instantaneous rate by up to noiseAmp*π/4 ≈ 0.12 of the
// mean in five minutes, the daily harmonics and the weekend blend by about
// 0.02 each; switching w at midnight moved it by 0.34 to 0.52.
const maxStepChange = 0.2

// TestWeekIsSmooth follows every interface of the demo network and of a
// few generated devices in other zones for eight days in 5-minute steps,
// through both weekend edges, and fails if the instantaneous rate or the
// rate a poller computes from the counters moves by more than
// maxStepChange of the mean between adjacent steps. Faults are injected
// along the way (a reboot, cleared counters, a renumbering); the steps
// whose counters they reset are not compared.
func TestWeekIsSmooth(t *testing.T) {
	devs := DemoNetwork()
	for i, zone := range []*time.Location{
		time.UTC, time.FixedZone("UTC+5:30", 5*3600+1800), time.FixedZone("UTC-8", -8*3600),
	} {
		for _, d := range Network(2, 40, int64(7+i)) {
			d.Name = fmt.Sprintf("%s-z%d", d.Name, i)
			d.Zone = zone
			devs = append(devs, d)
		}
	}
	const step = 5 * time.Minute
	start := time.Date(2026, time.March, 18, 12, 0, 0, 0, time.UTC) // Wednesday noon
	steps := int(8 * 24 * time.Hour / step)
	week := int(7 * 24 * time.Hour / step)

	type fault struct {
		at   time.Time
		what string
		do   func(a *Agent) error
	}
	faults := map[int][]fault{ // by device
		0: {{time.Date(2026, time.March, 21, 10, 2, 30, 0, time.UTC), "reboot", func(a *Agent) error { a.Reboot(); return nil }}},
		1: {{time.Date(2026, time.March, 22, 23, 57, 0, 0, time.UTC), "clear counters", func(a *Agent) error { return a.ClearCounters(a.Indexes()[0]) }}},
		2: {{time.Date(2026, time.March, 20, 23, 59, 0, 0, time.UTC), "renumber", func(a *Agent) error { return a.ShiftIndexes(100) }}},
	}

	worst, worstAt := 0.0, ""
	resets, failures := 0, 0
	for di, dev := range devs {
		zone := dev.Zone
		if zone == nil {
			zone = time.UTC
		}
		clock := NewManualClock(start)
		a := newAgent(dev, &Options{Now: clock.Now, BootTime: start.AddDate(0, 0, -1)})
		n := len(dev.Interfaces)
		// rates[k][i]: k = 2*pos + direction; instantaneous and from counters.
		inst := make([][]float64, 2*n)
		ctr := make([][]float64, 2*n)
		reset := make([]map[int]bool, n) // steps whose counter interval holds a reset
		last := make([][2]uint64, n)
		pending := faults[di]
		for i := 0; i <= steps; i++ {
			tm := start.Add(time.Duration(i) * step)
			for len(pending) > 0 && !pending[0].at.After(tm) {
				f := pending[0]
				pending = pending[1:]
				clock.Set(f.at)
				if err := f.do(a); err != nil {
					t.Fatalf("%s: %s: %v", dev.Name, f.what, err)
				}
				for pos, idx := range a.Indexes() {
					if in, out := a.Counters(idx, f.at); in < last[pos][0] || out < last[pos][1] {
						if reset[pos] == nil {
							reset[pos] = map[int]bool{}
						}
						reset[pos][i] = true
					}
				}
			}
			clock.Set(tm)
			for pos, idx := range a.Indexes() {
				in, out := a.Rate(idx, tm)
				inst[2*pos] = append(inst[2*pos], in)
				inst[2*pos+1] = append(inst[2*pos+1], out)
				cin, cout := a.Counters(idx, tm)
				if i > 0 {
					ctr[2*pos] = append(ctr[2*pos], float64(cin-last[pos][0])*8/step.Seconds())
					ctr[2*pos+1] = append(ctr[2*pos+1], float64(cout-last[pos][1])*8/step.Seconds())
				}
				last[pos] = [2]uint64{cin, cout}
			}
		}
		for k := range inst {
			pos, dir := k/2, [2]string{"in", "out"}[k%2]
			mean := 0.0
			for _, r := range inst[k][:week] {
				mean += r / float64(week)
			}
			if mean == 0 {
				continue
			}
			for i := 1; i <= steps; i++ {
				check := func(kind string, prev, cur float64) {
					d := math.Abs(cur-prev) / mean
					where := fmt.Sprintf("%s %s %s %s at %s", dev.Name, dev.Interfaces[pos].Name, dir, kind,
						start.Add(time.Duration(i)*step).In(zone).Format("Mon 15:04 MST"))
					if d > worst {
						worst, worstAt = d, where
					}
					if d > maxStepChange {
						if failures++; failures > 20 {
							return
						}
						t.Errorf("%s: rate moved %.0f%% of the mean (%.0f to %.0f bit/s) in one step, want at most %.0f%%",
							where, 100*d, prev, cur, 100*maxStepChange)
					}
				}
				check("rate", inst[k][i-1], inst[k][i])
				// ctr[k][j] is the interval ending at step j+1.
				if i >= 2 && !reset[pos][i] && !reset[pos][i-1] {
					check("counter rate", ctr[k][i-2], ctr[k][i-1])
				}
			}
		}
		for _, r := range reset {
			resets += len(r)
		}
		if len(pending) > 0 {
			t.Fatalf("%s: fault %s never injected", dev.Name, pending[0].what)
		}
	}
	if failures > 20 {
		t.Errorf("... and %d more steps above %.0f%%", failures-20, 100*maxStepChange)
	}
	if resets == 0 {
		t.Errorf("no fault reset a counter; the test does not see faults")
	}
	t.Logf("largest change in one step: %.1f%% of the mean, %s", 100*worst, worstAt)
}

// integrateFine is the octets between from and to by Simpson's rule over
// the agent's rate function, in pieces that end on multiples of five
// minutes so that no noise knot (where the rate has a kink) falls inside
// one: accurate to a fraction of an octet at any rate the tests use.
func integrateFine(a *Agent, ifIndex int, from, to time.Time) (in, out float64) {
	const steps = 100
	for lo := from; lo.Before(to); {
		hi := lo.Truncate(5 * time.Minute).Add(5 * time.Minute)
		if hi.After(to) {
			hi = to
		}
		h := hi.Sub(lo) / steps
		var pin, pout float64
		for i := 0; i <= steps; i++ {
			w := simpson(i, steps)
			tm := lo.Add(time.Duration(i) * h)
			if i == steps {
				tm = hi
			}
			ri, ro := a.Rate(ifIndex, tm)
			pin += w * ri / 8
			pout += w * ro / 8
		}
		s := hi.Sub(lo).Seconds() / steps / 3
		in += pin * s
		out += pout * s
		lo = hi
	}
	return in, out
}

// TestCountersExactAcrossWeekend holds the counters against the integral
// of the rate over intervals that cross the blends' edges and the
// midnights between weekdays and weekend days, in three zones: exact to the
// octets lost by truncating the counters and rounding whole days.
func TestCountersExactAcrossWeekend(t *testing.T) {
	fri := time.Date(2026, time.March, 20, 0, 0, 0, 0, time.UTC)
	sun := fri.AddDate(0, 0, 2)
	intervals := []struct{ from, to time.Time }{
		{fri.Add(21 * time.Hour), fri.Add(27 * time.Hour)},                                  // Friday 21:00 to Saturday 03:00
		{sun.Add(20 * time.Hour), sun.Add(28 * time.Hour)},                                  // Sunday 20:00 to Monday 04:00
		{fri.Add(24*time.Hour - 700*time.Millisecond), fri.Add(24*time.Hour + time.Second)}, // across midnight
		{fri.Add(21*time.Hour + 29*time.Minute + 59*time.Second), fri.Add(21*time.Hour + 30*time.Minute + 1*time.Second)},
		{sun.Add(26*time.Hour + 29*time.Minute + 7*time.Second), sun.Add(26*time.Hour + 31*time.Minute)},
		{fri.Add(20 * time.Hour), sun.Add(time.Hour)},                          // all of Saturday
		{sun.Add(12 * time.Hour), sun.Add(49 * time.Hour)},                     // all of Monday
		{fri.Add(-37 * time.Minute), fri.Add(4*24*time.Hour + 13*time.Minute)}, // Thursday to Tuesday
	}
	for _, zone := range []*time.Location{nil, time.FixedZone("UTC+5:30", 5*3600+1800), time.FixedZone("UTC-8", -8*3600)} {
		dev := testDevice()
		dev.Zone = zone
		a := offline(t, dev)
		for _, iv := range intervals {
			if zone != nil { // the same local times
				_, off := iv.from.In(zone).Zone()
				iv.from, iv.to = iv.from.Add(-time.Duration(off)*time.Second), iv.to.Add(-time.Duration(off)*time.Second)
			}
			days := float64(iv.to.Sub(iv.from)/(24*time.Hour)) + 2
			for i, ifc := range dev.Interfaces {
				idx := i + 1
				in0, out0 := a.Counters(idx, iv.from)
				in1, out1 := a.Counters(idx, iv.to)
				wantIn, wantOut := integrateFine(a, idx, iv.from, iv.to)
				for _, c := range []struct {
					dir       string
					got, want float64
				}{{"in", float64(in1 - in0), wantIn}, {"out", float64(out1 - out0), wantOut}} {
					// Each end truncates (1 octet), each whole day is rounded
					// (half an octet).
					if math.Abs(c.got-c.want) > 1+days/2 {
						t.Errorf("%s %s %s from %v to %v: counters moved %.0f octets, the rate integrates to %.1f",
							dev.Zone, ifc.Name, c.dir, iv.from, iv.to, c.got, c.want)
					}
				}
			}
		}
	}
}

// TestWeekTotals checks the closed form's whole days: the blends cancel
// over a week, a weekend day carries its weight, and the days' integrals
// agree with a numerical integral of w*S.
func TestWeekTotals(t *testing.T) {
	for key := range uint64(20) {
		ph := newPhases(mix(key))
		week := 0.0
		for dow, d := range ph.days {
			week += d
			const n = 20000
			h := float64(daySeconds) / n
			sum := 0.0
			for i := 0; i <= n; i++ {
				w := simpson(i, n)
				x := instant{dow: dow, tod: float64(i) * h}
				sum += w * ph.level(x)
			}
			if num := sum * h / 3; math.Abs(num-d) > 1e-6*d {
				t.Errorf("key %d day %d: closed form %.6f, numerically %.6f", key, dow, d, num)
			}
			if got := ph.dayIntegral(dow, daySeconds); math.Abs(got-d) > 1e-9*d {
				t.Errorf("key %d day %d: integral to midnight %.6f, whole day %.6f", key, dow, got, d)
			}
		}
		if math.Abs(week-7*daySeconds) > 1e-6 {
			t.Errorf("key %d: week integrates to %.6f, want %d", key, week, 7*daySeconds)
		}
		// w is halfway at the midnights it changes across, and continuous there.
		for _, dow := range []int{5, 0} {
			before := weight(dow, daySeconds-1e-6)
			after := weight((dow+1)%7, 0)
			if mid := (wWeekday + wWeekend) / 2; math.Abs(before-mid) > 1e-6 || math.Abs(after-mid) > 1e-9 {
				t.Errorf("w across the midnight after day %d: %.9f then %.9f, want %.9f", dow, before, after, mid)
			}
		}
	}
}
