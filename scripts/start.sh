#!/usr/bin/env bash
# npm start [-- --port N] [-- --run-dir DIR]: builds, then serves the local
# stack (local/start.ts, docs/local-stack.md) on Node.js 24
# (scripts/use-node24.sh); node_modules is installed first when it does not
# match the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/use-node24.sh
bash scripts/ensure-node-modules.sh
node_modules/.bin/tsc -p .
exec node build/local/start.js "$@"
