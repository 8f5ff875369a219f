package flow

import (
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
//
// A TopK is not safe for concurrent use. Reset empties it for reuse, keeping its
// memory.
type TopK[K comparable] struct {
	capacity int
	index    map[K]int32 // key to its counter
	counters []topCounter[K]
	heap     []topNode // min-heap of the counters by weight
	total    uint64
}

// topCounter is a kept key. Its place never changes while the key is kept, so
// that the index is written only when a key comes or goes, never when the heap
// moves it; pos is where the heap holds its weight.
type topCounter[K comparable] struct {
	key K
	err uint64
	pos int32
}

// topNode is a heap element: the weight beside the counter's number, so that
// sifting compares neighbouring memory.
type topNode struct {
	w  uint64
	id int32
}

// TopEntry is a kept key: its estimated weight and the most it may be over.
type TopEntry[K comparable] struct {
	Key    K
	Weight uint64 // estimated: at least the true weight, at most Err above it
	Err    uint64
}

// NewTopK returns a TopK keeping at most capacity keys (at least one). Its memory
// grows with the keys kept, up to capacity.
func NewTopK[K comparable](capacity int) *TopK[K] {
	return &TopK[K]{capacity: min(max(capacity, 1), 1<<30), index: map[K]int32{}}
}

// Add adds weight to key.
func (t *TopK[K]) Add(key K, weight uint64) {
	t.total += weight
	if id, ok := t.index[key]; ok {
		p := t.counters[id].pos
		t.heap[p].w += weight
		t.down(int(p))
		return
	}
	if len(t.counters) < t.capacity {
		id := int32(len(t.counters))
		t.index[key] = id
		t.counters = append(t.counters, topCounter[K]{key: key, pos: int32(len(t.heap))})
		t.heap = append(t.heap, topNode{w: weight, id: id})
		t.up(len(t.heap) - 1)
		return
	}
	// Full: the lightest key makes room, and the newcomer inherits its weight as
	// its possible overestimate.
	root := &t.heap[0]
	c := &t.counters[root.id]
	delete(t.index, c.key)
	t.index[key] = root.id
	c.key, c.err = key, root.w
	root.w += weight
	t.down(0)
}

// Reset forgets every key and the total, keeping the memory for reuse.
func (t *TopK[K]) Reset() {
	clear(t.index)
	t.counters = t.counters[:0]
	t.heap = t.heap[:0]
	t.total = 0
}

// Total is the weight of everything added, exact.
func (t *TopK[K]) Total() uint64 { return t.total }

// Len is the number of keys kept.
func (t *TopK[K]) Len() int { return len(t.counters) }

// Top returns up to n kept keys, heaviest first (ties by smaller possible error).
func (t *TopK[K]) Top(n int) []TopEntry[K] {
	out := make([]TopEntry[K], len(t.counters))
	for i, c := range t.counters {
		out[i] = TopEntry[K]{Key: c.key, Weight: t.heap[c.pos].w, Err: c.err}
	}
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
	return out[:min(max(n, 0), len(out))]
}

// up moves the node at i towards the root while it is lighter than its parent.
func (t *TopK[K]) up(i int) {
	h := t.heap
	n := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if h[p].w <= n.w {
			break
		}
		h[i] = h[p]
		t.counters[h[i].id].pos = int32(i)
		i = p
	}
	h[i] = n
	t.counters[n.id].pos = int32(i)
}

// down moves the node at i towards the leaves while a child is lighter: a weight
// only grows, so this is the only way it moves once pushed.
func (t *TopK[K]) down(i int) {
	h := t.heap
	n := h[i]
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && h[r].w < h[c].w {
			c = r
		}
		if h[c].w >= n.w {
			break
		}
		h[i] = h[c]
		t.counters[h[i].id].pos = int32(i)
		i = c
	}
	h[i] = n
	t.counters[n.id].pos = int32(i)
}
