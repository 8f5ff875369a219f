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
	lastStr uint64 // the index str returned last
	raw     []byte
}

func newEncoder() *encoder {
	return &encoder{addrs: map[netip.Addr]uint64{}, strs: map[string]uint64{}}
}

func (e *encoder) addr(a netip.Addr) uint64 {
	if n := len(e.addrSeq); n > 0 && e.addrSeq[n-1] == a {
		return uint64(n - 1)
	}
	i, ok := e.addrs[a]
	if !ok {
		i = uint64(len(e.addrSeq))
		e.addrs[a] = i
		e.addrSeq = append(e.addrSeq, a)
	}
	return i
}

func (e *encoder) str(s string) uint64 {
	if e.lastStr < uint64(len(e.strSeq)) && e.strSeq[e.lastStr] == s {
		return e.lastStr
	}
	i, ok := e.strs[s]
	e.lastStr = i
	if !ok {
		i = uint64(len(e.strSeq))
		e.strs[s] = i
		e.strSeq = append(e.strSeq, s)
		e.lastStr = i
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
		return fmt.Errorf("time received %v out of range", f.Received)
	case !f.Start.IsZero() && !timeOK(f.Start):
		return fmt.Errorf("flow start %v out of range", f.Start)
	case !f.End.IsZero() && !timeOK(f.End):
		return fmt.Errorf("flow end %v out of range", f.End)
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
	var cols [numColumns]column
	for c := range cols {
		var err error
		if cols[c], src, err = parseColumn(src, n); err != nil {
			return nil, corrupt("column %d: %v", c, err)
		}
	}
	if len(src) != 0 {
		return nil, corrupt("%d bytes after the last column", len(src))
	}
	d.flows = grow(d.flows, n)
	// A run of records at a time, every column of the run read into d.cols, then the
	// run's records written in one pass, each once: the run's columns stay in the
	// cache, where a pass over the block per field would not.
	for at := 0; at < n; at += decodeRun {
		m := min(decodeRun, n-at)
		for c := range cols {
			d.cols[c] = grow(d.cols[c], decodeRun)
			cols[c].read(d.cols[c][:m], at)
		}
		if err := d.check(m, &cols); err != nil {
			return nil, err
		}
		d.assemble(d.flows[at : at+m])
	}
	return d.flows, nil
}

// decodeRun is how many records are decoded column by column at once.
const decodeRun = 1024

// assemble sets fs from the columns read.
func (d *decoder) assemble(fs []flow.Flow) {
	n := len(fs)
	c := &d.cols
	recv, zero, start, dur := c[colReceived][:n], c[colZero][:n], c[colStart][:n], c[colDuration][:n]
	kind, exporter, domain, sampling := c[colKind][:n], c[colExporter][:n], c[colDomain][:n], c[colSampling][:n]
	inIf, outIf, src4, dst := c[colInIf][:n], c[colOutIf][:n], c[colSrc][:n], c[colDst][:n]
	srcPort, dstPort, proto, flags := c[colSrcPort][:n], c[colDstPort][:n], c[colProto][:n], c[colTCPFlags][:n]
	byts, pkts, device, in, out := c[colBytes][:n], c[colPackets][:n], c[colDevice][:n], c[colIn][:n], c[colOut][:n]
	addrs, strs := d.addrs, d.strs
	for i := range fs {
		f := &fs[i]
		st := int64(start[i] ^ signBit)
		f.Received = time.Unix(0, int64(recv[i]^signBit)).UTC()
		f.Start = time.Unix(0, st).UTC()
		f.End = time.Unix(0, st+int64(dur[i]^signBit)).UTC()
		if z := zero[i]; z != 0 {
			if z&1 != 0 {
				f.Start = time.Time{}
			}
			if z&2 != 0 {
				f.End = time.Time{}
			}
		}
		f.Kind = flow.Kind(kind[i])
		f.Exporter = addrs[exporter[i]]
		f.Domain = uint32(domain[i])
		f.SamplingRate = sampling[i]
		f.InIf, f.OutIf = uint32(inIf[i]), uint32(outIf[i])
		f.Src, f.Dst = addrs[src4[i]], addrs[dst[i]]
		f.SrcPort, f.DstPort = uint16(srcPort[i]), uint16(dstPort[i])
		f.Proto, f.TCPFlags = uint8(proto[i]), uint8(flags[i])
		f.Bytes, f.Packets = byts[i], pkts[i]
		f.Device, f.In, f.Out = strs[device[i]], strs[in[i]], strs[out[i]]
	}
}

// check refuses values that do not fit their fields, and dictionary indexes past
// their dictionaries, in the n records read into d.cols, before they are used.
func (d *decoder) check(n int, cols *[numColumns]column) error {
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
		if cols[l.col].bound < l.size {
			continue // the column's form says so without looking
		}
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
