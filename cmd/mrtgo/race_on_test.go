//go:build race

package main

// raceEnabled says the tests run with the race detector, which slows the simulated
// agents serving 100,000 interfaces ten times over: scale tests shrink under it and
// run at full size in make test's run without it.
const raceEnabled = true
