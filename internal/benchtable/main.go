// Command benchtable runs mrtgo's benchmarks (poll cycle, store commit, render, site) and
// prints them as one table, with the sizes each ran at taken from the sub-benchmark
// names (for example BenchmarkCommit/series=10000). It is what "make bench" runs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	benchtime := flag.String("benchtime", "1x", "go test -benchtime")
	bench := flag.String("bench", ".", "go test -bench pattern")
	pkgs := flag.String("pkgs", "./rrd ./poller/... ./render ./web ./discover ./mrtgimport ./internal/...", "packages to benchmark")
	flag.Parse()
	args := append([]string{"test", "-run", "^$", "-bench", *bench, "-benchmem", "-benchtime", *benchtime}, strings.Fields(*pkgs)...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rows := parse(io.TeeReader(out, os.Stderr)) // raw output shows progress while it runs
	werr := cmd.Wait()
	print(os.Stdout, rows)
	if werr != nil {
		fmt.Fprintln(os.Stderr, "benchmarks failed:", werr)
		os.Exit(1)
	}
}

type row struct {
	pkg, name, size string
	n               int
	metrics         map[string]float64
	order           []string
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	pkgHeader = regexp.MustCompile(`^pkg: (\S+)`)
)

func parse(r io.Reader) []row {
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := pkgHeader.FindStringSubmatch(line); m != nil {
			pkg = strings.TrimPrefix(m[1], "github.com/mrtgo/mrtgo/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		rw := row{pkg: pkg, n: n, metrics: map[string]float64{}}
		rw.name, rw.size = splitName(m[1])
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			rw.metrics[f[i+1]] = v
			rw.order = append(rw.order, f[i+1])
		}
		rows = append(rows, rw)
	}
	return rows
}

// splitName separates the sizes (key=value parts) from a benchmark's name.
func splitName(full string) (name, size string) {
	parts := strings.Split(strings.TrimPrefix(full, "Benchmark"), "/")
	var names, sizes []string
	for _, p := range parts {
		if strings.Contains(p, "=") {
			sizes = append(sizes, p)
		} else {
			names = append(names, p)
		}
	}
	return strings.Join(names, "/"), strings.Join(sizes, " ")
}

func print(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tbenchmark\tsize\ttime/op\tallocs/op\tmemory/op\tother")
	for _, r := range rows {
		var other []string
		for _, k := range r.order {
			switch k {
			case "ns/op", "B/op", "allocs/op":
				continue
			}
			other = append(other, fmt.Sprintf("%s %s", human(r.metrics[k]), k))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.pkg, r.name, dash(r.size),
			time.Duration(r.metrics["ns/op"]).Round(time.Microsecond),
			human(r.metrics["allocs/op"]), bytes(r.metrics["B/op"]), strings.Join(other, ", "))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == float64(int64(v)):
		return strconv.FormatInt(int64(v), 10)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

func bytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", v)
	}
}
