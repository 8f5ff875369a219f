package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
)

// compareFiles reads two tables printed by make bench and prints the rows of both whose
// time/op medians differ by more than within (0.2: one is more than 1.2 times the
// other), then how many rows agree. It returns the exit status: 0 when every row
// agrees, 1 when some do not, 2 when a file cannot be read.
func compareFiles(w io.Writer, files []string, within float64) int {
	if len(files) != 2 {
		fmt.Fprintln(os.Stderr, "benchtable -compare: name two files, each holding a table printed by make bench")
		return 2
	}
	var (
		tables [2]map[string]float64
		ref    [2]float64 // the reference work's median, 0 in a table without it
		order  []string
	)
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		var keys []string
		tables[i], keys, ref[i], err = readTable(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			return 2
		}
		if i == 0 {
			order = keys
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "benchmark\t%s\t%s\tratio\n", files[0], files[1])
	agree, differ := 0, 0
	for _, k := range order {
		a := tables[0][k]
		b, ok := tables[1][k]
		if !ok || a <= 0 || b <= 0 {
			continue
		}
		ratio := max(a, b) / min(a, b)
		if ratio <= 1+within {
			agree++
			continue
		}
		differ++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\n", k, duration(a), duration(b), ratio)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d rows in both tables agree within %.0f %%.\n", agree, agree+differ, within*100)
	if ref[0] > 0 && ref[1] > 0 {
		fmt.Fprintf(w, "The reference work took %s and %s in the median pass: the second machine ran at %.2f times the first's speed.\n",
			duration(ref[0]), duration(ref[1]), ref[0]/ref[1])
	}
	if differ > 0 {
		return 1
	}
	return 0
}

// columns splits a line of the printed table (package, benchmark, size, time per
// operation, ...), whose columns are set off by two spaces or more.
var columns = regexp.MustCompile(`\s{2,}`)

// readTable returns the time/op of each row of a printed table, by package, benchmark
// and size, the rows in their order, and the reference work's time in the median
// pass (0 if the table does not say). Lines before the header (go test's raw output)
// and the footnotes are passed over.
func readTable(r io.Reader) (map[string]float64, []string, float64, error) {
	out := map[string]float64{}
	var (
		order []string
		ref   float64
		done  bool // past the table, in its footnotes
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if done {
			if m := referenceTook.FindStringSubmatch(line); m != nil {
				ref, _ = parseDuration(m[1])
			}
			continue
		}
		if strings.HasPrefix(line, "package ") && strings.Contains(line, "time/op") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if strings.TrimSpace(line) == "" {
			done = true
			continue
		}
		f := columns.Split(strings.TrimSpace(line), -1)
		if len(f) < 4 || f[3] == "-" {
			continue
		}
		d, err := parseDuration(f[3])
		if err != nil {
			return nil, nil, 0, fmt.Errorf("row %q: time/op %q: %v", line, f[3], err)
		}
		k := f[0] + " " + f[1] + " " + f[2]
		if _, dup := out[k]; !dup {
			order = append(order, k)
		}
		out[k] = d
	}
	if err := sc.Err(); err != nil {
		return nil, nil, 0, err
	}
	if len(order) == 0 {
		return nil, nil, 0, fmt.Errorf("no table (a header line starting with \"package\" and naming time/op)")
	}
	return out, order, ref, nil
}
