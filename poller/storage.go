package poller

import (
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// hrStorageRam is HOST-RESOURCES-MIB's hrStorageType of physical memory.
const hrStorageRam = "1.3.6.1.2.1.25.2.1.2"

// storage reads the memory-hr preset from hrStorageTable: of the rows whose
// hrStorageType is hrStorageRam, in is hrStorageUsed and out hrStorageSize, each times
// the row's hrStorageAllocationUnits, in bytes (summed should an agent list more than
// one such row). Unknown when the agent has none.
func (d *device) storage(s *session, t config.Target) ([]Reading, time.Time, error) {
	used, size := "."+t.OIDs[0], "."+t.OIDs[1]
	table := used[:strings.LastIndexByte(used, '.')]
	tabs, err := s.Walk([]string{table + ".2", table + ".4", size, used})
	at := s.Now()
	if err != nil {
		return nil, at, err
	}
	typ, units, sizes, useds := tabs[0], tabs[1], tabs[2], tabs[3]
	var u, z float64
	n := 0
	for idx, ty := range typ {
		if strings.TrimPrefix(ty.Text(), ".") != hrStorageRam {
			continue
		}
		unit, ok1 := units[idx].Uint64()
		sz, ok2 := sizes[idx].Uint64()
		us, ok3 := useds[idx].Uint64()
		if !ok1 || !ok2 || !ok3 || unit == 0 {
			continue
		}
		u += float64(us) * float64(unit)
		z += float64(sz) * float64(unit)
		n++
	}
	if n == 0 {
		return []Reading{Unknown, Unknown}, at, nil
	}
	return []Reading{Float(u), Float(z)}, at, nil
}
