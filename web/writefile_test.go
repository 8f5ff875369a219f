package web

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWriteFile writes the PNGs of 1,000 interfaces' day graphs (2,000
// files of a graph's size, one directory, as a device's) through WriteFile:
// "new" under names not yet in the directory, as a render from scratch writes
// them; "replace" over the files of the same names, as a render after one
// step does. On ext4 a replacement costs more CPU time than a new name and
// waits in the file system besides: a cost per file an incremental render
// pays and a render from scratch does not. cpu-s/op is the process's CPU
// time per op; the rest of the time was spent waiting.
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
			rel := func(i int) string { return fmt.Sprintf("r1/ge-0_%d-%d-day.png", round, i) }
			if replace {
				for i := range files {
					if err := WriteFile(dir, rel(i), png); err != nil {
						b.Fatal(err)
					}
				}
			}
			var cpu time.Duration
			for n := 0; b.Loop(); n++ {
				if !replace {
					round++ // names not written before
				}
				// Of another size than the file's, as a graph drawn again mostly is
				// (one of the same size is read back and compared first).
				data := png[:len(png)-n%2]
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
