package flow

import (
	"container/heap"
	"slices"
)

// TopK keeps the heaviest keys of a weighted stream (bytes per source address, say) in
// memory bounded by its capacity, whatever the number of distinct keys: the
// Space-Saving algorithm of Metwally, Agrawal and El Abbadi ("Efficient computation of
// frequent and top-k elements in data streams", 2005), with weights.
//
// Error bound: with capacity m and a stream of total weight N, every kept key's
// weight is overestimated by at most N/m (Err says by how much at most for each key),
// and every key whose true weight exceeds N/m is kept. Until more than m distinct keys
// have been seen, every weight is exact. Total is always exact, so that a top list and
// its "other" remainder (Total minus the listed weights) add up to what was seen.
type TopK[K comparable] struct {
	capacity int
	index    map[K]int // position in heap
	heap     topHeap[K]
	total    uint64
}

// TopEntry is a kept key: its estimated weight and the most it may be over.
type TopEntry[K comparable] struct {
	Key    K
	Weight uint64 // estimated: at least the true weight, at most Err above it
	Err    uint64
}

// NewTopK returns a TopK keeping at most capacity keys (at least one).
func NewTopK[K comparable](capacity int) *TopK[K] {
	capacity = max(capacity, 1)
	t := &TopK[K]{capacity: capacity, index: make(map[K]int, capacity)}
	t.heap.index = t.index
	return t
}

// Add adds weight to key.
func (t *TopK[K]) Add(key K, weight uint64) {
	t.total += weight
	if i, ok := t.index[key]; ok {
		t.heap.entries[i].Weight += weight
		heap.Fix(&t.heap, i)
		return
	}
	if len(t.heap.entries) < t.capacity {
		heap.Push(&t.heap, TopEntry[K]{Key: key, Weight: weight})
		return
	}
	// Full: the lightest key makes room, and the newcomer inherits its weight as
	// its possible overestimate.
	min := &t.heap.entries[0]
	delete(t.index, min.Key)
	t.index[key] = 0
	min.Key, min.Err = key, min.Weight
	min.Weight += weight
	heap.Fix(&t.heap, 0)
}

// Total is the weight of everything added, exact.
func (t *TopK[K]) Total() uint64 { return t.total }

// Len is the number of keys kept.
func (t *TopK[K]) Len() int { return len(t.heap.entries) }

// Top returns up to n kept keys, heaviest first (ties by smaller possible error).
func (t *TopK[K]) Top(n int) []TopEntry[K] {
	out := slices.Clone(t.heap.entries)
	slices.SortFunc(out, func(a, b TopEntry[K]) int {
		switch {
		case a.Weight != b.Weight:
			if a.Weight > b.Weight {
				return -1
			}
			return 1
		case a.Err != b.Err:
			if a.Err < b.Err {
				return -1
			}
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}

// topHeap is a min-heap of entries by weight, keeping index (key to position) current.
type topHeap[K comparable] struct {
	entries []TopEntry[K]
	index   map[K]int
}

func (h *topHeap[K]) Len() int           { return len(h.entries) }
func (h *topHeap[K]) Less(i, j int) bool { return h.entries[i].Weight < h.entries[j].Weight }
func (h *topHeap[K]) Swap(i, j int) {
	h.entries[i], h.entries[j] = h.entries[j], h.entries[i]
	h.index[h.entries[i].Key] = i
	h.index[h.entries[j].Key] = j
}
func (h *topHeap[K]) Push(x any) {
	e := x.(TopEntry[K])
	h.index[e.Key] = len(h.entries)
	h.entries = append(h.entries, e)
}
func (h *topHeap[K]) Pop() any {
	e := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	delete(h.index, e.Key)
	return e
}
