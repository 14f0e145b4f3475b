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
# --max-semi-space-size=1: this process hosts the stack's storage front, router and
# bridges; V8's default young generation is tens of mostly empty MB on a laptop
# (FUNCTION_SEMI_SPACE_MB in local/functions.ts, docs/local-stack-memory.md).
exec node --max-semi-space-size=1 build/local/start.js "$@"
