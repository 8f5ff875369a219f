package mrtgimport

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

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

// Plan is what becomes of one MRTG target: an interface of a device (FormInterface), a
// [[device.target]] (FormOIDs, FormCommand) or an [[aggregate]] (FormSum).
type Plan struct {
	Target    *Target
	Device    string // device of the interface or target; "" when skipped, and for a sum
	Interface string // FormInterface: ifName (or the device's interface key value)
	Series    string // store series; "" when the target is skipped
	// MaxRate is the series' ceiling: bytes/s of an interface (AbsMax, else MaxBytes),
	// the raw value per second (a gauge's value) of a target; NaN for none.
	MaxRate float64
	Bits    int    // counter width mrtgo will poll: 32 for SNMPv1, else 64
	Index   int    // ifIndex when the agent was asked, else 0
	Descr   string // ifDescr when the agent was asked, else ""
	// Targets are the [[device.target]] tables the target needs: its own for FormOIDs
	// and FormCommand, one per term of a sum that is not an interface.
	Targets []DeviceTarget
	// Aggregate is the [[aggregate]] of a FormSum.
	Aggregate *config.Aggregate
}

// DeviceTarget is a [[device.target]] of the device named Device.
type DeviceTarget struct {
	Device string
	Target config.Target
}

// kind is the series kind of the plan (internal/series).
func (p *Plan) kind() string {
	switch {
	case p.Aggregate != nil:
		return series.KindAggregate
	case len(p.Targets) > 0:
		return series.KindTarget
	}
	return series.KindOctets
}

// agentGroup is the targets of one agent, polled alike: one device of targets.toml.
type agentGroup struct {
	key    string
	target discover.Target
	found  *discover.Found
	dev    *discover.Device
	err    error
	walked bool
	kept   map[string]bool // interfaces in found.Keep
	names  map[string]bool // [[device.target]] names taken
}

// translation is the state of one Translate.
type translation struct {
	ctx      context.Context
	agent    *Agent
	offline  bool
	groups   []*agentGroup
	byKey    map[string]*agentGroup
	firstOf  map[string]*Target // the first target of each host
	usedName map[string]bool    // device names
	used     map[string]string  // interface series -> MRTG target that took it
	aggs     map[string]bool    // aggregate names
	commands *agentGroup        // where command targets go
}

// Translate maps every target it can to what mrtgo polls: interface targets to a device
// and an ifName, OID pairs and programs to [[device.target]] tables of the device of
// their agent, sums and swapped interfaces to [[aggregate]] tables of their terms.
// Targets naming the interface other than by ifName are looked up through agent. With
// agent nil (offline), targets naming it by ifDescr, MAC address or ifIndex go to
// devices of that interface_key instead (one device per agent and key), and those
// naming it by IP address or ifType are skipped with the reason. Command targets run in
// the cycle of the device of the first target of the file that has one (a device polls
// an agent), else of a device "commands" at 127.0.0.1. The Found values are ready for
// TargetsFile; plans are in the order of c.Targets.
func Translate(ctx context.Context, c *Config, agent *Agent) ([]discover.Found, []*Plan) {
	tr := &translation{ctx: ctx, agent: agent, offline: agent == nil, byKey: map[string]*agentGroup{},
		firstOf: map[string]*Target{}, usedName: map[string]bool{}, used: map[string]string{}, aggs: map[string]bool{}}
	plans := make([]*Plan, len(c.Targets))
	terms := func(t *Target) []*Target {
		if t.Form == FormSum {
			return t.Terms
		}
		return []*Target{t}
	}
	// Devices: those of interfaces first, then those of OID pairs, which join a device
	// of their agent when there is one.
	for pass, forms := range [][]Form{{FormInterface}, {FormOIDs}} {
		for i, t := range c.Targets {
			if pass == 0 {
				plans[i] = &Plan{Target: t, MaxRate: math.NaN()}
			}
			if t.Skip != "" {
				continue
			}
			for _, tm := range terms(t) {
				if tm.Form != forms[0] {
					continue
				}
				if tm.Form == FormInterface && tr.offline && offlineKey(tm) == "" {
					t.skip("Target[%s]: names the interface by %s %s; finding it needs the agent (run import where %s answers)", t.Name, tm.Ref, tm.Key, tm.Host)
					break
				}
				tr.group(tm)
			}
		}
	}
	if len(tr.groups) > 0 {
		tr.commands = tr.groups[0]
	}
	for i, t := range c.Targets {
		if t.Skip != "" {
			continue
		}
		p := plans[i]
		switch t.Form {
		case FormInterface:
			tr.planInterface(t, p)
		case FormOIDs, FormCommand:
			dt, err := tr.deviceTarget(t, sanitize(t.Name))
			if err != nil {
				t.skip("Target[%s]: %v", t.Name, err)
				continue
			}
			p.Device, p.Targets = dt.Device, []DeviceTarget{dt}
			p.Series = series.KindName(dt.Device, series.KindTarget, dt.Target.Name)
			p.MaxRate, p.Bits = dt.Target.StoredMax(), tr.bits(t)
		case FormSum:
			tr.planSum(t, p)
		}
	}
	var found []discover.Found
	for _, g := range tr.groups {
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

// bits is the counter width of t's series: 32 on SNMPv1 and for the OIDs of IF-MIB's
// 32-bit counters (ifTable, ifXTable's multicast and broadcast packets), else 64. The
// first poll corrects it from the type the agent answers; until then, the import's
// last readings wrap as MRTG's did.
func (tr *translation) bits(t *Target) int {
	if t.Form == FormCommand {
		return 64
	}
	if t.Version == "1" {
		return 32
	}
	if t.Form == FormOIDs && counter32(t.OIDs[0]) && counter32(t.OIDs[1]) {
		return 32
	}
	return 64
}

// counter32 reports an OID of IF-MIB known to be a Counter32.
func counter32(oid string) bool {
	if strings.HasPrefix(oid, "1.3.6.1.2.1.2.2.1.") {
		return true
	}
	for _, c := range []string{"2", "3", "4", "5"} { // ifIn/OutMulticastPkts, ifIn/OutBroadcastPkts
		if strings.HasPrefix(oid, "1.3.6.1.2.1.31.1.1.1."+c+".") {
			return true
		}
	}
	return false
}

// group returns the device of t's agent (and offline, of its interface key), made on
// first sight. An OID pair joins any device of its agent.
func (tr *translation) group(t *Target) *agentGroup {
	key := groupKey(t, tr.offline)
	if t.Form == FormOIDs {
		session := groupKey(t, false)
		for _, g := range tr.groups {
			if strings.HasPrefix(g.key, session) {
				return g
			}
		}
	}
	if g := tr.byKey[key]; g != nil {
		return g
	}
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
	name := t.Host
	if first := tr.firstOf[t.Host]; first != nil {
		switch {
		case t.Port != first.Port:
			name = fmt.Sprintf("%s-%d", t.Host, t.Port)
		case t.Version != first.Version:
			name = t.Host + "-v" + t.Version
		case tr.offline && offlineKey(t) != offlineKey(first):
			name = t.Host + "-" + string(offlineKey(t))
		}
		for n := 2; tr.usedName[name]; n++ {
			name = fmt.Sprintf("%s-%d", t.Host, n)
		}
	} else {
		tr.firstOf[t.Host] = t
	}
	tr.usedName[name] = true
	g := &agentGroup{key: key, target: dt, kept: map[string]bool{}, names: map[string]bool{}}
	g.found = &discover.Found{Name: name, Target: dt, All: map[string]bool{}}
	if tr.offline {
		g.found.Key = offlineKey(t)
	}
	tr.byKey[key] = g
	tr.groups = append(tr.groups, g)
	return g
}

// commandGroup is the device command targets run in: see Translate.
func (tr *translation) commandGroup() *agentGroup {
	if tr.commands != nil {
		return tr.commands
	}
	t := &Target{Host: "127.0.0.1", Port: 161, Community: "public", Version: "1", Retries: -1}
	g := tr.group(t)
	delete(tr.byKey, g.key) // no SNMP target joins it
	tr.usedName[g.found.Name] = false
	g.found.Name = "commands"
	for n := 2; tr.usedName[g.found.Name]; n++ {
		g.found.Name = fmt.Sprintf("commands-%d", n)
	}
	tr.usedName[g.found.Name] = true
	g.found.Key = "" // it lists no interfaces
	tr.commands = g
	return g
}

// iface finds the interface an interface form names: its device and the name the
// device lists it by, and what the agent said of it (nil offline and by ifName).
func (tr *translation) iface(t *Target) (*agentGroup, string, *discover.Interface, error) {
	g := tr.group(t)
	if t.Ref == RefName || tr.offline {
		return g, t.Key, nil, nil // offline, the device is named by the target's own key
	}
	f, err := tr.lookup(g, t.Ref, t.Key)
	if err != nil {
		return nil, "", nil, err
	}
	name := f.Name
	if name == "" {
		name = f.Descr // agents without ifXTable: the poller names interfaces by ifDescr
	}
	return g, name, f, nil
}

// lookup finds an interface of g's agent, walking it once.
func (tr *translation) lookup(g *agentGroup, ref Ref, key string) (*discover.Interface, error) {
	if tr.offline {
		return nil, fmt.Errorf("names an interface by %s %s; finding it needs the agent (run import where %s answers)", ref, key, g.target.Host)
	}
	if !g.walked {
		g.walked = true
		g.dev, g.err = tr.agent.Walk(tr.ctx, g.target)
	}
	if g.err != nil {
		return nil, fmt.Errorf("looking up %s %s: %w", ref, key, g.err)
	}
	return find(tr.ctx, tr.agent, g.dev, g.target, &Target{Ref: ref, Key: key, Host: g.target.Host})
}

// keep adds an interface to its device's list.
func (g *agentGroup) keep(name string, ifc discover.Interface) {
	if g.kept[name] {
		return
	}
	g.kept[name] = true
	g.found.Keep = append(g.found.Keep, discover.Pick{Key: name, Interface: ifc})
	g.found.All[name] = true
}

// planInterface plans an interface target.
func (tr *translation) planInterface(t *Target, p *Plan) {
	g, name, facts, err := tr.iface(t)
	if err != nil {
		t.skip("Target[%s]: %v", t.Name, err)
		return
	}
	s := series.Name(g.found.Name, name)
	if other, dup := tr.used[s]; dup {
		t.skip("Target[%s]: the same interface as Target[%s] (%s)", t.Name, other, s)
		return
	}
	tr.used[s] = t.Name
	p.Device, p.Interface, p.Series = g.found.Name, name, s
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
	p.Bits = tr.bits(t)
	ifc := discover.Interface{Name: name, Alias: t.Title, Speed: t.MaxBytes * 8, Admin: 1, Oper: 1}
	if facts != nil {
		ifc.Index, ifc.Descr, ifc.Type = facts.Index, facts.Descr, facts.Type
		p.Index, p.Descr = facts.Index, facts.Descr
	}
	g.keep(name, ifc)
}

// deviceTarget makes the [[device.target]] named name (or a variant free in its
// device) of an OID pair or command form t, whose display settings are those of the
// target it belongs to (t itself, or the sum).
func (tr *translation) deviceTarget(t *Target, name string) (DeviceTarget, error) {
	var oids []string
	var grp *agentGroup
	if t.Form != FormOIDs {
		grp = tr.commandGroup()
	} else {
		grp = tr.group(t)
		for d := range 2 {
			oid := t.OIDs[d]
			if t.OIDKey[d] != "" {
				f, err := tr.lookup(grp, t.OIDRef[d], t.OIDKey[d])
				if err != nil {
					return DeviceTarget{}, err
				}
				oid += "." + strconv.Itoa(f.Index)
			}
			oids = append(oids, oid)
		}
	}
	n := name
	for k := 2; grp.names[n]; k++ {
		n = fmt.Sprintf("%s-%d", name, k)
	}
	grp.names[n] = true
	ct := config.Target{Name: n, OIDs: oids, Command: t.Command, Kind: t.kind(), Factor: t.Factor, Per: t.Per,
		Max: math.NaN(), Unit: t.Unit, Title: t.Title, YLegend: t.YLegend, LegendIn: t.LegendIn, LegendOut: t.LegendOut,
		KMG: t.KMG, Unscaled: t.Unscaled}
	if ct.Factor == 0 {
		ct.Factor = 1
	}
	if ct.Per == "" {
		ct.Per = "second"
	}
	if len(ct.KMG) == 0 {
		ct.KMG = append([]string(nil), config.DefaultKMG...)
	}
	if ct.Title == "" {
		ct.Title = n
	}
	if raw := t.maxRaw(); raw > 0 {
		ct.Max = raw * math.Abs(ct.Factor)
		if ct.Kind != config.KindGauge {
			ct.Max *= ct.PerSeconds()
		}
	}
	return DeviceTarget{Device: grp.found.Name, Target: ct}, nil
}

// maxRaw is MRTG's ceiling of the values as read (per second for rates): AbsMax, else
// MaxBytes (the larger of MaxBytes1 and MaxBytes2).
func (t *Target) maxRaw() float64 {
	if t.AbsMax > 0 {
		return float64(t.AbsMax)
	}
	return float64(t.MaxBytes)
}

// planSum plans a sum (or a swapped interface) as an aggregate of its terms: each
// interface term an interface of its device, each other term a [[device.target]] named
// after the sum. A term that cannot be translated leaves the whole sum untranslated.
func (tr *translation) planSum(t *Target, p *Plan) {
	type ifTerm struct {
		g    *agentGroup
		name string
		ifc  discover.Interface
	}
	var ifs []ifTerm
	ag := &config.Aggregate{Name: sanitize(t.Name)}
	for n := 2; tr.aggs[ag.Name]; n++ {
		ag.Name = fmt.Sprintf("%s-%d", sanitize(t.Name), n)
	}
	var dts []DeviceTarget
	for i, tm := range t.Terms {
		if tm.Form == FormInterface {
			g, name, facts, err := tr.iface(tm)
			if err != nil {
				t.skip("Target[%s]: %s: %v", t.Name, tm.Raw, err)
				return
			}
			ifc := discover.Interface{Name: name, Admin: 1, Oper: 1}
			if facts != nil {
				ifc.Index, ifc.Descr, ifc.Type = facts.Index, facts.Descr, facts.Type
			}
			ifs = append(ifs, ifTerm{g, name, ifc})
			ag.Members = append(ag.Members, config.Member{Device: g.found.Name, Interface: name, Swap: tm.Swap})
			continue
		}
		// Each term keeps the sum's kind and display: an aggregate with targets is
		// shown in the unit of its first.
		tm.Title, tm.Factor, tm.Per, tm.Unit, tm.YLegend = t.Title, t.Factor, t.Per, t.Unit, t.YLegend
		tm.LegendIn, tm.LegendOut, tm.KMG, tm.Unscaled = t.LegendIn, t.LegendOut, t.KMG, t.Unscaled
		tm.MaxBytes, tm.AbsMax = t.MaxBytes, t.AbsMax
		name := sanitize(t.Name)
		if len(t.Terms) > 1 {
			name = fmt.Sprintf("%s-%d", name, i+1)
		}
		dt, err := tr.deviceTarget(tm, name)
		if err != nil {
			t.skip("Target[%s]: %s: %v", t.Name, tm.Raw, err)
			return
		}
		dts = append(dts, dt)
		ag.Members = append(ag.Members, config.Member{Device: dt.Device, Target: dt.Target.Name})
	}
	for _, it := range ifs {
		if !it.g.kept[it.name] {
			t.note(t.Line, "Target["+t.Name+"]", "interface %s of device %s is polled for the sum (MRTG had no target of it)", it.name, it.g.found.Name)
		}
		it.g.keep(it.name, it.ifc)
	}
	tr.aggs[ag.Name] = true
	p.Aggregate, p.Targets = ag, dts
	p.Series = series.KindName("", series.KindAggregate, ag.Name)
	t.note(t.Line, "Target["+t.Name+"]", "an aggregate: each step the sum of its members' rows, written a step after them")
}

// sanitize makes an MRTG target name a name targets.toml takes (no / or \).
func sanitize(name string) string {
	n := strings.NewReplacer("/", "_", `\`, "_").Replace(name)
	if n == "." || n == ".." {
		n = "_" + n
	}
	return n
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
	case RefName:
		return match(func(f discover.Interface) bool { return f.Name == t.Key })
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
