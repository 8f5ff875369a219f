# mrtgo — see README.md. `make demo` runs the built-in simulated network; `make test` runs every check.
GO          ?= go
BIN         := bin/mrtgo
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEMO_OUT    ?= var/demo
BENCHTIME   ?= 200ms
# Runs of each benchmark: five, or one for a quick look (BENCHTIME=1x).
BENCHCOUNT  ?= $(if $(filter 1x,$(BENCHTIME)),1,5)
# Each benchmark process on one CPU, the fastest (PIN=false: where the system puts it).
PIN         ?= true
TEST_FUZZTIME ?= 2000x

.PHONY: all build test lint vet fmt-check staticcheck demo demo-once bench fuzz clean

all: build

# A static binary (no cgo): it copies to any Linux of the same architecture, and it
# starts in about 20 ms instead of 26-34 ms (no dynamic loader, no libc threads), which is
# a third of a cron "poll --once" of 1,000 interfaces.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/mrtgo

# Everything CI checks: formatting, vet, staticcheck, all tests with the race detector,
# then each fuzz target for TEST_FUZZTIME inputs beyond its committed seed corpus. A count,
# not a duration: Go 1.26's fuzzer can fail with a bare "context deadline exceeded" when
# a duration runs out mid-input (golang/go#75804), which is no finding.
# The race detector slows the simulator ten times over: the scale test of four sharded
# pollers over 100,000 simulated interfaces runs at a tenth of its size under it, then
# at full size without.
test: lint
	$(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -timeout 10m -run '^TestFourShardsCoverNetwork$$' ./cmd/mrtgo
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# The main job on the embedded default network: back-fills a year of history, then polls
# the simulator live, re-renders and serves. Open the URL it prints; Ctrl-C stops it.
demo: build
	./$(BIN) demo --out $(DEMO_OUT)

# Build the demo site once and exit (open $(DEMO_OUT)/site/index.html).
demo-once: build
	./$(BIN) demo --once --out $(DEMO_OUT)

# Benchmarks of the poll cycle, the store commit and rendering, printed as one table.
# The test binaries are built once; every run of a benchmark is then a process of its
# own. A first pass runs each benchmark once to build the fixtures (stores that take
# seconds to build, kept for the later passes, each of which works on a copy of a
# store it changes) and is not counted, then BENCHCOUNT
# passes run each of them once more; each run repeats the operation until BENCHTIME has
# passed (at least once) and reports the mean. A benchmark whose first run took 10 s or
# more (a minute of flow ingest) counts that run and runs again in the last pass only.
# One whose median the runs do not pin down (its 90% interval wider than 1.3x) runs
# again in extra passes, at most eight or 15 minutes of them. The table shows, per
# benchmark and size, the median of the runs for every figure and the fastest and
# slowest run's time/op, then each pass's machine, memory and disk speed. Each process runs on one CPU,
# the fastest when it starts, and follows the fastest (each virtual CPU has slow phases
# of its own; see the README). `make bench BENCHTIME=1x` is a
# quick look: one run, one operation each, no range. Two tables are compared with
#   go run ./internal/benchtable -compare old.txt new.txt
bench:
	$(GO) run ./internal/benchtable -benchtime $(BENCHTIME) -count $(BENCHCOUNT) -pin=$(PIN)

# Each fuzz target for FUZZTIME (plain `go test` already runs their seed corpora). A
# failure leaves the input under the package's testdata/fuzz; commit it with the fix.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./config     -run '^$$' -fuzz '^FuzzParse$$'     -fuzztime $(FUZZTIME)
	$(GO) test ./mrtgimport -run '^$$' -fuzz '^FuzzParse$$'     -fuzztime $(FUZZTIME)
	$(GO) test ./mrtgimport -run '^$$' -fuzz '^FuzzReadLog$$'   -fuzztime $(FUZZTIME)
	$(GO) test ./mrtgimport -run '^$$' -fuzz '^FuzzParseDump$$' -fuzztime $(FUZZTIME)
	$(GO) test ./rrd        -run '^$$' -fuzz '^FuzzUpdate$$'    -fuzztime $(FUZZTIME)
	$(GO) test ./poller     -run '^$$' -fuzz '^FuzzResponses$$' -fuzztime $(FUZZTIME)
	$(GO) test ./poller     -run '^$$' -fuzz '^FuzzRestore$$'   -fuzztime $(FUZZTIME)
	$(GO) test ./internal/snmp -run '^$$' -fuzz '^FuzzWalk$$' -fuzztime $(FUZZTIME)
	$(GO) test ./flow -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./flowstore -run '^$$' -fuzz '^FuzzSegment$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s
	$(GO) test ./flowquery -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/pipeline -run '^$$' -fuzz '^FuzzDecodeDrawn$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/pipeline -run '^$$' -fuzz '^FuzzAppendInfo$$' -fuzztime $(FUZZTIME)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzEscapeText$$' -fuzztime $(FUZZTIME)
	$(GO) test ./capture -run '^$$' -fuzz '^FuzzMatchFrame$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin var
