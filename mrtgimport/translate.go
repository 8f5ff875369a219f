package mrtgimport

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
	"github.com/mrtgo/mrtgo/internal/series"
)

// Agent looks interfaces up on the SNMP agents of the targets; discover.Walk and
// discover.LookupIP in production.
type Agent struct {
	Walk     func(ctx context.Context, t discover.Target) (*discover.Device, error)
	LookupIP func(ctx context.Context, t discover.Target, ip string) (int, error)
}

// Plan is what becomes of one MRTG target.
type Plan struct {
	Target    *Target
	Device    string  // device name in targets.toml; "" when the target is skipped
	Interface string  // ifName
	Series    string  // store series
	MaxRate   float64 // bytes/s: AbsMax, else MaxBytes
	Bits      int     // counter width mrtgo will poll: 32 for SNMPv1, else 64
	Index     int     // ifIndex when the agent was asked, else 0
	Descr     string  // ifDescr when the agent was asked, else ""
}

// Translate maps every target that names one interface's octet counters to a device and
// an ifName. Targets naming the interface other than by ifName are looked up through
// agent. With agent nil (offline), targets naming it by ifDescr, MAC address or ifIndex
// go to devices of that interface_key instead (one device per agent and key), and those
// naming it by IP address or ifType are skipped with the reason. The Found values are
// ready for TargetsFile; plans are in the order of c.Targets.
func Translate(ctx context.Context, c *Config, agent *Agent) ([]discover.Found, []*Plan) {
	type group struct {
		key    string
		target discover.Target
		found  *discover.Found
		dev    *discover.Device
		err    error
		walked bool
	}
	var groups []*group
	byKey := map[string]*group{}
	firstOf := map[string]*Target{} // the first target of each host
	usedName := map[string]bool{}
	plans := make([]*Plan, len(c.Targets))
	offline := agent == nil
	for i, t := range c.Targets {
		plans[i] = &Plan{Target: t}
		if t.Skip == "" && offline && offlineKey(t) == "" {
			t.Skip = fmt.Sprintf("Target[%s]: names the interface by %s %s; finding it needs the agent (run import where %s answers)", t.Name, t.Ref, t.Key, t.Host)
		}
		if t.Skip != "" {
			continue
		}
		key := groupKey(t, offline)
		if byKey[key] == nil {
			dt := discover.Target{Host: t.Host, SNMP: config.SNMP{Port: t.Port, Community: t.Community, Version: t.Version,
				Timeout: t.Timeout, Retries: t.Retries,
				Username: t.V3.Username, SecurityLevel: t.V3.SecurityLevel, AuthProtocol: t.V3.AuthProtocol,
				AuthPassword: t.V3.AuthPassword, PrivProtocol: t.V3.PrivProtocol, PrivPassword: t.V3.PrivPassword,
				Context: t.V3.Context}}
			if t.Version == "3" {
				dt.Community = ""
			}
			if dt.Timeout == 0 {
				dt.Timeout = config.DefaultTimeout
			}
			if dt.Retries < 0 {
				dt.Retries = 1
			}
			g := &group{key: key, target: dt}
			name := t.Host
			if first := firstOf[t.Host]; first != nil {
				switch {
				case t.Port != first.Port:
					name = fmt.Sprintf("%s-%d", t.Host, t.Port)
				case t.Version != first.Version:
					name = t.Host + "-v" + t.Version
				case offline && offlineKey(t) != offlineKey(first):
					name = t.Host + "-" + string(offlineKey(t))
				}
				for n := 2; usedName[name]; n++ {
					name = fmt.Sprintf("%s-%d", t.Host, n)
				}
			} else {
				firstOf[t.Host] = t
			}
			usedName[name] = true
			g.found = &discover.Found{Name: name, Target: dt, All: map[string]bool{}}
			if offline {
				g.found.Key = offlineKey(t)
			}
			byKey[key] = g
			groups = append(groups, g)
		}
	}
	used := map[string]string{} // series -> MRTG target that took it
	for i, t := range c.Targets {
		p := plans[i]
		if t.Skip != "" {
			continue
		}
		g := byKey[groupKey(t, offline)]
		name := ""
		var facts *discover.Interface
		if t.Ref == RefName || offline {
			name = t.Key // offline, the device is named by the target's own key
		} else {
			if !g.walked {
				g.walked = true
				g.dev, g.err = agent.Walk(ctx, g.target)
			}
			if g.err != nil {
				t.Skip = fmt.Sprintf("Target[%s]: looking up %s %s: %v", t.Name, t.Ref, t.Key, g.err)
				continue
			}
			f, err := find(ctx, agent, g.dev, g.target, t)
			if err != nil {
				t.Skip = fmt.Sprintf("Target[%s]: %v", t.Name, err)
				continue
			}
			facts = f
			name = f.Name
			if name == "" {
				name = f.Descr // agents without ifXTable: the poller names interfaces by ifDescr
			}
		}
		series := series.Name(g.found.Name, name)
		if other, dup := used[series]; dup {
			t.Skip = fmt.Sprintf("Target[%s]: the same interface as Target[%s] (%s)", t.Name, other, series)
			continue
		}
		used[series] = t.Name
		p.Device, p.Interface, p.Series = g.found.Name, name, series
		p.MaxRate = float64(t.MaxBytes)
		if t.AbsMax > 0 {
			p.MaxRate = float64(t.AbsMax)
			if g.found.Speed == nil {
				g.found.Speed = map[string]uint64{}
			}
			g.found.Speed[name] = t.AbsMax * 8
		}
		if p.MaxRate == 0 {
			p.MaxRate = math.NaN()
		}
		p.Bits = 32
		if t.Version != "1" {
			p.Bits = 64
		}
		ifc := discover.Interface{Name: name, Alias: t.Title, Speed: t.MaxBytes * 8, Admin: 1, Oper: 1}
		if facts != nil {
			ifc.Index, ifc.Descr, ifc.Type = facts.Index, facts.Descr, facts.Type
			p.Index, p.Descr = facts.Index, facts.Descr
		}
		g.found.Keep = append(g.found.Keep, discover.Pick{Key: name, Interface: ifc})
		g.found.All[name] = true
	}
	var found []discover.Found
	for _, g := range groups {
		if g.dev != nil {
			for _, f := range g.dev.Interfaces {
				n := f.Name
				if n == "" {
					n = f.Descr
				}
				g.found.All[n] = true
			}
		}
		found = append(found, *g.found)
	}
	return found, plans
}

// groupKey is what makes targets one device: the agent and the way to talk to it, and
// offline, where each device keeps its targets' own interface key, that key.
func groupKey(t *Target, offline bool) string {
	k := fmt.Sprintf("%s|%d|%s|%s|%+v", t.Host, t.Port, t.Community, t.Version, t.V3)
	if offline {
		k += "|" + string(offlineKey(t))
	}
	return k
}

// offlineKey is the interface_key that names t's interface without asking the agent, ""
// when there is none (an IP address or an ifType needs the agent).
func offlineKey(t *Target) discover.Key {
	switch t.Ref {
	case RefName:
		return discover.KeyName
	case RefDescr:
		return discover.KeyDescr
	case RefMAC:
		return discover.KeyMAC
	case RefIndex:
		return discover.KeyIndex
	}
	return ""
}

// find picks the interface a target names among those walked.
func find(ctx context.Context, agent *Agent, dev *discover.Device, dt discover.Target, t *Target) (*discover.Interface, error) {
	match := func(ok func(f discover.Interface) bool) (*discover.Interface, error) {
		var hit *discover.Interface
		for i, f := range dev.Interfaces {
			if ok(f) {
				if hit != nil {
					return nil, fmt.Errorf("%s %q matches ifIndex %d and %d; MRTG would poll the first, name it by ifName instead", t.Ref, t.Key, hit.Index, f.Index)
				}
				hit = &dev.Interfaces[i]
			}
		}
		if hit == nil {
			return nil, fmt.Errorf("%s has no interface with %s %q", t.Host, t.Ref, t.Key)
		}
		return hit, nil
	}
	switch t.Ref {
	case RefIndex:
		idx, _ := strconv.Atoi(t.Key)
		return match(func(f discover.Interface) bool { return f.Index == idx })
	case RefDescr:
		return match(func(f discover.Interface) bool { return f.Descr == t.Key })
	case RefMAC:
		return match(func(f discover.Interface) bool { return f.MAC == t.Key })
	case RefType:
		typ, _ := strconv.Atoi(t.Key)
		for i, f := range dev.Interfaces {
			if f.Type == typ {
				return &dev.Interfaces[i], nil
			}
		}
		return nil, fmt.Errorf("%s has no interface of ifType %d", t.Host, typ)
	case RefIP:
		if agent.LookupIP == nil {
			return nil, fmt.Errorf("cannot look up address %s", t.Key)
		}
		idx, err := agent.LookupIP(ctx, dt, t.Key)
		if err != nil {
			return nil, err
		}
		return match(func(f discover.Interface) bool { return f.Index == idx })
	}
	return nil, fmt.Errorf("cannot resolve %s", t.Ref)
}
