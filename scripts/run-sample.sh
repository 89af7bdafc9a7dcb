#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs sluice on a sample: a rate-limited
# run (200 events/s) that writes the events to stdout and its stats to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build" >&2
exec "$here/build/sluice" --rate 200/s --stats --dead-letter /dev/stderr "$here/samples/app.ndjson" "$@"
