package pipeline

// Forgetting an interface: its series of every kind (octets, packets, errors), its
// facts and counts of refused rates in one store transaction, then its page and graphs
// in the site directory. What the flow store and the event log hold of it is history
// of their own and stays.

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// ErrUnknownInterface says the store has no series of the interface (or of the device).
var ErrUnknownInterface = errors.New("not in the store")

// Forget drops an interface from the store and its files from the site directory
// siteDir, and returns the series dropped. An interface the store does not have is
// ErrUnknownInterface, naming the device's interfaces, or saying the device has none.
// A device polling the interface still records it again on its next poll.
func Forget(db *rrd.DB, siteDir, device, iface string) ([]string, error) {
	all, err := db.Series()
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	var drop, others []string
	for _, s := range all {
		d, kind, n, ok := series.Parse(s)
		if !ok || d != device {
			continue
		}
		switch {
		case n == iface:
			drop = append(drop, s)
		case kind == series.KindOctets:
			others = append(others, n)
		}
	}
	if len(drop) == 0 {
		if len(others) == 0 {
			return nil, fmt.Errorf("device %q: %w (it has no interface there)", device, ErrUnknownInterface)
		}
		slices.Sort(others)
		return nil, fmt.Errorf("interface %q of device %q: %w (it has %s)", iface, device, ErrUnknownInterface, abbrevList(others, 8))
	}
	meta := map[string][]byte{}
	for _, s := range drop {
		meta[series.InfoKey(s)] = nil
		meta[refusedKey(s)] = nil
	}
	if err := db.Delete(drop, meta); err != nil {
		return nil, err
	}
	files := []string{web.InterfacePage(device, iface)}
	for _, p := range render.Periods {
		for _, scale := range []int{1, 2} {
			files = append(files, web.GraphFile(device, iface, p.String(), scale),
				web.FlowGraphFile(device, iface, p.String(), scale))
			for _, kind := range groupKinds {
				files = append(files, web.CounterGraphFile(device, iface, kind, p.String(), scale))
			}
		}
	}
	var errs []error
	for _, f := range files {
		if err := web.RemoveFile(siteDir, f); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return drop, fmt.Errorf("remove the pages of %s %s: %w", device, iface, err)
	}
	return drop, nil
}

func abbrevList(names []string, n int) string {
	if len(names) <= n {
		return fmt.Sprintf("%q", names)
	}
	return fmt.Sprintf("%q and %d more", names[:n], len(names)-n)
}
