#!/usr/bin/env bash
# npm run demo: on a fresh clone, install what is missing (npm packages,
# fake-gcs-server; the gcloud emulators come with the Google Cloud CLI), build,
# then run the main job on the local emulator stack (local/demo.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules/@google-cloud/functions-framework ]]; then
  echo "[demo] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund >/dev/null
fi
echo "[demo] building" >&2
rm -rf build && npx tsc -p .
echo "[demo] fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" >&2
exec node build/local/demo.js "$@"
