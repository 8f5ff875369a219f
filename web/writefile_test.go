package web

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// steady calls write twice before a benchmark's loop: the first call creates
// the files, the second replaces each of them and leaves it the spare
// replaceFile keeps, so every timed call replaces files through their spares,
// as a daemon's third and later steps do. Without it the first timed call
// created the files (or, next, their spares) and, a run making one to three
// calls in its time, its figure depended on how many it made: 290-460 ms for
// the same 2,000 replacements.
func steady(b *testing.B, write func() error) {
	b.Helper()
	for range 2 {
		if err := write(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFile writes the PNGs of 1,000 interfaces' day graphs (2,000
// files of a graph's size, one directory, as a device's) through WriteFile:
// "new" under names not yet in the directory, as a render from scratch writes
// them; "replace" over the files of the same names, as a render after one
// step does. On ext4 a replacement costs more CPU time than a new name (two
// make bench runs: 246-252 ms for 2,000 replacements, 129-131 ms for 2,000
// new files, each in CPU time as much as in wall time): a cost per file an
// incremental render pays and a render from scratch does not. cpu-s/op is
// the process's CPU time per op; the rest of the time was spent waiting.
func BenchmarkWriteFile(b *testing.B) {
	const files = 2000
	png := make([]byte, 6000) // between a 1x (about 4.4 KB) and a 2x (11 KB) day graph
	for _, replace := range []bool{false, true} {
		name := "new"
		if replace {
			name = "replace"
		}
		b.Run(fmt.Sprintf("%s/files=%d", name, files), func(b *testing.B) {
			dir := b.TempDir()
			round := 0
			rel := func(i int) string { return fmt.Sprintf("r%d/ge-0_0-%d-day.png", round, i) }
			// Of another size each time, as a graph drawn again mostly is (one
			// of the same size is read back and compared first).
			writes := 0
			next := func() []byte { writes++; return png[:len(png)-writes%2] }
			if replace {
				steady(b, func() error {
					data := next()
					for i := range files {
						if err := WriteFile(dir, rel(i), data); err != nil {
							return err
						}
					}
					return nil
				})
			}
			var cpu time.Duration
			for b.Loop() {
				if !replace {
					round++ // a new directory of names not written before
				}
				data := next()
				c0 := cpuTime()
				for i := range files {
					if err := WriteFile(dir, rel(i), data); err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
