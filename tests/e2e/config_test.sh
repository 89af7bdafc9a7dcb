#!/usr/bin/env bash
# --config FILE (DESIGN.md §8, flags declared once): a TOML file with the flags gives the
# same run as the flags; the command line wins over the file; an unknown key and a bad
# value are usage errors (exit 2, one line) that say where in the file they are.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

APP="$SAMPLES/app.ndjson"
NASTY="$SAMPLES/nasty.ndjson"

step "the same flags from the command line and from a file: the same output, dead letter and counts"
"$SLUICE" --where 'level == "error" or latency_ms > 100' --select 'ts,msg,req.path,a["odd.key"]' \
  --format logfmt --batch-bytes 4K --read-ahead 2 --parse-tokens 3 --sink-tokens 2 --parse-threads 2 \
  --rate 100000/s --burst 50 --dead-letter "$T/cli.dl" --dead-letter-format json --max-line-bytes 2K \
  --stats-file "$T/cli.stats" --no-progress --log-level error -o "$T/cli.out" "$APP" "$NASTY" 2>"$T/cli.err"
cat >"$T/run.toml" <<TOML
# the run above, as a file
inputs = [
  "$APP",   # read in order
  "$NASTY",
]
where = 'level == "error" or latency_ms > 100'
select = "ts,msg,req.path,a[\"odd.key\"]"
format = "logfmt"
batch-bytes = "4K"
read-ahead = 2
parse-tokens = 3
sink-tokens = 2
parse-threads = 2
rate = "100000/s"
burst = 50
dead-letter = "$T/file.dl"
dead-letter-format = "json"
max-line-bytes = "2K"
stats-file = "$T/file.stats"
no-progress = true
log-level = "error"
output = "$T/file.out"
TOML
"$SLUICE" --config "$T/run.toml" 2>"$T/file.err"
assert_ge "$(lines_of "$T/cli.out")" 10 "events written"
assert_same_file "$T/file.out" "$T/cli.out" "output"
assert_ge "$(lines_of "$T/cli.dl")" 1 "dead-letter records"
assert_same_file "$T/file.dl" "$T/cli.dl" "dead letter"
for counter in .reader.bytes_in .parse.lines_in .parse.invalid .parse.oversize .parse.filtered .sink.events_out; do
  assert_eq "$(final_stats "$T/file.stats" | jq "$counter")" "$(final_stats "$T/cli.stats" | jq "$counter")" "$counter"
done

step "the command line wins over the file"
"$SLUICE" --config "$T/run.toml" --format json --select ts,level -o "$T/over.out" 2>"$T/over.err"
"$SLUICE" --where 'level == "error" or latency_ms > 100' --select ts,level --no-progress "$APP" "$NASTY" \
  >"$T/over.expected" 2>/dev/null
assert_ge "$(lines_of "$T/over.out")" 10 "events written"
assert_same_file "$T/over.out" "$T/over.expected" "--format json --select ts,level over the file's logfmt and fields"

usage() {  # name regex toml-text: exit 2, one line on stderr matching regex, nothing written
  local name="$1" regex="$2"
  printf '%s' "$3" >"$T/$name.toml"
  local rc=0
  "$SLUICE" --config "$T/$name.toml" -o "$T/$name.out" "$APP" 2>"$T/$name.err" || rc=$?
  [[ "$rc" == 2 ]] || { show "$T/$name.err"; fail "$name: exit $rc, expected 2"; }
  assert_eq "$(lines_of "$T/$name.err")" 1 "$name: lines on stderr"
  assert_contains "$T/$name.err" "$regex" "$name: $(cat "$T/$name.err")"
  [[ ! -s "$T/$name.out" ]] || fail "$name: wrote output"
}

step "an unknown key: exit 2, naming the key and its line"
usage unknown "unknown\.toml:3: unknown key 'frobnicate'" $'# a comment\nrate = "5/s"\nfrobnicate = true\n'

step "a bad value: the flag's own message, with the file and line"
rc=0
"$SLUICE" --rate 0 "$APP" 2>"$T/flag.err" || rc=$?
assert_eq "$rc" 2 "--rate 0 on the command line"
usage badrate "^sluice: [^ ]*badrate\.toml:2: $(sed 's/^sluice: //' "$T/flag.err")\$" $'\nrate = 0\n'
usage badlevel "badlevel\.toml:1: --log-level: loud not in" $'log-level = "loud"\n'

step "a --config that does not exist: exit 2"
rc=0
"$SLUICE" --config "$T/none.toml" "$APP" >"$T/none.out" 2>"$T/none.err" || rc=$?
assert_eq "$rc" 2 "exit status"
assert_contains "$T/none.err" "none\.toml: cannot read it" "the message names the file"
