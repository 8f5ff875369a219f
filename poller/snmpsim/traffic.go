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
	daySeconds = 86400.0
	noiseKnot  = 1200.0 // seconds between noise knots
	harm1      = 0.55   // daily harmonic amplitude
	harm2      = 0.20   // half-day harmonic amplitude
	noiseAmp   = 0.15   // α
	wWeekday   = 7.0 / 6.2
	wWeekend   = 0.6 * 7.0 / 6.2
	// maxFactor bounds r(t)/mean: wWeekday*(1+harm1+harm2) + noiseAmp.
	maxFactor = wWeekday*(1+harm1+harm2) + noiseAmp
	// speedMargin keeps the peak rate strictly below the interface speed.
	speedMargin = 0.98
)

// profile is one direction of one interface's traffic.
type profile struct {
	meanBytes float64 // mean rate in octets per second (0: no traffic)
	p1, p2    float64 // phases of the harmonics, seconds after local midnight
	c1, c2    float64 // sin terms of the harmonic integrals at tod 0
	key       uint64  // noise stream
}

func newProfile(meanBps float64, speed uint64, key uint64) profile {
	if limit := float64(speed) * speedMargin / maxFactor; meanBps > limit {
		meanBps = limit
	}
	if meanBps < 0 {
		meanBps = 0
	}
	// Peak between 17:00 and 19:00, evening peak of the half-day harmonic
	// between 20:00 and 21:00.
	j1 := unitFloat(mix(key ^ 0x5bd1e995))
	j2 := unitFloat(mix(key ^ 0x1b873593))
	p := profile{
		meanBytes: meanBps / 8,
		p1:        (17 + 2*j1) * 3600,
		p2:        (20 + j2) * 3600,
		key:       key,
	}
	p.c1 = math.Sin(-2 * math.Pi * p.p1 / daySeconds)
	p.c2 = math.Sin(-4 * math.Pi * p.p2 / daySeconds)
	return p
}

// dayWeight is w for local day number d (days since 1970-01-01, a Thursday).
func dayWeight(d int64) float64 {
	dow := (d + 4) % 7
	if dow < 0 {
		dow += 7
	}
	if dow == 0 || dow == 6 {
		return wWeekend
	}
	return wWeekday
}

// weightsBefore is the sum of dayWeight(d) for 0 <= d < day (or minus the sum
// for day <= d < 0).
func weightsBefore(day int64) float64 {
	weeks := floorDiv(day, 7)
	sum := float64(weeks) * 7 // a week of weights sums to 7
	for d := weeks * 7; d < day; d++ {
		sum += dayWeight(d)
	}
	return sum
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// cum is the integral of r from local second 0 to s, in mean-rate seconds.
func (p *profile) cum(s float64) float64 {
	day := int64(math.Floor(s / daySeconds))
	tod := s - float64(day)*daySeconds
	shape := daySeconds*weightsBefore(day) + dayWeight(day)*(tod+p.harmIntegral(tod))
	return shape + noiseAmp*noiseKnot/math.Pi*p.noiseLevel(s)
}

// harmIntegral is the integral of the two harmonics from 0 to tod.
func (p *profile) harmIntegral(tod float64) float64 {
	const k1 = harm1 * daySeconds / (2 * math.Pi)
	const k2 = harm2 * daySeconds / (4 * math.Pi)
	return k1*(math.Sin(2*math.Pi*(tod-p.p1)/daySeconds)-p.c1) +
		k2*(math.Sin(4*math.Pi*(tod-p.p2)/daySeconds)-p.c2)
}

// noiseLevel is the cosine interpolation S(s) between the knots around s.
func (p *profile) noiseLevel(s float64) float64 {
	j := math.Floor(s / noiseKnot)
	f := s/noiseKnot - j
	k0, k1 := p.knot(int64(j)), p.knot(int64(j)+1)
	return k0 + (k1-k0)*(1-math.Cos(math.Pi*f))/2
}

// knot is the noise knot value in [-1, 1] at knot number j.
func (p *profile) knot(j int64) float64 {
	return 2*unitFloat(mix(p.key^uint64(j)*0x9e3779b97f4a7c15)) - 1
}

// rate is r(s) in octets per second.
func (p *profile) rate(s float64) float64 {
	if p.meanBytes == 0 {
		return 0
	}
	day := int64(math.Floor(s / daySeconds))
	tod := s - float64(day)*daySeconds
	shape := dayWeight(day) * (1 + harm1*math.Cos(2*math.Pi*(tod-p.p1)/daySeconds) +
		harm2*math.Cos(4*math.Pi*(tod-p.p2)/daySeconds))
	j := math.Floor(s / noiseKnot)
	f := s/noiseKnot - j
	k0, k1 := p.knot(int64(j)), p.knot(int64(j)+1)
	noise := (k1 - k0) / 2 * math.Sin(math.Pi*f)
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

// seconds is t as fractional Unix seconds shifted to local time by offset.
func seconds(t time.Time, offset float64) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())*1e-9 + offset
}
