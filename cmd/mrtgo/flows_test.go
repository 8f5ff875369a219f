package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/daemon"
)

// flowsFixture writes a targets file with [flows] and fills its flow store with n
// records over the hour before end: sources 10.0.0.1-20 in a skewed mix, two
// interfaces of device r1 and some of an unclaimed exporter. It returns the file and
// the records.
func flowsFixture(t *testing.T, end time.Time, n int) (string, []flow.Flow) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "targets.toml")
	src := "step = \"5m\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n\n[flows]\nlisten = [\"127.0.0.1:2055\"]\n\n" +
		"[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"*\"]\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	raw, top, err := daemon.OpenFlowStores(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	var fs []flow.Flow
	start := end.Add(-time.Hour).Truncate(5 * time.Minute)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Hour / time.Duration(n))
		f := flow.Flow{Record: flow.Record{
			Received: at, Start: at.Add(-time.Second), End: at, Kind: flow.IPFIX, SamplingRate: 1,
			Exporter: netip.MustParseAddr("127.0.0.1"),
			Src:      netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + (i*i)%20)}),
			Dst:      netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%7)}),
			SrcPort:  uint16(40000 + i%100), DstPort: []uint16{443, 53, 80}[i%3], Proto: []uint8{6, 17, 6}[i%3],
			Bytes: uint64(100 + (i*37)%1400), Packets: uint64(1 + i%5), InIf: uint32(1 + i%2),
		}, Device: "r1", In: []string{"ge-0/0/0", "Gi0/1 \"uplink\""}[i%2]}
		if i%10 == 9 { // an exporter no device claims
			f.Device, f.In, f.Exporter = "", "", netip.MustParseAddr("127.0.0.9")
		}
		fs = append(fs, f)
	}
	if err := raw.Append(fs...); err != nil {
		t.Fatal(err)
	}
	// The top talkers, step by step.
	next := start.Add(5 * time.Minute)
	for i := range fs {
		for !fs[i].Received.Before(next) {
			if err := top.Commit(next); err != nil {
				t.Fatal(err)
			}
			next = next.Add(5 * time.Minute)
		}
		top.Add(&fs[i])
	}
	if err := top.Commit(next); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := top.Close(); err != nil {
		t.Fatal(err)
	}
	return file, fs
}

// "mrtgo flows" answers from the raw records what a brute-force sum of the records
// gives, in every format; from the top talkers, the same for a device's interface.
func TestFlowsCommand(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	file, fs := flowsFixture(t, end, 3000)
	from := end.Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	to := end.Add(time.Minute).UTC().Format(time.RFC3339)

	// Brute force: bytes by source of r1's ge-0/0/0 flows to port 443.
	want := map[string]uint64{}
	var total uint64
	for _, f := range fs {
		if f.Device == "r1" && f.In == "ge-0/0/0" && f.DstPort == 443 {
			want[f.Src.String()] += f.Bytes
			total += f.Bytes
		}
	}
	code, out, errs := runCmd(t, "flows", "-c", file, "--from", from, "--to", to, "--device", "r1", "--interface", "ge-0/0/0",
		"--filter", "dst port 443 and proto tcp", "--group", "src", "--top", "0", "--format", "csv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	got := map[string]uint64{}
	for _, r := range rows[1:] {
		v, _ := strconv.ParseUint(r[col["bytes"]], 10, 64)
		switch r[col["row"]] {
		case "total":
			if v != total {
				t.Errorf("total %d bytes, want %d", v, total)
			}
		case "other":
		default:
			got[r[col["src"]]] = v
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bytes by source\n got %v\nwant %v", got, want)
	}

	// The same from the top talkers (every source fits their lists, so exact).
	code, out, errs = runCmd(t, "flows", "-c", file, "--from", from, "--to", to, "--device", "r1", "--interface", "ge-0/0/0",
		"--tier", "top", "--group", "dstport", "--top", "0", "--format", "json")
	if code != exitOK {
		t.Fatalf("top tier: exit %d: %s", code, errs)
	}
	var res struct {
		Rows []struct {
			Row, Key string
			Value    uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wantPorts := map[string]uint64{}
	for _, f := range fs {
		if f.Device == "r1" && f.In == "ge-0/0/0" {
			wantPorts[strconv.Itoa(int(f.DstPort))] += f.Bytes
		}
	}
	gotPorts := map[string]uint64{}
	for _, r := range res.Rows {
		if r.Row != "other" && r.Row != "total" {
			gotPorts[r.Key] = r.Value
		}
	}
	if fmt.Sprint(gotPorts) != fmt.Sprint(wantPorts) {
		t.Errorf("top talkers by destination port\n got %v\nwant %v", gotPorts, wantPorts)
	}

	// Raw records as JSON lines: every record of the unclaimed exporter.
	code, out, errs = runCmd(t, "flows", "-c", file, "--from", from, "--to", to, "--raw", "json", "--filter", "exporter 127.0.0.9")
	if code != exitOK {
		t.Fatalf("raw: exit %d: %s", code, errs)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != len(fs)/10 {
		t.Errorf("%d raw records of the unclaimed exporter, want %d", lines, len(fs)/10)
	}

	// An interface name with a space and quotes, and the table format.
	code, out, errs = runCmd(t, "flows", "-c", file, "--last", "3h", "--device", "r1", "--interface", `Gi0/1 "uplink"`, "--group", "proto")
	if code != exitOK || !strings.Contains(out, "tcp") || !strings.Contains(out, "udp") {
		t.Errorf("table: exit %d: %s\n%s", code, errs, out)
	}
}

// Mistakes on the command line are errors that say where.
func TestFlowsCommandErrors(t *testing.T) {
	file, _ := flowsFixture(t, time.Now(), 10)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--filter", "dst port https"}, "column 10"},
		{[]string{"--filter", "dst port https"}, "         ^"},
		{[]string{"--interface", "ge-0/0/0"}, "--interface needs --device"},
		{[]string{"--last", "forever"}, `--last: bad span "forever"`},
		{[]string{"--from", "yesterday"}, `--from: time "yesterday"`},
		{[]string{"--group", "service", "--filter", "proto tcp"}, "--group service is kept by the top talkers only"},
		{[]string{"--tier", "top"}, "--tier top needs --device"},
		{[]string{"--format", "xml"}, `--format "xml"`},
	} {
		code, _, errs := runCmd(t, append([]string{"flows", "-c", file}, c.args...)...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, errs, exitUsage, c.want)
		}
	}
}
