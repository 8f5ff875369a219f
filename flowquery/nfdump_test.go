package flowquery

// The oracle: nfdump's statistics and filters over the files nfcapd wrote, against
// this package over the records the Decoder made of the same datagrams. The capture
// is exported three times (NetFlow v5, v9, IPFIX) and the three exports are queried
// together, so that each conversation is three flows and grouping adds up.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// nfRow is a row of an nfdump statistic, or of ours: the key as text and its counts.
type nfRow struct {
	key   string
	c     Counts
	share float64 // percent of the measure's total; NaN where the output has none
}

func TestAgreesWithNfdump(t *testing.T) {
	pmacctd := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	cs := testConversations()
	dir := t.TempDir()
	capture := filepath.Join(dir, "known.pcap")
	writeCapture(t, capture, cs)

	// The three exports run at once; their files go into one directory for nfdump.
	var mu sync.Mutex
	var flows []*flow.Flow
	all := filepath.Join(dir, "all")
	if err := os.Mkdir(all, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("export", func(t *testing.T) {
		for _, version := range []string{"5", "9", "10"} {
			t.Run("v"+version, func(t *testing.T) {
				t.Parallel()
				vdir := filepath.Join(dir, "v"+version)
				if err := os.Mkdir(vdir, 0o755); err != nil {
					t.Fatal(err)
				}
				got, files := export(t, pmacctd, nfcapd, capture, version, vdir, len(cs))
				names, err := filepath.Glob(filepath.Join(files, "nfcapd.*"))
				if err != nil || len(names) == 0 {
					t.Fatalf("nfcapd wrote no file in %s (%v)", files, err)
				}
				for i, name := range names {
					if err := os.Rename(name, filepath.Join(all, fmt.Sprintf("nfcapd.v%s-%d", version, i))); err != nil {
						t.Fatal(err)
					}
				}
				mu.Lock()
				flows = append(flows, got...)
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	if len(flows) != 3*len(cs) {
		t.Fatalf("%d flows, want %d", len(flows), 3*len(cs))
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(nfdump, append([]string{"-R", all}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nfdump %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	t.Run("statistics", func(t *testing.T) {
		stats := map[Group]string{GroupSrc: "srcip", GroupDst: "dstip", GroupSrcPort: "srcport",
			GroupDstPort: "dstport", GroupProto: "proto"}
		for _, g := range []Group{GroupSrc, GroupDst, GroupSrcPort, GroupDstPort, GroupProto, GroupConv} {
			for _, by := range []Measure{ByBytes, ByPackets, ByFlows} {
				t.Run(g.String()+"/"+by.String(), func(t *testing.T) {
					var theirs []nfRow
					var total Counts
					if g == GroupConv {
						theirs, total = parseAggregated(t, run("-q", "-A", "srcip,dstip,proto,srcport,dstport",
							"-O", by.String(), "-n", "0", "-o", "fmt:%sa,%da,%pr,%sp,%dp,%fl,%pkt,%byt")), Counts{}
						for _, r := range theirs {
							total.add(r.c)
						}
					} else {
						theirs, total = parseStat(t, run("-s", stats[g]+"/"+by.String(), "-n", "0", "-o", "csv"), by)
					}
					compare(t, flows, Query{Group: g, By: by}, theirs, total)
					// The top five and the rest add up to the same total.
					compare(t, flows, Query{Group: g, By: by, Top: 5}, theirs, total)
				})
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, filter := range []string{
			"src net 10.0.0.0/8 and dst port 443",
			"net 10.0.0.0/8 and not net 10.0.1.0/24",
			"dst net 192.0.2.0/24 and dst port 443 or proto udp",
			"not host 10.0.0.1",
			"host 10.0.0.1 && port 443",
			"src ip 172.16.5.5 and dst port in [22 23]",
			"port in [53, 123]",
			"src port > 1023 and dst port < 1024",
			"port > 1023 and port < 50005",
			"proto tcp and flags S",
			"flags SA",
			"flags AP and not flags S",
			"flags S and not flags AFRPU",
			"not flags SA",
			"not (flags SA and proto tcp)",
			"!flags RA or flags AP",
			"bytes > 1k",
			"bytes >= 1010 and bytes <= 1020",
			"packets >= 4 or bytes = 76",
			"!(proto tcp) and (dst port 123 or src port 5353)",
			"proto 6 and dst port 22",
			"any",
		} {
			t.Run(filter, func(t *testing.T) {
				want, wantBytes := 0, uint64(0)
				out := run("-q", "-o", "fmt:%byt", filter)
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					line = strings.TrimSpace(line)
					if line == "No matching flows" {
						break
					}
					n, err := strconv.ParseUint(line, 10, 64)
					if err != nil {
						t.Fatalf("nfdump printed %q", out)
					}
					want++
					wantBytes += n
				}
				f, err := ParseFilter(filter)
				if err != nil {
					t.Fatal(err)
				}
				got, gotBytes := 0, uint64(0)
				for _, fl := range flows {
					if f.Match(fl) {
						got++
						gotBytes += fl.Bytes
					}
				}
				if got != want || gotBytes != wantBytes {
					t.Errorf("%d flows of %d bytes, nfdump %d of %d", got, gotBytes, want, wantBytes)
				}
				if want == 0 || want == len(flows) && filter != "any" {
					t.Errorf("nfdump selects %d of %d flows: the filter tells nothing apart", want, len(flows))
				}
			})
		}
	})
}

// parseStat reads nfdump's -o csv output of a -s statistic: a header (ts, te, td, pr,
// val, fl, flP, pkt or ipkt, pktP, byt or ibyt, bytP, ...), rows, a blank line, then
// "Summary" and the totals.
func parseStat(t *testing.T, out string, by Measure) ([]nfRow, Counts) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	head := strings.Split(lines[0], ",")
	col := func(names ...string) int {
		for _, n := range names {
			if i := slices.Index(head, n); i >= 0 {
				return i
			}
		}
		t.Fatalf("nfdump csv header %q has none of %v", lines[0], names)
		return -1
	}
	val, fl, pkt, byt := col("val"), col("fl"), col("pkt", "ipkt"), col("byt", "ibyt")
	pct := map[Measure]int{ByFlows: col("flP"), ByPackets: col("pktP", "ipktP"), ByBytes: col("bytP", "ibytP")}[by]
	var rows []nfRow
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		f := strings.Split(lines[i], ",")
		if len(f) != len(head) {
			t.Fatalf("nfdump csv line %q", lines[i])
		}
		share, err := strconv.ParseFloat(f[pct], 64)
		if err != nil {
			t.Fatalf("nfdump csv line %q: %v", lines[i], err)
		}
		rows = append(rows, nfRow{key: f[val], c: Counts{Flows: atou(t, f[fl]), Packets: atou(t, f[pkt]), Bytes: atou(t, f[byt])},
			share: share})
	}
	// Summary / flows,bytes,packets,... / values
	if i+3 >= len(lines)+1 || lines[i+1] != "Summary" || !strings.HasPrefix(lines[i+2], "flows,bytes,packets") {
		t.Fatalf("nfdump csv without its summary:\n%s", out)
	}
	s := strings.Split(lines[i+3], ",")
	return rows, Counts{Flows: atou(t, s[0]), Bytes: atou(t, s[1]), Packets: atou(t, s[2])}
}

// parseAggregated reads nfdump's fmt:%sa,%da,%pr,%sp,%dp,%fl,%pkt,%byt lines.
func parseAggregated(t *testing.T, out string) []nfRow {
	t.Helper()
	var rows []nfRow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(strings.ReplaceAll(line, " ", ""), ",")
		if len(f) != 8 {
			t.Fatalf("nfdump line %q", line)
		}
		proto, ok := protocols[strings.ToLower(f[2])]
		if !ok {
			t.Fatalf("nfdump protocol %q", f[2])
		}
		rows = append(rows, nfRow{key: strings.Join([]string{f[0], f[1], strconv.Itoa(int(proto)), f[3], f[4]}, ","),
			c: Counts{Flows: atou(t, f[5]), Packets: atou(t, f[6]), Bytes: atou(t, f[7])}, share: math.NaN()})
	}
	return rows
}

func atou(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("nfdump number %q", s)
	}
	return n
}

// compare runs q over flows, reads back its CSV output and holds it against nfdump's
// rows (all of them, heaviest first) and total.
func compare(t *testing.T, flows []*flow.Flow, q Query, theirs []nfRow, total Counts) {
	t.Helper()
	res, err := q.Run(slices.Values(flows))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	if !slices.Equal(head, CSVHeader(q.Group)) {
		t.Fatalf("header %v", head)
	}
	nk := len(q.Group.columns())
	var ours []nfRow
	var other, ourTotal Counts
	for _, r := range recs[1:] {
		c := Counts{Flows: atou(t, r[nk+2]), Packets: atou(t, r[nk+3]), Bytes: atou(t, r[nk+4])}
		share, err := strconv.ParseFloat(r[nk+5], 64)
		if err != nil {
			t.Fatalf("share %q", r[nk+5])
		}
		switch r[0] {
		case "other":
			other = c
		case "total":
			ourTotal = c
		default:
			ours = append(ours, nfRow{key: strings.Join(r[1:1+nk], ","), c: c, share: share})
		}
	}
	want := len(theirs)
	if q.Top > 0 {
		want = min(want, q.Top)
	}
	if len(ours) != want {
		t.Fatalf("%d rows, nfdump %d (top %d)", len(ours), len(theirs), q.Top)
	}
	if ourTotal != total {
		t.Errorf("total %+v, nfdump %+v", ourTotal, total)
	}
	sum := other
	for _, r := range ours {
		sum.add(r.c)
	}
	if sum != ourTotal {
		t.Errorf("rows and other add up to %+v, total %+v", sum, ourTotal)
	}
	byKey := map[string]nfRow{}
	for _, r := range theirs {
		byKey[r.key] = r
	}
	for i, r := range ours {
		// The same ranking (nfdump orders ties its own way: the measure only).
		if r.c.get(q.By) != theirs[i].c.get(q.By) {
			t.Errorf("row %d: %s %d, nfdump's row %d has %d", i+1, q.By, r.c.get(q.By), i+1, theirs[i].c.get(q.By))
		}
		th, ok := byKey[r.key]
		if !ok {
			t.Errorf("row %d: key %s not in nfdump's", i+1, r.key)
			continue
		}
		if r.c != th.c {
			t.Errorf("%s: %+v, nfdump %+v", r.key, r.c, th.c)
		}
		if !math.IsNaN(th.share) && math.Abs(r.share-th.share) > 0.05+1e-9 {
			t.Errorf("%s: share %.3f%%, nfdump %.1f%%", r.key, r.share, th.share)
		}
	}
}
