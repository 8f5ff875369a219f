package flowstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/flow"
)

// ScanStats counts what a Scan read and what it passed over.
type ScanStats struct {
	Segments int   // segment files read
	Blocks   int   // blocks decoded
	Records  int64 // records handed to the callback
	// Skipped counts blocks whose payload did not match its checksum: damaged on
	// disk. The blocks after them are read.
	Skipped int
	// Torn counts bytes after the last whole block of segment files: a block torn by
	// a crash (cut off when the writer next opens the segment), or one that another
	// process is writing at that moment.
	Torn int64
}

// timeRange is [from, to) as inclusive unix nanoseconds; a zero to is no upper bound.
type timeRange struct{ lo, hi int64 }

func newRange(from, to time.Time) (r timeRange, empty bool) {
	r = timeRange{math.MinInt64, math.MaxInt64}
	if from.After(maxTime) {
		return r, true
	}
	if !from.Before(minTime) {
		r.lo = from.UnixNano()
	}
	if !to.IsZero() {
		if !to.After(minTime) {
			return r, true
		}
		if !to.After(maxTime) {
			r.hi = to.UnixNano() - 1
		}
	}
	return r, r.lo > r.hi
}

// listBounds are the times to list segments between for r.
func (r timeRange) listBounds() (time.Time, time.Time) {
	return time.Unix(0, r.lo), time.Unix(0, r.hi).Add(time.Nanosecond)
}

// Scan calls fn with every stored record whose Received time is in [from, to), a
// zero to meaning no upper bound: segment by segment in time order, each segment's
// records in the order they were appended, a block's worth at a time. Blocks are
// decoded by Options.ScanWorkers goroutines ahead of fn, which is called from the
// calling goroutine only. fs and its records are valid until fn returns. An error
// from fn stops the scan and is returned.
//
// Records still waiting for a block (see Append) are not seen. Damaged and torn
// blocks are counted in the stats and passed over; an error is a file that cannot be
// read, or a block that checks but does not decode.
func (s *Store) Scan(from, to time.Time, fn func(fs []flow.Flow) error) (ScanStats, error) {
	return s.scan(from, to, true, 0, func(_ int, sl *slot) error { return fn(sl.fs) })
}

// ScanParallel is Scan without the order: fn is called from Workers goroutines at
// once, each passing its worker number in [0, Workers), so that a query can
// aggregate per worker without locks and merge the partial results at the end.
func (s *Store) ScanParallel(from, to time.Time, fn func(worker int, fs []flow.Flow) error) (ScanStats, error) {
	return s.scan(from, to, false, 0, func(w int, sl *slot) error { return fn(w, sl.fs) })
}

// Workers is the number of goroutines a scan decodes with.
func (s *Store) Workers() int {
	if s.opts.ScanWorkers > 0 {
		return s.opts.ScanWorkers
	}
	return runtime.GOMAXPROCS(0)
}

// slot is one block on its way through a scan, with the buffers that carry it.
// A scan has a fixed number of slots; the reader takes a free one for each block it
// reads, so that memory stays bounded and the block at the head of the order always
// has one.
type slot struct {
	path    string
	off     int64
	h       blockHeader
	whole   bool // every record in the range, no filtering
	payload []byte
	raw     []byte
	dec     decoder
	fs      []flow.Flow // the records decoded, for Scan and ScanParallel
	block   Block       // the columns decoded, for ScanColumns
	n       int         // records in fs or block
	err     error
	done    chan struct{} // ordered scans: decoded
}

type scanCounts struct {
	segments, blocks, skipped atomic.Int64
	records, torn             atomic.Int64
}

// scan hands each block in [from, to) to fn, as records (sl.fs) when fields is 0, and
// as a Block of those fields (sl.block) otherwise.
func (s *Store) scan(from, to time.Time, ordered bool, fields fieldSet, fn func(int, *slot) error) (ScanStats, error) {
	var c scanCounts
	stats := func() ScanStats {
		return ScanStats{Segments: int(c.segments.Load()), Blocks: int(c.blocks.Load()), Records: c.records.Load(),
			Skipped: int(c.skipped.Load()), Torn: c.torn.Load()}
	}
	r, empty := newRange(from, to)
	if empty {
		return stats(), nil
	}
	lf, lt := r.listBounds()
	segs, err := listSegments(s.dir, lf, lt)
	if err != nil {
		return stats(), fmt.Errorf("flow store: %w", err)
	}
	workers := s.Workers()
	nslots := 2 * workers
	if ordered {
		nslots += 2
	}
	free := make(chan *slot, nslots)
	for range nslots {
		sl, _ := s.slots.Get().(*slot)
		if sl == nil {
			sl = &slot{done: make(chan struct{}, 1)}
		}
		free <- sl
	}
	// Every slot is back in free once the workers and the reader are done: keep
	// their buffers for the next scan.
	defer func() {
		for range nslots {
			sl := <-free
			sl.fs, sl.block = nil, Block{}
			s.slots.Put(sl)
		}
	}()
	jobs := make(chan *slot)
	order := make(chan *slot, nslots)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(order)
		defer close(jobs)
		for _, seg := range segs {
			if err := s.readSegment(ctx, seg, r, &c, free, func(sl *slot) bool {
				select {
				case jobs <- sl:
				case <-ctx.Done():
					return false
				}
				if ordered {
					order <- sl // never blocks: it has room for every slot
				}
				return true
			}); err != nil {
				return err
			}
		}
		return nil
	})
	for w := range workers {
		g.Go(func() error {
			for sl := range jobs {
				sl.err, sl.n = nil, 0
				if ctx.Err() == nil {
					sl.err = s.decodeSlot(sl, r, fields, &c)
				}
				if ordered {
					sl.done <- struct{}{}
					continue
				}
				err := sl.err
				if err == nil && sl.n > 0 && ctx.Err() == nil {
					c.records.Add(int64(sl.n))
					err = fn(w, sl)
				}
				free <- sl
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	var fnErr error
	if ordered {
		for sl := range order {
			<-sl.done
			if fnErr == nil && ctx.Err() == nil {
				if fnErr = sl.err; fnErr == nil && sl.n > 0 {
					c.records.Add(int64(sl.n))
					fnErr = fn(0, sl)
				}
				if fnErr != nil {
					cancel()
				}
			}
			free <- sl
		}
	}
	err = g.Wait()
	if fnErr != nil {
		err = fnErr
	}
	if errors.Is(err, context.Canceled) {
		err = nil // the scan was stopped by fnErr, returned above
	}
	return stats(), err
}

// readSegment reads the blocks of seg in r into free slots and passes each to send,
// which says whether to go on.
func (s *Store) readSegment(ctx context.Context, seg segment, r timeRange, c *scanCounts, free chan *slot, send func(*slot) bool) error {
	f, err := os.Open(seg.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // pruned since it was listed
	}
	if err != nil {
		return fmt.Errorf("flow store: %w", err)
	}
	defer f.Close()
	size, err := s.committedSize(seg.path, f)
	if err != nil {
		return fmt.Errorf("flow store: %w", err)
	}
	c.segments.Add(1)
	errStop := errors.New("stop")
	torn, err := walk(f, size, func(off int64, h blockHeader) error {
		if h.maxRecv < r.lo || h.minRecv > r.hi {
			return nil
		}
		var sl *slot
		select {
		case sl = <-free:
		case <-ctx.Done():
			return errStop
		}
		sl.path, sl.off, sl.h = seg.path, off, h
		sl.whole = h.minRecv >= r.lo && h.maxRecv <= r.hi
		if cap(sl.payload) < int(h.compLen) {
			sl.payload = make([]byte, h.compLen)
		}
		sl.payload = sl.payload[:h.compLen]
		if _, err := f.ReadAt(sl.payload, off+blockHeadLen); err != nil {
			free <- sl
			return err
		}
		if !send(sl) {
			free <- sl
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
		return nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		c.torn.Add(1) // cut off by the writer's recovery while read
		return nil
	case err != nil:
		return fmt.Errorf("flow store: read %s: %w", seg.path, err)
	}
	c.torn.Add(torn)
	return nil
}

// decodeSlot decodes the block in sl and keeps the records in r: every field into
// sl.fs (fields 0), or the fields of a projection into sl.block. sl.n is how many there are.
func (s *Store) decodeSlot(sl *slot, r timeRange, fields fieldSet, c *scanCounts) error {
	var err error
	if fields == 0 {
		sl.fs, err = s.codec.unpack(&sl.dec, sl.h, sl.payload, &sl.raw)
	} else {
		err = s.decodeColumns(sl, fields, r)
	}
	if errors.Is(err, errChecksum) {
		c.skipped.Add(1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("flow store: %s block at %d: %w", sl.path, sl.off, err)
	}
	c.blocks.Add(1)
	if fields != 0 {
		sl.n = sl.block.Len()
		return nil
	}
	if !sl.whole {
		kept := sl.fs[:0]
		for i := range sl.fs {
			if t := sl.fs[i].Received.UnixNano(); t >= r.lo && t <= r.hi {
				kept = append(kept, sl.fs[i])
			}
		}
		sl.fs = kept
	}
	sl.n = len(sl.fs)
	return nil
}
