# Sourced (not run) by every script that runs node or npm: test.sh, demo.sh,
# bench.sh, start.sh, node.sh and .ci/run. Puts the bin directory of Node.js 24
# (scripts/node24.sh: the node on PATH if it is v24.x, else the pinned one,
# fetched once into the cache) first on PATH, so everything after it (npm ci,
# tsc, the tests, the local stack's function processes, which are started
# with the parent's process.execPath) runs on the major the functions deploy
# on, whichever node started `npm run ...`.
node24_bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/node24.sh")" || exit 1
export PATH="$node24_bin:$PATH"
unset node24_bin
