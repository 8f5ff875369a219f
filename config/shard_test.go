package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func shardFile(n int, extra string) string {
	var b strings.Builder
	b.WriteString("data = \"/var/lib/mrtgo/mrtgo.db\"\nsite = \"/var/www/mrtgo\"\n" + extra + "\n")
	for i := range n {
		fmt.Fprintf(&b, "[[device]]\nname = \"r%d\"\nhost = \"192.0.2.%d\"\ninterfaces = [\"*\"]\n", i, i%250+1)
		if i < 30 {
			fmt.Fprintf(&b, "site = \"pop%d\"\n", i%3)
		}
		if i == 40 {
			b.WriteString("shard = 3\n")
		}
	}
	return b.String()
}

func TestShards(t *testing.T) {
	c, err := Parse("targets.toml", []byte(shardFile(400, "[shards]\npop1 = 2\n")))
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]int{}
	counts := make([]int, 5)
	for i := 1; i <= 4; i++ {
		s, err := c.ForShard(ShardSpec{i, 4})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join("/var/lib/mrtgo", fmt.Sprintf("shard-%d-of-4", i), "mrtgo.db"); s.Data != want {
			t.Errorf("shard %d: data %q, want %q", i, s.Data, want)
		}
		if want := filepath.Join("/var/www", fmt.Sprintf("shard-%d-of-4", i), "mrtgo"); s.Site != want {
			t.Errorf("shard %d: site %q, want %q", i, s.Site, want)
		}
		for _, d := range s.Devices {
			if j, dup := owner[d.Name]; dup {
				t.Errorf("%s in shards %d and %d", d.Name, j, i)
			}
			owner[d.Name] = i
			counts[i]++
		}
	}
	if len(owner) != 400 {
		t.Errorf("%d of 400 devices have a shard", len(owner))
	}
	for i := 1; i <= 4; i++ {
		if counts[i] < 60 || counts[i] > 140 {
			t.Errorf("shard %d has %d of 400 devices: hashing should spread them", i, counts[i])
		}
	}
	// A site's devices stay together; [shards] and shard pin.
	for i := range 30 {
		site := i % 3
		if o, first := owner[fmt.Sprintf("r%d", i)], owner[fmt.Sprintf("r%d", site)]; o != first {
			t.Errorf("r%d of pop%d is in shard %d, r%d of the same site in %d", i, site, o, site, first)
		}
	}
	if owner["r1"] != 2 || owner["r40"] != 3 {
		t.Errorf("pop1 in shard %d (want 2 from [shards]), r40 in %d (want 3 from its shard key)", owner["r1"], owner["r40"])
	}
	// Going from 4 to 5 pollers moves about a fifth of the hashed devices, not most.
	moved := 0
	for _, d := range c.Devices {
		if d.Site == "" && d.Shard == 0 && c.ShardOf(d, 5) != owner[d.Name] {
			moved++
		}
	}
	if moved > 370/3 {
		t.Errorf("%d of 370 hashed devices moved from 4 to 5 shards; rendezvous hashing moves about 74", moved)
	}
	if _, err := c.ForShard(ShardSpec{1, 2}); err == nil || !strings.Contains(err.Error(), `device "r40" is pinned to shard 3, but there are 2 shards`) {
		t.Errorf("pinned beyond N: %v", err)
	}
}

func TestShardMistakes(t *testing.T) {
	src := `[[device]]
name = "a"
host = "192.0.2.1"
interfaces = ["*"]
site = ""
shard = 0

[shards]
pop9 = 1
`
	_, err := Parse("targets.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		`targets.toml:5: device[1].site: site must not be empty`,
		`targets.toml:6: device[1].shard: shard 0: shards are numbered from 1`,
		`targets.toml:9: shards.pop9: no device has site = "pop9"`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{"0/4", "5/4", "2", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) succeeded", bad)
		}
	}
	if s, err := ParseShard(" 2/4 "); err != nil || s != (ShardSpec{2, 4}) {
		t.Errorf("ParseShard(2/4) = %v, %v", s, err)
	}
}
