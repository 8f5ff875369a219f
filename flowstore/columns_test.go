package flowstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// project keeps the fields of f in set and zeroes the others.
func project(f flow.Flow, set fieldSet) flow.Flow {
	var g flow.Flow
	fv, gv := reflect.ValueOf(&f).Elem(), reflect.ValueOf(&g).Elem()
	for i, name := range fieldNames {
		if set&(1<<i) != 0 {
			gv.FieldByName(name).Set(fv.FieldByName(name))
		}
	}
	return g
}

// scanColumns collects the records and columns of a ScanColumns with one worker, in
// the order Scan gives them.
func scanColumns(t *testing.T, s *Store, from, to time.Time, fields []string) ([]flow.Flow, map[string][]uint64, ScanStats) {
	t.Helper()
	var got []flow.Flow
	cols := map[string][]uint64{}
	st, err := s.ScanColumns(from, to, fields, func(_ int, b *Block) error {
		fs := b.Flows()
		if len(fs) != b.Len() {
			t.Fatalf("%d records, Len %d", len(fs), b.Len())
		}
		if again := b.Flows(); &again[0] != &fs[0] {
			t.Fatal("Flows made the records twice")
		}
		got = append(got, fs...)
		// The columns, with the dictionary indexes turned back into what they index, so
		// that they can be held against the records.
		for name := range fieldColumn {
			vs := b.Column(name)
			if vs == nil {
				continue
			}
			if len(vs) != b.Len() {
				t.Fatalf("column %s of %d values, Len %d", name, len(vs), b.Len())
			}
			for i, v := range vs {
				switch name {
				case "Exporter", "Src", "Dst":
					if a := b.Addrs()[v]; a != reflect.ValueOf(fs[i]).FieldByName(name).Interface() {
						t.Fatalf("record %d: %s column says %v, the record %+v", i, name, a, fs[i])
					}
				case "Device", "In", "Out":
					if s := b.Strings()[v]; s != reflect.ValueOf(fs[i]).FieldByName(name).String() {
						t.Fatalf("record %d: %s column says %q, the record %+v", i, name, s, fs[i])
					}
				}
			}
			cols[name] = append(cols[name], vs...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, cols, st
}

// A projected scan gives each record with the fields asked for, as stored, and the
// others zero; its columns hold the same values; and only the columns asked for are
// there, over whole and partly covered blocks alike.
func TestScanColumns(t *testing.T) {
	want := edgeFlows()
	syn := make([]flow.Flow, 20000)
	newSynth(5, t0, 5000).next(syn)
	want = append(want, syn...)
	s := open(t, t.TempDir(), Options{BlockRecords: 3000, ScanWorkers: 1})
	if err := s.Append(want...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, fields := range [][]string{
		{"Src", "Bytes", "Packets"},
		{"Start", "End", "Src", "Bytes", "Packets"},
		{"End"}, {"Start"}, {"Received", "Kind", "Domain"},
		{"Exporter", "SamplingRate", "InIf", "OutIf", "TCPFlags", "Device", "In", "Out"},
		{"Src", "Dst", "SrcPort", "DstPort", "Proto", "Bytes", "Packets"},
		nil, // every field
	} {
		set, err := parseFields(fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct{ from, to time.Time }{
			{}, {t0.Add(1500 * time.Millisecond), t0.Add(2*time.Second + 7*time.Millisecond)},
		} {
			name := fmt.Sprintf("%s/%s-%s", strings.Join(fields, ","), r.from.Format("05.000"), r.to.Format("05.000"))
			all, _ := scanAll(t, s, r.from, r.to)
			got, cols, st := scanColumns(t, s, r.from, r.to, fields)
			if len(got) != len(all) || st.Records != int64(len(all)) || len(all) == 0 {
				t.Fatalf("%s: %d records (stats %d), Scan %d", name, len(got), st.Records, len(all))
			}
			for i := range got {
				if !sameFlow(got[i], project(all[i], set)) {
					t.Fatalf("%s: record %d\n got %+v\nwant %+v", name, i, got[i], project(all[i], set))
				}
			}
			for col := range fieldColumn {
				f, _ := parseFields([]string{col})
				if (cols[col] != nil) != (set&f != 0) {
					t.Errorf("%s: column %s read %v", name, col, cols[col] != nil)
				}
			}
			for i, v := range cols["Bytes"] {
				if v != all[i].Bytes {
					t.Fatalf("%s: Bytes column %d is %d, record %d", name, i, v, all[i].Bytes)
				}
			}
			for i, v := range cols["DstPort"] {
				if v != uint64(all[i].DstPort) {
					t.Fatalf("%s: DstPort column %d is %d, record %d", name, i, v, all[i].DstPort)
				}
			}
		}
	}
	if _, err := s.ScanColumns(time.Time{}, time.Time{}, []string{"Src", "Bytez"}, nil); err == nil || !strings.Contains(err.Error(), "Bytez") {
		t.Errorf("an unknown field: %v", err)
	}
}

// A projected scan after a full one over the same slots, and the other way round,
// leaves nothing of the other's fields in the records.
func TestScanColumnsAfterScan(t *testing.T) {
	syn := make([]flow.Flow, 5000)
	newSynth(6, t0, 5000).next(syn)
	s := open(t, t.TempDir(), Options{BlockRecords: 1000})
	if err := s.Append(syn...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		scanAll(t, s, time.Time{}, time.Time{})
		if _, err := s.ScanColumns(time.Time{}, time.Time{}, []string{"Bytes"}, func(_ int, b *Block) error {
			for _, f := range b.Flows() {
				if f.Src.IsValid() || !f.Received.IsZero() || f.Device != "" || f.Bytes == 0 {
					return fmt.Errorf("a record of Bytes only: %+v", f)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Fields named are flow.Flow's, in its order.
func TestFieldNames(t *testing.T) {
	var names []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[flow.Flow]()) {
		if !f.Anonymous {
			names = append(names, f.Name)
		}
	}
	if !slices.Equal(names, fieldNames[:]) {
		t.Errorf("flow.Flow's fields %v, fieldNames %v", names, fieldNames)
	}
}

// writeV1Segment writes fs as a segment file of version 1 blocks of block records: one
// zstd frame of the raw block each, as the store wrote them before blocks were
// compressed a section at a time.
func writeV1Segment(t *testing.T, dir string, fs []flow.Flow, block int) {
	t.Helper()
	path := segmentPath(dir, fs[0].Received.Truncate(DefaultSegment), DefaultSegment)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	file := fileHeader(fs[0].Received.Truncate(DefaultSegment), DefaultSegment)
	e, c := newEncoder(), sharedCodec()
	for at := 0; at < len(fs); at += block {
		part := fs[at:min(at+block, len(fs))]
		raw := e.encode(part)
		payload := c.enc.EncodeAll(raw, nil)
		h := blockHeader{v1: true, count: uint32(len(part)), rawLen: uint32(len(raw)), compLen: uint32(len(payload)),
			minRecv: part[0].Received.UnixNano(), maxRecv: part[len(part)-1].Received.UnixNano(),
			payloadCRC: crc32.Checksum(payload, castagnoli)}
		file = append(h.append(file), payload...)
	}
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Blocks of the first version are read by every scan, projected or not.
func TestReadVersion1(t *testing.T) {
	fs := make([]flow.Flow, 5000)
	newSynth(7, t0, 5000).next(fs)
	dir := t.TempDir()
	writeV1Segment(t, dir, fs, 1500)
	s := open(t, dir, Options{ReadOnly: true, ScanWorkers: 1})
	got, st := scanAll(t, s, time.Time{}, time.Time{})
	compare(t, got, fs)
	if st.Blocks != 4 || st.Torn != 0 || st.Skipped != 0 {
		t.Errorf("stats %+v", st)
	}
	fields := []string{"Src", "Bytes", "Device"}
	set, _ := parseFields(fields)
	proj, _, _ := scanColumns(t, s, time.Time{}, time.Time{}, fields)
	want := make([]flow.Flow, len(fs))
	for i := range fs {
		want[i] = project(fs[i], set)
	}
	compare(t, proj, want)
}

// A version 2 payload whose section table does not add up, or whose section does not
// decompress, is corrupt, not a panic; its block is an error of the scan.
func TestCorruptSections(t *testing.T) {
	fs := make([]flow.Flow, 300)
	newSynth(8, t0, 5000).next(fs)
	e, c := newEncoder(), sharedCodec()
	raw := e.encode(fs)
	payload := c.pack(nil, raw, &e.ends, new(packer))
	h := blockHeader{count: uint32(len(fs)), rawLen: uint32(len(raw)), compLen: uint32(len(payload))}
	var d decoder
	var buf []byte
	check := func(name string, p []byte, h blockHeader, wantErr bool) {
		t.Helper()
		h.payloadCRC = crc32.Checksum(p, castagnoli)
		fs, err := c.unpack(&d, h, p, &buf)
		if (err != nil) != wantErr || err == nil && len(fs) != int(h.count) {
			t.Errorf("%s: %d records, %v", name, len(fs), err)
		}
	}
	check("whole", payload, h, false)
	short := h
	short.rawLen--
	check("raw length", payload, short, true)
	check("cut", payload[:len(payload)-1], h, true)
	check("longer", append(slices.Clone(payload), 0), h, true)
	// The first section that is a zstd frame, its body damaged.
	p := slices.Clone(payload)
	src := p
	var lens [numSections][2]uint64
	for i := range lens {
		for j := range 2 {
			v, k := binary.Uvarint(src)
			lens[i][j], src = v, src[k:]
		}
	}
	at := len(p) - len(src)
	for _, l := range lens {
		if l[1] != 0 {
			for j := at; j < at+int(l[1]); j++ {
				p[j] ^= 0x5a
			}
			break
		}
		at += int(l[0])
	}
	check("frame", p, h, true)
}
