package discover

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/config"
)

// ParseHost reads "[community@]host[:port]" over the settings of base. The host takes
// the forms of targets.toml, read by config.ParseHost: "192.0.2.1", "::1", "[::1]:1161",
// "router.example.net:1161".
func ParseHost(s string, base Target) (Target, error) {
	t := base
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		t.Community, s = s[:at], s[at+1:]
	}
	host, port, err := config.ParseHost(s)
	if err != nil {
		return t, err // it names the host
	}
	t.Host = host
	if port != 0 {
		t.Port = port
	}
	return t, nil
}

// WalkAll walks every target, at most limit at a time. Devices and errors are in the
// order of targets; exactly one of them is set for each. Progress, when not nil, is
// called as each walk ends (answered or not) with the number ended and len(targets), one
// call at a time.
func WalkAll(ctx context.Context, targets []Target, limit int, progress func(done, total int)) ([]*Device, []error) {
	devs := make([]*Device, len(targets))
	errs := make([]error, len(targets))
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	var (
		mu   sync.Mutex
		done int
	)
	for i, t := range targets {
		g.Go(func() error {
			d, err := Walk(ctx, t)
			mu.Lock()
			devs[i], errs[i] = d, err
			done++
			if progress != nil {
				progress(done, len(targets))
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return devs, errs
}

// Report writes, per device, what the merge did and which interfaces were skipped and why.
func Report(w io.Writer, found []Found, changes []config.Change) {
	for i, ch := range changes {
		f := found[i]
		verb := "updated"
		switch {
		case ch.New:
			verb = "new device"
		case ch.Empty:
			verb = "nothing chosen, not written"
		case len(ch.Added) == 0 && len(ch.AddedTargets) == 0:
			verb = "unchanged"
		}
		fmt.Fprintf(w, "%s (%s): %s: %d interfaces on the agent, %d chosen, %d added, %d skipped\n",
			ch.Device, f.Target.Host, verb, len(f.All), len(f.Keep), len(ch.Added), len(f.Skip))
		if ch.KeyConflict != "" {
			fmt.Fprintf(w, "  the file names this device's interfaces by %s, this run by %s: nothing added (use --key %s)\n", ch.KeyConflict, keyOr(f.Key), ch.KeyConflict)
		}
		if ch.Wildcard {
			fmt.Fprintf(w, "  interfaces = [\"*\"]: every interface that is up is polled; nothing added\n")
		}
		for _, s := range f.Skip {
			name := s.Key
			if name == "" {
				name = fmt.Sprintf("ifIndex %d", s.Index)
			}
			fmt.Fprintf(w, "  skipped %s: %s%s\n", name, s.Reason, hint(s.Reason))
		}
		for _, n := range ch.AddedTargets {
			about := ""
			if p, ok := config.Presets[n]; ok {
				about = ": " + p.About
			}
			fmt.Fprintf(w, "  target %s added%s\n", n, about)
		}
		for _, k := range ch.Vanished {
			fmt.Fprintf(w, "  vanished %s: in the targets file but not on the agent (left in place)\n", k)
		}
		for _, k := range ch.Skipped {
			fmt.Fprintf(w, "  note %s: in the targets file but skipped by this selection (left in place)\n", k)
		}
	}
}

func hint(reason string) string {
	switch {
	case strings.HasPrefix(reason, "administratively"):
		return " (--admin-down to include)"
	case strings.HasPrefix(reason, "operationally"):
		return " (--oper-down to include)"
	case reason == "loopback":
		return " (--loopback to include)"
	case reason == "speed 0":
		return " (--zero-speed to include)"
	}
	return ""
}
