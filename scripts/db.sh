#!/usr/bin/env bash
# Development wrapper around the `migrate` binary: loads .env, builds once, runs the command.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'USAGE'
usage: scripts/db.sh <command> [args]

  up [args]      apply pending migrations
  down [N]       revert the last N migrations (default 1)
  status         show every migration and its state
  create NAME    write a new migration and register it
  check          exit 6 if anything is pending, 4 if anything is modified, missing or failed
  help           this text

Extra arguments are passed to `migrate`; see `scripts/db.sh up --help`.
USAGE
}

if [[ -f .env ]]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi

cmd="${1:-help}"
shift || true

run() {
  cargo build -q -p migration --bin migrate
  exec "${CARGO_TARGET_DIR:-target}/debug/migrate" "$@"
}

case "$cmd" in
  up | status | check) run "$cmd" "$@" ;;
  down) run down -n "${1:-1}" "${@:2}" ;;
  create) run create "$@" ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
