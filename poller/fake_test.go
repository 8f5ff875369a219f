package poller

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// fakeAgent is an in-memory SNMP agent behind fakeClient. It answers GET, GETNEXT and
// GETBULK from a table of objects, the way v1 or v2c agents do, records every request,
// and can inject faults.
type fakeAgent struct {
	mu      sync.Mutex
	v1      bool
	objs    map[string]gosnmp.SnmpPDU // by OID without leading dot
	sorted  []string                  // keys of objs in OID order; nil when stale
	parsed  [][]int                   // sorted, parsed
	maxVars int                       // answer tooBig when a response would hold more varbinds (0: no limit)
	bulkCap int                       // a GETBULK answers whole rows of at most this many varbinds, as net-snmp does 100 (0: no limit)
	reqErr  error                     // returned by every request (a dead agent)
	pduErr  gosnmp.SNMPError          // error-status put on every GET answer
	onGet   func()                    // called before each GET is answered, outside the lock
	quiet   bool                      // do not record GETs (benchmarks)

	gets           [][]string // OIDs of each GET, in order
	nexts, bulks   int
	dials, closes  int
	bulkRepsAsked  []uint32
	connectedConns int

	bulkHold    time.Duration // each GETBULK waits this long before it is answered
	inflight    int           // GETBULKs being answered now
	maxInflight int           // most GETBULKs answered at once
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{objs: map[string]gosnmp.SnmpPDU{}}
}

func (a *fakeAgent) set(oid string, typ gosnmp.Asn1BER, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	name := trimDot(oid)
	a.objs[name] = gosnmp.SnmpPDU{Name: "." + name, Type: typ, Value: v}
	a.sorted = nil
}

func (a *fakeAgent) del(oid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.objs, trimDot(oid))
	a.sorted = nil
}

func (a *fakeAgent) uptime(ticks uint32) { a.set(oidSysUpTime, gosnmp.TimeTicks, ticks) }

// fakeIf describes one interface row of the fake agent.
type fakeIf struct {
	index       int
	name        string
	in, out     uint64
	no64        bool // no ifHC* objects
	down        bool // ifOperStatus down(2)
	adminDown   bool
	highSpeed   uint // Mbit/s; 0: no ifHighSpeed object
	speed       uint // bits/s
	descr, alia string
}

func (a *fakeAgent) addIf(f fakeIf) {
	i := f.index
	a.set(instance(oidIfName, i), gosnmp.OctetString, []byte(f.name))
	a.set(instance(oidIfDescr, i), gosnmp.OctetString, []byte(f.descr))
	a.set(instance(oidIfAlias, i), gosnmp.OctetString, []byte(f.alia))
	oper, admin := 1, 1
	if f.down {
		oper = 2
	}
	if f.adminDown {
		admin = 2
	}
	a.set(instance(oidIfOperStatus, i), gosnmp.Integer, oper)
	a.set(instance(oidIfAdminStatus, i), gosnmp.Integer, admin)
	a.set(instance(oidIfSpeed, i), gosnmp.Gauge32, f.speed)
	if f.highSpeed > 0 {
		a.set(instance(oidIfHighSpeed, i), gosnmp.Gauge32, f.highSpeed)
	}
	a.set(instance(oidIfInOctets, i), gosnmp.Counter32, uint(uint32(f.in)))
	a.set(instance(oidIfOutOctets, i), gosnmp.Counter32, uint(uint32(f.out)))
	if !f.no64 {
		a.set(instance(oidIfHCInOctets, i), gosnmp.Counter64, f.in)
		a.set(instance(oidIfHCOutOctets, i), gosnmp.Counter64, f.out)
	}
}

// delIf removes every object of interface index.
func (a *fakeAgent) delIf(index int) {
	for _, col := range []string{oidIfName, oidIfDescr, oidIfAlias, oidIfOperStatus, oidIfAdminStatus,
		oidIfSpeed, oidIfHighSpeed, oidIfInOctets, oidIfOutOctets, oidIfHCInOctets, oidIfHCOutOctets} {
		a.del(instance(col, index))
	}
}

// getSizes returns the number of OIDs in each GET since the mark.
func (a *fakeAgent) getSizes(mark int) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n []int
	for _, g := range a.gets[mark:] {
		n = append(n, len(g))
	}
	return n
}

func (a *fakeAgent) getCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.gets)
}

func parseOID(s string) []int {
	var out []int
	for _, p := range strings.Split(trimDot(s), ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

func (a *fakeAgent) keys() []string {
	if a.sorted == nil {
		a.sorted = make([]string, 0, len(a.objs))
		for k := range a.objs {
			a.sorted = append(a.sorted, k)
		}
		slices.SortFunc(a.sorted, func(x, y string) int { return slices.Compare(parseOID(x), parseOID(y)) })
		a.parsed = make([][]int, len(a.sorted))
		for i, k := range a.sorted {
			a.parsed[i] = parseOID(k)
		}
	}
	return a.sorted
}

// next returns the first object after oid, or false at the end of the MIB.
func (a *fakeAgent) next(oid string) (gosnmp.SnmpPDU, bool) {
	keys := a.keys()
	want := parseOID(oid)
	i, _ := slices.BinarySearchFunc(a.parsed, want, slices.Compare)
	for ; i < len(keys); i++ {
		if slices.Compare(a.parsed[i], want) > 0 {
			return a.objs[keys[i]], true
		}
	}
	return gosnmp.SnmpPDU{}, false
}

func (a *fakeAgent) tooBig(n int) bool { return a.maxVars > 0 && n > a.maxVars }

// fakeClient is one connection to a fakeAgent.
type fakeClient struct{ a *fakeAgent }

var _ snmp.Client = (*fakeClient)(nil)

func (c *fakeClient) Connect() error {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	c.a.connectedConns++
	return nil
}

func (c *fakeClient) Close() error {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	c.a.closes++
	return nil
}

func (c *fakeClient) Get(oids []string) (*gosnmp.SnmpPacket, error) {
	if f := c.a.onGetHook(); f != nil {
		f()
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.quiet {
		a.gets = append(a.gets, slices.Clone(oids))
	}
	if a.reqErr != nil {
		return nil, a.reqErr
	}
	if len(oids) > 60 {
		return nil, errors.New("oid count greater than MaxOids")
	}
	if a.pduErr != gosnmp.NoError {
		return &gosnmp.SnmpPacket{Error: a.pduErr, ErrorIndex: 1}, nil
	}
	if a.tooBig(len(oids)) {
		return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
	}
	pkt := &gosnmp.SnmpPacket{}
	for i, oid := range oids {
		pdu, ok := a.objs[trimDot(oid)]
		if !ok {
			if a.v1 {
				return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
			}
			pdu = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.NoSuchInstance}
		}
		pkt.Variables = append(pkt.Variables, pdu)
	}
	return pkt, nil
}

func (a *fakeAgent) onGetHook() func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.onGet
}

func (c *fakeClient) GetNext(oids []string) (*gosnmp.SnmpPacket, error) {
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nexts++
	if a.reqErr != nil {
		return nil, a.reqErr
	}
	pkt := &gosnmp.SnmpPacket{}
	for i, oid := range oids {
		pdu, ok := a.next(oid)
		if !ok {
			if a.v1 {
				return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
			}
			pdu = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
		}
		pkt.Variables = append(pkt.Variables, pdu)
	}
	return pkt, nil
}

func (c *fakeClient) GetBulk(oids []string, nonRepeaters uint8, reps uint32) (*gosnmp.SnmpPacket, error) {
	a := c.a
	a.mu.Lock()
	a.inflight++
	a.maxInflight = max(a.maxInflight, a.inflight)
	hold := a.bulkHold
	a.mu.Unlock()
	time.Sleep(hold)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	a.bulks++
	a.bulkRepsAsked = append(a.bulkRepsAsked, reps)
	if a.reqErr != nil {
		return nil, a.reqErr
	}
	if a.v1 {
		return nil, errors.New("GETBULK sent to an SNMPv1 agent")
	}
	if nonRepeaters != 0 {
		return nil, errors.New("fake agent supports no non-repeaters")
	}
	if a.tooBig(len(oids) * int(reps)) {
		return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
	}
	if a.bulkCap > 0 {
		reps = min(reps, uint32(max(a.bulkCap/len(oids), 1)))
	}
	cur := slices.Clone(oids)
	pkt := &gosnmp.SnmpPacket{}
	for range reps {
		for i := range cur {
			pdu, ok := a.next(cur[i])
			if !ok {
				pdu = gosnmp.SnmpPDU{Name: cur[i], Type: gosnmp.EndOfMibView}
			}
			cur[i] = pdu.Name
			pkt.Variables = append(pkt.Variables, pdu)
		}
	}
	return pkt, nil
}

// fakeNet routes each device (by host) to its fake agent.
type fakeNet struct {
	mu     sync.Mutex
	agents map[string]*fakeAgent
	dialed []string // device names in the order dialled
}

func (n *fakeNet) dial(_ context.Context, d config.Device, _ func()) (snmp.Client, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dialed = append(n.dialed, d.Name)
	a, ok := n.agents[d.Host]
	if !ok {
		return nil, errors.New("no route to host")
	}
	a.mu.Lock()
	a.dials++
	a.mu.Unlock()
	return &fakeClient{a: a}, nil
}

// fakeClock advances by tick on every reading; safe for concurrent use.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.tick)
	return c.t
}

// walkCount is the number of GETNEXT and GETBULK requests answered: a walk.
func (a *fakeAgent) walkCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nexts + a.bulks
}

func trimDot(oid string) string { return strings.TrimPrefix(oid, ".") }
