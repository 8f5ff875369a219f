package snmpsim

import (
	"math"
	"time"
)

// The rate model, in units of the interface's mean rate:
//
//	r(t) = w(day) * (1 + a1*cos(2π(tod-p1)/day) + a2*cos(4π(tod-p2)/day)) + α*n(t)
//
// w is 1.129 on weekdays and 0.677 on weekends (they average to 1 over a
// week), the two harmonics put the trough at night and the peak in the
// evening, and n is smooth noise in [-1, 1]: the derivative of a
// cosine-interpolated random walk through knots every noiseKnot seconds, so
// its integral is the difference of two knot interpolations. The harmonics
// integrate to zero over a whole day, which makes the integral since any
// instant a closed form: whole weeks, at most six whole days, and two partial
// days.
const (
	daySeconds = 86400
	noiseKnot  = 1200 // seconds between noise knots
	harm1      = 0.55 // daily harmonic amplitude
	harm2      = 0.20 // half-day harmonic amplitude
	noiseAmp   = 0.15 // α
	wWeekday   = 7.0 / 6.2
	wWeekend   = 0.6 * 7.0 / 6.2
	// maxFactor bounds r(t)/mean: wWeekday*(1+harm1+harm2) + noiseAmp.
	maxFactor = wWeekday*(1+harm1+harm2) + noiseAmp
	// speedMargin keeps the peak rate strictly below the interface speed.
	speedMargin = 0.98
)

// profile is one direction of one interface's traffic. Whole days are
// counted in integer octets so that counters stay exact to the octet however
// long the uptime; only the current partial day is a float.
type profile struct {
	meanBytes  float64  // mean rate in octets per second (0: no traffic)
	dayOctets  [2]int64 // octets of a whole weekday and weekend day
	weekOctets int64    // octets of a whole week
	noiseScale float64  // octets per unit of the noise level S
	key        uint64   // noise stream
}

// phases place an interface's daily rhythm; in and out share them, so the
// harmonics are evaluated once per counter pair.
type phases struct {
	p1, p2 float64 // phases of the harmonics, seconds after local midnight
	c1, c2 float64 // sin terms of the harmonic integrals at tod 0
}

func newPhases(key uint64) phases {
	// Daily peak between 17:00 and 19:00, evening peak of the half-day
	// harmonic between 20:00 and 21:00.
	ph := phases{
		p1: (17 + 2*unitFloat(mix(key^0x5bd1e995))) * 3600,
		p2: (20 + unitFloat(mix(key^0x1b873593))) * 3600,
	}
	ph.c1 = math.Sin(-2 * math.Pi * ph.p1 / daySeconds)
	ph.c2 = math.Sin(-4 * math.Pi * ph.p2 / daySeconds)
	return ph
}

// integral is the integral of the two harmonics from 0 to tod.
func (ph *phases) integral(tod float64) float64 {
	const k1 = harm1 * daySeconds / (2 * math.Pi)
	const k2 = harm2 * daySeconds / (4 * math.Pi)
	return k1*(math.Sin(2*math.Pi*(tod-ph.p1)/daySeconds)-ph.c1) +
		k2*(math.Sin(4*math.Pi*(tod-ph.p2)/daySeconds)-ph.c2)
}

// shape is 1 plus the harmonics at tod.
func (ph *phases) shape(tod float64) float64 {
	return 1 + harm1*math.Cos(2*math.Pi*(tod-ph.p1)/daySeconds) +
		harm2*math.Cos(4*math.Pi*(tod-ph.p2)/daySeconds)
}

func newProfile(meanBps float64, speed uint64, key uint64) profile {
	if limit := float64(speed) * speedMargin / maxFactor; meanBps > limit {
		meanBps = limit
	}
	if meanBps < 0 || math.IsNaN(meanBps) {
		meanBps = 0
	}
	p := profile{meanBytes: meanBps / 8, key: key}
	p.dayOctets[0] = int64(math.Round(p.meanBytes * daySeconds * wWeekday))
	p.dayOctets[1] = int64(math.Round(p.meanBytes * daySeconds * wWeekend))
	p.weekOctets = 5*p.dayOctets[0] + 2*p.dayOctets[1]
	p.noiseScale = p.meanBytes * noiseAmp * noiseKnot / math.Pi
	return p
}

// instant is a time split for the rate model without losing precision:
// local day number and second of day, noise knot and fraction.
type instant struct {
	day  int64
	tod  float64 // seconds since local midnight
	knot int64
	f    float64 // fraction of the way to the next knot
}

func at(t time.Time, offset int64) instant {
	ts := t.Unix() + offset
	ns := float64(t.Nanosecond()) * 1e-9
	day := floorDiv(ts, daySeconds)
	knot := floorDiv(ts, noiseKnot)
	return instant{
		day:  day,
		tod:  float64(ts-day*daySeconds) + ns,
		knot: knot,
		f:    (float64(ts-knot*noiseKnot) + ns) / noiseKnot,
	}
}

// weekend reports whether local day number d (days since 1970-01-01, a
// Thursday) is a Saturday or Sunday.
func weekend(d int64) bool {
	dow := (d + 4) % 7
	if dow < 0 {
		dow += 7
	}
	return dow == 0 || dow == 6
}

func dayWeight(d int64) float64 {
	if weekend(d) {
		return wWeekend
	}
	return wWeekday
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// mark is the integral of the rate up to an instant, split into whole days
// (exact) and the rest.
type mark struct {
	whole int64   // octets of the days before, since day 0
	part  float64 // octets since the day began, plus the noise level term
}

// mark is the integral up to in; harm is the phases' integral at in.tod.
func (p *profile) mark(in instant, harm float64) mark {
	weeks := floorDiv(in.day, 7)
	whole := weeks * p.weekOctets
	for d := weeks * 7; d < in.day; d++ {
		whole += p.dayOctets[b2i(weekend(d))]
	}
	day := float64(p.dayOctets[b2i(weekend(in.day))])
	return mark{
		whole: whole,
		part:  day*(in.tod+harm)/daySeconds + p.noiseScale*p.noiseLevel(in),
	}
}

// octetsBetween is the traffic from mark a to mark b, truncated to octets.
func octetsBetween(a, b mark) uint64 {
	v := b.whole - a.whole + int64(math.Floor(b.part-a.part))
	if v < 0 {
		return 0
	}
	return uint64(v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noiseLevel is the cosine interpolation S between the knots around in.
func (p *profile) noiseLevel(in instant) float64 {
	k0, k1 := p.knotValue(in.knot), p.knotValue(in.knot+1)
	return k0 + (k1-k0)*(1-math.Cos(math.Pi*in.f))/2
}

// knotValue is the noise knot value in [-1, 1] at knot number j.
func (p *profile) knotValue(j int64) float64 {
	return 2*unitFloat(mix(p.key^uint64(j)*0x9e3779b97f4a7c15)) - 1
}

// rate is r in octets per second at in; shape is the phases' shape at in.tod.
func (p *profile) rate(in instant, shape float64) float64 {
	if p.meanBytes == 0 {
		return 0
	}
	shape *= dayWeight(in.day)
	k0, k1 := p.knotValue(in.knot), p.knotValue(in.knot+1)
	noise := (k1 - k0) / 2 * math.Sin(math.Pi*in.f)
	return p.meanBytes * (shape + noiseAmp*noise)
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unitFloat maps a hash to [0, 1).
func unitFloat(h uint64) float64 {
	return float64(h>>11) / (1 << 53)
}
