package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/huff0"
	"github.com/klauspost/compress/zstd"

	"github.com/mrtgo/mrtgo/flow"
)

// File and block headers, little-endian (see doc.go for the layout).
const (
	fileMagic     = "MRTGOFS1"
	fileHeaderLen = 32
	blockMagicV1  = 0x4b42464d // "MFBK": the payload is one zstd frame of the raw block
	blockMagic    = 0x3242464d // "MFB2": the payload is its sections, compressed each alone
	blockHeadLen  = 40

	// maxBlockRecords bounds the records of a block, and so what decoding one may
	// allocate; maxRawLen bounds its bytes before compression.
	maxBlockRecords = 1 << 16
	maxRawLen       = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// blockHeader describes the compressed block that follows it.
type blockHeader struct {
	v1         bool   // a version 1 block (see blockMagicV1)
	count      uint32 // records
	rawLen     uint32 // bytes before compression
	compLen    uint32 // bytes that follow the header
	minRecv    int64  // unix ns of the earliest Received
	maxRecv    int64  // and of the latest
	payloadCRC uint32 // CRC-32C of the compressed bytes
}

func (h *blockHeader) append(dst []byte) []byte {
	at := len(dst)
	magic := uint32(blockMagic)
	if h.v1 {
		magic = blockMagicV1
	}
	dst = binary.LittleEndian.AppendUint32(dst, magic)
	dst = binary.LittleEndian.AppendUint32(dst, h.count)
	dst = binary.LittleEndian.AppendUint32(dst, h.rawLen)
	dst = binary.LittleEndian.AppendUint32(dst, h.compLen)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.minRecv))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.maxRecv))
	dst = binary.LittleEndian.AppendUint32(dst, h.payloadCRC)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[at:], castagnoli))
}

// parseBlockHeader reads a block header, or says why b does not start with one.
func parseBlockHeader(b []byte) (blockHeader, error) {
	if len(b) < blockHeadLen {
		return blockHeader{}, errors.New("short block header")
	}
	le := binary.LittleEndian
	if m := le.Uint32(b); m != blockMagic && m != blockMagicV1 {
		return blockHeader{}, errors.New("no block header")
	}
	if crc32.Checksum(b[:blockHeadLen-4], castagnoli) != le.Uint32(b[blockHeadLen-4:]) {
		return blockHeader{}, errors.New("block header checksum")
	}
	h := blockHeader{v1: le.Uint32(b) == blockMagicV1, count: le.Uint32(b[4:]), rawLen: le.Uint32(b[8:]), compLen: le.Uint32(b[12:]),
		minRecv: int64(le.Uint64(b[16:])), maxRecv: int64(le.Uint64(b[24:])), payloadCRC: le.Uint32(b[32:])}
	switch {
	case h.count == 0 || h.count > maxBlockRecords:
		return blockHeader{}, fmt.Errorf("block of %d records", h.count)
	case h.rawLen > maxRawLen:
		return blockHeader{}, fmt.Errorf("block of %d bytes", h.rawLen)
	case h.compLen > maxRawLen+maxRawLen/8:
		return blockHeader{}, fmt.Errorf("block of %d compressed bytes", h.compLen)
	case h.minRecv > h.maxRecv:
		return blockHeader{}, errors.New("block times out of order")
	}
	return h, nil
}

// fileHeader is the start of every segment file: its partition of time.
func fileHeader(start time.Time, span time.Duration) []byte {
	b := append([]byte(nil), fileMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(start.Unix()))
	b = binary.LittleEndian.AppendUint64(b, uint64(span/time.Second))
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func parseFileHeader(b []byte) (start time.Time, span time.Duration, err error) {
	if len(b) < fileHeaderLen || string(b[:8]) != fileMagic {
		return time.Time{}, 0, errors.New("not a flow segment")
	}
	le := binary.LittleEndian
	if crc32.Checksum(b[:fileHeaderLen-4], castagnoli) != le.Uint32(b[fileHeaderLen-4:]) {
		return time.Time{}, 0, errors.New("segment header checksum")
	}
	secs := le.Uint64(b[16:])
	if secs == 0 || secs > uint64(maxSegment/time.Second) {
		return time.Time{}, 0, fmt.Errorf("segment of %d s", secs)
	}
	return time.Unix(int64(le.Uint64(b[8:])), 0).UTC(), time.Duration(secs) * time.Second, nil
}

// codec compresses and decompresses block payloads; both are safe for concurrent use.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// sharedCodec is the one codec of the process: its encoder and decoder pools serve
// every Store.
var sharedCodec = sync.OnceValue(newCodec)

// newCodec returns a codec. zstd's fastest level: on columns of records the higher
// levels found no more than 1% to take off, at two to twenty times the time.
func newCodec() *codec {
	// Static options: these cannot fail.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<22))
	if err != nil {
		panic(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxRawLen),
		zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderLowmem(false))
	if err != nil {
		panic(err)
	}
	return &codec{enc: enc, dec: dec}
}

// errChecksum is a block whose payload is not what its header says it wrote.
var errChecksum = fmt.Errorf("%w: payload checksum", errCorrupt)

// Section encodings of a version 2 payload.
const (
	secStored = iota // as it is
	secZstd          // one zstd frame
	secHuff1X        // huff0, one stream
	secHuff4X        // huff0, four streams
	numSecKinds
)

// packer holds what packing a block keeps from one to the next. It is not safe for
// concurrent use: the writer has one.
type packer struct {
	out  [numSections][]byte // each section as stored
	kind [numSections]byte
	zbuf [numSections][]byte // zstd's encoding of each section
	hbuf [numSections][]byte // huff0's
	huff huff0.Scratch
}

// pack appends the version 2 payload of raw, whose sections end at ends, to dst: a
// table of each section's raw length, encoding and (unless stored as it is) stored
// length, then the sections. Each is stored as the smallest of itself, a zstd frame
// and Huffman codes alone: zstd's fastest level stores a section in which it finds
// no repeats as it is, where byte planes of ports and dictionary indexes still have
// a bit or three a byte to take off.
func (c *codec) pack(dst, raw []byte, ends *[numSections]int, p *packer) []byte {
	start := 0
	for i, end := range ends {
		sec := raw[start:end]
		start = end
		p.kind[i], p.out[i] = secStored, sec
		if len(sec) < minPack {
			continue
		}
		p.zbuf[i] = c.enc.EncodeAll(sec, p.zbuf[i][:0])
		if len(p.zbuf[i]) < len(sec) {
			p.kind[i], p.out[i] = secZstd, p.zbuf[i]
		}
		if len(sec) <= huff0.BlockSizeMax {
			kind, huff := byte(secHuff4X), huff0.Compress4X
			if len(sec) < 1024 {
				kind, huff = secHuff1X, huff0.Compress1X
			}
			p.huff.Reuse = huff0.ReusePolicyNone
			if h, _, err := huff(sec, &p.huff); err == nil && len(h) <= len(p.out[i]) {
				p.hbuf[i] = append(p.hbuf[i][:0], h...) // h is the scratch's
				p.kind[i], p.out[i] = kind, p.hbuf[i]
			}
		}
	}
	start = 0
	for i, end := range ends {
		dst = binary.AppendUvarint(dst, uint64(end-start))
		start = end
		dst = append(dst, p.kind[i])
		if p.kind[i] != secStored {
			dst = binary.AppendUvarint(dst, uint64(len(p.out[i])))
		}
	}
	for _, sec := range p.out {
		dst = append(dst, sec...)
	}
	return dst
}

// minPack is the smallest section worth compressing: a frame's or a table's head
// takes more than a column of a few values would save.
const minPack = 64

// unpack checks a block's payload against its header and decodes every record of it
// with d, decompressing into *buf.
func (c *codec) unpack(d *decoder, h blockHeader, payload []byte, buf *[]byte) ([]flow.Flow, error) {
	if err := c.unpackColumns(d, h, payload, buf, allColumns); err != nil {
		return nil, err
	}
	return d.records(int(h.count))
}

// unpackColumns checks a block's payload against its header and parses with d the
// columns in need and the dictionaries they index (every one of a version 1 block),
// decompressing into *buf only what it parses.
func (c *codec) unpackColumns(d *decoder, h blockHeader, payload []byte, buf *[]byte, need colSet) error {
	if crc32.Checksum(payload, castagnoli) != h.payloadCRC {
		return errChecksum
	}
	if h.v1 {
		raw, err := c.decompress(h, payload, buf)
		if err != nil {
			return err
		}
		return d.parseV1(raw, int(h.count))
	}
	var secs [numSections][]byte
	want := need.sections()
	src := payload
	var lens [numSections][2]uint64 // raw, stored
	var kinds [numSections]byte
	var total uint64
	for i := range lens {
		v, k := binary.Uvarint(src)
		if k <= 0 || v > maxRawLen || len(src) == k {
			return corrupt("section table")
		}
		lens[i][0], lens[i][1], kinds[i] = v, v, src[k]
		src = src[k+1:]
		if kinds[i] >= numSecKinds {
			return corrupt("section %d encoding %d", i, kinds[i])
		}
		if kinds[i] != secStored {
			if v, k = binary.Uvarint(src); k <= 0 || v > maxRawLen {
				return corrupt("section table")
			}
			lens[i][1] = v
			src = src[k:]
		}
		total += lens[i][0]
	}
	if total != uint64(h.rawLen) {
		return corrupt("sections of %d bytes, header says %d", total, h.rawLen)
	}
	if cap(*buf) < int(h.rawLen) {
		*buf = make([]byte, 0, h.rawLen)
	}
	out := (*buf)[:0]
	for i, l := range lens {
		if l[1] > uint64(len(src)) {
			return corrupt("section %d past the end of the block", i)
		}
		sec := src[:l[1]]
		src = src[l[1]:]
		if want&(1<<i) == 0 {
			continue
		}
		if kinds[i] == secStored {
			secs[i] = sec
			continue
		}
		at, size := len(out), int(l[0])
		dst := out[at : at : at+size]
		var got []byte
		var err error
		switch kinds[i] {
		case secZstd:
			got, err = c.dec.DecodeAll(sec, dst)
		default:
			var hs *huff0.Scratch
			if hs, sec, err = huff0.ReadTable(sec, &d.huff); err == nil {
				if kinds[i] == secHuff1X {
					got, err = hs.Decoder().Decompress1X(dst, sec)
				} else {
					got, err = hs.Decoder().Decompress4X(dst, sec)
				}
			}
		}
		if err != nil {
			return corrupt("decompress section %d: %v", i, err)
		}
		if len(got) != size {
			return corrupt("section %d: %d bytes decompressed, table says %d", i, len(got), size)
		}
		out = out[:at+size]
		secs[i] = out[at:]
	}
	if len(src) != 0 {
		return corrupt("%d bytes after the last section", len(src))
	}
	return d.parseSections(&secs, need, want, int(h.count))
}

// decompress returns the raw bytes of a version 1 payload, in *buf (grown to the
// header's rawLen, never past it).
func (c *codec) decompress(h blockHeader, payload []byte, buf *[]byte) ([]byte, error) {
	if cap(*buf) < int(h.rawLen) {
		*buf = make([]byte, 0, h.rawLen)
	}
	raw, err := c.dec.DecodeAll(payload, (*buf)[:0:h.rawLen])
	if err != nil {
		return nil, corrupt("decompress: %v", err)
	}
	if len(raw) != int(h.rawLen) {
		return nil, corrupt("%d bytes decompressed, header says %d", len(raw), h.rawLen)
	}
	return raw, nil
}

// segment is one file of the store, as named on disk.
type segment struct {
	path  string
	start time.Time
	span  time.Duration
}

func (s segment) end() time.Time { return s.start.Add(s.span) }

// Segment files are dir/YYYYMMDD/hhmmss-S.seg: the UTC day and time their partition
// starts and its length in seconds.
func segmentPath(dir string, start time.Time, span time.Duration) string {
	start = start.UTC()
	return filepath.Join(dir, start.Format("20060102"),
		start.Format("150405")+"-"+strconv.FormatInt(int64(span/time.Second), 10)+".seg")
}

// parseSegmentName reads a segment's partition from its day directory and file name.
func parseSegmentName(day, name string) (time.Time, time.Duration, bool) {
	if len(name) < len("150405-1.seg") || name[6] != '-' || filepath.Ext(name) != ".seg" {
		return time.Time{}, 0, false
	}
	t, err := time.Parse("20060102150405", day+name[:6])
	if err != nil {
		return time.Time{}, 0, false
	}
	secs, err := strconv.ParseUint(name[7:len(name)-4], 10, 32)
	if err != nil || secs == 0 || secs > uint64(maxSegment/time.Second) {
		return time.Time{}, 0, false
	}
	return t, time.Duration(secs) * time.Second, true
}

// listSegments returns the segments of dir whose partitions overlap [from, to), in
// order of start (then length).
func listSegments(dir string, from, to time.Time) ([]segment, error) {
	days, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list flow segments: %w", err)
	}
	var segs []segment
	for _, day := range days {
		if !day.IsDir() || len(day.Name()) != 8 {
			continue
		}
		d, err := time.Parse("20060102", day.Name())
		if err != nil || !d.Before(to) || !d.Add(24*time.Hour).After(from) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, day.Name()))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // pruned meanwhile
				continue
			}
			return nil, fmt.Errorf("list flow segments: %w", err)
		}
		for _, f := range files {
			start, span, ok := parseSegmentName(day.Name(), f.Name())
			if !ok || !start.Before(to) || !start.Add(span).After(from) {
				continue
			}
			segs = append(segs, segment{path: filepath.Join(dir, day.Name(), f.Name()), start: start, span: span})
		}
	}
	slices.SortFunc(segs, func(a, b segment) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return int(a.span - b.span)
	})
	return segs, nil
}

// walk reads the blocks of a segment file of size bytes (the reader stops there)
// and calls fn with each block's offset and header. A block whose header does not
// check, or whose payload would pass size, ends the walk: torn is the number of bytes
// from there to size. Errors are the reader's.
func walk(r io.ReaderAt, size int64, fn func(off int64, h blockHeader) error) (torn int64, err error) {
	var head [fileHeaderLen]byte
	if size < fileHeaderLen {
		return size, nil
	}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return 0, err
	}
	if _, _, err := parseFileHeader(head[:]); err != nil {
		return size, nil
	}
	off := int64(fileHeaderLen)
	var hb [blockHeadLen]byte
	for off < size {
		if size-off < blockHeadLen {
			return size - off, nil
		}
		if _, err := r.ReadAt(hb[:], off); err != nil {
			return 0, err
		}
		h, err := parseBlockHeader(hb[:])
		if err != nil || int64(h.compLen) > size-off-blockHeadLen {
			return size - off, nil
		}
		if err := fn(off, h); err != nil {
			return 0, err
		}
		off += blockHeadLen + int64(h.compLen)
	}
	return 0, nil
}
