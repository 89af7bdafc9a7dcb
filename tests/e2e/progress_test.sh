#!/usr/bin/env bash
# The progress line: on a terminal (a pseudo-terminal from script(1)) when reading
# files; never when stderr is not a terminal, never with --no-progress, never on stdout.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
command -v script >/dev/null || fail "script(1) is missing (util-linux)"

"$GEN_LOGS" --bytes 40M --seed 3 >"$T/big.ndjson"
# --rate-bytes keeps the run long enough (about 2 s) for several updates.
run_on_tty() {  # OUTFILE ARGS...: run sluice with stderr on a pseudo-terminal
  local out="$1"
  shift
  script -qec "$(printf '%q ' "$SLUICE" --rate-bytes 20M/s "$@")" /dev/null >"$out" </dev/null
}

step "a terminal gets a self-updating progress line"
run_on_tty "$T/tty" "$T/big.ndjson" -o "$T/out1"
assert_same_file "$T/out1" "$T/big.ndjson" "output (events are unchanged)"
n="$(tr '\r' '\n' <"$T/tty" | grep -Ec '^sluice: [0-9.]+/40\.0 MiB +[0-9]+%  [0-9.]+ MiB/s  [0-9]+ events/s  ETA [0-9:-]+  bottleneck: (output|parse|input|none)')"
assert_ge "$n" 2 "progress updates"
grep -q $'\x1b\[K' "$T/tty" || fail "the line is not erased in place"
ok "progress: $n updates"

step "never on stdout"
script -qec "$(printf '%q ' "$SLUICE" --rate-bytes 20M/s "$T/big.ndjson") > $(printf '%q' "$T/out2")" /dev/null >"$T/tty2" </dev/null
assert_same_file "$T/out2" "$T/big.ndjson" "stdout holds only the events"
grep -q 'MiB/s' "$T/tty2" || fail "no progress line on the terminal"

step "--no-progress: nothing"
run_on_tty "$T/tty3" --no-progress "$T/big.ndjson" -o /dev/null
assert_eq "$(grep -c 'MiB/s' "$T/tty3" || true)" 0 "progress lines with --no-progress"

step "stderr not a terminal: nothing"
"$SLUICE" --rate-bytes 20M/s "$T/big.ndjson" -o /dev/null 2>"$T/err"
assert_eq "$(size_of "$T/err")" 0 "stderr bytes"

step "stdin (no total): nothing"
script -qec "$(printf '%q ' "$SLUICE" -o /dev/null) < $(printf '%q' "$SAMPLES/app.ndjson")" /dev/null >"$T/tty4" </dev/null
assert_eq "$(grep -c 'MiB/s' "$T/tty4" || true)" 0 "progress lines for stdin"
echo "$E2E_NAME: all checks passed"
