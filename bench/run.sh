#!/usr/bin/env bash
# sluice benchmarks. Usage: bench/run.sh [throughput|rss|rate|backpressure|metrics|filter|follow|all]
#
# Environment:
#   SIZE=1G          corpus size for throughput (K/M/G/T, powers of 1024)
#   SEED=1           gen_logs seed
#   RUNS=3           runs per case (the median is reported)
#   BENCH_DIR=/tmp/sluice-bench   where corpora are kept and reused
#   BUILD_DIR=./build              where scripts/setup.sh builds
#   SKIP_BUILD=1     do not run scripts/setup.sh (use existing binaries)
#   SLUICE=path GEN_LOGS=path      override the binaries
#   JQ_SLICE=64M     how much of the corpus jq reads
#   RATE_DURATION=20 seconds of the rate test     DURATION=60 seconds of the backpressure test
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-throughput}
case $mode in
  throughput|rss|rate|backpressure|metrics|filter|follow|all) ;;
  -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "usage: bench/run.sh [throughput|rss|rate|backpressure|metrics|filter|follow|all]" >&2; exit 2 ;;
esac

SIZE=${SIZE:-1G}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
BUILD_DIR=${BUILD_DIR:-$here/build}
JQ_SLICE=${JQ_SLICE:-64M}
RATE_DURATION=${RATE_DURATION:-20}
DURATION=${DURATION:-60}
SLUICE=${SLUICE:-$BUILD_DIR/sluice}
GEN=${GEN_LOGS:-$BUILD_DIR/gen_logs}
TIME=/usr/bin/time

die() { echo "bench: $*" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-run.XXXXXX")
BG_PIDS=()   # background processes this script started; ended on exit
cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# alive PID: the process exists and is not a zombie
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
note() { echo "bench: $*" >&2; }

# "100M" -> 104857600 (K/M/G/T and KiB.. suffixes, powers of 1024)
to_bytes() {
  local s=$1 n u
  [[ $s =~ ^([0-9]+)([KkMmGgTt]?)(i?B)?$ ]] || die "bad size '$s'"
  n=${BASH_REMATCH[1]}; u=${BASH_REMATCH[2]}
  case $u in
    K|k) echo $((n << 10)) ;; M|m) echo $((n << 20)) ;;
    G|g) echo $((n << 30)) ;; T|t) echo $((n << 40)) ;; *) echo "$n" ;;
  esac
}
now_ns() { date +%s%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
  else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- setup

ensure_time() {
  [ -x "$TIME" ] && return
  note "installing GNU time (package 'time')"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time \
    >/dev/null || die "could not install package 'time'"
}

build() {
  if [ "${SKIP_BUILD:-0}" = 1 ]; then return; fi
  note "building Release into $BUILD_DIR (scripts/setup.sh)"
  SLUICE_BUILD_TYPE=Release "$here/scripts/setup.sh" "$BUILD_DIR" >&2
}

need_bins() {
  [ -x "$GEN" ] || die "gen_logs not found at $GEN (build first, or set GEN_LOGS)"
  [ -x "$SLUICE" ] || die "sluice not found at $SLUICE (build first, or set SLUICE)"
}

# corpus BYTES -> prints the path of a corpus of at most BYTES bytes (whole lines) for SEED.
# gen_logs output for a smaller size is a prefix of a larger one with the same seed.
corpus() {
  local bytes=$1 f
  mkdir -p "$BENCH_DIR"
  f="$BENCH_DIR/logs-$bytes-seed$SEED.ndjson"
  if [ ! -s "$f" ] || [ ! -s "$f.lines" ]; then
    note "generating $(mib "$bytes") MiB corpus $f"
    "$GEN" --bytes "$bytes" --seed "$SEED" >"$f.tmp"
    wc -l <"$f.tmp" | tr -d ' ' >"$f.lines"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

header() {
  echo
  echo "## $1"
  echo
}

context() {
  echo "# sluice benchmark"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- host: $(nproc) hardware threads, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?'), kernel $(uname -r)"
  echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- sluice: $("$SLUICE" --version </dev/null 2>/dev/null | head -1 || true) ($SLUICE)"
  echo "- seed $SEED, $RUNS runs per case (median), corpora in $BENCH_DIR"
}

# ---------------------------------------------------------------- throughput

RSSF=$WORK/time.out
# each case runs once; /usr/bin/time writes "%e %M" of the measured process to $RSSF
case_cat()          { "$TIME" -f '%e %M' -o "$RSSF" cat "$CORPUS" >/dev/null; }
case_sluice_file()  { "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" "$CORPUS" >/dev/null; }
# shellcheck disable=SC2002  # the pipe is the point of this case
case_sluice_pipe()  { cat "$CORPUS" | "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" >/dev/null; }
case_sluice_1t()    { "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" --parse-threads 1 "$CORPUS" >/dev/null; }
case_jq()           { "$TIME" -f '%e %M' -o "$RSSF" jq -c . "$SLICE" >/dev/null; }

# measure LABEL BYTES FUNCTION -> prints a table row; sets LAST_MIBS
LAST_MIBS=0
measure() {
  local label=$1 bytes=$2 fn=$3 i t0 t1 secs=() rss=() s r
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ns)
    $fn || die "case '$label' failed (run $((i + 1)))"
    t1=$(now_ns)
    secs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')")
    rss+=("$(tail -n 1 "$RSSF" | awk '{ print $2 }')")
  done
  s=$(printf '%s\n' "${secs[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  LAST_MIBS=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%.1f", b / 1048576 / s }')
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$(mib "$bytes")" "$LAST_MIBS" \
    "$(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }')" "${secs[*]}"
}

throughput() {
  local bytes slice_bytes lines got sluice_mibs jq_mibs
  bytes=$(to_bytes "$SIZE")
  CORPUS=$(corpus "$bytes")
  slice_bytes=$(to_bytes "$JQ_SLICE")
  ((slice_bytes <= bytes)) || slice_bytes=$bytes
  SLICE=$(corpus "$slice_bytes")   # the first JQ_SLICE bytes of CORPUS (same seed: a prefix)
  bytes=$(stat -c %s "$CORPUS"); slice_bytes=$(stat -c %s "$SLICE")

  cat "$CORPUS" >/dev/null   # warm the page cache
  lines=$(cat "$CORPUS.lines")
  got=$("$SLUICE" "$CORPUS" | wc -l) || die "sluice failed on $CORPUS"
  [ "$got" = "$lines" ] || note "WARNING: sluice wrote $got lines, corpus has $lines"

  header "Throughput ($(mib "$bytes") MiB corpus, $lines lines; jq on the first $(mib "$slice_bytes") MiB)"
  echo "| case | input MiB | MiB/s (median) | peak RSS MiB | seconds per run |"
  echo "|---|---:|---:|---:|---|"
  measure 'cat file >/dev/null' "$bytes" case_cat
  measure 'sluice file >/dev/null' "$bytes" case_sluice_file
  sluice_mibs=$LAST_MIBS
  measure 'cat file \| sluice >/dev/null' "$bytes" case_sluice_pipe
  measure 'sluice --parse-threads 1 file >/dev/null' "$bytes" case_sluice_1t
  measure 'jq -c . slice >/dev/null' "$slice_bytes" case_jq
  jq_mibs=$LAST_MIBS
  echo
  echo "Peak RSS is the measured process's (in the pipe case sluice's, not cat's). MiB/s is input"
  echo "bytes over wall time; the page cache is warm. The jq slice is the corpus's first lines."
  echo
  awk -v a="$sluice_mibs" -v b="$jq_mibs" \
    'BEGIN { printf "sluice (file) / jq: **%.1f×** (%s vs %s MiB/s)\n", a / b, a, b }'
}

# ---------------------------------------------------------------- rss

rss() {
  local small big f rss_small rss_big budget
  small=$(corpus "$(to_bytes 100M)"); big=$(corpus "$(to_bytes 1G)")
  header "Peak RSS at default flags (file input, median of $RUNS)"
  echo "| input | peak RSS MiB | runs (MiB) |"
  echo "|---|---:|---|"
  for f in "$small" "$big"; do
    local vals=() i
    for ((i = 0; i < RUNS; i++)); do
      "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" "$f" >/dev/null || die "sluice failed on $f"
      vals+=("$(tail -n 1 "$RSSF" | awk '{ printf "%.1f", $2 / 1024 }')")
    done
    local m; m=$(printf '%s\n' "${vals[@]}" | median)
    printf '| %s MiB | %s | %s |\n' "$(mib "$(stat -c %s "$f")")" "$m" "${vals[*]}"
    if [ "$f" = "$small" ]; then rss_small=$m; else rss_big=$m; fi
  done
  echo
  awk -v a="$rss_big" -v b="$rss_small" \
    'BEGIN { printf "RSS(1 GiB) / RSS(100 MiB): **%.2f** (bounded memory: close to 1)\n", a / b }'
  budget=$("$SLUICE" --log-level debug /dev/null 2>&1 >/dev/null | grep -i -m1 budget || true)
  [ -z "$budget" ] || echo "sluice's own budget (--log-level debug): \`$budget\`"
}

# ---------------------------------------------------------------- rate

rate() {
  local work=$WORK/rate t0 t1 delivered elapsed rcs
  mkdir -p "$work"
  header "Rate limit: gen_logs --forever | sluice --rate 5000/s --stats=1 (SIGINT after ${RATE_DURATION}s)"
  t0=$(now_ns)
  set +e
  "$GEN" --forever --seed "$SEED" \
    | timeout --preserve-status -s INT -k 30 "$RATE_DURATION" "$SLUICE" --rate 5000/s --stats=1 2>"$work/stats" \
    | wc -l >"$work/count"
  rcs=("${PIPESTATUS[@]}")
  set -e
  t1=$(now_ns)
  delivered=$(tr -d ' ' <"$work/count")
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  echo "| elapsed s | delivered | expected (5000 × elapsed) | error % |"
  echo "|---:|---:|---:|---:|"
  awk -v d="$delivered" -v e="$elapsed" 'BEGIN { x = 5000 * e;
    printf "| %s | %d | %.0f | %+.2f |\n", e, d, x, (d - x) / x * 100 }'
  echo
  echo "exit codes: gen_logs ${rcs[0]}, sluice ${rcs[1]} (0: drained; 1: drain timed out), wc ${rcs[2]};" \
    "$(wc -l <"$work/stats" | tr -d ' ') stats lines on stderr"
  if [ -s "$work/stats" ]; then
    echo
    echo "last stats line:"
    echo
    echo '```'
    tail -n 1 "$work/stats" | cut -c1-2000
    echo '```'
  fi
}

# ---------------------------------------------------------------- backpressure

backpressure() {
  local work=$WORK/bp sp gp i t start rss_kb wchan state wchar samples=0 blocked=0
  local first_rss="" last_rss=0 max_rss=0
  mkdir -p "$work"
  header "Backpressure: gen_logs --forever | sluice --rate 2000/s >/dev/null for ${DURATION}s"
  # The subshell records gen_logs' PID; $! is sluice's (the last command of the pipeline).
  ( "$GEN" --forever --seed "$SEED" & echo $! >"$work/gen.pid"; wait $! ) \
    | "$SLUICE" --rate 2000/s >/dev/null &
  sp=$!
  BG_PIDS+=("$sp")
  for ((i = 0; i < 100; i++)); do [ -s "$work/gen.pid" ] && break; sleep 0.05; done
  gp=$(cat "$work/gen.pid")
  BG_PIDS+=("$gp")
  start=$(now_ns)

  echo "| t s | sluice RSS MiB | generator wchan | generator state | generator written MiB |"
  echo "|---:|---:|---|---|---:|"
  for ((t = 5; t <= DURATION; t += 5)); do
    # sleep until start + t seconds
    sleep "$(awk -v s="$start" -v n="$(now_ns)" -v t="$t" \
      'BEGIN { d = t - (n - s) / 1e9; if (d < 0) d = 0; printf "%.3f", d }')"
    alive "$sp" || die "sluice exited early"
    rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$sp/status" 2>/dev/null || echo 0)
    wchan=$(cat "/proc/$gp/wchan" 2>/dev/null || echo '?'); [ -n "$wchan" ] || wchan='?'
    state=$(sed 's/.*) //' "/proc/$gp/stat" 2>/dev/null | awk '{ print $1 }' || echo '?')
    wchar=$(awk '/^wchar:/ { printf "%.1f", $2 / 1048576 }' "/proc/$gp/io" 2>/dev/null || echo '-')
    printf '| %d | %s | %s | %s | %s |\n' "$t" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" \
      "$wchan" "$state" "${wchar:--}"
    samples=$((samples + 1))
    if [[ $wchan == *pipe_write* || $wchan == *pipe_wait* ]]; then blocked=$((blocked + 1)); fi
    if [ -z "$first_rss" ]; then first_rss=$rss_kb; fi
    last_rss=$rss_kb
    if ((rss_kb > max_rss)); then max_rss=$rss_kb; fi
  done

  kill -INT "$sp" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do alive "$sp" || break; sleep 0.05; done
  if alive "$sp"; then
    note "sluice still running 10 s after SIGINT; killing it"
    kill -KILL "$sp" 2>/dev/null || true
  fi
  wait "$sp" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$gp" || break; sleep 0.05; done
  echo
  echo "generator blocked in pipe_write at $blocked of $samples samples;" \
    "sluice RSS first $(awk -v k="${first_rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MiB," \
    "last $(awk -v k="${last_rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MiB," \
    "max $(awk -v k="$max_rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
}

# ---------------------------------------------------------------- filter

WHERE_SIMPLE='level == "error"'
JQ_SIMPLE='select(.level == "error")'
WHERE_THREE='level == "error" and req.method =~ "^(POST|PUT)$" and latency_ms > 250'
JQ_THREE='select(.level == "error" and ((.req.method // "") | test("^(POST|PUT)$")) and .latency_ms > 250)'
case_where_simple() { "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" --where "$WHERE_SIMPLE" "$CORPUS" >/dev/null; }
case_jq_simple()    { "$TIME" -f '%e %M' -o "$RSSF" jq -c "$JQ_SIMPLE" "$SLICE" >/dev/null; }
case_where_three()  { "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" --where "$WHERE_THREE" "$CORPUS" >/dev/null; }
case_jq_three()     { "$TIME" -f '%e %M' -o "$RSSF" jq -c "$JQ_THREE" "$SLICE" >/dev/null; }
case_select_logfmt() {
  "$TIME" -f '%e %M' -o "$RSSF" "$SLUICE" --where "$WHERE_SIMPLE" --select ts,service,msg,req.path \
    --format logfmt "$CORPUS" >/dev/null
}

# --where against jq's select with the same meaning, same corpus and run.
filter() {
  local bytes slice_bytes s1 j1 s3 j3 n_s n_j
  bytes=$(to_bytes "$SIZE")
  CORPUS=$(corpus "$bytes")
  slice_bytes=$(to_bytes "$JQ_SLICE")
  ((slice_bytes <= bytes)) || slice_bytes=$bytes
  SLICE=$(corpus "$slice_bytes")
  bytes=$(stat -c %s "$CORPUS"); slice_bytes=$(stat -c %s "$SLICE")
  cat "$CORPUS" >/dev/null
  # Same meaning: both keep the same number of events on the slice.
  n_s=$("$SLUICE" --where "$WHERE_THREE" "$SLICE" | wc -l)
  n_j=$(jq -c "$JQ_THREE" "$SLICE" | wc -l)
  [ "$n_s" = "$n_j" ] || note "WARNING: three-clause filter kept $n_s events in sluice, $n_j in jq"
  header "Filtering ($(mib "$bytes") MiB corpus; jq on the first $(mib "$slice_bytes") MiB)"
  echo "- simple: \`--where '$WHERE_SIMPLE'\` vs \`jq -c '$JQ_SIMPLE'\`"
  echo "- three clauses: \`--where '$WHERE_THREE'\`"
  echo "  vs \`jq -c '$JQ_THREE'\` (both keep $n_s of the slice's events)"
  echo
  echo "| case | input MiB | MiB/s (median) | peak RSS MiB | seconds per run |"
  echo "|---|---:|---:|---:|---|"
  measure 'sluice --where simple' "$bytes" case_where_simple; s1=$LAST_MIBS
  measure 'jq select simple' "$slice_bytes" case_jq_simple; j1=$LAST_MIBS
  measure 'sluice --where three clauses' "$bytes" case_where_three; s3=$LAST_MIBS
  measure 'jq select three clauses' "$slice_bytes" case_jq_three; j3=$LAST_MIBS
  measure 'sluice --where simple --select 4 fields --format logfmt' "$bytes" case_select_logfmt
  echo
  awk -v a="$s1" -v b="$j1" 'BEGIN { printf "simple filter: sluice / jq = **%.1f×**\n", a / b }'
  awk -v a="$s3" -v b="$j3" 'BEGIN { printf "three clauses: sluice / jq = **%.1f×**\n", a / b }'
}

# ---------------------------------------------------------------- follow

# -F: how fast sluice keeps up with 4 files appended to as fast as a writer can; its CPU
# when the followed files do not change; and write-to-output latency at 10k lines/s.
follow() {
  local dir per total_bytes total_lines sp t0 t1 got i probe cpu0 cpu1 ticks
  probe=${FOLLOW_PROBE:-$BUILD_DIR/follow_probe}
  [ -x "$probe" ] || die "missing $probe (build the follow_probe target)"
  dir=$WORK/follow; mkdir -p "$dir"
  per=$(to_bytes "${FOLLOW_SIZE:-256M}")
  header "Following files (-F)"
  for i in 1 2 3 4; do : >"$dir/app$i.log"; done
  "$SLUICE" -F --stats=1 --stats-file "$WORK/follow.stats" "$dir/*.log" >/dev/null 2>"$WORK/follow.err" &
  sp=$!; BG_PIDS+=("$sp")
  sleep 0.5   # let it open the (empty) files before they grow
  t0=$(now_ns)
  for i in 1 2 3 4; do "$GEN" --bytes "$per" --seed "$i" >>"$dir/app$i.log" & done
  wait_writers() { local p; for p in $(jobs -p); do [ "$p" = "$sp" ] || wait "$p"; done; }
  wait_writers
  total_bytes=$(cat "$dir"/app*.log | wc -c); total_lines=$(cat "$dir"/app*.log | wc -l)
  got=0
  for ((i = 0; i < 600; i++)); do
    got=$(grep -o '"reader":{"bytes_in":[0-9]*' "$WORK/follow.stats" | tail -n 1 | grep -o '[0-9]*$' || echo 0)
    [ "${got:-0}" -ge "$total_bytes" ] && break
    sleep 0.1
  done
  t1=$(now_ns)
  echo "| case | figure |"
  echo "|---|---:|"
  awk -v b="$total_bytes" -v l="$total_lines" -v a="$t0" -v z="$t1" 'BEGIN {
    s = (z - a) / 1e9
    printf "| 4 writers x %.0f MiB as fast as they can: all read after | %.2f s |\n", b / 4 / 1048576, s
    printf "| lines/s kept up with (writers included) | %.0f |\n", l / s
    printf "| MiB/s kept up with | %.1f |\n", b / 1048576 / s }'
  # Idle: the same files, not changing, for 10 s.
  ticks=$(getconf CLK_TCK)
  cpu0=$(awk '{ print $14 + $15 }' "/proc/$sp/stat")
  sleep "${IDLE_SECONDS:-10}"
  cpu1=$(awk '{ print $14 + $15 }' "/proc/$sp/stat")
  awk -v a="$cpu0" -v b="$cpu1" -v t="$ticks" -v s="${IDLE_SECONDS:-10}" \
    'BEGIN { printf "| CPU while following 4 idle files (%d s) | %.2f %% |\n", s, (b - a) / t / s * 100 }'
  kill -TERM "$sp"; wait "$sp" 2>/dev/null || true
  # Latency at 10k lines/s.
  : >"$dir/probe.log"
  "$SLUICE" -F "$dir/probe.log" 2>/dev/null | "$probe" read >"$WORK/latency" &
  local lp=$!
  sleep 0.5
  "$probe" write --path "$dir/probe.log" --rate 10000 --seconds "${LATENCY_SECONDS:-10}"
  sleep 1
  pkill -TERM -f -- "-F $dir/probe.log" || true
  wait "$lp" 2>/dev/null || true
  awk '{ printf "| write-to-output latency at 10k lines/s (%d lines, inotify): p50 | %s ms |\n| p99 | %s ms |\n| max | %s ms |\n", $2, $4, $6, $8 }' "$WORK/latency"
}

# ---------------------------------------------------------------- metrics

# Throughput with --metrics scraped 10 times a second vs without, runs interleaved so
# that drift on a shared machine hits both alike.
metrics() {
  local bytes port scraper off=() on=() i t0 t1 m_off m_on
  bytes=$(to_bytes "$SIZE")
  CORPUS=$(corpus "$bytes")
  bytes=$(stat -c %s "$CORPUS")
  port=${METRICS_PORT:-19464}
  command -v curl >/dev/null || die "curl is needed for the metrics benchmark"
  cat "$CORPUS" >/dev/null
  (while :; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep 0.1; done) &
  scraper=$!
  BG_PIDS+=("$scraper")
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ns); "$SLUICE" "$CORPUS" >/dev/null; t1=$(now_ns)
    off+=("$(awk -v a="$t0" -v b="$t1" -v n="$bytes" 'BEGIN { printf "%.1f", n / 1048576 / ((b - a) / 1e9) }')")
    t0=$(now_ns); "$SLUICE" --metrics "127.0.0.1:$port" "$CORPUS" >/dev/null; t1=$(now_ns)
    on+=("$(awk -v a="$t0" -v b="$t1" -v n="$bytes" 'BEGIN { printf "%.1f", n / 1048576 / ((b - a) / 1e9) }')")
  done
  kill "$scraper" 2>/dev/null || true
  m_off=$(printf '%s\n' "${off[@]}" | median)
  m_on=$(printf '%s\n' "${on[@]}" | median)
  header "Metrics overhead ($(mib "$bytes") MiB corpus, /metrics scraped every 100 ms, $RUNS interleaved runs)"
  echo "| case | MiB/s (median) | runs MiB/s |"
  echo "|---|---:|---|"
  echo "| sluice file >/dev/null | $m_off | ${off[*]} |"
  echo "| sluice --metrics file >/dev/null, scraped 10/s | $m_on | ${on[*]} |"
  echo
  awk -v a="$m_off" -v b="$m_on" 'BEGIN { printf "with metrics / without: **%.3f** (%+.1f%%)\n", b / a, (b / a - 1) * 100 }'
}

# ---------------------------------------------------------------- main

ensure_time
build
need_bins
context
case $mode in
  throughput) throughput ;;
  rss) rss ;;
  rate) rate ;;
  backpressure) backpressure ;;
  metrics) metrics ;;
  filter) filter ;;
  follow) follow ;;
  all) throughput; rss; rate; backpressure; metrics; filter; follow ;;
esac
