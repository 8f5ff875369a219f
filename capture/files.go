package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/mrtgo/mrtgo/internal/atomicfile"
)

const (
	partSuffix = ".part"
	pcapSuffix = ".pcap"
	lockName   = "LOCK"
	timeLayout = "20060102T150405Z"
	maxNameLen = 64 // of the sanitized name, in bytes
)

// sanitize keeps name's letters, digits, '.', '_' and '-', turns each other character
// into '_', and cuts it to maxNameLen bytes; an empty name is "capture".
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == maxNameLen {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "capture"
	}
	return b.String()
}

// freeName is the file name of a capture started at t: one that no file, finished or
// running, has. c.mu is held.
func (c *Capturer) freeName(t time.Time, name string) string {
	base := t.UTC().Format(timeLayout) + "-" + sanitize(name)
	file := base + pcapSuffix
	for i := 2; i <= 1000; i++ { // past that (a directory it cannot read?) creating the file will fail
		if _, busy := c.active[file]; !busy &&
			!exists(filepath.Join(c.o.Dir, file)) && !exists(filepath.Join(c.o.Dir, file+partSuffix)) {
			break
		}
		file = fmt.Sprintf("%s-%d%s", base, i, pcapSuffix)
	}
	return file
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

// fileTime is the start time in the name of a capture's file, and false for a name
// not of that form.
func fileTime(name string) (time.Time, bool) {
	if len(name) < len(timeLayout)+1 || name[len(timeLayout)] != '-' {
		return time.Time{}, false
	}
	t, err := time.Parse(timeLayout, name[:len(timeLayout)])
	return t, err == nil
}

// Prune deletes the finished files whose start time is older than Options.Keep, and
// returns how many. Files of other names are left alone. New prunes, and so does
// each capture when it ends.
func (c *Capturer) Prune() (int, error) {
	if c.o.Keep < 0 {
		return 0, nil
	}
	ents, err := os.ReadDir(c.o.Dir)
	if err != nil {
		return 0, fmt.Errorf("capture: %w", err)
	}
	cut := c.o.Now().Add(-c.o.Keep)
	var (
		n    int
		errs []error
	)
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, pcapSuffix) {
			continue
		}
		if t, ok := fileTime(name); !ok || !t.Before(cut) {
			continue
		}
		if err := os.Remove(filepath.Join(c.o.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
		c.log.Info("capture file deleted", "file", name, "keep", c.o.Keep)
	}
	return n, errors.Join(errs...)
}

// recoverParts completes the files of captures that a crash interrupted: each
// ".part" file is cut back to its last whole frame, synced, and given its final
// name. One shorter than a pcap header holds nothing and is deleted.
func recoverParts(dir string, log *slog.Logger) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("capture: recover interrupted captures", "err", err)
		return
	}
	for _, e := range ents {
		name := e.Name()
		final, ok := strings.CutSuffix(name, partSuffix)
		if !ok || !e.Type().IsRegular() || !strings.HasSuffix(final, pcapSuffix) {
			continue
		}
		if _, ok := fileTime(final); !ok {
			continue
		}
		kept, err := recoverPart(filepath.Join(dir, name), filepath.Join(dir, final))
		if err != nil {
			log.Warn("capture: recover interrupted capture", "file", name, "err", err)
			continue
		}
		if kept < 0 {
			log.Warn("capture: deleted interrupted capture without a header", "file", name)
			continue
		}
		log.Info("capture: recovered interrupted capture", "file", final, "frames", kept)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		log.Warn("capture: recover interrupted captures", "err", err)
	}
}

// recoverPart cuts the pcap file at part to its whole frames and renames it to
// final, returning how many frames it kept; -1 when it had no whole header and was
// deleted.
func recoverPart(part, final string) (int, error) {
	if exists(final) {
		return 0, fmt.Errorf("%s exists", final)
	}
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, size, err := wholeFrames(bufio.NewReader(f))
	if errors.Is(err, errNoHeader) {
		f.Close()
		return -1, os.Remove(part)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", part, err)
	}
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return n, os.Rename(part, final)
}

var errNoHeader = errors.New("no pcap file header")

// wholeFrames reads a pcap file written by this package (little-endian, the
// microsecond magic) and returns how many whole frames it holds and where the last
// ends.
func wholeFrames(r io.Reader) (frames int, size int64, err error) {
	var h [fileHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, 0, errNoHeader
		}
		return 0, 0, err
	}
	if binary.LittleEndian.Uint32(h[0:4]) != 0xa1b2c3d4 {
		return 0, 0, errNoHeader
	}
	snap := binary.LittleEndian.Uint32(h[16:20])
	size = fileHeaderLen
	var rec [recordHeaderLen]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return frames, size, nil
			}
			return frames, size, err
		}
		caplen := binary.LittleEndian.Uint32(rec[8:12])
		if caplen == 0 || caplen > snap || caplen > binary.LittleEndian.Uint32(rec[12:16]) {
			return frames, size, nil // not a record (zeros a crash left?): the tail is torn
		}
		if n, err := io.CopyN(io.Discard, r, int64(caplen)); err != nil {
			if n < int64(caplen) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				return frames, size, nil
			}
			return frames, size, err
		}
		frames++
		size += recordHeaderLen + int64(caplen)
	}
}

// The pcap format (tcpdump's, link type Ethernet, microsecond times): a file header,
// then a record header before each frame.
const (
	pcapMagic    = 0xa1b2c3d4
	linkEthernet = 1
)

// writeFileHeader writes the file header of a capture of snapLen bytes a frame.
func writeFileHeader(w io.Writer, snapLen uint32) error {
	var h [fileHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	// 8:16: time zone and accuracy, 0
	binary.LittleEndian.PutUint32(h[16:], snapLen)
	binary.LittleEndian.PutUint32(h[20:], linkEthernet)
	_, err := w.Write(h[:])
	return err
}

// writeRecord writes a frame with its record header (built in hdr).
func writeRecord(w io.Writer, hdr *[recordHeaderLen]byte, ci gopacket.CaptureInfo, data []byte) error {
	if ci.CaptureLength != len(data) || ci.Length < len(data) {
		return fmt.Errorf("frame of %d bytes with capture length %d and length %d", len(data), ci.CaptureLength, ci.Length)
	}
	t := ci.Timestamp
	if t.IsZero() {
		t = time.Now()
	}
	binary.LittleEndian.PutUint32(hdr[0:], uint32(t.Unix()))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(t.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(hdr[8:], uint32(ci.CaptureLength))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(ci.Length))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
