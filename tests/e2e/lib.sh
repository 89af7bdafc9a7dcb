# shellcheck shell=bash
# Shared helpers for the end-to-end tests. Sourced by every tests/e2e/*_test.sh.
#
# Environment (set by ctest, defaulted here so a script also runs by hand from the repo):
#   SLUICE    the sluice binary
#   GEN_LOGS  the corpus generator
#   SAMPLES   the samples/ directory
#
# Every script calls e2e_init first: it makes a private temp dir ($T), removed on exit
# together with any background process registered with track_pid.

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SLUICE="${SLUICE:-$E2E_ROOT/build/sluice}"
GEN_LOGS="${GEN_LOGS:-$E2E_ROOT/build/gen_logs}"
SAMPLES="${SAMPLES:-$E2E_ROOT/samples}"

E2E_PIDS=()
E2E_NAME="$(basename "$0" .sh)"

# Our own child still running (its parent is this shell), so a pid reused by some other
# process after ours was reaped is never signalled.
is_our_child() {
  [[ "$(awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null)" == "$$" ]]
}

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]}"; do
    if is_our_child "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in "${E2E_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${T:-}" && -d "$T" ]]; then rm -rf "$T"; fi
}

e2e_init() {
  local tool
  for tool in "$SLUICE" "$GEN_LOGS"; do
    [[ -x "$tool" ]] || { echo "$E2E_NAME: FAIL: not executable: $tool" >&2; exit 1; }
  done
  [[ -f "$SAMPLES/app.ndjson" ]] || { echo "$E2E_NAME: FAIL: no samples in $SAMPLES" >&2; exit 1; }
  command -v jq >/dev/null || { echo "$E2E_NAME: FAIL: jq is required" >&2; exit 1; }
  T="$(mktemp -d)"
  trap e2e_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Register a background process so that it is killed (by pid) when the script exits.
track_pid() { E2E_PIDS+=("$1"); }

step() { echo "--- $E2E_NAME: $*"; }
ok() { echo "    ok: $*"; }
fail() {
  echo "$E2E_NAME: FAIL: $*" >&2
  # The stderr most recently captured is usually the explanation.
  local last
  # shellcheck disable=SC2012  # names are ours and plain
  last="$(ls -t "${T:-/nonexistent}"/*err* 2>/dev/null | head -n 1 || true)"
  if [[ -n "$last" && -s "$last" ]]; then
    echo "    most recent stderr capture, $last:" >&2
    head -n 20 "$last" | cut -c1-300 | sed 's/^/    | /' >&2
  fi
  exit 1
}

# Print a file's content (at most 40 lines) to stderr, for failure messages.
show() {
  local f
  for f in "$@"; do
    echo "    ---- $f:" >&2
    if [[ -f "$f" ]]; then head -n 40 "$f" | cut -c1-300 >&2; else echo "    (missing)" >&2; fi
  done
}

assert_eq() {  # actual expected what
  [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
  ok "$3 = $2"
}

assert_ge() {  # actual min what
  [[ "$1" -ge "$2" ]] || fail "$3: expected >= $2, got $1"
  ok "$3 = $1 (>= $2)"
}

assert_le() {  # actual max what
  [[ "$1" -le "$2" ]] || fail "$3: expected <= $2, got $1"
  ok "$3 = $1 (<= $2)"
}

assert_same_file() {  # actual expected what
  if ! cmp -s "$1" "$2"; then
    echo "    first difference:" >&2
    cmp "$1" "$2" >&2 || true
    diff <(head -c 2000000 "$1") <(head -c 2000000 "$2") | head -n 10 | cut -c1-300 >&2 || true
    fail "$3: $1 differs from $2"
  fi
  ok "$3"
}

assert_contains() {  # file regex what   (grep -E, case-insensitive)
  grep -Eiq -- "$2" "$1" || { show "$1"; fail "$3: no match for /$2/ in $1"; }
  ok "$3"
}

# Number of newline-terminated lines in a file (0 when it does not exist).
lines_of() {
  if [[ -f "$1" ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

size_of() { stat -c %s "$1"; }

# wait_until SECONDS CMD...: poll CMD until it succeeds; return 1 after SECONDS.
# Polling a condition is the synchronisation; the short pause only avoids a busy loop.
wait_until() {
  local timeout="$1"
  shift
  local deadline=$((SECONDS + timeout + 1))
  while ! "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}

has_lines() { [[ "$(lines_of "$1")" -ge "$2" ]]; }
# has_lines_matching FILE REGEX N
has_lines_matching() { [[ -f "$1" && "$(grep -Ec -- "$2" "$1" || true)" -ge "$3" ]]; }
# A process is dead when it is gone or a zombie waiting to be reaped.
is_dead() {
  ! kill -0 "$1" 2>/dev/null && return 0
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]
}

# wait_lines FILE N SECONDS: wait until FILE has at least N lines, or fail.
wait_lines() {
  wait_until "$3" has_lines "$1" "$2" || fail "timed out after $3 s waiting for $2 lines in $1 (has $(lines_of "$1"))"
}

# wait_exit PID SECONDS: wait for a child to exit and set EXIT_CODE, or fail.
# shellcheck disable=SC2034  # EXIT_CODE is read by the scripts
wait_exit() {
  wait_until "$2" is_dead "$1" || fail "process $1 still running after $2 s"
  EXIT_CODE=0
  wait "$1" 2>/dev/null || EXIT_CODE=$?
}

# The final stats object from a --stats file (the last line with "stats":"final").
final_stats() {
  grep '"stats":"final"' "$1" | tail -n 1
}

# Check the token bounds of one stats object (JSON text on stdin): for each stage,
# tokens.max <= tokens.limit and in_use <= limit; batches_alive.max <= limit.
check_token_bounds() {
  local json
  json="$(cat)"
  local stage
  for stage in reader parse sink; do
    echo "$json" | jq -e --arg s "$stage" '.[$s].tokens | (.limit|type)=="number" and (.max|type)=="number" and (.in_use|type)=="number"' >/dev/null ||
      fail "stats: $stage.tokens lacks numeric limit/in_use/max: $json"
    local limit max in_use
    limit="$(echo "$json" | jq --arg s "$stage" '.[$s].tokens.limit')"
    max="$(echo "$json" | jq --arg s "$stage" '.[$s].tokens.max')"
    in_use="$(echo "$json" | jq --arg s "$stage" '.[$s].tokens.in_use')"
    [[ "$limit" -ge 1 ]] || fail "stats: $stage.tokens.limit is $limit"
    [[ "$max" -le "$limit" ]] || fail "stats: $stage.tokens.max $max > limit $limit"
    [[ "$in_use" -le "$limit" ]] || fail "stats: $stage.tokens.in_use $in_use > limit $limit"
    ok "$stage tokens: max $max <= limit $limit"
  done
  local bmax blimit
  bmax="$(echo "$json" | jq -e '.batches_alive.max')" || fail "stats: no batches_alive.max: $json"
  blimit="$(echo "$json" | jq -e '.batches_alive.limit')" || fail "stats: no batches_alive.limit: $json"
  [[ "$bmax" -le "$blimit" ]] || fail "stats: batches_alive.max $bmax > limit $blimit"
  ok "batches_alive: max $bmax <= limit $blimit"
}
