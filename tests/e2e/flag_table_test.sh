#!/usr/bin/env bash
# The README's flag table and `sluice --help` list the same long flags (both come from
# the flags each component declares, sluice/flags.hpp): a flag added without a row, or a
# row left after its flag went, fails here.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

README="$E2E_ROOT/README.md"
[[ -f "$README" ]] || fail "no README at $README"

step "every long flag of --help is in the README's flag table, and the reverse"
"$SLUICE" --help >"$T/help.out"
# The option column of --help: "  -o,--output PATH", "  --stats".
grep -E '^  (-[A-Za-z],)?--[a-z]' "$T/help.out" | sed -E 's/^  (-[A-Za-z],)?(--[a-z][a-z-]*).*/\2/' |
  sort -u >"$T/help.flags"
# The first column of the table under "## Flags": "| `--select F,..` / `--drop F,..` |".
awk '/^## /{in_flags = ($0 == "## Flags")} in_flags && /^\| `/' "$README" | cut -d'|' -f2 |
  grep -oE -- '--[a-z][a-z-]*' | sort -u >"$T/readme.flags"
assert_ge "$(lines_of "$T/help.flags")" 30 "long flags in --help"
assert_ge "$(lines_of "$T/readme.flags")" 30 "long flags in the README table"
missing="$(comm -23 "$T/help.flags" "$T/readme.flags" | tr '\n' ' ')"
extra="$(comm -13 "$T/help.flags" "$T/readme.flags" | tr '\n' ' ')"
[[ -z "$missing" ]] || fail "in --help but not in the README's flag table: $missing"
ok "every flag of --help has a row"
[[ -z "$extra" ]] || fail "in the README's flag table but not in --help: $extra"
ok "every row is a flag of --help"
