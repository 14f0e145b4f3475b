#!/usr/bin/env bash
# `bash scripts/node.sh ARGS...` is `node ARGS...` on Node.js 24
# (scripts/use-node24.sh): what package.json's cli, smoke and bench scripts run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/use-node24.sh"
exec node "$@"
