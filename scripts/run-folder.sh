# Sourced by scripts/test.sh and scripts/demo.sh: one run folder per run, in
# ${TMPDIR:-/tmp}, exported as TMPDIR so that everything the run makes there
# (the local stacks' logs, gcloud configs and signing keys, the tests' scratch
# folders, pytest's basetemp, downloads) is in it. It is removed when the run
# ends with exit 0 and no --keep; otherwise kept, and its path printed.

# run_folder_open NAME KEEP WHAT: NAME tags the folder and the message, KEEP
# is true or false, WHAT says what is in it.
run_folder_open() {
  RUN_FOLDER_NAME="$1"
  RUN_FOLDER_KEEP="$2"
  RUN_FOLDER_WHAT="$3"
  RUN_FOLDER="$(mktemp -d "${TMPDIR:-/tmp}/exploration-data-$1-XXXXXX")"
  export TMPDIR="$RUN_FOLDER"
  trap run_folder_close EXIT
}

run_folder_close() {
  local code=$?
  if [[ $code -eq 0 && $RUN_FOLDER_KEEP == false ]]; then
    chmod -R u+w "$RUN_FOLDER" 2>/dev/null || true
    rm -rf "$RUN_FOLDER"
  else
    echo "[$RUN_FOLDER_NAME] run folder kept: $RUN_FOLDER ($RUN_FOLDER_WHAT)" >&2
  fi
  exit "$code"
}

# run_child CMD...: runs CMD and returns its exit status once it has ended,
# passing SIGTERM and SIGHUP on to it (Ctrl-C reaches it directly, from the
# terminal), so the folder is cleaned up only after CMD stopped what it started.
run_child() {
  # A background job of a script starts with SIGINT ignored: give it back.
  (
    trap - INT QUIT
    exec "$@"
  ) &
  RUN_CHILD_PID=$!
  trap 'kill -TERM "$RUN_CHILD_PID" 2>/dev/null || true' TERM
  trap 'kill -HUP "$RUN_CHILD_PID" 2>/dev/null || true' HUP
  trap ':' INT
  local status=0
  while :; do
    status=0
    wait "$RUN_CHILD_PID" || status=$?
    kill -0 "$RUN_CHILD_PID" 2>/dev/null || break
  done
  trap - TERM HUP INT
  return "$status"
}
