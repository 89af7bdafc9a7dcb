#!/usr/bin/env bash
# --where against jq: for a dozen expressions where the two languages agree (no mixed-type
# ordering, no duplicate keys), sluice keeps exactly the events `jq 'select(...)'` keeps,
# in the same order. Compared as parsed JSON (jq -S), not bytes.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh installs it)"

APP="$SAMPLES/app.ndjson"
# sluice expression @@ jq condition with the same meaning on this corpus
cases=(
  'level == "error" @@ .level == "error"'
  'level != "info" @@ .level != "info"'
  'latency_ms > 250 @@ (.latency_ms | type) == "number" and .latency_ms > 250'
  'latency_ms <= 10.5 @@ (.latency_ms | type) == "number" and .latency_ms <= 10.5'
  'req.status >= 500 @@ (.req.status | type) == "number" and .req.status >= 500'
  'req.method == "POST" or req.method == "PUT" @@ .req.method == "POST" or .req.method == "PUT"'
  'service == "api" and not (level == "debug") @@ .service == "api" and (.level == "debug" | not)'
  'user_id == null @@ .user_id == null'
  'exists(ctx.client.geo) @@ (.ctx.client.geo? // null) != null or ((.ctx.client? // {}) | has("geo"))'
  'tags[0] == "prod" @@ .tags[0]? == "prod"'
  'ctx.client.geo.country == "FR" and latency_ms < 100 @@ .ctx.client.geo.country? == "FR" and (.latency_ms | type) == "number" and .latency_ms < 100'
  'msg =~ "^job" @@ (.msg | type) == "string" and (.msg | test("^job"))'
  'msg !~ "timeout" @@ ((.msg | type) == "string" and (.msg | test("timeout"))) | not'
  'req.path =~ "^/v1/(orders|users)/[0-9]+$" @@ (.req.path? | type) == "string" and (.req.path | test("^/v1/(orders|users)/[0-9]+$"))'
)
n=0
for c in "${cases[@]}"; do
  expr="${c%% @@ *}"
  cond="${c#* @@ }"
  "$SLUICE" --where "$expr" "$APP" 2>/dev/null | jq -c -S . >"$T/sluice.$n"
  # -R + fromjson?: jq would stop at the sample's malformed lines; objects: as sluice.
  jq -R -c -S "fromjson? | objects | select($cond)" "$APP" >"$T/jq.$n"
  [[ -s "$T/jq.$n" ]] || fail "jq kept nothing for '$cond': a case that cannot tell anything"
  cmp -s "$T/sluice.$n" "$T/jq.$n" ||
    fail "--where '$expr' kept $(lines_of "$T/sluice.$n") events, jq select($cond) $(lines_of "$T/jq.$n")"
  ok "--where '$expr': the same $(lines_of "$T/jq.$n") events as jq"
  n=$((n + 1))
done
echo "$E2E_NAME: all checks passed"
