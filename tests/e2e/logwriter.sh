# shellcheck shell=bash
# Helpers for the follow-mode tests (follow_test.sh, rotate_test.sh, checkpoint_test.sh):
# the log writer (bench/log_writer.cpp), checks on numbered event streams, and waits on
# sluice's own state. Sourced after lib.sh; call lw_init after e2e_init.
#
# The writer's lines are {"seq":N,"src":"NAME","gen":G,"pad":"..."}: seq numbers the line,
# src names the stream, gen the file it was written to (one per rotation), so a test can
# check "exactly once" over seq and "in order per file" over gen.
#
# Environment: LOG_WRITER, the writer binary (default build/log_writer; until CMakeLists.txt
# builds it: g++ -O2 -std=c++20 -o /tmp/log_writer bench/log_writer.cpp, LOG_WRITER=/tmp/log_writer).

LOG_WRITER="${LOG_WRITER:-$E2E_ROOT/build/log_writer}"

lw_init() {
  [[ -x "$LOG_WRITER" ]] || fail "not executable: $LOG_WRITER (build the log_writer target, or set LOG_WRITER)"
}

# start_sluice NAME ARGS...: run sluice in the background, stdout to $T/NAME.out, stderr
# to $T/NAME.err; sets SLUICE_PID.
start_sluice() {
  local name="$1"
  shift
  "$SLUICE" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  SLUICE_PID=$!
  track_pid "$SLUICE_PID"
}

# stop_sluice PID [WHAT]: SIGTERM, wait for the exit, expect 0.
stop_sluice() {
  kill -TERM "$1" 2>/dev/null || true
  wait_exit "$1" 15
  assert_eq "$EXIT_CODE" 0 "${2:-sluice} exit status after SIGTERM"
}

# seqs_of FILE SRC: the seq numbers of the events of stream SRC, in output order.
seqs_of() {
  [[ -f "$1" ]] || return 0
  sed -nE 's/^\{"seq":([0-9]+),"src":"'"$2"'",.*$/\1/p' "$1"
}

# count_src FILE SRC: how many events of stream SRC the file holds.
count_src() {
  if [[ -f "$1" ]]; then grep -cF "\"src\":\"$2\"," "$1" || true; else echo 0; fi
}
has_src_count() { [[ "$(count_src "$1" "$2")" -ge "$3" ]]; }
# distinct_src FILES... SRC: distinct seqs of stream SRC over several files.
distinct_src() {
  local src="${*: -1}" f
  for f in "${@:1:$#-1}"; do seqs_of "$f" "$src"; done | sort -u | wc -l | tr -d ' '
}
has_distinct() { [[ "$(distinct_src "${@:1:$#-1}")" -ge "${*: -1}" ]]; }

# ranges: a sorted list of numbers on stdin as compact ranges ("3-7 12 40-41"), at most 20.
ranges() {
  awk 'function flush(s) {
         s = (a == b ? a : a "-" b)
         if (n < 20) out = out (n ? " " : "") s; else if (n == 20) out = out " ..."
         n++
       }
       NR == 1 { a = b = $1; next }
       $1 == b + 1 { b = $1; next }
       { flush(); a = b = $1 }
       END { if (NR) flush(); print out }'
}

# check_exactly_once SEQFILE FIRST LAST WHAT: every number FIRST..LAST appears exactly once
# in SEQFILE (one number a line), and nothing else.
check_exactly_once() {
  local f="$1" first="$2" last="$3" what="$4"
  local n dups missing extra
  n="$(lines_of "$f")"
  dups="$(sort -n "$f" | uniq -d)"
  missing="$(seq "$first" "$last" | awk -v f="$f" 'BEGIN { while ((getline l < f) > 0) have[l] = 1 } !($1 in have)')"
  extra="$(awk -v a="$first" -v b="$last" '$1 < a || $1 > b' "$f" | sort -n -u)"
  [[ -z "$dups" ]] || fail "$what: $(echo "$dups" | wc -l) seqs delivered more than once: $(echo "$dups" | ranges)"
  [[ -z "$missing" ]] || fail "$what: $(echo "$missing" | wc -l) seqs missing of $first..$last: $(echo "$missing" | ranges)"
  [[ -z "$extra" ]] || fail "$what: seqs outside $first..$last: $(echo "$extra" | ranges)"
  assert_eq "$n" $((last - first + 1)) "$what: events"
  ok "$what: every seq $first..$last exactly once"
}

# check_sequence SEQFILE FIRST LAST WHAT: SEQFILE is exactly FIRST..LAST in this order.
check_sequence() {
  if ! cmp -s "$1" <(seq "$2" "$3"); then
    fail "$4: expected seqs $2..$3 in order; got $(lines_of "$1") seqs, in output order: $(ranges <"$1")"
  fi
  ok "$4: seqs $2..$3 in order"
}

# snap NAME: stdin saved as $T/NAME, whose path is printed (to compare generated text as
# a file: a failing assert_same_file then shows the difference).
snap() {
  cat >"$T/$1"
  echo "$T/$1"
}

# check_order_per_gen FILE SRC WHAT: within each file the writer wrote (gen), the events of
# SRC come out in increasing seq order.
check_order_per_gen() {
  local bad
  bad="$(sed -nE 's/^\{"seq":([0-9]+),"src":"'"$2"'","gen":([0-9]+),.*$/\2 \1/p' "$1" |
    awk '($1 in last) && $2 <= last[$1] { print "gen " $1 ": seq " $2 " after " last[$1]; n++ }
         { last[$1] = $2 } END { exit n > 0 }' | head -n 5)" ||
    fail "$3: out of order within a file: $bad"
  ok "$3: in order within each file"
}

# complete_lines FILE: drop an unterminated last line (a write cut by kill -9 is no event).
complete_lines() {
  if [[ -s "$1" && -n "$(tail -c 1 "$1")" ]]; then
    head -n -1 "$1" >"$1.tmp" && mv "$1.tmp" "$1"
  fi
}

# wait_stable FILE QUIET TIMEOUT: wait until FILE's line count has not changed for QUIET
# seconds (a quiescence check, so late duplicates show up before counting); fail after TIMEOUT.
wait_stable() {
  local f="$1" quiet="$2" timeout="$3"
  local deadline=$((SECONDS + timeout)) last now since
  last="$(lines_of "$f")"
  since="$EPOCHREALTIME"
  while :; do
    sleep 0.05
    now="$(lines_of "$f")"
    if [[ "$now" != "$last" ]]; then
      last="$now"
      since="$EPOCHREALTIME"
    elif awk -v a="$since" -v b="$EPOCHREALTIME" -v q="$quiet" 'BEGIN { exit !(b - a >= q) }'; then
      return 0
    fi
    ((SECONDS < deadline)) || fail "$f still growing after $timeout s ($now lines)"
  done
}

# has_open PID PATH: the process holds PATH open.
has_open() {
  local want fd
  want="$(readlink -f "$2")"
  for fd in /proc/"$1"/fd/*; do
    [[ "$(readlink "$fd" 2>/dev/null)" == "$want" ]] && return 0
  done
  return 1
}

# open_deleted PID: how many files the process holds open that have been deleted.
open_deleted() {
  local fd n=0
  for fd in /proc/"$1"/fd/*; do
    [[ "$(readlink "$fd" 2>/dev/null)" == *" (deleted)" ]] && n=$((n + 1))
  done
  echo "$n"
}

no_deleted_open() { [[ "$(open_deleted "$1")" == 0 ]]; }

# uses_inotify PID: the process has an inotify instance.
uses_inotify() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    [[ "$(readlink "$fd" 2>/dev/null)" == "anon_inode:inotify" ]] && return 0
  done
  return 1
}

# sync_probe FILE OUT: a barrier for "sluice is following FILE from its end": append
# {"probe":k,"src":"probe"} lines to FILE until one comes out in OUT. Whatever sluice
# does at start (open, seek to the end, add a watch), data appended after this returns
# is new data it must deliver.
sync_probe() {
  local file="$1" out="$2" k
  for ((k = 0; k < 30; k++)); do
    printf '{"probe":%d,"src":"probe","gen":0}\n' "$k" >>"$file"
    if wait_until 1 has_lines_matching "$out" '"src":"probe"' 1; then return 0; fi
  done
  fail "no probe line appended to $file came out in $out"
}

# wait_src OUT SRC N SECONDS: wait until OUT holds N events of SRC, or fail.
wait_src() {
  wait_until "$4" has_src_count "$1" "$2" "$3" ||
    fail "timed out after $4 s waiting for $3 '$2' events in $1 (has $(count_src "$1" "$2"))"
}

# The writer's lines of stream SRC in FILE (the input side), for byte comparisons.
src_lines() { grep -F "\"src\":\"$2\"," "$1" || true; }
