package flowstore

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/klauspost/compress/huff0"

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

// A block's sections: the two dictionaries, then the columns. A version 2 payload
// compresses each on its own, so that a scan decompresses only those it reads.
const (
	secStrs = iota
	secAddrs
	secColumns
	numSections = secColumns + numColumns
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
	ends    [numSections]int // where each section of raw ends
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

// encode returns the raw block of fs, which the caller has checked with checkFlow: its
// sections one after the other, as a version 1 payload holds them, each ending at
// e.ends. The result is valid until the next call.
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
	e.ends[secStrs] = len(raw)
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
	e.ends[secAddrs] = len(raw)
	for col := range c {
		raw, e.scratch = appendColumn(raw, c[col][:len(fs)], e.scratch)
		e.ends[secColumns+col] = len(raw)
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

// decoder turns a block's sections back into records or columns. It keeps its
// buffers (and so the records and columns it returned) until its next call.
type decoder struct {
	cols   [numColumns]column   // the columns parsed, in have
	have   colSet               // the columns parsed
	run    [numColumns][]uint64 // a run of each column, while decoding records
	full   [numColumns][]uint64 // whole columns, for a Block
	addrs  []netip.Addr
	strs   []string
	flows  []flow.Flow
	dirty  fieldSet // fields of flows that may be set from an earlier block
	keep   []int32  // the records of a Block in the scan's range
	nflows int      // records in flows for the Block, or -1 when not assembled
	huff   huff0.Scratch
}

// colSet is a set of columns, a bit each.
type colSet uint32

const allColumns = colSet(1)<<numColumns - 1

// errCorrupt wraps every reason a block's bytes are not a block.
var errCorrupt = errors.New("corrupt block")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// parseStrs reads the string dictionary at the front of src and returns the rest.
func (d *decoder) parseStrs(src []byte) ([]byte, error) {
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
	return src, nil
}

// parseAddrs reads the address dictionary at the front of src and returns the rest.
func (d *decoder) parseAddrs(src []byte) ([]byte, error) {
	count, k := binary.Uvarint(src)
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
	return src, nil
}

// parseV1 reads every section of a version 1 block's raw bytes, one after the other.
func (d *decoder) parseV1(raw []byte, n int) error {
	src, err := d.parseStrs(raw)
	if err != nil {
		return err
	}
	if src, err = d.parseAddrs(src); err != nil {
		return err
	}
	for c := range d.cols {
		if d.cols[c], src, err = parseColumn(src, n); err != nil {
			return corrupt("column %d: %v", c, err)
		}
	}
	if len(src) != 0 {
		return corrupt("%d bytes after the last column", len(src))
	}
	d.have = allColumns
	return nil
}

// parseSections reads the sections of a version 2 block that need names (nil for
// those it does not), each of which must be whole.
func (d *decoder) parseSections(secs *[numSections][]byte, need colSet, dicts secSet, n int) error {
	if dicts&(1<<secStrs) != 0 {
		if rest, err := d.parseStrs(secs[secStrs]); err != nil || len(rest) != 0 {
			return cmp.Or(err, corrupt("%d bytes after the string dictionary", len(rest)))
		}
	}
	if dicts&(1<<secAddrs) != 0 {
		if rest, err := d.parseAddrs(secs[secAddrs]); err != nil || len(rest) != 0 {
			return cmp.Or(err, corrupt("%d bytes after the address dictionary", len(rest)))
		}
	}
	for c := range d.cols {
		if need&(1<<c) == 0 {
			continue
		}
		var rest []byte
		var err error
		if d.cols[c], rest, err = parseColumn(secs[secColumns+c], n); err != nil || len(rest) != 0 {
			return corrupt("column %d: %v", c, cmp.Or(err, fmt.Errorf("%d bytes after it", len(rest))))
		}
	}
	d.have = need
	return nil
}

// decode returns the n records of raw, a version 1 block. n has been checked against
// maxBlockRecords. The strings of the records are shared by the records of the block.
func (d *decoder) decode(raw []byte, n int) ([]flow.Flow, error) {
	if err := d.parseV1(raw, n); err != nil {
		return nil, err
	}
	return d.records(n)
}

// records returns the n records of the block parsed, every column of which was.
func (d *decoder) records(n int) ([]flow.Flow, error) {
	d.flows = grow(d.flows, n)
	d.dirty = allFields
	// A run of records at a time, every column of the run read into d.run, then the
	// run's records written in one pass, each once: the run's columns stay in the
	// cache, where a pass over the block per field would not.
	for at := 0; at < n; at += decodeRun {
		m := min(decodeRun, n-at)
		for c := range d.cols {
			d.run[c] = grow(d.run[c], decodeRun)
			d.cols[c].read(d.run[c][:m], at)
		}
		if err := d.check(m, allColumns, &d.run); err != nil {
			return nil, err
		}
		assemble(d.flows[at:at+m], &d.run, d.addrs, d.strs)
	}
	return d.flows, nil
}

// columns reads the whole of each column in need, for a Block, and checks them;
// those are then the columns the decoder has (a version 1 block parsed them all, but
// only these are read).
func (d *decoder) columns(n int, need colSet) error {
	d.have = 0
	for c := range d.cols {
		if need&(1<<c) == 0 {
			continue
		}
		d.full[c] = grow(d.full[c], n)
		col := d.cols[c] // a copy: it keeps the position of a delta column
		col.read(d.full[c], 0)
	}
	if err := d.check(n, need, &d.full); err != nil {
		return err
	}
	d.have = need
	return nil
}

// decodeRun is how many records are decoded column by column at once.
const decodeRun = 1024

// assemble sets every field of fs from the columns of c, which hold len(fs) values
// each.
func assemble(fs []flow.Flow, c *[numColumns][]uint64, addrs []netip.Addr, strs []string) {
	n := len(fs)
	recv, zero, start, dur := c[colReceived][:n], c[colZero][:n], c[colStart][:n], c[colDuration][:n]
	kind, exporter, domain, sampling := c[colKind][:n], c[colExporter][:n], c[colDomain][:n], c[colSampling][:n]
	inIf, outIf, src4, dst := c[colInIf][:n], c[colOutIf][:n], c[colSrc][:n], c[colDst][:n]
	srcPort, dstPort, proto, flags := c[colSrcPort][:n], c[colDstPort][:n], c[colProto][:n], c[colTCPFlags][:n]
	byts, pkts, device, in, out := c[colBytes][:n], c[colPackets][:n], c[colDevice][:n], c[colIn][:n], c[colOut][:n]
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
// their dictionaries, in the n values of each column in need read into vals, before
// they are used.
func (d *decoder) check(n int, need colSet, vals *[numColumns][]uint64) error {
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
		if need&(1<<l.col) == 0 || d.cols[l.col].bound < l.size {
			continue // not read, or the column's form says so without looking
		}
		var hi uint64
		for _, v := range vals[l.col][:n] {
			hi = max(hi, v)
		}
		if hi >= l.size {
			return corrupt("column %d: value %d not below %d", l.col, hi, l.size)
		}
	}
	return nil
}
