package pipeline

// Interfaces that vanished: an interface the agent no longer has keeps its series and
// facts, marked gone since the first cycle that missed it, so that the pages move it
// to its device's inactive section with its history still browsable. It is polled
// again (and no longer gone) when the agent has it again; "mrtgo forget" drops it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// markGone marks the device's missing interfaces that have a series gone since when,
// in meta (the cycle's commit); one already gone keeps its date.
func (r *Recorder) markGone(device string, missing []string, when time.Time, meta map[string][]byte) error {
	for _, iface := range missing {
		name := series.Name(device, iface)
		info, ok := r.info[name]
		if !ok {
			if b, stored := r.stored[name]; stored {
				if err := json.Unmarshal(b, &info); err != nil {
					return fmt.Errorf("decode facts of %s: %w", name, err)
				}
				delete(r.stored, name)
			} else if _, err := r.db.Spec(name); errors.Is(err, rrd.ErrNoSeries) {
				continue // never polled: nothing to keep
			} else if err != nil {
				return err
			}
		}
		if !info.Gone.IsZero() {
			r.info[name] = info
			continue
		}
		info.Gone = when.UTC()
		r.info[name] = info
		b, _ := json.Marshal(info)
		meta[series.InfoKey(name)] = b
		r.log.Info("interface gone from the agent; its history is kept", "device", device, "interface", iface)
	}
	return nil
}

// isGroup reports whether a series is a counter group's (packets, errors).
func isGroup(name string) bool {
	_, kind, _, ok := series.Parse(name)
	return ok && (kind == series.KindPackets || kind == series.KindErrors)
}
