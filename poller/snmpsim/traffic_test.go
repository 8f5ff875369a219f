package snmpsim

import (
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
