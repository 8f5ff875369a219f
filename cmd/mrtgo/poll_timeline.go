package main

import (
	"context"
	"log/slog"
	"runtime/metrics"
	"runtime/trace"
	"time"
)

// timeline times the phases of one "poll --once" run: each is a duration in the run's
// debug log line ("poll timeline") and, when --trace writes an execution trace, a
// region of it, so that "go tool trace" shows the phases beside the goroutines, the
// network waits and the collections. Phases follow each other; the next one ends the
// last.
type timeline struct {
	ctx    context.Context
	began  time.Time
	at     time.Time // start of the current phase
	name   string
	region *trace.Region
	attrs  []any // name, duration pairs
}

func newTimeline(ctx context.Context) *timeline {
	now := time.Now()
	return &timeline{ctx: ctx, began: now, at: now}
}

// phase ends the current phase, if any, and begins one called name.
func (t *timeline) phase(name string) {
	t.end()
	t.name, t.at = name, time.Now()
	t.region = trace.StartRegion(t.ctx, name)
}

// end ends the current phase.
func (t *timeline) end() {
	if t.name == "" {
		return
	}
	t.region.End()
	t.attrs = append(t.attrs, t.name, time.Since(t.at).Round(time.Microsecond))
	t.name = ""
}

// log writes the phases, the run's time since the command began, the process's CPU
// time (user and system, Go's start and package initialisation included) and what it
// allocated (bytes and objects, steadier than times on a busy machine).
func (t *timeline) log(log *slog.Logger) {
	t.end()
	attrs := append(t.attrs, "total", time.Since(t.began).Round(time.Microsecond))
	if cpu, ok := processCPU(); ok {
		attrs = append(attrs, "cpu", cpu.Round(time.Microsecond))
	}
	m := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(m)
	if m[0].Value.Kind() == metrics.KindUint64 && m[1].Value.Kind() == metrics.KindUint64 {
		attrs = append(attrs, "alloc_bytes", m[0].Value.Uint64(), "allocs", m[1].Value.Uint64())
	}
	log.Debug("poll timeline", attrs...)
}
