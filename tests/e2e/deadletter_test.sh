#!/usr/bin/env bash
# Dead letters: invalid lines (raw and json formats, with their byte offsets), the nasty
# edge-case sample, oversize lines (cut at --max-line-bytes, the stream resynchronised),
# and a 50 MiB line that must not be buffered.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

APP="$SAMPLES/app.ndjson"
NASTY="$SAMPLES/nasty.ndjson"

# line_offsets FILE: "LINE_NUMBER BYTE_OFFSET" for every line of FILE.
line_offsets() {
  LC_ALL=C awk 'BEGIN { off = 0 } { print NR, off; off += length($0) + 1 }' "$1"
}

# bytes_at FILE OFFSET LENGTH: LENGTH bytes of FILE starting at OFFSET.
bytes_at() {
  tail -c +"$(($2 + 1))" "$1" | head -c "$3"
}

step "raw dead letter holds exactly the malformed lines of app.ndjson (57, 133, 301)"
rc=0
"$SLUICE" --dead-letter "$T/dl.raw" "$APP" >"$T/out.raw" 2>"$T/err.raw" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/out.raw")" 395 "events delivered"
assert_same_file "$T/dl.raw" <(sed -n '57p;133p;301p' "$APP") "dead letter = lines 57, 133, 301 as read"

step "--dead-letter-format json: reason, error, source, offset, line; offset is the line's byte offset"
rc=0
"$SLUICE" --dead-letter "$T/dl.json" --dead-letter-format json "$APP" >"$T/out.json" 2>"$T/err.json" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out.json" "$T/out.raw" "events are the same as with the raw format"
assert_eq "$(lines_of "$T/dl.json")" 3 "dead-letter records"
jq -e -c . "$T/dl.json" >/dev/null || { show "$T/dl.json"; fail "a dead-letter line is not JSON"; }
ok "every dead-letter line is JSON"
jq -e -s 'all(.[]; (.reason|type)=="string" and (.error|type)=="string" and (.source|type)=="string"
                    and (.offset|type)=="number" and (.line|type)=="string")' "$T/dl.json" >/dev/null ||
  { show "$T/dl.json"; fail "a record lacks reason/error/source/offset/line with the right types"; }
ok "every record has reason, error, source, offset, line"
jq -e -s --arg src "$APP" 'all(.[]; .source == $src)' "$T/dl.json" >/dev/null ||
  fail "source is not the input path $APP: $(jq -r .source "$T/dl.json" | head -n 1)"
ok "source is the input path"
line_offsets "$APP" >"$T/app.offsets"
i=0
for n in 57 133 301; do
  i=$((i + 1))
  rec="$(sed -n "${i}p" "$T/dl.json")"
  off="$(echo "$rec" | jq .offset)"
  want_off="$(awk -v n="$n" '$1 == n { print $2 }' "$T/app.offsets")"
  assert_eq "$off" "$want_off" "record $i (line $n): offset"
  want_line="$(sed -n "${n}p" "$APP")"
  assert_eq "$(echo "$rec" | jq -j .line)" "$want_line" "record $i: line text"
  len=$(printf '%s' "$want_line" | wc -c)
  assert_eq "$(bytes_at "$APP" "$off" "$len")" "$want_line" "record $i: the bytes at offset $off are the line"
  if echo "$rec" | jq -e 'has("length")' >/dev/null; then
    assert_eq "$(echo "$rec" | jq .length)" "$len" "record $i: length"
  fi
done
assert_eq "$(jq -r .reason "$T/dl.json" | sed -n 3p)" "not_an_object" "reason for [1,2,3]"

step "nasty.ndjson: events and dead letters match nasty.expected line by line"
want_events="$(grep -cx event "$SAMPLES/nasty.expected")"
want_invalid="$(grep -cx invalid "$SAMPLES/nasty.expected")"
assert_eq "$(lines_of "$SAMPLES/nasty.expected")" "$(lines_of "$NASTY")" "nasty.expected has a word per line"
rc=0
"$SLUICE" --dead-letter "$T/nasty.dl" --dead-letter-format json "$NASTY" >"$T/nasty.out" 2>"$T/nasty.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/nasty.out")" "$want_events" "events delivered (= 'event' words)"
assert_eq "$(lines_of "$T/nasty.dl")" "$want_invalid" "dead-letter records (= 'invalid' words)"
# Which lines: the dead-letter offsets are the starts of exactly the 'invalid' lines.
line_offsets "$NASTY" >"$T/nasty.offsets"
jq .offset "$T/nasty.dl" | while read -r off; do
  awk -v o="$off" '$2 == o { print $1; found = 1 } END { if (!found) print "no-line-at-" o }' "$T/nasty.offsets"
done >"$T/nasty.dl.lines"
grep -nx invalid "$SAMPLES/nasty.expected" | cut -d: -f1 >"$T/nasty.want.lines"
assert_same_file "$T/nasty.dl.lines" "$T/nasty.want.lines" "dead-lettered line numbers = 'invalid' lines"
# The events are the 'event' lines, trimmed, without their \r, in order.
paste -d '\t' "$SAMPLES/nasty.expected" "$NASTY" | LC_ALL=C awk -F '\t' '
  $1 == "event" { sub(/^event\t/, ""); sub(/\r$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, ""); print }' >"$T/nasty.want.out"
assert_eq "$(lines_of "$T/nasty.want.out")" "$want_events" "expected event lines"
assert_same_file "$T/nasty.out" "$T/nasty.want.out" "delivered events = 'event' lines, trimmed"
rc=0
"$SLUICE" --dead-letter "$T/nasty.dl.raw" "$NASTY" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 0 "exit status (raw)"
assert_same_file "$T/nasty.dl.raw" <(paste -d '\t' "$SAMPLES/nasty.expected" "$NASTY" |
  LC_ALL=C awk -F '\t' '$1 == "invalid" { sub(/^invalid\t/, ""); print }') "raw dead letter = 'invalid' lines, byte for byte"

step "oversize: --max-line-bytes 100 with a 1000-byte line between valid ones"
pad="$(head -c 990 /dev/zero | tr '\0' x)"
long="{\"pad\":\"$pad\"}"
assert_eq "${#long}" 1000 "long line length"
{
  echo '{"n":1}'
  echo "$long"
  echo '{"n":3}'
  echo '{"n":4}'
} >"$T/over.ndjson"
rc=0
"$SLUICE" --max-line-bytes 100 --dead-letter "$T/over.dl" --stats --stats-file "$T/over.stats" \
  "$T/over.ndjson" >"$T/over.out" 2>"$T/over.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/over.out" <(printf '{"n":1}\n{"n":3}\n{"n":4}\n') "the oversize line is skipped, the next lines delivered"
assert_same_file "$T/over.dl" <(printf '%s\n' "${long:0:100}") "raw dead letter = the first 100 bytes"
assert_eq "$(final_stats "$T/over.stats" | jq .parse.oversize)" 1 "stats parse.oversize"
rc=0
"$SLUICE" --max-line-bytes 100 --dead-letter "$T/over.dl.json" --dead-letter-format json \
  "$T/over.ndjson" >"$T/over.out2" 2>"$T/over.err2" || rc=$?
assert_eq "$rc" 0 "exit status (json)"
assert_same_file "$T/over.out2" "$T/over.out" "same events (json)"
assert_eq "$(lines_of "$T/over.dl.json")" 1 "dead-letter records"
assert_eq "$(jq .length "$T/over.dl.json")" 1000 "json dead letter: length is the full line's"
assert_eq "$(jq -j .line "$T/over.dl.json")" "${long:0:100}" "json dead letter: line is the first 100 bytes"
assert_eq "$(jq .offset "$T/over.dl.json")" 8 "json dead letter: offset"
jq -e '.reason | test("oversize"; "i")' "$T/over.dl.json" >/dev/null || fail "reason does not say oversize: $(cat "$T/over.dl.json")"
ok "reason says oversize"

step "oversize: a line of exactly --max-line-bytes is an event; one byte more is oversize"
exact="{\"p\":\"$(head -c 92 /dev/zero | tr '\0' y)\"}"
assert_eq "${#exact}" 100 "line length"
rc=0
printf '%s\n%s\n{"z":1}\n' "$exact" "${exact%\}} }" |
  "$SLUICE" --max-line-bytes 100 --dead-letter "$T/edge.dl" >"$T/edge.out" 2>/dev/null || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/edge.out" <(printf '%s\n{"z":1}\n' "$exact") "100-byte line delivered, 101-byte line not"
assert_eq "$(lines_of "$T/edge.dl")" 1 "dead-letter lines"

step "oversize: an unterminated oversize last line"
rc=0
{ echo '{"n":1}'; printf '%s' "$long"; } |
  "$SLUICE" --max-line-bytes 100 --dead-letter "$T/tail.dl" --dead-letter-format json >"$T/tail.out" 2>/dev/null || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/tail.out" <(echo '{"n":1}') "first line delivered"
assert_eq "$(jq .length "$T/tail.dl")" 1000 "dead letter: length"

step "a 50 MiB line with the default --max-line-bytes (1 MiB), from a pipe"
{
  echo '{"n":1}'
  printf '{"big":"'
  head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' a
  printf '"}\n'
  echo '{"n":3}'
} >"$T/huge.ndjson"
huge_len=$((50 * 1024 * 1024 + 10))
timecmd=()
if [[ -x /usr/bin/time ]]; then timecmd=(/usr/bin/time -f %M -o "$T/huge.rss"); fi
rc=0
# shellcheck disable=SC2002  # a pipe on purpose, not a regular file
cat "$T/huge.ndjson" | "${timecmd[@]}" "$SLUICE" --dead-letter "$T/huge.dl" --dead-letter-format json \
  --stats --stats-file "$T/huge.stats" >"$T/huge.out" 2>"$T/huge.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/huge.out" <(printf '{"n":1}\n{"n":3}\n') "lines around the huge line delivered"
assert_eq "$(lines_of "$T/huge.dl")" 1 "dead-letter records"
assert_eq "$(jq .length "$T/huge.dl")" "$huge_len" "dead letter: length"
assert_eq "$(jq -j .line "$T/huge.dl" | wc -c)" $((1024 * 1024)) "dead letter: line holds the first 1 MiB"
assert_eq "$(jq -j .line "$T/huge.dl" | head -c 9)" '{"big":"a' "dead letter: line starts with the line's start"
assert_eq "$(final_stats "$T/huge.stats" | jq .parse.oversize)" 1 "stats parse.oversize"
if [[ -f "$T/huge.rss" ]]; then
  rss_kb="$(tail -n 1 "$T/huge.rss")"
  assert_le "$rss_kb" $((200 * 1024)) "peak RSS in KiB"
else
  echo "    skip: /usr/bin/time not available, peak RSS not checked"
fi

echo "$E2E_NAME: PASS"
