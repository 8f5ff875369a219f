package flow

import (
	"math/rand/v2"
	"testing"
)

// Below capacity every weight is exact; above it, Space-Saving's bound holds against
// exact counts of a skewed stream: no kept weight under its true weight or more than
// Total/capacity over it, every key heavier than Total/capacity kept, Total exact.
func TestTopKBound(t *testing.T) {
	small := NewTopK[string](4)
	for _, kv := range []struct {
		k string
		w uint64
	}{{"a", 5}, {"b", 3}, {"a", 2}, {"c", 9}} {
		small.Add(kv.k, kv.w)
	}
	top := small.Top(10)
	if len(top) != 3 || top[0] != (TopEntry[string]{"c", 9, 0}) || top[1] != (TopEntry[string]{"a", 7, 0}) || top[2] != (TopEntry[string]{"b", 3, 0}) {
		t.Errorf("Top = %+v", top)
	}

	const capacity = 100
	tk := NewTopK[uint32](capacity)
	exact := map[uint32]uint64{}
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.3, 1, 100000)
	for range 200000 {
		k := uint32(z.Uint64())
		w := 40 + r.Uint64N(1460)
		tk.Add(k, w)
		exact[k] += w
	}
	var total uint64
	for _, w := range exact {
		total += w
	}
	if tk.Total() != total {
		t.Fatalf("Total %d, want %d", tk.Total(), total)
	}
	if tk.Len() != capacity {
		t.Errorf("%d keys kept, want %d", tk.Len(), capacity)
	}
	bound := total / capacity
	kept := map[uint32]bool{}
	for _, e := range tk.Top(capacity) {
		kept[e.Key] = true
		if e.Weight < exact[e.Key] || e.Weight-exact[e.Key] > e.Err || e.Err > bound {
			t.Errorf("key %d: estimate %d (err %d), true %d, bound %d", e.Key, e.Weight, e.Err, exact[e.Key], bound)
		}
	}
	heavy := 0
	for k, w := range exact {
		if w > bound {
			heavy++
			if !kept[k] {
				t.Errorf("key %d of weight %d > %d not kept", k, w, bound)
			}
		}
	}
	if heavy == 0 {
		t.Fatal("the stream has no heavy keys: the test proves nothing")
	}
}

// Reset empties a TopK: fed the same stream again, it ends as a new one does,
// whatever it held before.
func TestTopKReset(t *testing.T) {
	stream := func(seed uint64, n int, f func(k uint32, w uint64)) {
		r := rand.New(rand.NewPCG(seed, 9))
		z := rand.NewZipf(r, 1.2, 1, 5000)
		for range n {
			f(uint32(z.Uint64()), 1+r.Uint64N(1500))
		}
	}
	used := NewTopK[uint32](50)
	stream(1, 20000, used.Add)
	used.Reset()
	if used.Len() != 0 || used.Total() != 0 || len(used.Top(10)) != 0 {
		t.Fatalf("after Reset: %d keys, total %d", used.Len(), used.Total())
	}
	fresh := NewTopK[uint32](50)
	stream(2, 20000, used.Add)
	stream(2, 20000, fresh.Add)
	got, want := used.Top(50), fresh.Top(50)
	if used.Total() != fresh.Total() || len(got) != len(want) {
		t.Fatalf("reused: total %d, %d keys; new: total %d, %d keys", used.Total(), len(got), fresh.Total(), len(want))
	}
	// The same stream into the same structure evicts the same keys.
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("entry %d: reused %+v, new %+v", i, got[i], want[i])
		}
	}
	if n := len(fresh.Top(-1)); n != 0 {
		t.Errorf("Top(-1): %d entries", n)
	}
}

func BenchmarkTopKAdd(b *testing.B) {
	tk := NewTopK[uint32](1000)
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, 1<<20)
	keys := make([]uint32, 1<<16)
	for i := range keys {
		keys[i] = uint32(z.Uint64())
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tk.Add(keys[i&(len(keys)-1)], 1000)
	}
}
