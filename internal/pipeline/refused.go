package pipeline

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// Refusals counts the steps of an interface whose rate the store refused because it
// was above the interface's speed (stored as unknown, never as a spike): an agent that
// under-reports a speed (net-snmp's lo at 10 Mb/s, tunnels, sub-rate circuits) makes
// gaps that the pages and /metrics must explain. It is kept in the store, so that cron
// runs add to the same count as the daemon.
type Refusals struct {
	In    int64     `json:"in"`
	Out   int64     `json:"out"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Refused is one update of the last Record call whose rate was refused.
type Refused struct {
	Series    string
	Direction string // "in" or "out"
}

func refusedKey(series string) string { return "refused:" + series }

// RefusalsOf reads the refusals counted for a series; none is the zero value.
func RefusalsOf(db Store, series string) (Refusals, error) {
	var rf Refusals
	b, err := db.Meta(refusedKey(series))
	if err != nil || b == nil {
		return rf, err
	}
	if err := json.Unmarshal(b, &rf); err != nil {
		return rf, fmt.Errorf("read refusals of %s: %w", series, err)
	}
	return rf, nil
}

// countRefused is called inside the cycle's commit: it adds the updates the store
// marked Refused to their series' counts and returns the counts that changed, to be
// committed with the cycle. The counts are kept only once the commit succeeds (see
// Record); the first refusal of a series is logged with the remedy.
func (r *Recorder) countRefused(ups []rrd.Update) map[string][]byte {
	r.refused = r.refused[:0]
	r.pending = nil
	var meta map[string][]byte
	for i := range ups {
		u := &ups[i]
		if u.Refused == 0 || isGroup(u.Series) {
			continue // a counter group's refusals are not the octets'
		}
		if _, _, ok := series.Split(u.Series); !ok {
			continue // a target above its max: no interface speed to blame
		}
		if r.pending == nil {
			r.pending, meta = map[string]Refusals{}, map[string][]byte{}
		}
		rf, ok := r.pending[u.Series]
		if !ok {
			rf = r.refusals[u.Series]
			if rf.In+rf.Out == 0 {
				dev, iface, _ := series.Split(u.Series)
				r.log.Warn("rate above the interface speed stored as unknown; if the link is faster than the agent says, set its speed in the targets file",
					"device", dev, "interface", iface, "speed", r.info[u.Series].Speed,
					"remedy", fmt.Sprintf(`speed = { %q = "10G" } under [[device]] name = %q`, iface, dev))
			}
		}
		for d, dir := range []string{"in", "out"} {
			if u.Refused&(1<<d) == 0 {
				continue
			}
			if d == 0 {
				rf.In++
			} else {
				rf.Out++
			}
			r.refused = append(r.refused, Refused{Series: u.Series, Direction: dir})
		}
		if rf.First.IsZero() {
			rf.First = u.Time
		}
		rf.Last = u.Time
		r.pending[u.Series] = rf
		b, _ := json.Marshal(rf)
		meta[refusedKey(u.Series)] = b
	}
	return meta
}

// LastRefused lists the rates the last Record call saw refused, for /metrics.
func (r *Recorder) LastRefused() []Refused { return r.refused }
