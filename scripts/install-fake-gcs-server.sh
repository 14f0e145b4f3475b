#!/usr/bin/env bash
# Installs fake-gcs-server (the Cloud Storage emulator of the local stack, see
# docs/local-stack.md) with `go install`, pinned, into
# ${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}/bin.
#
# Idempotent: does nothing when the binary there was already built from the
# pinned version. The go command's output goes to a log file next to it; the
# only thing printed on stdout is the binary's path, so callers can do
#   FAKE_GCS_SERVER_BIN="$(bash scripts/install-fake-gcs-server.sh)"
set -euo pipefail

readonly MODULE=github.com/fsouza/fake-gcs-server
readonly VERSION="${FAKE_GCS_SERVER_VERSION:-v1.56.1}"

cache_dir="${EXPLORATION_DATA_CACHE:-${HOME}/.cache/exploration-data}"
bin_dir="${cache_dir}/bin"
log_dir="${cache_dir}/logs"
bin="${bin_dir}/fake-gcs-server"
log="${log_dir}/install-fake-gcs-server.log"

mkdir -p "${bin_dir}" "${log_dir}"

if ! command -v go >/dev/null 2>&1; then
  echo "install-fake-gcs-server: the go command is not on PATH (Go >= 1.26 is needed)" >&2
  exit 1
fi

# `go version -m` reads the module versions embedded in the binary.
installed_version() {
  go version -m "${bin}" 2>/dev/null |
    awk -v m="${MODULE}" '$1 == "mod" && $2 == m { print $3 }'
}

if [[ -x "${bin}" && "$(installed_version)" == "${VERSION}" ]]; then
  echo "${bin}"
  exit 0
fi

mkdir -p "${log_dir}"
{
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) go install ${MODULE}@${VERSION} -> ${bin_dir}"
  go version
} >>"${log}" 2>&1

# Run outside any module so that a go.mod nearby cannot interfere.
work_dir="$(mktemp -d)"
trap 'rm -rf "${work_dir}"' EXIT
if ! (cd "${work_dir}" && GOBIN="${bin_dir}" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
  go install "${MODULE}@${VERSION}") >>"${log}" 2>&1; then
  echo "install-fake-gcs-server: go install ${MODULE}@${VERSION} failed; see ${log}" >&2
  tail -n 20 "${log}" >&2
  exit 1
fi

got="$(installed_version)"
if [[ "${got}" != "${VERSION}" ]]; then
  echo "install-fake-gcs-server: ${bin} reports version '${got}', expected ${VERSION}; see ${log}" >&2
  exit 1
fi
mkdir -p "${log_dir}"
echo "== installed ${bin} (${got})" >>"${log}"
echo "${bin}"
