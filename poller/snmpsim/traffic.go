package snmpsim

import (
	"math"
	"time"
)

// The rate model, in units of the interface's mean rate:
//
//	r(t) = w(t) * S(tod) + α*n(t)
//	S(tod) = 1 + a1*cos(2π(tod-p1)/day) + a2*cos(4π(tod-p2)/day)
//
// w is 1.129 on weekdays and 0.677 at weekends (they average to 1 over a
// week). It does not switch at midnight: at the two midnights where it
// changes (Friday to Saturday, Sunday to Monday) it follows a raised cosine
// from the old weight to the new over blendHalf either side,
//
//	w = wBefore + (wAfter-wBefore) * (1 + sin(πu/(2*blendHalf)))/2,  |u| <= blendHalf,
//
// u being the seconds from midnight, so the weekend fades in from 21:30 to
// 02:30 and out again on Sunday night. The two harmonics of S put the
// trough at night and the peak in the evening, and n is smooth noise in
// [-1, 1]: the derivative of a cosine-interpolated random walk through
// knots every noiseKnot seconds, so its integral is the difference of two
// knot interpolations.
//
// Every term integrates in closed form: the harmonics to zero over a whole
// day, the blend times S to sines and cosines of the sum and difference of
// the blend's and the harmonics' frequencies. The two blends are mirror
// images over the same hours of the day, so their effects cancel over a
// week and its mean stays 1. Each day of the week is therefore a fixed
// whole number of octets (Friday to Monday depending on the interface's
// phases), and the integral since any instant is whole weeks, the days of
// the current week before today (a prefix sum), and the partial day.
const (
	daySeconds = 86400
	noiseKnot  = 1200 // seconds between noise knots
	harm1      = 0.55 // daily harmonic amplitude
	harm2      = 0.20 // half-day harmonic amplitude
	noiseAmp   = 0.15 // α
	wWeekday   = 7.0 / 6.2
	wWeekend   = 0.6 * 7.0 / 6.2
	// blendHalf is half the time w takes to change between weekday and
	// weekend. Its raised cosine's frequency π/(2*blendHalf) must differ
	// from the harmonics' (blendHalf of 6 h or 3 h would divide by zero in
	// phases.anti).
	blendHalf = 9000
	blendK    = math.Pi / (2 * blendHalf)
	omega1    = 2 * math.Pi / daySeconds
	omega2    = 4 * math.Pi / daySeconds
	// maxFactor bounds r(t)/mean: w never leaves [wWeekend, wWeekday], so
	// wWeekday*(1+harm1+harm2) + noiseAmp.
	maxFactor = wWeekday*(1+harm1+harm2) + noiseAmp
	// speedMargin keeps the peak rate strictly below the interface speed.
	speedMargin = 0.98
)

// dayWeight is w on a whole day of the week dow (0 Sunday), away from the
// blends.
func dayWeight(dow int) float64 {
	if dow == 0 || dow == 6 {
		return wWeekend
	}
	return wWeekday
}

// blendIn is how much w changes across the midnight that begins day dow;
// blendOut across the midnight that ends it. Both are zero but at the
// weekend's edges.
func blendIn(dow int) float64  { return dayWeight(dow) - dayWeight((dow+6)%7) }
func blendOut(dow int) float64 { return dayWeight((dow+1)%7) - dayWeight(dow) }

// rise is the raised cosine from 0 at u = -blendHalf to 1 at u = blendHalf.
func rise(u float64) float64 {
	return (1 + math.Sin(blendK*u)) / 2
}

// weight is w at second tod of day dow.
func weight(dow int, tod float64) float64 {
	w := dayWeight(dow)
	if d := blendIn(dow); d != 0 && tod < blendHalf {
		w += d * (rise(tod) - 1)
	}
	if d := blendOut(dow); d != 0 && tod > daySeconds-blendHalf {
		w += d * rise(tod-daySeconds)
	}
	return w
}

// profile is one direction of one interface's traffic. Whole days are
// counted in integer octets so that counters stay exact to the octet however
// long the uptime; only the current partial day is a float.
type profile struct {
	meanBytes  float64  // mean rate in octets per second (0: no traffic)
	dayOctets  [7]int64 // octets of each whole day of the week, 0 Sunday
	before     [7]int64 // octets of a week's days before its i-th (weeks start on Thursday, day 0)
	weekOctets int64    // octets of a whole week
	noiseScale float64  // octets per unit of the noise level
	key        uint64   // noise stream
}

// phases place an interface's daily rhythm; in and out share them, so the
// harmonics and blends are evaluated once per counter pair.
type phases struct {
	p1, p2 float64 // phases of the harmonics, seconds after local midnight
	c1, c2 float64 // sin terms of the harmonic integrals at tod 0
	antiLo float64 // anti(-blendHalf)
	head   float64 // ∫ rise*S over [-blendHalf, 0]: the evening before a change
	tail   float64 // ∫ (rise-1)*S over [0, blendHalf]: the morning after
	// days is ∫ w*S over each whole day of the week, in seconds at the mean
	// rate.
	days [7]float64
}

func newPhases(key uint64) phases {
	// Daily peak between 17:00 and 19:00, evening peak of the half-day
	// harmonic between 20:00 and 21:00.
	ph := phases{
		p1: (17 + 2*unitFloat(mix(key^0x5bd1e995))) * 3600,
		p2: (20 + unitFloat(mix(key^0x1b873593))) * 3600,
	}
	ph.c1 = math.Sin(-omega1 * ph.p1)
	ph.c2 = math.Sin(-omega2 * ph.p2)
	ph.antiLo = ph.anti(-blendHalf)
	ph.head = ph.blended(0)
	ph.tail = ph.blended(blendHalf) - ph.head - (blendHalf + ph.integral(blendHalf))
	for dow := range ph.days {
		ph.days[dow] = dayWeight(dow)*daySeconds + blendIn(dow)*ph.tail + blendOut(dow)*ph.head
	}
	return ph
}

// integral is the integral of the two harmonics from 0 to tod.
func (ph *phases) integral(tod float64) float64 {
	const k1 = harm1 / omega1
	const k2 = harm2 / omega2
	return k1*(math.Sin(omega1*(tod-ph.p1))-ph.c1) +
		k2*(math.Sin(omega2*(tod-ph.p2))-ph.c2)
}

// shape is S at tod.
func (ph *phases) shape(tod float64) float64 {
	return 1 + harm1*math.Cos(omega1*(tod-ph.p1)) +
		harm2*math.Cos(omega2*(tod-ph.p2))
}

// anti is an antiderivative of rise(u)*S(u), u seconds from midnight:
// (1 + sin ku)/2 times 1 + Σ a cos(ω(u-p)) integrates term by term, the
// products through sin x cos y = (sin(x+y) + sin(x-y))/2.
func (ph *phases) anti(u float64) float64 {
	const k = blendK
	v := u/2 - math.Cos(k*u)/(2*k)
	for _, h := range [2]struct{ a, w, p float64 }{{harm1, omega1, ph.p1}, {harm2, omega2, ph.p2}} {
		v += h.a / (2 * h.w) * math.Sin(h.w*(u-h.p))
		v -= h.a / 4 * (math.Cos((k+h.w)*u-h.w*h.p)/(k+h.w) + math.Cos((k-h.w)*u+h.w*h.p)/(k-h.w))
	}
	return v
}

// blended is ∫ rise*S from -blendHalf to u.
func (ph *phases) blended(u float64) float64 {
	return ph.anti(u) - ph.antiLo
}

// dayIntegral is ∫ w*S from the midnight that began day dow to tod, in
// seconds at the mean rate.
func (ph *phases) dayIntegral(dow int, tod float64) float64 {
	v := dayWeight(dow) * (tod + ph.integral(tod))
	if d := blendIn(dow); d != 0 {
		if tod >= blendHalf {
			v += d * ph.tail
		} else {
			v += d * (ph.blended(tod) - ph.head - (tod + ph.integral(tod)))
		}
	}
	if d := blendOut(dow); d != 0 && tod > daySeconds-blendHalf {
		v += d * ph.blended(tod-daySeconds)
	}
	return v
}

// fraction is the share of its day's traffic that has passed at x.
func (ph *phases) fraction(x instant) float64 {
	return ph.dayIntegral(x.dow, x.tod) / ph.days[x.dow]
}

// level is w*S at x: the rate without noise, in units of the mean.
func (ph *phases) level(x instant) float64 {
	return weight(x.dow, x.tod) * ph.shape(x.tod)
}

func newProfile(meanBps float64, speed uint64, key uint64, ph *phases) profile {
	if limit := float64(speed) * speedMargin / maxFactor; meanBps > limit {
		meanBps = limit
	}
	if meanBps < 0 || math.IsNaN(meanBps) {
		meanBps = 0
	}
	p := profile{meanBytes: meanBps / 8, key: key}
	for dow, d := range ph.days {
		p.dayOctets[dow] = int64(math.Round(p.meanBytes * d))
	}
	for i := range 7 {
		p.before[i] = p.weekOctets
		p.weekOctets += p.dayOctets[(i+4)%7]
	}
	p.noiseScale = p.meanBytes * noiseAmp * noiseKnot / math.Pi
	return p
}

// instant is a time split for the rate model without losing precision:
// local day number, day of the week and second of day, noise knot and
// fraction.
type instant struct {
	day  int64
	dow  int     // 0 Sunday
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
		dow:  int(day-floorDiv(day, 7)*7+4) % 7, // day 0, 1970-01-01, was a Thursday
		tod:  float64(ts-day*daySeconds) + ns,
		knot: knot,
		f:    (float64(ts-knot*noiseKnot) + ns) / noiseKnot,
	}
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

// mark is the integral up to in; frac is the phases' fraction at in.
func (p *profile) mark(in instant, frac float64) mark {
	weeks := floorDiv(in.day, 7)
	return mark{
		whole: weeks*p.weekOctets + p.before[in.day-weeks*7],
		part:  float64(p.dayOctets[in.dow])*frac + p.noiseScale*p.noiseLevel(in),
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

// noiseLevel is the cosine interpolation between the knots around in: the
// integral of n up to in, plus a constant, in units of noiseKnot/π.
func (p *profile) noiseLevel(in instant) float64 {
	k0, k1 := p.knotValue(in.knot), p.knotValue(in.knot+1)
	return k0 + (k1-k0)*(1-math.Cos(math.Pi*in.f))/2
}

// knotValue is the noise knot value in [-1, 1] at knot number j.
func (p *profile) knotValue(j int64) float64 {
	return 2*unitFloat(mix(p.key^uint64(j)*0x9e3779b97f4a7c15)) - 1
}

// rate is r in octets per second at in; level is the phases' level at in.
func (p *profile) rate(in instant, level float64) float64 {
	if p.meanBytes == 0 {
		return 0
	}
	k0, k1 := p.knotValue(in.knot), p.knotValue(in.knot+1)
	noise := (k1 - k0) / 2 * math.Sin(math.Pi*in.f)
	return p.meanBytes * (level + noiseAmp*noise)
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
