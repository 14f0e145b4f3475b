#!/usr/bin/env bash
# npm run demo [-- flags]: on a fresh clone, install what is missing (npm
# packages when node_modules does not match the lockfile, fake-gcs-server;
# the gcloud emulators come with the Google Cloud CLI), build, then run the
# main job on the local emulator stack (local/demo.ts). `--help` prints the
# usage (local/demo-usage.txt) before anything is installed or built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for arg in "$@"; do
  case "$arg" in
  -h | --help)
    cat local/demo-usage.txt
    exit 0
    ;;
  esac
done
bash scripts/ensure-node-modules.sh
echo "[demo] building (tsc)" >&2
rm -rf build && node_modules/.bin/tsc -p .
echo "[demo] fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" >&2
exec node build/local/demo.js "$@"
