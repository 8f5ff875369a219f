package poller

import (
	"math"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// ENTITY-SENSOR-MIB's entPhySensorTable: the columns beside entPhySensorValue.
const (
	sensorCelsius = 8 // entPhySensorType celsius(8)
	sensorOK      = 1 // entPhySensorOperStatus ok(1)
	sensorUnits   = 9 // entPhySensorScale units(9): 10^0; each step is a power of 1000
)

// sensors reads the temperature preset: the celsius sensors that are ok, each value
// scaled by 1000^(scale-units) and 10^-precision; in is the hottest, out the average.
func (d *device) sensors(s *session, t config.Target) ([]Reading, time.Time, error) {
	value := "." + t.OIDs[0]
	table := strings.TrimSuffix(value, ".4")
	tabs, err := s.Walk([]string{table + ".1", table + ".2", table + ".3", value, table + ".5"})
	at := s.Now()
	if err != nil {
		return nil, at, err
	}
	typ, scale, prec, vals, status := tabs[0], tabs[1], tabs[2], tabs[3], tabs[4]
	hot, sum, n := math.Inf(-1), 0.0, 0
	for idx, v := range vals {
		if ty, _ := typ[idx].Uint64(); ty != sensorCelsius {
			continue
		}
		if st, ok := status[idx].Uint64(); ok && st != sensorOK {
			continue
		}
		r := readingOf(v)
		if !r.Known {
			continue
		}
		f := r.Float
		if sc, ok := scale[idx].Uint64(); ok && sc >= 1 && sc <= 17 {
			f *= math.Pow(1000, float64(int(sc)-sensorUnits))
		}
		if p := readingOf(prec[idx]); p.Known {
			f *= math.Pow(10, -p.Float)
		}
		hot = max(hot, f)
		sum += f
		n++
	}
	if n == 0 {
		return []Reading{Unknown, Unknown}, at, nil
	}
	return []Reading{Float(hot), Float(sum / float64(n))}, at, nil
}
