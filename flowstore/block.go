package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// A block's records before compression: the string dictionary (Device, In and Out
// names), the address dictionary (Exporter, Src and Dst), then one integer column
// (column.go) per field in the order of the column constants below. Dictionaries are
// in order of first use in the block.

// Columns of a block, in the order they are written.
const (
	colReceived = iota // unix ns, sign-flipped
	colZero            // bit 0: Start is the zero time; bit 1: End is
	colStart           // unix ns, sign-flipped (Received's when zero)
	colDuration        // End - Start ns, sign-flipped (0 when either is zero)
	colKind
	colExporter // address dictionary index
	colDomain
	colSampling
	colInIf
	colOutIf
	colSrc // address dictionary index
	colDst // address dictionary index
	colSrcPort
	colDstPort
	colProto
	colTCPFlags
	colBytes
	colPackets
	colDevice // string dictionary index
	colIn     // string dictionary index
	colOut    // string dictionary index
	numColumns
)

// Address kinds in the address dictionary.
const (
	addrInvalid = iota // netip.Addr{}
	addrV4
	addrV6
	addrV6Zone // followed by the zone, uvarint length and bytes
)

const signBit = 1 << 63

// minNs and maxNs bound the times a block can hold: those whose unix nanoseconds fit
// an int64 (1677-09-21 to 2262-04-11), and the zero time.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func timeOK(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// encoder turns records into a block's raw bytes. It keeps its buffers between blocks.
type encoder struct {
	cols    [numColumns][]uint64
	scratch []uint64
	addrs   map[netip.Addr]uint64
	addrSeq []netip.Addr
	strs    map[string]uint64
	strSeq  []string
	raw     []byte
}

func newEncoder() *encoder {
	return &encoder{addrs: map[netip.Addr]uint64{}, strs: map[string]uint64{}}
}

func (e *encoder) addr(a netip.Addr) uint64 {
	i, ok := e.addrs[a]
	if !ok {
		i = uint64(len(e.addrSeq))
		e.addrs[a] = i
		e.addrSeq = append(e.addrSeq, a)
	}
	return i
}

func (e *encoder) str(s string) uint64 {
	i, ok := e.strs[s]
	if !ok {
		i = uint64(len(e.strSeq))
		e.strs[s] = i
		e.strSeq = append(e.strSeq, s)
	}
	return i
}

// encode returns the raw block of fs, which the caller has checked with checkFlow.
// The result is valid until the next call.
func (e *encoder) encode(fs []flow.Flow) []byte {
	clear(e.addrs)
	clear(e.strs)
	e.addrSeq, e.strSeq = e.addrSeq[:0], e.strSeq[:0]
	for c := range e.cols {
		e.cols[c] = grow(e.cols[c], len(fs))
	}
	c := &e.cols
	for i := range fs {
		f := &fs[i]
		recv := f.Received.UnixNano()
		// A zero Start is stored as Received, a zero End as Start: the zero column
		// says which they were.
		start, end := recv, int64(0)
		var zero uint64
		if f.Start.IsZero() {
			zero |= 1
		} else {
			start = f.Start.UnixNano()
		}
		if f.End.IsZero() {
			zero |= 2
			end = start
		} else {
			end = f.End.UnixNano()
		}
		c[colReceived][i] = uint64(recv) ^ signBit
		c[colZero][i] = zero
		c[colStart][i] = uint64(start) ^ signBit
		c[colDuration][i] = uint64(end-start) ^ signBit // wraps, and unwraps on decoding
		c[colKind][i] = uint64(f.Kind)
		c[colExporter][i] = e.addr(f.Exporter)
		c[colDomain][i] = uint64(f.Domain)
		c[colSampling][i] = f.SamplingRate
		c[colInIf][i] = uint64(f.InIf)
		c[colOutIf][i] = uint64(f.OutIf)
		c[colSrc][i] = e.addr(f.Src)
		c[colDst][i] = e.addr(f.Dst)
		c[colSrcPort][i] = uint64(f.SrcPort)
		c[colDstPort][i] = uint64(f.DstPort)
		c[colProto][i] = uint64(f.Proto)
		c[colTCPFlags][i] = uint64(f.TCPFlags)
		c[colBytes][i] = f.Bytes
		c[colPackets][i] = f.Packets
		c[colDevice][i] = e.str(f.Device)
		c[colIn][i] = e.str(f.In)
		c[colOut][i] = e.str(f.Out)
	}
	raw := e.raw[:0]
	raw = binary.AppendUvarint(raw, uint64(len(e.strSeq)))
	for _, s := range e.strSeq {
		raw = binary.AppendUvarint(raw, uint64(len(s)))
		raw = append(raw, s...)
	}
	raw = binary.AppendUvarint(raw, uint64(len(e.addrSeq)))
	for _, a := range e.addrSeq {
		switch {
		case !a.IsValid():
			raw = append(raw, addrInvalid)
		case a.Is4():
			raw = append(raw, addrV4)
		case a.Zone() != "":
			raw = append(raw, addrV6Zone)
		default:
			raw = append(raw, addrV6)
		}
	}
	for _, a := range e.addrSeq {
		if a.IsValid() {
			raw = append(raw, a.AsSlice()...)
		}
		if z := a.Zone(); z != "" {
			raw = binary.AppendUvarint(raw, uint64(len(z)))
			raw = append(raw, z...)
		}
	}
	for col := range c {
		raw, e.scratch = appendColumn(raw, c[col][:len(fs)], e.scratch)
	}
	e.raw = raw
	return raw
}

// checkFlow says why f cannot be stored, or returns nil.
func checkFlow(f *flow.Flow) error {
	switch {
	case f.Received.IsZero():
		return errors.New("record without a Received time")
	case !timeOK(f.Received):
		return fmt.Errorf("Received %v out of range", f.Received)
	case !f.Start.IsZero() && !timeOK(f.Start):
		return fmt.Errorf("Start %v out of range", f.Start)
	case !f.End.IsZero() && !timeOK(f.End):
		return fmt.Errorf("End %v out of range", f.End)
	}
	return nil
}

// decoder turns a block's raw bytes back into records. It keeps its buffers (and so
// the records it returned) until its next call.
type decoder struct {
	cols  [numColumns][]uint64
	addrs []netip.Addr
	strs  []string
	flows []flow.Flow
}

// errCorrupt wraps every reason a block's bytes are not a block.
var errCorrupt = errors.New("corrupt block")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// decode returns the n records of raw. n has been checked against maxBlockRecords.
// The strings of the records are shared by the records of the block.
func (d *decoder) decode(raw []byte, n int) ([]flow.Flow, error) {
	src := raw
	count, k := binary.Uvarint(src)
	if k <= 0 || count > uint64(len(src)) {
		return nil, corrupt("string dictionary count")
	}
	src = src[k:]
	d.strs = d.strs[:0]
	for range count {
		l, k := binary.Uvarint(src)
		if k <= 0 || l > uint64(len(src)-k) {
			return nil, corrupt("string dictionary entry")
		}
		d.strs = append(d.strs, string(src[k:k+int(l)]))
		src = src[k+int(l):]
	}
	count, k = binary.Uvarint(src)
	if k <= 0 || count > uint64(len(src)-k) {
		return nil, corrupt("address dictionary count")
	}
	kinds := src[k : k+int(count)]
	src = src[k+int(count):]
	d.addrs = grow(d.addrs, int(count))
	for i, kind := range kinds {
		switch kind {
		case addrInvalid:
			d.addrs[i] = netip.Addr{}
		case addrV4:
			if len(src) < 4 {
				return nil, corrupt("address dictionary past the end")
			}
			d.addrs[i] = netip.AddrFrom4([4]byte(src[:4]))
			src = src[4:]
		case addrV6, addrV6Zone:
			if len(src) < 16 {
				return nil, corrupt("address dictionary past the end")
			}
			a := netip.AddrFrom16([16]byte(src[:16]))
			src = src[16:]
			if kind == addrV6Zone {
				l, k := binary.Uvarint(src)
				if k <= 0 || l == 0 || l > uint64(len(src)-k) {
					return nil, corrupt("address zone")
				}
				a = a.WithZone(string(src[k : k+int(l)]))
				src = src[k+int(l):]
			}
			d.addrs[i] = a
		default:
			return nil, corrupt("address kind %d", kind)
		}
	}
	for c := range d.cols {
		d.cols[c] = grow(d.cols[c], n)
		var err error
		if src, err = readColumn(src, d.cols[c]); err != nil {
			return nil, corrupt("column %d: %v", c, err)
		}
	}
	if len(src) != 0 {
		return nil, corrupt("%d bytes after the last column", len(src))
	}
	if err := d.check(n); err != nil {
		return nil, err
	}
	d.flows = grow(d.flows, n)
	fs := d.flows
	c := &d.cols
	for i, v := range c[colReceived] {
		fs[i].Received = time.Unix(0, int64(v^signBit)).UTC()
	}
	dur, zero := c[colDuration], c[colZero]
	for i, v := range c[colStart] {
		start := int64(v ^ signBit)
		fs[i].Start = time.Unix(0, start).UTC()
		fs[i].End = time.Unix(0, start+int64(dur[i]^signBit)).UTC()
		if z := zero[i]; z != 0 {
			if z&1 != 0 {
				fs[i].Start = time.Time{}
			}
			if z&2 != 0 {
				fs[i].End = time.Time{}
			}
		}
	}
	for i, v := range c[colKind] {
		fs[i].Kind = flow.Kind(v)
	}
	for i, v := range c[colExporter] {
		fs[i].Exporter = d.addrs[v]
	}
	for i, v := range c[colDomain] {
		fs[i].Domain = uint32(v)
	}
	for i, v := range c[colSampling] {
		fs[i].SamplingRate = v
	}
	for i, v := range c[colInIf] {
		fs[i].InIf = uint32(v)
	}
	for i, v := range c[colOutIf] {
		fs[i].OutIf = uint32(v)
	}
	for i, v := range c[colSrc] {
		fs[i].Src = d.addrs[v]
	}
	for i, v := range c[colDst] {
		fs[i].Dst = d.addrs[v]
	}
	for i, v := range c[colSrcPort] {
		fs[i].SrcPort = uint16(v)
	}
	for i, v := range c[colDstPort] {
		fs[i].DstPort = uint16(v)
	}
	for i, v := range c[colProto] {
		fs[i].Proto = uint8(v)
	}
	for i, v := range c[colTCPFlags] {
		fs[i].TCPFlags = uint8(v)
	}
	for i, v := range c[colBytes] {
		fs[i].Bytes = v
	}
	for i, v := range c[colPackets] {
		fs[i].Packets = v
	}
	for i, v := range c[colDevice] {
		fs[i].Device = d.strs[v]
	}
	for i, v := range c[colIn] {
		fs[i].In = d.strs[v]
	}
	for i, v := range c[colOut] {
		fs[i].Out = d.strs[v]
	}
	return fs, nil
}

// check refuses values that do not fit their fields, and dictionary indexes past
// their dictionaries, before they are used.
func (d *decoder) check(n int) error {
	if n == 0 {
		return nil
	}
	limits := []struct {
		col  int
		size uint64 // values are below size
	}{
		{colZero, 4}, {colKind, 1 << 8}, {colDomain, 1 << 32}, {colInIf, 1 << 32}, {colOutIf, 1 << 32},
		{colSrcPort, 1 << 16}, {colDstPort, 1 << 16}, {colProto, 1 << 8}, {colTCPFlags, 1 << 8},
		{colExporter, uint64(len(d.addrs))}, {colSrc, uint64(len(d.addrs))}, {colDst, uint64(len(d.addrs))},
		{colDevice, uint64(len(d.strs))}, {colIn, uint64(len(d.strs))}, {colOut, uint64(len(d.strs))},
	}
	for _, l := range limits {
		var hi uint64
		for _, v := range d.cols[l.col][:n] {
			hi = max(hi, v)
		}
		if hi >= l.size {
			return corrupt("column %d: value %d not below %d", l.col, hi, l.size)
		}
	}
	return nil
}
