package rrd

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestDbgCase(t *testing.T) {
	c := 39
	r := rand.New(rand.NewPCG(uint64(c), 42))
	spec := randSpec(r)
	start := 1700000000 + r.Int64N(1000000)
	ups := randStream(r, spec, start, 150+r.IntN(300), c%3 == 2)
	for _, u := range ups {
		if u.t > 1700976800 && u.t < 1700977200 {
			fmt.Println(u.t, u.usec, u.vals)
		}
	}
	fmt.Println(spec.Step, spec.Heartbeat)
}
