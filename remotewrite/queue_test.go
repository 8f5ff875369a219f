package remotewrite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
)

// steps makes n series of one interface direction each with k samples, a step apart.
func steps(n, k int, from time.Time) []Series {
	batch := make([]Series, n)
	for i := range batch {
		batch[i].Labels = []Label{{"__name__", "mrtgo_test"}, {"series", fmt.Sprint(i)}}
		for j := range k {
			batch[i].Samples = append(batch[i].Samples, Sample{from.Add(time.Duration(j) * 5 * time.Minute), float64(i*1000 + j)})
		}
	}
	return batch
}

func decodeRecord(t *testing.T, r Record) []Series {
	t.Helper()
	raw, err := snappy.Decode(nil, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := Samples(s); got != r.Samples {
		t.Fatalf("record %d says %d samples, holds %d", r.Seq, r.Samples, got)
	}
	return s
}

func TestQueueSplitsKeepsAndForgets(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, QueueOptions{MaxSamples: 7, SegmentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(1764400000, 0)
	if err := q.Put(steps(4, 5, from)); err != nil { // 20 samples: records of 7, 7, 6
		t.Fatal(err)
	}
	if st := q.Stats(); st.Records != 3 || st.Samples != 20 {
		t.Fatalf("stats %+v, want 3 records of 20 samples", st)
	}
	r, err := q.Next()
	if err != nil {
		t.Fatal(err)
	}
	first := decodeRecord(t, r)
	if first[0].Samples[0].Value != 0 || len(first) != 2 || len(first[1].Samples) != 2 {
		t.Errorf("first record %+v: want series 0's five samples and series 1's first two", first)
	}
	if err := q.Ack(r.Seq); err != nil {
		t.Fatal(err)
	}
	// Reopened, the queue holds what was not taken, and numbers on after it.
	q.Close()
	q, err = OpenQueue(dir, QueueOptions{MaxSamples: 7, SegmentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	if st := q.Stats(); st.Records != 2 || st.Samples != 13 || st.Oldest != r.Seq+1 {
		t.Fatalf("after reopening: %+v, want 2 records of 13 samples from %d", st, r.Seq+1)
	}
	if err := q.Put(steps(1, 1, from.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for {
		r, err := q.Next()
		if errors.Is(err, ErrEmpty) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		decodeRecord(t, r)
		seqs = append(seqs, r.Seq)
		if err := q.Ack(r.Seq); err != nil {
			t.Fatal(err)
		}
	}
	// Each Put's commit record takes a number too (4), and is never sent.
	if fmt.Sprint(seqs) != "[2 3 5]" {
		t.Errorf("records sent after reopening: %v, want [2 3 5]", seqs)
	}
	// Segments wholly taken are gone; the one being written stays.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Errorf("%d segment files left, want 1: %v", len(segs), segs)
	}
	q.Close()
}

func TestQueueCutsTornRecord(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(1764400000, 0)
	q.Put(steps(2, 3, from))
	q.Put(steps(2, 3, from.Add(time.Hour)))
	q.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	info, _ := os.Stat(segs[0])
	if err := os.Truncate(segs[0], info.Size()-3); err != nil { // the second Put torn
		t.Fatal(err)
	}
	q, err = OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := q.Stats(); st.Records != 1 || st.Samples != 6 {
		t.Errorf("after a torn Put: %+v, want the first Put's record only", st)
	}
	// The next Put is written where the torn one was cut, and read back whole.
	if err := q.Put(steps(1, 2, from.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q, err = OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if st := q.Stats(); st.Records != 2 || st.Samples != 8 {
		t.Errorf("after writing over the torn record: %+v, want 2 records of 8 samples", st)
	}
}

func TestQueueDropsOldestOverMaxBytes(t *testing.T) {
	q, err := OpenQueue(t.TempDir(), QueueOptions{MaxSamples: 10, SegmentBytes: 200, MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	from := time.Unix(1764400000, 0)
	for i := range 40 {
		if err := q.Put(steps(1, 10, from.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	st := q.Stats()
	if st.Bytes > 1000+200+headerLen+200 || st.Dropped == 0 || int64(st.Samples)+st.Dropped != 400 {
		t.Errorf("stats %+v: want at most about 1000 bytes kept and kept+dropped = 400 samples", st)
	}
	r, err := q.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeRecord(t, r)[0].Samples[0].Time; !got.Equal(from.Add(time.Duration(st.Dropped/10) * time.Hour)) {
		t.Errorf("oldest kept sample at %v: the oldest records should have gone first", got)
	}
}

func TestQueueOneOpener(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := OpenQueue(dir, QueueOptions{}); err == nil {
		t.Error("a second OpenQueue of one directory succeeded")
	}
}

func BenchmarkQueuePut(b *testing.B) {
	q, err := OpenQueue(b.TempDir(), QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	// One step of 10,000 interfaces: two series each, with the labels mrtgo sends.
	batch := steps(20000, 1, time.Unix(1764400000, 0))
	for i := range batch {
		batch[i].Labels = append(batch[i].Labels, Label{"device", "core-router-17"}, Label{"interface", fmt.Sprintf("xe-0/%d/%d", i/48, i%48)},
			Label{"direction", "in"}, Label{"description", "uplink to distribution switch"})
	}
	var samples, bytes int
	for b.Loop() {
		if err := q.Put(batch); err != nil {
			b.Fatal(err)
		}
		samples += Samples(batch)
		for {
			r, err := q.Next()
			if err != nil {
				break
			}
			bytes += headerLen + len(r.Body)
			q.Ack(r.Seq)
		}
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(bytes)/float64(samples), "disk-B/sample")
}

func TestQueueMarkGoesWithItsPut(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, QueueOptions{SegmentBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(1764400000, 0)
	if err := q.PutMarked(steps(2, 1, from), []byte("step 1")); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(steps(2, 1, from.Add(time.Minute))); err != nil { // keeps the mark
		t.Fatal(err)
	}
	if err := q.PutMarked(nil, []byte("step 3")); err != nil { // a mark alone
		t.Fatal(err)
	}
	if got := string(q.Mark()); got != "step 3" {
		t.Errorf("mark %q, want step 3", got)
	}
	// Everything sent: the segments holding the first marks are removed; the mark is
	// still there after reopening.
	for {
		r, err := q.Next()
		if err != nil {
			break
		}
		q.Ack(r.Seq)
	}
	q.Close()
	q, err = OpenQueue(dir, QueueOptions{SegmentBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(q.Mark()); got != "step 3" {
		t.Errorf("mark after reopening %q, want step 3", got)
	}
	if err := q.PutMarked(steps(3, 1, from.Add(2*time.Minute)), []byte("step 4")); err != nil {
		t.Fatal(err)
	}
	q.Close()
	// Torn anywhere in its last record, the last Put is gone with its mark.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	last := segs[len(segs)-1]
	info, _ := os.Stat(last)
	os.Truncate(last, info.Size()-1)
	q, err = OpenQueue(dir, QueueOptions{SegmentBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := string(q.Mark()); got != "step 3" {
		t.Errorf("mark after a torn Put %q, want step 3", got)
	}
	if st := q.Stats(); st.Samples != 0 {
		t.Errorf("after a torn Put %d samples queued, want 0 (the Put is gone whole)", st.Samples)
	}
}
