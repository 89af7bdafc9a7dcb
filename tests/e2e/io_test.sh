#!/usr/bin/env bash
# Inputs and outputs: stdin, files, several files in order, "-" among files, a large
# generated corpus byte for byte, --unordered, -o appending, missing and unreadable inputs.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

APP="$SAMPLES/app.ndjson"

# The valid events of app.ndjson as sluice must write them: the original bytes, a
# trailing \r dropped, surrounding whitespace trimmed. samples/README.md documents the
# lines that are not events: 57, 133, 301 malformed; 190 empty; 245 whitespace only.
awk 'NR == 57 || NR == 133 || NR == 301 || NR == 190 || NR == 245 { next }
     { sub(/\r$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, ""); print }' "$APP" >"$T/app.expected"

step "sanity: the expected app.ndjson events (from the README) are 395 JSON objects"
assert_eq "$(lines_of "$T/app.expected")" 395 "expected event lines"
assert_eq "$(jq -c 'type == "object"' "$T/app.expected" | grep -c true)" 395 "objects per jq"
# Independently of the README: jq agrees on which lines of app.ndjson are objects.
assert_eq "$(jq -R 'try (fromjson | type == "object") catch false' "$APP" | grep -c true)" 395 \
  "lines of app.ndjson that jq parses as objects"

step "stdin: cat app.ndjson | sluice writes exactly the 395 valid lines, in order, original bytes"
rc=0
# shellcheck disable=SC2002  # a pipe on purpose, not a regular file
cat "$APP" | "$SLUICE" >"$T/out.pipe" 2>"$T/err.pipe" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/out.pipe")" 395 "output lines"
assert_same_file "$T/out.pipe" "$T/app.expected" "output is the valid input lines byte for byte"
# The CRLF line (88) comes out without its \r.
if grep -q $'\r' "$T/out.pipe"; then fail "output contains a carriage return"; fi
ok "no carriage return in the output"
# Parsed on both sides, the events are equal too (guards against a bad expectation).
assert_same_file <(jq -c . "$T/out.pipe") <(jq -c . "$T/app.expected") "events equal as parsed JSON"

step "file argument: sluice app.ndjson gives the same output"
rc=0
"$SLUICE" "$APP" >"$T/out.file" 2>"$T/err.file" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out.file" "$T/app.expected" "file input output"

step "several files are read in the order given"
head -n 200 "$APP" >"$T/a.ndjson"
"$GEN_LOGS" --lines 1000 --seed 2 >"$T/b.ndjson"
"$GEN_LOGS" --lines 700 --seed 3 >"$T/c.ndjson"
awk 'NR == 57 || NR == 133 || NR == 190 { next }
     { sub(/\r$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, ""); print }' "$T/a.ndjson" >"$T/a.expected"
assert_eq "$(lines_of "$T/a.expected")" 197 "valid lines in the first 200 of app.ndjson"
rc=0
"$SLUICE" "$T/a.ndjson" "$T/b.ndjson" >"$T/out.ab" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out.ab" <(cat "$T/a.expected" "$T/b.ndjson") "a then b"
rc=0
"$SLUICE" "$T/b.ndjson" "$T/a.ndjson" >"$T/out.ba" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out.ba" <(cat "$T/b.ndjson" "$T/a.expected") "b then a"

step "\"-\" among files reads stdin at that position"
rc=0
"$SLUICE" "$T/a.ndjson" - "$T/c.ndjson" <"$T/b.ndjson" >"$T/out.dash" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/out.dash" <(cat "$T/a.expected" "$T/b.ndjson" "$T/c.ndjson") "a, stdin (b), c"

step "framing: empty input, a last line without newline, a BOM at the start of each input, whitespace"
rc=0
"$SLUICE" </dev/null >"$T/empty.out" 2>"$T/empty.err" || rc=$?
assert_eq "$rc" 0 "exit status (empty stdin)"
assert_eq "$(size_of "$T/empty.out")" 0 "output bytes (empty stdin)"
printf '\xef\xbb\xbf{"a":1}\n{"b":2}' >"$T/f1.ndjson"
printf '\xef\xbb\xbf{"c":3}\n  {"d":4} \t\r\n\r\n\t\n{"e":5}\r\n' >"$T/f2.ndjson"
rc=0
"$SLUICE" "$T/f1.ndjson" "$T/f2.ndjson" >"$T/framing.out" 2>"$T/framing.err" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_same_file "$T/framing.out" <(printf '{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n{"e":5}\n') \
  "BOMs skipped, unterminated last line kept, whitespace and \\r trimmed, blank lines skipped"
rc=0
# shellcheck disable=SC2002  # a pipe on purpose, not a regular file
cat "$T/f1.ndjson" | "$SLUICE" >"$T/framing2.out" 2>"$T/framing2.err" || rc=$?
assert_eq "$rc" 0 "exit status (stdin)"
assert_same_file "$T/framing2.out" <(printf '{"a":1}\n{"b":2}\n') "BOM skipped and last line kept on stdin"

step "a 50 MiB generated corpus passes through unchanged (file and pipe)"
"$GEN_LOGS" --bytes 50M --seed 7 >"$T/big.ndjson"
big_lines="$(lines_of "$T/big.ndjson")"
echo "    corpus: $(size_of "$T/big.ndjson") bytes, $big_lines lines"
assert_ge "$big_lines" 100000 "corpus lines"
rc=0
"$SLUICE" "$T/big.ndjson" >"$T/out.big" || rc=$?
assert_eq "$rc" 0 "exit status (file)"
assert_eq "$(lines_of "$T/out.big")" "$big_lines" "output lines (file)"
assert_same_file "$T/out.big" "$T/big.ndjson" "output identical to the corpus (file)"
rm -f "$T/out.big"
rc=0
# shellcheck disable=SC2002  # a pipe on purpose, not a regular file
cat "$T/big.ndjson" | "$SLUICE" >"$T/out.big" || rc=$?
assert_eq "$rc" 0 "exit status (pipe)"
assert_eq "$(lines_of "$T/out.big")" "$big_lines" "output lines (pipe)"
assert_same_file "$T/out.big" "$T/big.ndjson" "output identical to the corpus (pipe)"
rm -f "$T/out.big"

step "--unordered delivers the same multiset of lines"
rc=0
"$SLUICE" --unordered --parse-threads 4 --batch-bytes 64K "$T/big.ndjson" >"$T/out.unordered" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(lines_of "$T/out.unordered")" "$big_lines" "output lines"
LC_ALL=C sort -S 64M "$T/out.unordered" >"$T/out.unordered.sorted"
LC_ALL=C sort -S 64M "$T/big.ndjson" >"$T/big.sorted"
assert_same_file "$T/out.unordered.sorted" "$T/big.sorted" "sorted output equals sorted input"
rm -f "$T/out.unordered" "$T/out.unordered.sorted" "$T/big.sorted" "$T/big.ndjson"

step "-o PATH writes to the file and appends to what it holds"
printf '{"existing":1}\n' >"$T/o.ndjson"
rc=0
"$SLUICE" -o "$T/o.ndjson" "$APP" >"$T/o.stdout" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(size_of "$T/o.stdout")" 0 "bytes on stdout with -o"
assert_same_file "$T/o.ndjson" <(printf '{"existing":1}\n'; cat "$T/app.expected") "existing line kept, events appended"
rc=0
"$SLUICE" --output "$T/o.ndjson" "$T/c.ndjson" || rc=$?
assert_eq "$rc" 0 "exit status (second run, --output)"
assert_same_file "$T/o.ndjson" <(printf '{"existing":1}\n'; cat "$T/app.expected" "$T/c.ndjson") "second run appended"
rc=0
"$SLUICE" -o - "$T/c.ndjson" >"$T/o.dash" || rc=$?
assert_eq "$rc" 0 "exit status (-o -)"
assert_same_file "$T/o.dash" "$T/c.ndjson" "-o - writes to stdout"

step "a missing input among others: the others are processed, exit 1, the message names it"
rc=0
"$SLUICE" "$T/a.ndjson" "$T/no-such-file.ndjson" "$T/c.ndjson" >"$T/out.missing" 2>"$T/err.missing" || rc=$?
assert_eq "$rc" 1 "exit status"
assert_same_file "$T/out.missing" <(cat "$T/a.expected" "$T/c.ndjson") "other inputs delivered in order"
assert_contains "$T/err.missing" "no-such-file\.ndjson" "stderr names the missing file"

step "a directory as input: exit 1 with a message naming it"
mkdir "$T/adir"
rc=0
"$SLUICE" "$T/adir" >"$T/out.dir" 2>"$T/err.dir" || rc=$?
assert_eq "$rc" 1 "exit status"
assert_eq "$(size_of "$T/out.dir")" 0 "bytes on stdout"
assert_contains "$T/err.dir" "adir" "stderr names the directory"
rc=0
"$SLUICE" "$T/adir" "$T/c.ndjson" >"$T/out.dir2" 2>"$T/err.dir2" || rc=$?
assert_eq "$rc" 1 "exit status (directory then a file)"
assert_same_file "$T/out.dir2" "$T/c.ndjson" "the file after the directory is delivered"

echo "$E2E_NAME: PASS"
