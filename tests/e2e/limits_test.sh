#!/usr/bin/env bash
# Flag values a process cannot live with are usage errors (exit 2, one line naming the
# flag), never an abort or a hang: --batch-bytes 50G aborted with std::bad_alloc (exit
# 134), --sink-tokens 1000000 grew without bound, --stats=1e10 spun in a busy loop,
# `sluice in -o in` fed itself. The budget is printed at info level.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

IN="$T/in.ndjson"
cp "$SAMPLES/app.ndjson" "$IN"

# usage NAME PATTERN ARGS...: sluice ARGS exits 2 at once with one line matching PATTERN.
usage() {
  local name="$1" pattern="$2" rc=0
  shift 2
  timeout 30 "$SLUICE" "$@" <"$IN" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
  assert_eq "$rc" 2 "$name: exit status"
  assert_eq "$(lines_of "$T/$name.err")" 1 "$name: lines of message"
  assert_contains "$T/$name.err" "$pattern" "$name: the message names the cause"
  assert_eq "$(size_of "$T/$name.out")" 0 "$name: output bytes"
}

step "sizes, token counts and the memory budget"
usage batch50g -- '--batch-bytes' --batch-bytes 50G
usage batch10g -- '--batch-bytes' --batch-bytes 10G
usage sinktokens -- '--sink-tokens' --sink-tokens 1000000
usage budget -- 'memory budget.*lower --sink-tokens' --memory-limit 64M --parse-threads 2 --sink-tokens 200

step "durations"
usage stats -- '--stats' --stats=1e10
usage drain -- '--drain-timeout' --drain-timeout 1e10
usage stall -- '--stall-timeout' --stall-timeout inf
usage ckpt -- '--checkpoint-interval' --checkpoint "$T/cp.json" --checkpoint-interval 10ms "$IN"

step "an output that is an input"
usage self -- 'its own output' "$IN" -o "$IN"
mkdir -p "$T/logs"
usage glob -- 'its own output' -F "$T/logs/*.log" -o "$T/logs/clean.log"
[[ ! -e "$T/logs/clean.log" ]] || fail "the refused output was created"
ok "the refused output was not created"

step "the budget is printed at info level"
rc=0
printf '{"n":%d}\n' 1 2 3 >"$T/small.ndjson"
"$SLUICE" --log-level info --parse-threads 2 <"$T/small.ndjson" >"$T/info.out" 2>"$T/info.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_contains "$T/info.err" 'info: memory budget: [0-9]+ batches alive at most, [0-9.]+ MiB' "the budget line"
assert_same_file "$T/info.out" "$T/small.ndjson" "the output"

echo "$E2E_NAME: PASS"
