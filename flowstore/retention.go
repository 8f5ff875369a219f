package flowstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SegmentInfo describes one segment file, from its name and block headers (no
// payload is read).
type SegmentInfo struct {
	Path       string
	Start, End time.Time // its partition: records received in [Start, End)
	Bytes      int64     // on disk
	Blocks     int
	Records    int64
	// First and Last are the earliest and latest Received of its records; zero when
	// it has none.
	First, Last time.Time
	Torn        int64 // bytes after its last whole block
	Writing     bool  // this Store's writer has it open
}

// Segments describes the segments whose partitions overlap [from, to), a zero to
// meaning no upper bound, in time order.
func (s *Store) Segments(from, to time.Time) ([]SegmentInfo, error) {
	r, empty := newRange(from, to)
	if empty {
		return nil, nil
	}
	lf, lt := r.listBounds()
	segs, err := listSegments(s.dir, lf, lt)
	if err != nil {
		return nil, fmt.Errorf("flow store: %w", err)
	}
	var out []SegmentInfo
	for _, seg := range segs {
		info, err := s.segmentInfo(seg)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("flow store: %w", err)
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Store) segmentInfo(seg segment) (SegmentInfo, error) {
	info := SegmentInfo{Path: seg.path, Start: seg.start, End: seg.end()}
	f, err := os.Open(seg.path)
	if err != nil {
		return info, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return info, err
	}
	info.Bytes = st.Size()
	size, err := s.committedSize(seg.path, f)
	if err != nil {
		return info, err
	}
	s.mu.Lock()
	_, info.Writing = s.committed[seg.path]
	s.mu.Unlock()
	var first, last int64
	info.Torn, err = walk(f, size, func(_ int64, h blockHeader) error {
		if info.Blocks == 0 {
			first, last = h.minRecv, h.maxRecv
		}
		first, last = min(first, h.minRecv), max(last, h.maxRecv)
		info.Blocks++
		info.Records += int64(h.count)
		return nil
	})
	if err != nil {
		return info, fmt.Errorf("read %s: %w", seg.path, err)
	}
	if info.Blocks > 0 {
		info.First, info.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	return info, nil
}

// Pruned is what Prune removed.
type Pruned struct {
	Segments int
	Bytes    int64
}

// Prune applies retention as of now: it removes the segments whose partition ended
// MaxAge or more before now, then the oldest segments while all of them take more
// than MaxBytes. Segments the writer has open are kept, whatever their age or size.
// The writer prunes by itself each time it starts a segment.
func (s *Store) Prune(now time.Time) (Pruned, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writable(); err != nil {
		return Pruned{}, err
	}
	return s.prune(now)
}

func (s *Store) prune(now time.Time) (Pruned, error) {
	var done Pruned
	if s.opts.MaxAge == 0 && s.opts.MaxBytes == 0 {
		return done, nil
	}
	segs, err := listSegments(s.dir, minTime, maxTime)
	if err != nil {
		return done, fmt.Errorf("flow store: prune: %w", err)
	}
	sizes := make([]int64, len(segs))
	var total int64
	for i, seg := range segs {
		st, err := os.Stat(seg.path)
		if err != nil {
			continue
		}
		sizes[i] = st.Size()
		total += st.Size()
	}
	open := map[string]bool{}
	for _, p := range s.parts {
		open[p.seg.path] = true
	}
	cutoff := now.Add(-s.opts.MaxAge)
	for i, seg := range segs {
		old := s.opts.MaxAge > 0 && !seg.end().After(cutoff)
		big := s.opts.MaxBytes > 0 && total > s.opts.MaxBytes
		if open[seg.path] || !old && !big {
			continue
		}
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return done, fmt.Errorf("flow store: prune: %w", err)
		}
		total -= sizes[i]
		done.Segments++
		done.Bytes += sizes[i]
		// The day's directory goes with its last segment; a directory not empty stays.
		_ = os.Remove(filepath.Dir(seg.path))
	}
	return done, nil
}
