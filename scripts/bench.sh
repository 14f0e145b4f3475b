#!/usr/bin/env bash
# npm run bench [-- options]: builds, makes sure the Python venv exists, then
# measures our CLI against the notebook, the vectorised Python and the disk
# floor (bench/run.ts; `npm run bench -- --help` lists the options).
#
#   npm run bench                       # 1M and 10M rows, then 100M rows of ours alone (RSS),
#                                       # then the local stack at 10M/100M, one file vs 16 shards
#   npm run bench -- --only stack       # the local-stack section alone
#   npm run bench -- --quick            # 1M rows only
#   npm run bench -- --skip notebook@10000000
#
# Results: a table on stdout, and bench/results/<date>-<host>.json and .md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/use-node24.sh   # Node.js 24 first on PATH (scripts/node24.sh)
bash scripts/ensure-node-modules.sh
node_modules/.bin/tsc -p .

PY="$(bash scripts/python-env.sh)"
exec node build/bench/run.js --python "$PY" "$@"
