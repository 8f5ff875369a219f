package flowstore

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// FuzzSegment reads its input three ways: as a segment file (headers, checksums,
// decompression, decoding, whole and projected), as a block's raw bytes for a record count in its first two
// bytes (the decoder without the checksums in the way), and as a compressed payload.
// None may panic, and none may allocate more than its bounds allow.
func FuzzSegment(f *testing.F) {
	for _, block := range []int{1, 3, 50} {
		dir := f.TempDir()
		s, err := Open(dir, Options{BlockRecords: block})
		if err != nil {
			f.Fatal(err)
		}
		fs := edgeFlows()
		syn := make([]flow.Flow, 60)
		newSynth(30, t0, 100).next(syn)
		fs = append(fs, syn...)
		for i := range fs {
			fs[i].Received = t0.Add(time.Duration(i) * time.Millisecond)
		}
		if err := s.Append(fs...); err != nil {
			f.Fatal(err)
		}
		if err := s.Close(); err != nil {
			f.Fatal(err)
		}
		segs, _ := listSegments(dir, minTime, maxTime)
		for _, seg := range segs {
			b, err := os.ReadFile(seg.path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
		raw := newEncoder().encode(fs[:block])
		f.Add(append(binary.LittleEndian.AppendUint16(nil, uint16(block)), raw...))
	}
	f.Add([]byte{})
	f.Add([]byte(fileMagic))

	c := sharedCodec()
	f.Fuzz(func(t *testing.T, data []byte) {
		// As a segment file.
		var d decoder
		var buf []byte
		torn, err := walk(bytes.NewReader(data), int64(len(data)), func(off int64, h blockHeader) error {
			payload := data[off+blockHeadLen : off+blockHeadLen+int64(h.compLen)]
			if fs, err := c.unpack(&d, h, payload, &buf); err == nil && len(fs) != int(h.count) {
				t.Fatalf("%d records from a block of %d", len(fs), h.count)
			}
			// And projected, as ScanColumns reads it.
			need := (fieldSrc | fieldBytes | fieldDevice | fieldEnd).columns()
			if err := c.unpackColumns(&d, h, payload, &buf, need); err == nil {
				if err := d.columns(int(h.count), need); err == nil {
					b := Block{d: &d, n: int(h.count), fields: fieldSrc | fieldBytes | fieldDevice | fieldEnd}
					d.nflows = -1
					if fs := b.Flows(); len(fs) != int(h.count) {
						t.Fatalf("%d projected records from a block of %d", len(fs), h.count)
					}
				}
			}
			return nil
		})
		if err != nil || torn < 0 || torn > int64(len(data)) {
			t.Fatalf("walk: torn %d, %v", torn, err)
		}
		// As a raw block.
		if len(data) >= 2 {
			n := int(binary.LittleEndian.Uint16(data))
			if fs, err := d.decode(data[2:], n); err == nil && len(fs) != n {
				t.Fatalf("%d records decoded, want %d", len(fs), n)
			}
		}
		// As a payload whose header says a size.
		if len(data) >= 4 {
			h := blockHeader{count: 1, rawLen: binary.LittleEndian.Uint32(data) % (1 << 20)}
			if raw, err := c.decompress(h, data[4:], &buf); err == nil && len(raw) != int(h.rawLen) {
				t.Fatalf("%d bytes decompressed, want %d", len(raw), h.rawLen)
			}
		}
	})
}

// The same through the Store: a segment file of any bytes is read without panic.
func TestScanGarbage(t *testing.T) {
	dir := t.TempDir()
	path := segmentPath(dir, t0, DefaultSegment)
	os.MkdirAll(filepath.Dir(path), 0o755)
	for _, b := range [][]byte{nil, []byte("junk"), bytes.Repeat([]byte{0xff}, 1000), append([]byte(fileMagic), make([]byte, 100)...)} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
		if len(got) != 0 || st.Torn != int64(len(b)) {
			t.Errorf("%q: %d records, stats %+v", b, len(got), st)
		}
	}
	// A writer puts a segment whose header is not one aside and begins it anew.
	s := open(t, dir, Options{})
	f := edgeFlows()[0]
	f.Received = t0
	if err := s.Append(f); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, st := scanAll(t, s, time.Time{}, time.Time{})
	compare(t, got, []flow.Flow{f})
	if st.Torn != 0 {
		t.Errorf("stats %+v", st)
	}
	if b, err := os.ReadFile(path + ".damaged"); err != nil || len(b) != len(fileMagic)+100 {
		t.Errorf("damaged segment not kept aside: %d bytes, %v", len(b), err)
	}
}
