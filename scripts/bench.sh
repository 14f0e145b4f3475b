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
#   npm run bench -- --obp              # also make the optional OBP venv (scripts/obp-env.sh)
#                                       # and time OBP's SyntheticBanditDataset beside ours
#
# The OBP section runs when that venv is already made or --obp asks for it;
# OBP is never needed by the product, its tests or its demo. When --obp cannot
# make the venv, the bench records why (obp-env.sh's last line) and goes on.
#
# Results: a table on stdout, and bench/results/<date>-<host>.json and .md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/use-node24.sh   # Node.js 24 first on PATH (scripts/node24.sh)
bash scripts/ensure-node-modules.sh
node_modules/.bin/tsc -p .

PY="$(bash scripts/python-env.sh)"

obp=()
if [[ " $* " == *" --obp "* ]]; then
  err="$(mktemp)"
  if OBP_PY="$(bash scripts/obp-env.sh 2>"$err")"; then
    cat "$err" >&2
    obp=(--obp-python "$OBP_PY")
  else
    cat "$err" >&2
    obp=(--obp-unavailable "$(tail -n 1 "$err")")
  fi
  rm -f "$err"
elif OBP_PY="$(bash scripts/obp-env.sh --check 2>/dev/null)"; then
  obp=(--obp-python "$OBP_PY")
fi
# --max-semi-space-size=1: this process hosts the stack's storage front, router and
# bridges; V8's default young generation is tens of mostly empty MB on a laptop
# (FUNCTION_SEMI_SPACE_MB in local/functions.ts, docs/local-stack-memory.md).
exec node --max-semi-space-size=1 build/bench/run.js --python "$PY" "${obp[@]}" "$@"
