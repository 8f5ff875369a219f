#!/bin/sh
# Soak test of "mrtgo run" (not part of "make test"): DEVICES x IFACES simulated
# interfaces (10,000 by default) polled every STEP for DURATION seconds, with a SIGHUP
# reload every RELOAD_EVERY seconds (alternating between a targets file with and one
# without the last device) and one device that flaps (silent 25 s out of every 45 s).
# Every SAMPLE seconds it records RSS, goroutines, cycle lag and render backlog from
# /metrics and /proc into $OUT/samples.csv; at the end it prints a summary: cycles run
# against cycles expected, unknown rows of a steady interface, memory and goroutines
# at the start and the end.
#
#   scripts/soak.sh                      # 10 minutes, 10,000 interfaces, 10 s step
#   DURATION=120 DEVICES=20 scripts/soak.sh
set -eu

DURATION=${DURATION:-600}
STEP=${STEP:-10}
DEVICES=${DEVICES:-100}
IFACES=${IFACES:-100}
RELOAD_EVERY=${RELOAD_EVERY:-60}
SAMPLE=${SAMPLE:-10}
OUT=${OUT:-var/soak}
LISTEN=${LISTEN:-127.0.0.1:9180}

rm -rf "$OUT"
mkdir -p "$OUT"
go build -o "$OUT/mrtgo" ./cmd/mrtgo
go build -o "$OUT/soaksim" ./scripts/soaksim

"$OUT/soaksim" -devices "$DEVICES" -ifaces "$IFACES" -step "${STEP}s" -dir "$OUT" 2>"$OUT/soaksim.log" &
SIM=$!
MRTGO=
cleanup() {
	[ -n "$MRTGO" ] && kill "$MRTGO" 2>/dev/null || true
	kill "$SIM" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

i=0
while [ ! -s "$OUT/targets-alt.toml" ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && { echo "soak: simulator did not start" >&2; exit 1; }
	sleep 0.1
done
cp "$OUT/targets.toml" "$OUT/run.toml"
chmod 600 "$OUT/run.toml"

"$OUT/mrtgo" run -c "$OUT/run.toml" --listen "$LISTEN" --log-format json 2>"$OUT/mrtgo.log" &
MRTGO=$!

metric() { # name -> value of the first sample of that metric (no labels)
	printf '%s\n' "$SCRAPE" | awk -v m="$1" '$1 == m { print $2; exit }'
}

# rss_file_kb is mostly the store's mapped pages, which grow with the file over the first
# retention period; rss_anon_kb is the process's own memory.
echo "elapsed_s,rss_kb,rss_anon_kb,rss_file_kb,goroutines,heap_bytes,cycle_lag_s,render_skipped,reloads_ok,cycles" >"$OUT/samples.csv"
start=$(date +%s)
next_reload=$RELOAD_EVERY
alt=0
while :; do
	sleep "$SAMPLE"
	now=$(date +%s)
	el=$((now - start))
	kill -0 "$MRTGO" 2>/dev/null || { echo "soak: mrtgo died; see $OUT/mrtgo.log" >&2; exit 1; }
	SCRAPE=$(curl -s --max-time 5 "http://$LISTEN/metrics" || true)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$MRTGO/status")
	anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$MRTGO/status")
	file=$(awk '/^RssFile/ { print $2 }' "/proc/$MRTGO/status")
	cycles=$(grep -c '"cycle done"' "$OUT/mrtgo.log" || true)
	reloads=$(printf '%s\n' "$SCRAPE" | awk '$1 == "mrtgo_config_reloads_total{result=\"ok\"}" { print $2 }')
	echo "$el,$rss,$anon,$file,$(metric go_goroutines),$(metric go_memstats_heap_alloc_bytes),$(metric mrtgo_cycle_lag_seconds),$(metric mrtgo_render_backlog_skipped_total),$reloads,$cycles" >>"$OUT/samples.csv"
	if [ "$el" -ge "$next_reload" ]; then
		if [ $alt -eq 0 ]; then cp "$OUT/targets-alt.toml" "$OUT/run.toml"; alt=1; else cp "$OUT/targets.toml" "$OUT/run.toml"; alt=0; fi
		kill -HUP "$MRTGO"
		next_reload=$((next_reload + RELOAD_EVERY))
	fi
	[ "$el" -ge "$DURATION" ] && break
done

kill "$MRTGO"
wait "$MRTGO" || true
MRTGO=

cycles=$(grep -c '"cycle done"' "$OUT/mrtgo.log" || true)
expected=$((DURATION / STEP))
errors=$(grep -c '"level":"ERROR"' "$OUT/mrtgo.log" || true)
steady=$(sed -n 's/^name = "\(dev0002\)"$/\1/p' "$OUT/targets.toml" | head -1)
"$OUT/mrtgo" fetch -c "$OUT/run.toml" --device "${steady:-dev0002}" --interface xe-0/0/0 >"$OUT/fetch.csv" 2>/dev/null || true
# Rows of the soak after its first two minutes (the series start) that are unknown.
since=$(date -u -d "@$((start + 120))" +%Y-%m-%dT%H:%M:%S)
until=$(date -u -d "@$((start + DURATION - STEP))" +%Y-%m-%dT%H:%M:%S)
rows=$(awk -F, -v a="$since" -v b="$until" '$1 >= a && $1 <= b' "$OUT/fetch.csv" | wc -l)
unknown=$(awk -F, -v a="$since" -v b="$until" '$1 >= a && $1 <= b && ($2 == "" || $3 == "")' "$OUT/fetch.csv" | wc -l)

echo "soak: $DEVICES devices x $IFACES interfaces, step ${STEP}s, ${DURATION}s, reload every ${RELOAD_EVERY}s"
echo "cycles: $cycles run, about $expected expected; error log lines: $errors"
echo "steady interface ${steady:-dev0002} xe-0/0/0: $unknown unknown of $rows rows after the first two minutes"
grep '"cycle done"' "$OUT/mrtgo.log" | sed -n 's/.*"commit":\([0-9]*\).*/\1/p' | sort -n |
	awk '{ a[NR] = $1 / 1e6 } END { if (NR) printf "commit ms: median %g, p95 %g, max %g\n", a[int((NR+1)/2)], a[int(NR*0.95)+0], a[NR] }'
grep '"render done"' "$OUT/mrtgo.log" | sed -n 's/.*"drawn":\([0-9]*\),"render":\([0-9]*\).*/\1 \2/p' |
	awk '{ n++; g += $1; s += $2 / 1e9; if ($2 / 1e9 > m) m = $2 / 1e9 } END { if (n) printf "render passes: %d, %d graphs, mean %.1f s, max %.1f s\n", n, g, s / n, m }'
echo "first and last samples (elapsed_s,rss_kb,rss_anon_kb,rss_file_kb,goroutines,heap_bytes,cycle_lag_s,render_skipped,reloads_ok,cycles):"
sed -n 2,3p "$OUT/samples.csv"
tail -2 "$OUT/samples.csv"
echo "all samples: $OUT/samples.csv; logs: $OUT/mrtgo.log, $OUT/soaksim.log"
