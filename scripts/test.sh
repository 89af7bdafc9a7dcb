#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
#   scripts/test.sh            Release build, then the same suite under ASan+UBSan, then
#                              TSan, then the fuzz targets (--where, batch parser) for a fixed number of runs
#   scripts/test.sh release    only the Release build
#   scripts/test.sh asan|tsan|fuzz  only that one
# Build folders: build/, build-asan/, build-tsan/ (reused; idempotent).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(release asan tsan fuzz)
jobs=$(nproc)

run_suite() {  # build-dir label
  echo "== tests: $2 ==" >&2
  (cd "$1" && ctest --output-on-failure -j"$jobs" --timeout 300)
}

for mode in "${modes[@]}"; do
  case "$mode" in
    release)
      "$here/scripts/setup.sh" "$here/build"
      run_suite "$here/build" release ;;
    asan)
      SLUICE_BUILD_TYPE=RelWithDebInfo "$here/scripts/setup.sh" "$here/build-asan" \
        -DSLUICE_SANITIZE=address -DSLUICE_BENCH=OFF
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite "$here/build-asan" "ASan+UBSan" ;;
    tsan)
      SLUICE_BUILD_TYPE=RelWithDebInfo "$here/scripts/setup.sh" "$here/build-tsan" \
        -DSLUICE_SANITIZE=thread -DSLUICE_BENCH=OFF
      # Debian's libtbb is not instrumented: tsan.supp lists its internals, each justified.
      TSAN_OPTIONS="suppressions=$here/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
        run_suite "$here/build-tsan" "TSan" ;;
    fuzz)
      SLUICE_EXTRA_PKGS="clang libclang-rt-14-dev" "$here/scripts/setup.sh" --packages-only
      FUZZ_RUNS=${FUZZ_RUNS:-100000}
      echo "== fuzz: --where parser and evaluator, batch parser, $FUZZ_RUNS runs each ==" >&2
      FUZZ_RUNS=$FUZZ_RUNS "$here/fuzz/run.sh" ;;
    *) echo "unknown mode: $mode (release, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
