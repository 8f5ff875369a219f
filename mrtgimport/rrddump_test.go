package mrtgimport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// TestDumper reads rrdtool-mode files through one "rrdtool -": what ReadRRD reads, file
// after file, through a file that is no rrd and one that is missing.
func TestDumper(t *testing.T) {
	rrdtool := testneed.Program(t, "rrdtool", "apt-get install rrdtool")
	dir := t.TempDir()
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("if%d.rrd", i))
		args := []string{"create", f, "-b", "1764000000", "-s", "300", "DS:ds0:COUNTER:600:0:1e9", "DS:ds1:COUNTER:600:0:1e9",
			"RRA:AVERAGE:0.5:1:800", "RRA:AVERAGE:0.5:6:800", "RRA:MAX:0.5:1:800", "RRA:MAX:0.5:6:800"}
		if out, err := exec.Command(rrdtool, args...).CombinedOutput(); err != nil {
			t.Fatalf("rrdtool create: %v\n%s", err, out)
		}
		up := []string{"update", f}
		for k := 1; k <= 500; k++ {
			up = append(up, fmt.Sprintf("%d:%d:%d", 1764000000+k*300, k*k*1000*(i+1), k*300))
		}
		if out, err := exec.Command(rrdtool, up...).CombinedOutput(); err != nil {
			t.Fatalf("rrdtool update: %v\n%s", err, out)
		}
		files = append(files, f)
	}
	junk := filepath.Join(dir, "junk.rrd")
	if err := os.WriteFile(junk, []byte("not an rrd"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newDumper(context.Background())
	defer d.close()
	for _, f := range []string{files[0], junk, files[1], filepath.Join(dir, "missing.rrd"), files[2]} {
		got, err := d.read(context.Background(), f)
		want, werr := ReadRRD(context.Background(), f)
		switch {
		case f == junk:
			if err == nil || werr == nil {
				t.Errorf("%s: errors %v and %v, want both", f, err, werr)
			}
		case filepath.Base(f) == "missing.rrd":
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("missing file: error %v, want os.ErrNotExist", err)
			}
		case err != nil || werr != nil:
			t.Fatalf("%s: %v, ReadRRD %v", f, err, werr)
		case !reflect.DeepEqual(got, want) || len(got.Rows) < 400:
			t.Errorf("%s: %d rows, ReadRRD %d: differ", f, len(got.Rows), len(want.Rows))
		}
		if d.dead {
			t.Fatalf("after %s the pipe is given up", f)
		}
	}
}
