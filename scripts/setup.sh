#!/usr/bin/env bash
# Idempotent setup: installs the Debian packages sluice needs (only those missing),
# then configures and builds. Usage: scripts/setup.sh [build-dir] [extra cmake args...]
#   scripts/setup.sh --packages-only      install only (SLUICE_EXTRA_PKGS adds packages)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(build-essential cmake pkg-config libtbb-dev libsimdjson-dev libspdlog-dev libfmt-dev
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libcpp-httplib-dev libre2-dev
      jq curl iproute2 bsdutils)
# shellcheck disable=SC2206  # a space-separated list on purpose
pkgs+=(${SLUICE_EXTRA_PKGS:-})
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--packages-only" ] && exit 0
build=${1:-"$here/build"}; shift || true
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${SLUICE_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
