package flowtop

import (
	"errors"
	"fmt"
	"time"
)

// Archive is one ring of rows: Rows rows, each the lists of Steps steps.
type Archive struct {
	Steps int
	Rows  int
}

// Defaults for a zero Options.
const (
	DefaultStep = 5 * time.Minute
	// DefaultKeep is how many keys each stored list keeps.
	DefaultKeep = 20
	// DefaultCapacity is how many counters each measure of each (series,
	// dimension) keeps in memory during a step with the default Keep: a step's
	// listed weight is then over by at most 1/81 of the step's total (see the
	// package doc). Four times Keep rather than more: a collector hears from
	// thousands of interface directions at once, and each holds its tables for the
	// whole step.
	DefaultCapacity = 4 * DefaultKeep
	defaultTimeout  = 5 * time.Second
)

// DefaultArchives is the layout for step, MRTG's: step rows for 50 hours (600 at
// 5 minutes), then 800 rows each of 6, 24 and 288 steps (30 minutes for 16.7 days,
// 2 hours for 67 days, 1 day for 2.2 years at 5 minutes), or more rows when the
// step is shorter than 5 minutes so that the spans stay MRTG's. The coarse archives
// are rrd.DefaultArchives' consolidations.
func DefaultArchives(step time.Duration) []Archive {
	if step <= 0 {
		step = DefaultStep
	}
	rows := func(span time.Duration, steps int) int {
		return max(int(span/(step*time.Duration(steps))), 800)
	}
	return []Archive{
		{Steps: 1, Rows: max(int(50*time.Hour/step), 600)},
		{Steps: 6, Rows: rows(800*30*time.Minute, 6)},
		{Steps: 24, Rows: rows(800*2*time.Hour, 24)},
		{Steps: 288, Rows: rows(800*24*time.Hour, 288)},
	}
}

// Options configure Open. The zero value (or nil) means the defaults.
type Options struct {
	// Step is the length of one step, whole seconds; 0 means DefaultStep.
	Step time.Duration
	// Archives is the layout, finest first; nil means DefaultArchives(Step). The
	// first archive has Steps 1; each next one's Steps is a multiple of the one
	// before, which holds at least that many of its rows, since coarse rows are
	// merged from the next finer archive.
	Archives []Archive
	// Keep is how many keys each stored list keeps; 0 means DefaultKeep.
	Keep int
	// Capacity is how many counters each measure of each (series, dimension)
	// keeps in memory during a step; 0 means four times Keep. It must exceed Keep.
	Capacity int
	// Timeout is how long Open waits for another process's lock; 0 means 5 s.
	Timeout time.Duration
	// ReadOnly opens the file for queries only, sharing it with a writer's
	// readers in other processes.
	ReadOnly bool

	noSync bool // tests only: skip fsync where durability is not under test
}

// normalize fills defaults and checks the options.
func (o Options) normalize() (Options, error) {
	n := o
	if n.Step == 0 {
		n.Step = DefaultStep
	}
	if n.Step < time.Second || n.Step%time.Second != 0 {
		return n, fmt.Errorf("%w: step %v: must be a positive whole number of seconds", ErrOptions, o.Step)
	}
	if n.Archives == nil {
		n.Archives = DefaultArchives(n.Step)
	}
	if len(n.Archives) == 0 || len(n.Archives) > 16 {
		return n, fmt.Errorf("%w: archives: need 1 to 16, have %d", ErrOptions, len(n.Archives))
	}
	n.Archives = append([]Archive(nil), n.Archives...)
	for i, a := range n.Archives {
		if a.Steps < 1 || a.Rows < 1 || a.Steps > 1<<20 || a.Rows > 1<<20 {
			return n, fmt.Errorf("%w: archive %d: steps %d and rows %d must be 1 to 1048576", ErrOptions, i, a.Steps, a.Rows)
		}
		if i == 0 {
			if a.Steps != 1 {
				return n, fmt.Errorf("%w: archive 0: steps %d: the finest archive must hold single steps", ErrOptions, a.Steps)
			}
			continue
		}
		prev := n.Archives[i-1]
		if a.Steps <= prev.Steps || a.Steps%prev.Steps != 0 {
			return n, fmt.Errorf("%w: archive %d: steps %d: must be a multiple of archive %d's %d, and larger", ErrOptions, i, a.Steps, i-1, prev.Steps)
		}
		if r := a.Steps / prev.Steps; prev.Rows < r {
			return n, fmt.Errorf("%w: archive %d: rows %d: fewer than the %d it takes to make one row of archive %d", ErrOptions, i-1, prev.Rows, r, i)
		}
	}
	if n.Keep == 0 {
		n.Keep = DefaultKeep
	}
	if n.Keep < 1 || n.Keep > 10000 {
		return n, fmt.Errorf("%w: keep %d: must be 1 to 10000", ErrOptions, o.Keep)
	}
	if n.Capacity == 0 {
		n.Capacity = 4 * n.Keep
	}
	if n.Capacity <= n.Keep || n.Capacity > 1<<20 {
		return n, fmt.Errorf("%w: capacity %d: must be above keep (%d) and at most 1048576", ErrOptions, o.Capacity, n.Keep)
	}
	if n.Timeout <= 0 {
		n.Timeout = defaultTimeout
	}
	return n, nil
}

// Errors returned by the package.
var (
	// ErrOptions means Options are not usable; the message says which field.
	ErrOptions = errors.New("bad options")
	// ErrFormat means the file's rows are of another format version than this
	// package reads, made by an older or newer program: it is not read at all.
	ErrFormat = errors.New("file has another format version")
	// ErrLayout means the file was made with another step or archive layout.
	ErrLayout = errors.New("file has another layout")
	// ErrLocked means another process holds the file open for writing and did not
	// let go within Options.Timeout.
	ErrLocked = errors.New("file locked by another process")
	// ErrNotAfter means a commit's step is not after the last one committed.
	ErrNotAfter = errors.New("step not after the last committed")
	// ErrNoSeries means no flows were ever recorded for the device, interface and
	// direction asked for.
	ErrNoSeries = errors.New("no flows recorded")
	// ErrReadOnly means a commit was attempted on a store opened read-only.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrQuery means a query is not usable; the message says which field.
	ErrQuery = errors.New("bad query")
)
