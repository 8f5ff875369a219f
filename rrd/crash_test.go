package rrd

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	crashSeries = 20
	crashStep   = 10 * time.Second
)

func crashSpec() Spec {
	return Spec{Step: crashStep, DS: []DS{{Name: "in", Type: Counter, Min: 0, Max: 1e9}, {Name: "out", Type: Counter, Min: 0, Max: 1e9}},
		Archives: []Archive{{Average, 1, 2000, 0.5}, {Average, 6, 400, 0.5}, {Max, 6, 400, 0.5}}}
}

// crashRate is the rate series i has in every cycle.
func crashRate(i, d int) float64 { return float64(100*(i+1) + d) }

// crashChild updates all series one cycle per transaction, forever,
// printing each cycle number after its commit returned.
func crashChild(path string) {
	db, err := Open(path, &Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(1)
	}
	names := make([]string, crashSeries)
	for i := range names {
		names[i] = fmt.Sprintf("s%02d", i)
	}
	if err := db.CreateBatch(names, crashSpec(), at(t0)); err != nil {
		fmt.Println("create error:", err)
		os.Exit(1)
	}
	_, last, err := db.Info(names[0])
	if err != nil {
		fmt.Println("info error:", err)
		os.Exit(1)
	}
	k := (last.Unix() - t0) / int64(crashStep/time.Second)
	fmt.Println("ready")
	for {
		k++
		ups := make([]Update, crashSeries)
		for i := range ups {
			tm := t0 + k*int64(crashStep/time.Second)
			ups[i] = Update{Series: names[i], Time: at(tm), Values: []Value{
				Uint(uint64(crashRate(i, 0) * float64(tm-t0))), Uint(uint64(crashRate(i, 1) * float64(tm-t0)))}}
		}
		if err := db.Update(ups); err != nil {
			fmt.Println("update error:", err)
			os.Exit(1)
		}
		fmt.Println(k)
	}
}

// TestCrashRecovery kills a writing child process with SIGKILL at random
// moments; every reopen must succeed, pass bbolt's consistency check and
// hold every cycle the child saw committed.
func TestCrashRecovery(t *testing.T) {
	if p := os.Getenv("RRD_CRASH_CHILD"); p != "" {
		crashChild(p)
		return
	}
	kills := 50
	path := filepath.Join(t.TempDir(), "crash.db")
	r := rand.New(rand.NewPCG(7, 7))
	committed := int64(0)
	for i := 0; i < kills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
		cmd.Env = append(os.Environ(), "RRD_CRASH_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		if l := <-lines; l != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child said %q, want ready", i, l)
		}
		time.Sleep(time.Duration(r.IntN(60)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Read everything the child printed before it died, then reap it
		// (Wait closes the pipe).
		var said []string
		for l := range lines {
			said = append(said, l)
		}
		cmd.Wait()
		for _, l := range said {
			k, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				t.Fatalf("kill %d: child said %q", i, l)
			}
			committed = max(committed, k)
		}
		checkCrashDB(t, path, committed)
	}
	t.Logf("%d cycles committed across %d kills", committed, kills)
	if committed < int64(kills) {
		t.Errorf("only %d cycles committed over %d runs; the child should make progress", committed, kills)
	}
}

func checkCrashDB(t *testing.T, path string, committed int64) {
	t.Helper()
	db, err := Open(path, &Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("consistency check after kill: %v", err)
	}
	for i := 0; i < crashSeries; i++ {
		name := fmt.Sprintf("s%02d", i)
		_, last, err := db.Info(name)
		if err != nil {
			t.Fatalf("info %s: %v", name, err)
		}
		lastK := (last.Unix() - t0) / int64(crashStep/time.Second)
		if lastK < committed {
			t.Fatalf("%s: last cycle %d, but cycle %d was committed", name, lastK, committed)
		}
		// Cycle 1 is the first sample (no rate); every later one is known.
		from := max(2, lastK-1999)
		res, err := db.Fetch(name, Average, at(t0+(from-1)*10), at(t0+lastK*10), 0)
		if err != nil {
			t.Fatal(err)
		}
		for j, row := range res.Rows {
			for d, v := range row {
				if v != crashRate(i, d) {
					t.Fatalf("%s row %s ds %d: got %v, want %v", name, res.Time(j), d, v, crashRate(i, d))
				}
			}
		}
	}
}

// TestSecondProcessWaits opens the store, then starts a second process that
// tries to open it with a short timeout: it must give up with ErrLocked,
// naming the file, and succeed once the first one closes.
func TestSecondProcessWaits(t *testing.T) {
	if p := os.Getenv("RRD_LOCK_CHILD"); p != "" {
		ro := os.Getenv("RRD_LOCK_RO") != ""
		db, err := Open(p, &Options{Timeout: 300 * time.Millisecond, ReadOnly: ro})
		switch {
		case errors.Is(err, ErrLocked):
			fmt.Println("locked:", err)
		case err != nil:
			fmt.Println("error:", err)
		default:
			db.Close()
			fmt.Println("opened")
		}
		return
	}
	path := filepath.Join(t.TempDir(), "lock.db")
	child := func(ro bool) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessWaits$")
		cmd.Env = append(os.Environ(), "RRD_LOCK_CHILD="+path)
		if ro {
			cmd.Env = append(cmd.Env, "RRD_LOCK_RO=1")
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v: %s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "locked") || strings.HasPrefix(l, "opened") || strings.HasPrefix(l, "error") {
				return l
			}
		}
		return string(out)
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		got := child(ro)
		if !strings.HasPrefix(got, "locked") || !strings.Contains(got, path) {
			t.Errorf("second process (read-only %v) while open: %q, want a locked error naming %s", ro, got, path)
		}
	}
	db.Close()
	if got := child(false); got != "opened" {
		t.Errorf("second process after close: %q, want opened", got)
	}
}

// TestConcurrentReaders runs one writer and several readers in one process
// (run with -race): readers never see a torn or partial row.
func TestConcurrentReaders(t *testing.T) {
	db := openTest(t)
	names := []string{"a", "b", "c"}
	if err := db.CreateBatch(names, crashSpec(), at(t0)); err != nil {
		t.Fatal(err)
	}
	const cycles = 150
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				i := g % len(names)
				_, last, err := db.Info(names[i])
				if err != nil {
					errs <- err
					return
				}
				res, err := db.Fetch(names[i], Average, at(t0), last.Add(time.Second), 0)
				if err != nil {
					errs <- err
					return
				}
				for j, row := range res.Rows {
					for d, v := range row {
						if !math.IsNaN(v) && v != crashRate(i, d) {
							errs <- fmt.Errorf("%s row %d ds %d: %v, want %v", names[i], j, d, v, crashRate(i, d))
							return
						}
					}
				}
				if _, err := db.Series(); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	for k := int64(1); k <= cycles; k++ {
		var ups []Update
		for i, n := range names {
			tm := t0 + k*10
			ups = append(ups, Update{Series: n, Time: at(tm), Values: []Value{
				Uint(uint64(crashRate(i, 0) * float64(tm-t0))), Uint(uint64(crashRate(i, 1) * float64(tm-t0)))}})
		}
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	res, err := db.Fetch("b", Average, at(t0+10), at(t0+cycles*10), 0)
	if err != nil || len(res.Rows) != cycles-1 || res.Rows[0][0] != crashRate(1, 0) {
		t.Errorf("after writing: %d rows, err %v; want %d rows of %v", len(res.Rows), err, cycles-1, crashRate(1, 0))
	}
}
