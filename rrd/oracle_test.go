package rrd

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

type oracleUp struct {
	t    int64 // seconds
	usec int64
	vals []Value
}

func randSpec(r *rand.Rand) Spec {
	steps := []int{1, 5, 10, 60, 300}
	step := time.Duration(steps[r.IntN(len(steps))]) * time.Second
	hb := step * time.Duration(1+r.IntN(3))
	if r.IntN(4) == 0 {
		hb = step + time.Duration(r.IntN(int(step/time.Second)+1))*time.Second
	}
	spec := Spec{Step: step, Heartbeat: hb}
	nds := 1 + r.IntN(3)
	for i := 0; i < nds; i++ {
		d := DS{Name: fmt.Sprintf("d%d", i), Type: DSType(r.IntN(4)), Min: math.NaN(), Max: math.NaN(), Bits: 64}
		switch r.IntN(4) {
		case 0:
			d.Max = float64(100 + r.IntN(1000))
		case 1:
			d.Min = 0
			d.Max = float64(500 + r.IntN(1000))
		case 2:
			d.Min = -float64(r.IntN(100))
		}
		spec.DS = append(spec.DS, d)
	}
	spec.Archives = append(spec.Archives, Archive{CF: CF(r.IntN(4)), Steps: 1, Rows: 20 + r.IntN(200), XFF: 0.5})
	for n := 1 + r.IntN(5); n > 0; n-- {
		ss := []int{2, 3, 4, 5, 6, 12, 24}
		xffs := []float64{0, 0.25, 0.5, 0.75, 0.99}
		spec.Archives = append(spec.Archives, Archive{CF: CF(r.IntN(4)), Steps: ss[r.IntN(len(ss))], Rows: 3 + r.IntN(40), XFF: xffs[r.IntN(len(xffs))]})
	}
	return spec
}

// randStream makes updates with irregular intervals, gaps longer than the
// heartbeat, unknown values, rates above Max and below Min. Counters only
// increase (wraps are a deliberate difference, tested on their own).
func randStream(r *rand.Rand, spec Spec, start int64, n int, subsecond, longGaps bool) []oracleUp {
	stepS := int64(spec.Step / time.Second)
	hbS := int64(spec.Heartbeat / time.Second)
	t, usec := start, int64(0)
	last := make([]uint64, len(spec.DS))
	lastI := make([]int64, len(spec.DS))
	for i := range last {
		last[i] = r.Uint64N(1 << 40)
		lastI[i] = r.Int64N(1<<40) - 1<<39
	}
	var ups []oracleUp
	for i := 0; i < n; i++ {
		var dt int64
		switch x := r.IntN(200); {
		case x == 0 && longGaps:
			dt = stepS * (50 + r.Int64N(2000)) // longer than some archives
		case x < 10:
			dt = hbS + 1 + r.Int64N(4*stepS+1) // beyond the heartbeat
		case x < 40:
			dt = 1 + r.Int64N(max(stepS/2, 1)) // several updates in one step
		default:
			dt = max(1, stepS-stepS/3+r.Int64N(stepS*2/3+1))
		}
		t += dt
		if subsecond {
			usec = r.Int64N(1000000)
		}
		up := oracleUp{t: t, usec: usec}
		for d, ds := range spec.DS {
			rate := r.Float64() * 1200
			if r.IntN(25) == 0 {
				up.vals = append(up.vals, Unknown())
				continue
			}
			switch ds.Type {
			case Gauge:
				up.vals = append(up.vals, Float(rate-100))
			case Counter:
				last[d] += uint64(rate * float64(dt))
				up.vals = append(up.vals, Uint(last[d]))
			case Derive:
				lastI[d] += int64((rate - 200) * float64(dt))
				up.vals = append(up.vals, Int(lastI[d]))
			case Absolute:
				up.vals = append(up.vals, Uint(uint64(rate*float64(dt))))
			}
		}
		ups = append(ups, up)
	}
	return ups
}

func rrdtoolCreateArgs(path string, spec Spec, start int64) []string {
	spec, err := spec.normalize()
	if err != nil {
		panic(err)
	}
	args := []string{"create", path, "--start", strconv.FormatInt(start, 10), "--step", strconv.FormatInt(int64(spec.Step/time.Second), 10)}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "U"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	for _, d := range spec.DS {
		args = append(args, fmt.Sprintf("DS:%s:%s:%d:%s:%s", d.Name, d.Type, int64(spec.Heartbeat/time.Second), f(d.Min), f(d.Max)))
	}
	for _, a := range spec.Archives {
		args = append(args, fmt.Sprintf("RRA:%s:%g:%d:%d", a.CF, a.XFF, a.Steps, a.Rows))
	}
	return args
}

// rrdtoolPipe is one "rrdtool -" process running many commands, which
// saves a process start per command.
type rrdtoolPipe struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startRRDtool(t testing.TB, tool string) *rrdtoolPipe {
	t.Helper()
	cmd := exec.Command(tool, "-")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &rrdtoolPipe{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() { p.in.Close(); p.cmd.Wait() })
	return p
}

// run sends one command and returns its output up to rrdtool's OK line.
func (p *rrdtoolPipe) run(t testing.TB, args ...string) []byte {
	t.Helper()
	if _, err := io.WriteString(p.in, strings.Join(args, " ")+"\n"); err != nil {
		t.Fatalf("rrdtool %s: %v", args[0], err)
	}
	var buf bytes.Buffer
	for {
		line, err := p.out.ReadString('\n')
		if strings.HasPrefix(line, "OK ") {
			return buf.Bytes()
		}
		if strings.HasPrefix(line, "ERROR") {
			t.Fatalf("rrdtool %s: %s", args[0], line)
		}
		buf.WriteString(line)
		if err != nil {
			t.Fatalf("rrdtool %s: %v: %s", args[0], err, buf.String())
		}
	}
}

// dumpRRA is one archive of an rrdtool dump: row time → values.
type dumpRRA struct {
	cf    string
	steps int
	times []int64
	rows  [][]float64
}

func parseDump(t testing.TB, data []byte) []dumpRRA {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []dumpRRA
	var path []string
	var cur *dumpRRA
	var pendingTime int64
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			path = append(path, tk.Name.Local)
			switch tk.Name.Local {
			case "rra":
				out = append(out, dumpRRA{})
				cur = &out[len(out)-1]
			case "row":
				cur.times = append(cur.times, pendingTime)
				cur.rows = append(cur.rows, nil)
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.Comment:
			s := string(tk)
			if i := strings.LastIndex(s, "/"); i >= 0 && cur != nil {
				if v, err := strconv.ParseInt(strings.TrimSpace(s[i+1:]), 10, 64); err == nil {
					pendingTime = v
				}
			}
		case xml.CharData:
			if cur == nil || len(path) == 0 {
				continue
			}
			s := strings.TrimSpace(string(tk))
			switch strings.Join(path[max(0, len(path)-2):], "/") {
			case "rra/cf":
				cur.cf = s
			case "rra/pdp_per_row":
				cur.steps, _ = strconv.Atoi(s)
			case "row/v":
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					v = math.NaN()
				}
				cur.rows[len(cur.rows)-1] = append(cur.rows[len(cur.rows)-1], v)
			}
		}
	}
	return out
}

// within reports whether a and b are both unknown or equal within 1e-6
// relative to the larger of them and scale.
func within(a, b, scale float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(scale, math.Max(math.Abs(a), math.Abs(b)))+1e-9
}

// cancellationScale is 0 for a data source of non-negative values (rates of
// traffic: plain relative error applies) and the largest magnitude in the
// series when values have both signs: an average of float32 primary data
// points that cancel to near zero is exact only relative to its inputs.
func cancellationScale(dump []dumpRRA, d int) float64 {
	neg, big := false, 0.0
	for _, a := range dump {
		for _, r := range a.rows {
			if r[d] < 0 {
				neg = true
			}
			if !math.IsNaN(r[d]) {
				big = math.Max(big, math.Abs(r[d]))
			}
		}
	}
	if !neg {
		return 0
	}
	return big
}

// archiveRows reads every row of spec archive i of a series, as rrdtool
// dump would: the Rows rows ending at the last update's row.
func archiveRows(t testing.TB, db *DB, name string, i int) ([]int64, [][]float64) {
	t.Helper()
	s := db.lookup(name)
	var res Result
	err := db.bolt.View(func(tx *bolt.Tx) error {
		lastUs, err := readLastUp(tx, s)
		if err != nil {
			return err
		}
		lastS := floorDiv(lastUs, 1e6)
		a := s.spec.Archives[i]
		rowS := int64(a.Steps) * int64(s.spec.Step/time.Second)
		calEnd := lastS - floorMod(lastS, rowS)
		res = fetchArchive(tx, s, i, calEnd-rowS*int64(a.Rows), calEnd, lastS)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for r := range res.Rows {
		times = append(times, res.Time(r).Unix())
	}
	return times, res.Rows
}

// TestOracleRRDtool feeds random update streams to rrdtool and to the store
// and compares every row of every archive.
func TestOracleRRDtool(t *testing.T) {
	tool := startRRDtool(t, testneed.Program(t, "rrdtool", "apt-get install rrdtool"))
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "o.db"), &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := 60
	if testing.Short() {
		cases = 10
	}
	if n, err := strconv.Atoi(os.Getenv("RRD_ORACLE_CASES")); err == nil {
		cases = n // longer soak runs
	}
	for c := 0; c < cases; c++ {
		r := rand.New(rand.NewPCG(uint64(c), 42))
		spec := randSpec(r)
		start := 1700000000 + r.Int64N(1000000)
		// Two series per spec share a group, so columns are exercised.
		for k := 0; k < 2; k++ {
			name := fmt.Sprintf("case%d/%d", c, k)
			t.Run(name, func(t *testing.T) {
				ups := randStream(r, spec, start, 150+r.IntN(300), false, c%4 == 3)
				compareWithRRDtool(t, tool, db, dir, name, spec, start, ups, r)
			})
		}
	}
}

func compareWithRRDtool(t *testing.T, tool *rrdtoolPipe, db *DB, dir, name string, spec Spec, start int64, ups []oracleUp, r *rand.Rand) {
	file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".rrd")
	tool.run(t, rrdtoolCreateArgs(file, spec, start)...)
	args := []string{"update", file}
	for _, u := range ups {
		var sb strings.Builder
		sb.WriteString(strconv.FormatInt(u.t, 10))
		if u.usec != 0 {
			fmt.Fprintf(&sb, ".%06d", u.usec)
		}
		for _, v := range u.vals {
			sb.WriteString(":" + v.String())
		}
		args = append(args, sb.String())
	}
	tool.run(t, args...)
	dump := parseDump(t, tool.run(t, "dump", file))

	if err := db.Create(name, spec, time.Unix(start, 0)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(ups); {
		n := 1 + r.IntN(150)
		var batch []Update
		for ; n > 0 && i < len(ups); n, i = n-1, i+1 {
			batch = append(batch, Update{Series: name, Time: time.Unix(ups[i].t, ups[i].usec*1000), Values: ups[i].vals})
		}
		if err := db.Update(batch); err != nil {
			t.Fatal(err)
		}
	}
	if len(dump) != len(spec.Archives) {
		t.Fatalf("rrdtool dump has %d archives, want %d", len(dump), len(spec.Archives))
	}
	maxGap := int64(0)
	for i := 1; i < len(ups); i++ {
		maxGap = max(maxGap, ups[i].t-ups[i-1].t)
	}
	bad := 0
	skip := map[[2]int64]bool{} // {row seconds, row time} not compared
	for i, want := range dump {
		// After a gap longer than the archive, rrdtool writes the row it was
		// consolidating before the gap into the oldest slot, under that
		// slot's time (TestDeliberateDifferences): not compared.
		a := spec.Archives[i]
		skipOldest := maxGap >= int64(a.Steps*a.Rows)*int64(spec.Step/time.Second)
		if skipOldest && len(want.times) > 0 {
			skip[[2]int64{int64(a.Steps) * int64(spec.Step/time.Second), want.times[0]}] = true
		}
		times, rows := archiveRows(t, db, name, i)
		if len(times) != len(want.times) {
			t.Fatalf("archive %d: %d rows, rrdtool %d", i, len(times), len(want.times))
		}
		for j := range times {
			if times[j] != want.times[j] {
				t.Fatalf("archive %d row %d: time %d, rrdtool %d", i, j, times[j], want.times[j])
			}
			for d := range rows[j] {
				if j == 0 && skipOldest {
					continue
				}
				if !within(rows[j][d], want.rows[j][d], cancellationScale(dump, d)) {
					bad++
					if bad <= 10 {
						t.Errorf("archive %d (%s %d steps) row %d (t=%d) ds %d: got %v, rrdtool %v",
							i, want.cf, want.steps, j, times[j], d, rows[j][d], want.rows[j][d])
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d values differ; spec %+v", bad, spec)
	}
	compareFetch(t, tool, db, file, name, spec, ups[len(ups)-1].t, r, dump, skip)
}

// compareFetch checks that Fetch picks the archive rrdtool fetch picks and
// returns its rows, for random ranges, resolutions and CFs.
func compareFetch(t *testing.T, tool *rrdtoolPipe, db *DB, file, name string, spec Spec, last int64, r *rand.Rand, dump []dumpRRA, skip map[[2]int64]bool) {
	stepS := int64(spec.Step / time.Second)
	for k := 0; k < 4; k++ {
		span := stepS * (1 + r.Int64N(300))
		end := last - r.Int64N(span)
		start := end - span
		res := time.Duration(0)
		if r.IntN(3) > 0 {
			res = time.Duration(stepS*r.Int64N(30)) * time.Second
		}
		cf := spec.Archives[r.IntN(len(spec.Archives))].CF
		args := []string{"fetch", file, cf.String(), "--start", strconv.FormatInt(start, 10), "--end", strconv.FormatInt(end, 10)}
		if res > 0 {
			args = append(args, "--resolution", strconv.FormatInt(int64(res/time.Second), 10))
		}
		out := tool.run(t, args...)
		var times []int64
		var rows [][]float64
		for _, line := range strings.Split(string(out), "\n") {
			ts, vals, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			tm, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if err != nil {
				continue
			}
			var row []float64
			for _, f := range strings.Fields(vals) {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil {
					v = math.NaN()
				}
				row = append(row, v)
			}
			times = append(times, tm)
			rows = append(rows, row)
		}
		got, err := db.Fetch(name, cf, time.Unix(start, 0), time.Unix(end, 0), res)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(times) == 0 {
			t.Fatalf("rrdtool fetch %v: no rows", args)
		}
		if wantStep := time.Duration(times[1%len(times)]-times[0]) * time.Second; len(times) > 1 && got.Step != wantStep {
			t.Errorf("Fetch %s %d..%d res %v: step %v, rrdtool %v", cf, start, end, res, got.Step, wantStep)
			continue
		}
		if len(got.Rows) > len(rows) || len(rows)-len(got.Rows) > 1 {
			t.Errorf("Fetch %s %d..%d: %d rows, rrdtool %d", cf, start, end, len(got.Rows), len(rows))
			continue
		}
		for i := range got.Rows {
			if got.Time(i).Unix() != times[i] {
				t.Errorf("Fetch row %d time %d, rrdtool %d", i, got.Time(i).Unix(), times[i])
				break
			}
			if skip[[2]int64{int64(got.Step / time.Second), times[i]}] {
				continue
			}
			for d := range got.Rows[i] {
				if !within(got.Rows[i][d], rows[i][d], cancellationScale(dump, d)) {
					t.Errorf("Fetch %s row %d ds %d: got %v, rrdtool %v", cf, i, d, got.Rows[i][d], rows[i][d])
				}
			}
		}
	}
}
