package config

import (
	"fmt"
	"hash/fnv"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Sharding: several pollers share one targets file, each polling part of it. A
// device's shard is its own shard key when it has one, else its site's entry in
// [shards] when there is one, else a stable hash of its site (or, without a site, of
// its name) among the shards: rendezvous hashing, so that going from N to N+1
// pollers moves about one device in N+1 instead of most of them, as a modulus would.

// ShardSpec is a poller's part, I of N (1 ≤ I ≤ N), as "--shard 2/4" says.
type ShardSpec struct {
	I, N int
}

// ParseShard reads "I/N".
func ParseShard(s string) (ShardSpec, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return ShardSpec{}, fmt.Errorf("shard %q: want I/N with 1 <= I <= N, e.g. 2/4", s)
	}
	return ShardSpec{i, n}, nil
}

func (s ShardSpec) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// ShardOf returns the shard (1 to n) that polls d.
func (c *Config) ShardOf(d Device, n int) int {
	if d.Shard > 0 {
		return d.Shard
	}
	if s, ok := c.Shards[d.Site]; ok && d.Site != "" {
		return s
	}
	key := d.Name
	if d.Site != "" {
		key = "site:" + d.Site
	}
	best, bestH := 1, uint64(0)
	for i := 1; i <= n; i++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%d", key, i)
		if v := mix(h.Sum64()); i == 1 || v > bestH {
			best, bestH = i, v
		}
	}
	return best
}

// mix is MurmurHash3's 64-bit finalizer: FNV-1a alone leaves the high bits of names
// that differ only at their end too alike for the comparison of rendezvous hashing.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// CheckShards reports the devices and sites pinned to a shard beyond n.
func (c *Config) CheckShards(n int) error {
	var errs Errors
	for i, d := range c.Devices {
		if d.Shard > n {
			errs = append(errs, &Error{File: c.File, Line: d.ShardLine, Key: fmt.Sprintf("device[%d].shard", i+1),
				Msg: fmt.Sprintf("device %q is pinned to shard %d, but there are %d shards", d.Name, d.Shard, n)})
		}
	}
	for _, site := range slices.Sorted(maps.Keys(c.Shards)) {
		if s := c.Shards[site]; s > n {
			errs = append(errs, &Error{File: c.File, Line: c.shardLines[site], Key: "shards." + site,
				Msg: fmt.Sprintf("site %q is pinned to shard %d, but there are %d shards", site, s, n)})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ForShard returns the configuration of one poller of several: the devices of its
// shard only, and every path it writes (store, site, flow store, event log, packet
// captures, remote-write queue) in a directory of its own, "shard-I-of-N" beside the
// configured one, so that pollers on one machine sharing the file never share a
// store. It fails when a device or site is pinned beyond N.
func (c *Config) ForShard(s ShardSpec) (*Config, error) {
	if err := c.CheckShards(s.N); err != nil {
		return nil, err
	}
	out := *c
	out.Devices = nil
	for _, d := range c.Devices {
		if c.ShardOf(d, s.N) == s.I {
			out.Devices = append(out.Devices, d)
		}
	}
	sub := fmt.Sprintf("shard-%d-of-%d", s.I, s.N)
	for _, p := range []*string{&out.Data, &out.Site, &out.Flows.Data, &out.Events.Data, &out.Detect.Capture.Dir, &out.RemoteWrite.Queue} {
		if *p != "" {
			*p = filepath.Join(filepath.Dir(*p), sub, filepath.Base(*p))
		}
	}
	out.Shard = s
	return &out, nil
}

// shards checks the devices' site and shard keys and [shards].
func (p *parser) shards(f *file, c *Config) {
	sites := map[string]bool{}
	for i := range c.Devices {
		if i >= len(f.Devices) {
			break
		}
		d := &c.Devices[i]
		if s := f.Devices[i].Site; s != nil {
			if strings.TrimSpace(*s) == "" {
				p.bad("device", i, "site", nil, "site must not be empty")
			} else {
				d.Site = strings.TrimSpace(*s)
				sites[d.Site] = true
			}
		}
		if s := f.Devices[i].Shard; s != nil {
			if *s < 1 {
				p.bad("device", i, "shard", nil, "shard %d: shards are numbered from 1", *s)
			} else {
				d.Shard = *s
				d.ShardLine, _ = p.loc.line("device", i, "shard")
			}
		}
	}
	for _, site := range slices.Sorted(maps.Keys(f.Shards)) {
		n := f.Shards[site]
		switch {
		case n < 1:
			p.bad("shards", -1, site, nil, "shard %d: shards are numbered from 1", n)
		case !sites[site]:
			p.bad("shards", -1, site, nil, "no device has site = %q", site)
		default:
			if c.Shards == nil {
				c.Shards, c.shardLines = map[string]int{}, map[string]int{}
			}
			c.Shards[site] = n
			c.shardLines[site], _ = p.loc.line("shards", -1, site)
		}
	}
}
