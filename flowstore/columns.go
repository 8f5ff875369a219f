package flowstore

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// fieldSet is a set of the fields of flow.Flow, a bit each in the order of
// fieldNames.
type fieldSet uint32

const (
	fieldReceived fieldSet = 1 << iota
	fieldStart
	fieldEnd
	fieldKind
	fieldExporter
	fieldDomain
	fieldSamplingRate
	fieldInIf
	fieldOutIf
	fieldSrc
	fieldDst
	fieldSrcPort
	fieldDstPort
	fieldProto
	fieldTCPFlags
	fieldBytes
	fieldPackets
	fieldDevice
	fieldIn
	fieldOut
	allFields = 1<<iota - 1
)

// fieldNames are the names of flow.Flow's fields (its Record's first), in the order
// they are declared and of the bits of fieldSet.
var fieldNames = [...]string{"Received", "Start", "End", "Kind", "Exporter", "Domain", "SamplingRate",
	"InIf", "OutIf", "Src", "Dst", "SrcPort", "DstPort", "Proto", "TCPFlags", "Bytes", "Packets",
	"Device", "In", "Out"}

// fieldColumns are the columns each field is made of, in the order of fieldNames.
var fieldColumns = [...]colSet{
	1 << colReceived, 1<<colZero | 1<<colStart, 1<<colZero | 1<<colStart | 1<<colDuration,
	1 << colKind, 1 << colExporter, 1 << colDomain, 1 << colSampling, 1 << colInIf, 1 << colOutIf,
	1 << colSrc, 1 << colDst, 1 << colSrcPort, 1 << colDstPort, 1 << colProto, 1 << colTCPFlags,
	1 << colBytes, 1 << colPackets, 1 << colDevice, 1 << colIn, 1 << colOut}

// fieldColumn is the one column of each field that Block.Column gives, by name.
var fieldColumn = map[string]int{"Kind": colKind, "Exporter": colExporter, "Domain": colDomain,
	"SamplingRate": colSampling, "InIf": colInIf, "OutIf": colOutIf, "Src": colSrc, "Dst": colDst,
	"SrcPort": colSrcPort, "DstPort": colDstPort, "Proto": colProto, "TCPFlags": colTCPFlags,
	"Bytes": colBytes, "Packets": colPackets, "Device": colDevice, "In": colIn, "Out": colOut}

// parseFields reads a list of field names; none is every field.
func parseFields(names []string) (fieldSet, error) {
	if len(names) == 0 {
		return allFields, nil
	}
	var s fieldSet
next:
	for _, name := range names {
		for i, known := range fieldNames {
			if name == known {
				s |= 1 << i
				continue next
			}
		}
		return 0, fmt.Errorf("flow store: no field %q in a flow record", name)
	}
	return s, nil
}

// columns are the columns the fields of s are made of.
func (s fieldSet) columns() colSet {
	var cs colSet
	for i, c := range fieldColumns {
		if s&(1<<i) != 0 {
			cs |= c
		}
	}
	return cs
}

// secSet is a set of a block's sections, a bit each.
type secSet uint32

// sections are the sections the columns of cs need: theirs, and the dictionaries
// their values index.
func (cs colSet) sections() secSet {
	s := secSet(cs) << secColumns
	if cs&(1<<colExporter|1<<colSrc|1<<colDst) != 0 {
		s |= 1 << secAddrs
	}
	if cs&(1<<colDevice|1<<colIn|1<<colOut) != 0 {
		s |= 1 << secStrs
	}
	return s
}

// Block is a block of records as ScanColumns reads it: only the fields it was asked
// for, column by column, the addresses and names as indexes into the block's
// dictionaries. A Block and what its methods return are valid until the callback it
// was passed to returns.
type Block struct {
	d      *decoder
	n      int
	fields fieldSet
}

// Len is the number of records.
func (b *Block) Len() int { return b.n }

// Column returns the values of the field of flow.Flow named field, one per record,
// or nil when the scan did not read the field or it is a time (Received, Start,
// End: see Flows). The values of Exporter, Src and Dst are indexes into Addrs; those
// of Device, In and Out, into Strings; the others are the fields' values.
func (b *Block) Column(field string) []uint64 {
	c, ok := fieldColumn[field]
	if !ok || b.d.have&(1<<c) == 0 {
		return nil
	}
	return b.d.full[c][:b.n]
}

// Addrs is the block's address dictionary, which the Exporter, Src and Dst columns
// index; empty when the scan read none of them.
func (b *Block) Addrs() []netip.Addr { return b.d.addrs }

// Strings is the block's name dictionary, which the Device, In and Out columns
// index; empty when the scan read none of them.
func (b *Block) Strings() []string { return b.d.strs }

// Flows returns the block's records with the fields the scan read set and the others
// zero. They are made on the first call.
func (b *Block) Flows() []flow.Flow {
	d := b.d
	if d.nflows == b.n {
		return d.flows[:b.n]
	}
	if cap(d.flows) < b.n {
		d.flows, d.dirty = make([]flow.Flow, b.n), 0
	}
	fs := d.flows[:b.n]
	if d.dirty&^b.fields != 0 {
		clear(d.flows[:cap(d.flows)])
		d.dirty = 0
	}
	d.dirty |= b.fields
	var run [numColumns][]uint64
	for at := 0; at < b.n; at += decodeRun {
		m := min(decodeRun, b.n-at)
		for c := range run {
			if d.have&(1<<c) != 0 {
				run[c] = d.full[c][at : at+m]
			}
		}
		if b.fields == allFields {
			assemble(fs[at:at+m], &run, d.addrs, d.strs)
		} else {
			assembleFields(fs[at:at+m], &run, b.fields, d.addrs, d.strs)
		}
	}
	d.nflows = b.n
	return fs
}

// assembleFields sets the fields of fs in set from the columns of c, a field at a
// time.
func assembleFields(fs []flow.Flow, c *[numColumns][]uint64, set fieldSet, addrs []netip.Addr, strs []string) {
	if set&(fieldReceived) != 0 {
		for i, v := range c[colReceived] {
			fs[i].Received = time.Unix(0, int64(v^signBit)).UTC()
		}
	}
	if set&(fieldStart|fieldEnd) != 0 {
		zero, start, dur := c[colZero], c[colStart], c[colDuration]
		for i := range fs {
			st := int64(start[i] ^ signBit)
			if set&fieldStart != 0 {
				fs[i].Start = time.Time{}
				if zero[i]&1 == 0 {
					fs[i].Start = time.Unix(0, st).UTC()
				}
			}
			if set&fieldEnd != 0 {
				fs[i].End = time.Time{}
				if zero[i]&2 == 0 {
					fs[i].End = time.Unix(0, st+int64(dur[i]^signBit)).UTC()
				}
			}
		}
	}
	ints := []struct {
		f   fieldSet
		col int
		set func(f *flow.Flow, v uint64)
	}{
		{fieldKind, colKind, func(f *flow.Flow, v uint64) { f.Kind = flow.Kind(v) }},
		{fieldExporter, colExporter, func(f *flow.Flow, v uint64) { f.Exporter = addrs[v] }},
		{fieldDomain, colDomain, func(f *flow.Flow, v uint64) { f.Domain = uint32(v) }},
		{fieldSamplingRate, colSampling, func(f *flow.Flow, v uint64) { f.SamplingRate = v }},
		{fieldInIf, colInIf, func(f *flow.Flow, v uint64) { f.InIf = uint32(v) }},
		{fieldOutIf, colOutIf, func(f *flow.Flow, v uint64) { f.OutIf = uint32(v) }},
		{fieldTCPFlags, colTCPFlags, func(f *flow.Flow, v uint64) { f.TCPFlags = uint8(v) }},
		{fieldDevice, colDevice, func(f *flow.Flow, v uint64) { f.Device = strs[v] }},
		{fieldIn, colIn, func(f *flow.Flow, v uint64) { f.In = strs[v] }},
		{fieldOut, colOut, func(f *flow.Flow, v uint64) { f.Out = strs[v] }},
	}
	for _, x := range ints {
		if set&x.f != 0 {
			for i, v := range c[x.col] {
				x.set(&fs[i], v)
			}
		}
	}
	// The fields queries read most, without a call per value.
	if set&fieldSrc != 0 {
		for i, v := range c[colSrc] {
			fs[i].Src = addrs[v]
		}
	}
	if set&fieldDst != 0 {
		for i, v := range c[colDst] {
			fs[i].Dst = addrs[v]
		}
	}
	if set&fieldSrcPort != 0 {
		for i, v := range c[colSrcPort] {
			fs[i].SrcPort = uint16(v)
		}
	}
	if set&fieldDstPort != 0 {
		for i, v := range c[colDstPort] {
			fs[i].DstPort = uint16(v)
		}
	}
	if set&fieldProto != 0 {
		for i, v := range c[colProto] {
			fs[i].Proto = uint8(v)
		}
	}
	if set&fieldBytes != 0 {
		for i, v := range c[colBytes] {
			fs[i].Bytes = v
		}
	}
	if set&fieldPackets != 0 {
		for i, v := range c[colPackets] {
			fs[i].Packets = v
		}
	}
}

// ScanColumns is ScanParallel reading only the fields of flow.Flow named in fields
// (all of them when fields is empty; Query.Fields in package flowquery names what a
// query needs): fn is called from Workers goroutines at once with a Block of each
// block's records in the range. Blocks written by this version of the store are
// compressed a section at a time, so that the columns not read are not even
// decompressed. An unknown field name is an error.
func (s *Store) ScanColumns(from, to time.Time, fields []string, fn func(worker int, b *Block) error) (ScanStats, error) {
	set, err := parseFields(fields)
	if err != nil {
		return ScanStats{}, err
	}
	return s.scan(from, to, false, set, func(w int, sl *slot) error { return fn(w, &sl.block) })
}

// decodeColumns decodes the columns of the fields of set from the block in sl,
// keeps the records in r and sets sl.block.
func (s *Store) decodeColumns(sl *slot, set fieldSet, r timeRange) error {
	d := &sl.dec
	need := set.columns()
	if !sl.whole {
		need |= 1 << colReceived
	}
	n := int(sl.h.count)
	if err := s.codec.unpackColumns(d, sl.h, sl.payload, &sl.raw, need); err != nil {
		return err
	}
	if err := d.columns(n, need); err != nil {
		return err
	}
	if !sl.whole {
		d.keep = d.keep[:0]
		for i, v := range d.full[colReceived][:n] {
			if t := int64(v ^ signBit); t >= r.lo && t <= r.hi {
				d.keep = append(d.keep, int32(i))
			}
		}
		if len(d.keep) < n {
			for c := range d.full {
				if need&(1<<c) != 0 {
					col := d.full[c]
					for j, i := range d.keep {
						col[j] = col[i]
					}
				}
			}
			n = len(d.keep)
		}
	}
	d.nflows = -1
	sl.block = Block{d: d, n: n, fields: set}
	return nil
}
