package daemon

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/remotewrite"
)

// Metric names of the flow aggregates sent with [remote_write], each step: an
// interface's flow total, and its top talkers by source and destination address and
// by service, N of each and the rest as key="rest", so that the keys of one step add
// up to the total.
const (
	MetricFlowBits    = "mrtgo_flow_bits_per_second"
	MetricFlowTopBits = "mrtgo_flow_top_bits_per_second"
)

// flowTopN is how many keys of each list are sent per interface, direction and step:
// enough to say who is behind a graph's peak, few enough that the series an engine
// holds stay bounded (at most 3 lists × (N+1) keys × 2 directions per interface and
// step, whatever the traffic).
const flowTopN = 10

// restKey is the key of what the listed keys leave of the total ("other" is a
// service: the flows of no well-known one).
const restKey = "rest"

type ifaceRef struct{ device, iface string }

// flowSeries returns the flow aggregates of the step that ended at end, of the
// interfaces that had flows in it, read from the top talkers just committed.
func flowSeries(top *flowtop.Store, ifaces map[ifaceRef]bool, end time.Time, step time.Duration, extra []remotewrite.Label) ([]remotewrite.Series, error) {
	var out []remotewrite.Series
	perSecond := 8 / step.Seconds() // bytes in the step to bits/s
	refs := slices.SortedFunc(maps.Keys(ifaces), func(a, b ifaceRef) int {
		return cmp.Or(strings.Compare(a.device, b.device), strings.Compare(a.iface, b.iface))
	})
	for _, ref := range refs {
		for _, dir := range []flowtop.Direction{flowtop.In, flowtop.Out} {
			base := []remotewrite.Label{{Name: "device", Value: ref.device}, {Name: "interface", Value: ref.iface}, {Name: "direction", Value: dir.String()}}
			total := false
			for _, dim := range []flowtop.Dimension{flowtop.SrcAddr, flowtop.DstAddr, flowtop.Service} {
				res, err := top.Top(flowtop.Query{Device: ref.device, Interface: ref.iface, Direction: dir, Dimension: dim,
					By: flowtop.Bytes, From: end.Add(-step), To: end, N: flowTopN})
				if errors.Is(err, flowtop.ErrNoSeries) {
					break // nothing in this direction yet
				}
				if err != nil {
					return nil, err
				}
				if res.Total == 0 {
					continue
				}
				if !total {
					total = true
					out = append(out, remotewrite.Series{Labels: labels(MetricFlowBits, base, extra),
						Samples: []remotewrite.Sample{{Time: end, Value: float64(res.Total) * perSecond}}})
				}
				add := func(key string, w uint64) {
					l := append(slices.Clone(base), remotewrite.Label{Name: "dimension", Value: dim.String()}, remotewrite.Label{Name: "key", Value: key})
					out = append(out, remotewrite.Series{Labels: labels(MetricFlowTopBits, l, extra),
						Samples: []remotewrite.Sample{{Time: end, Value: float64(w) * perSecond}}})
				}
				for _, e := range res.Entries {
					add(e.Key.String(), e.Weight)
				}
				if res.Other > 0 {
					add(restKey, res.Other)
				}
			}
		}
	}
	return out, nil
}

func labels(metric string, l, extra []remotewrite.Label) []remotewrite.Label {
	out := make([]remotewrite.Label, 0, 1+len(l)+len(extra))
	out = append(out, remotewrite.Label{Name: "__name__", Value: metric})
	return append(append(out, l...), extra...)
}
