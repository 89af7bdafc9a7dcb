#!/usr/bin/env bash
# Builds the --where and batch-parser fuzz targets with clang, libFuzzer, ASan and UBSan (sluice_core
# instrumented too) in build-fuzz/, then runs each for a fixed number of inputs, seeded
# from a few expressions and the lines of samples/app.ndjson. Exits non-zero when a
# fuzzer finds a crash; the input that caused it is kept under build-fuzz/artifacts/.
# Usage: fuzz/run.sh         FUZZ_RUNS=N (default 20000)   FUZZ_BUILD=DIR (default build-fuzz)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-"$here/build-fuzz"}
runs=${FUZZ_RUNS:-20000}

CXX=clang++ cmake -S "$here" -B "$build" -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF -DSLUICE_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=address -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build "$build" -j"$(nproc)" --target where_parse_fuzz where_eval_fuzz batch_parse_fuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parse" "$work/eval" "$work/batch" "$build/artifacts"

expressions=(
  'level == "error"'
  'req.status >= 500 and service != "api"'
  'not exists(user_id) or user_id == null'
  'msg =~ "(?i)time(d )?out" or msg !~ "^job"'
  'tags[0] == "prod" and (latency_ms > 1e2 or latency_ms <= -0.5)'
  'ctx.client.geo["country"] != "FR" and ctx.client.geo.city_id < 18446744073709551615'
  'a["odd \"key\""][2].b == "\u00e9\n" or not (x == true and y != false)'
  '((a == 1 or b == 2) and not c == 3)'
)
i=0
for e in "${expressions[@]}"; do
  printf '%s' "$e" >"$work/parse/seed$i"
  i=$((i + 1))
done
# Each expression with a few events, including the malformed lines (skipped by the
# target, but they seed the mutations).
i=0
while IFS= read -r line; do
  e=${expressions[$((i % ${#expressions[@]}))]}
  printf '%s\n%s' "$e" "$line" >"$work/eval/seed$i"
  i=$((i + 1))
done < <(sed -n '1,60p;88p;133p;301p' "$here/samples/app.ndjson")

# Batches: runs of sample lines, good and malformed, and the nasty samples.
i=0
for range in '1,8p' '50,60p' '85,90p' '128,135p' '185,192p' '240,250p' '298,304p'; do
  sed -n "$range" "$here/samples/app.ndjson" >"$work/batch/seed$i"
  i=$((i + 1))
done
cp "$here/samples/nasty.ndjson" "$work/batch/nasty"

# Tokens of the grammar help the mutator build valid expressions.
cat >"$work/where.dict" <<'DICT'
"=="
"!="
"<="
">="
"<"
">"
"=~"
"!~"
" and "
" or "
"not "
"exists("
"true"
"false"
"null"
"[0]"
"[\""
"\"]"
"."
"("
")"
"\\u00e9"
"-1.5e-3"
"18446744073709551615"
"9223372036854775807"
"(a+)+$"
DICT

status=0
for kind in parse eval batch; do
  target=where_${kind}_fuzz
  dict=(-dict="$work/where.dict")
  if [ "$kind" = batch ]; then target=batch_parse_fuzz; dict=(); fi
  corpus=$work/$kind
  echo "fuzz: $target, $runs runs" >&2
  if ! "$build/fuzz/$target" -runs="$runs" -max_len=4096 "${dict[@]}" \
       -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 "$corpus" 2>"$work/$target.log"; then
    tail -n 60 "$work/$target.log" >&2
    echo "fuzz: $target FAILED; the input is under $build/artifacts/" >&2
    status=1
  else
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$target.log" >&2 || true
  fi
done
exit $status
