#!/usr/bin/env bash
# Thin wrapper around the `migrate` and `seed` binaries: loads .env, builds once, then runs the
# command. All behaviour lives in the binaries; see `scripts/db.sh help`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'USAGE'
usage: scripts/db.sh <command> [args...]

commands:
  up [args]       apply pending migrations            (migrate up [args])
  down [N]        revert the last N migrations, 1 by default
                                                      (migrate down -n N [args])
  status          show every migration and its state  (migrate status [args])
  create NAME     write a new migration module        (migrate create NAME [args])
  check           exit non-zero when something is pending or drifted
                                                      (migrate check [args])
  schema          print the schema                    (migrate schema [args])
  verify          prove each down undoes its up, on a scratch database
                                                      (migrate verify [args])
  releases        each release and its state          (migrate releases [args])
  report          release notes as Markdown           (migrate report [args])
  plan ...        create, list, show, run, roll back plans
                                                      (migrate plan ... [args])
  history         everything that happened            (migrate history [args])
  seed [PROFILE]  load test data: minimal, demo (default) or load --scale N
                                                      (seed [PROFILE] [args])
  reset [PROFILE] drop every table and view, apply every migration, seed PROFILE
                  (demo by default); asks first on a terminal, --yes without one
                                                      (migrate fresh --seed PROFILE [args])
  help            show this help

Extra arguments are passed to `migrate` (or `seed`) unchanged; `--help` lists them.
Settings come from the environment and from .env when it exists (see .env.example).
USAGE
}

if [[ $# -eq 0 ]]; then
  usage >&2
  exit 2
fi

command=$1
shift

program=migrate
case "$command" in
  up | status | create | check | schema | verify | releases | report | plan | history)
    args=("$command" "$@")
    ;;
  seed)
    program=seed
    args=("$@")
    ;;
  reset)
    profile=demo
    if [[ $# -gt 0 && $1 != -* ]]; then
      profile=$1
      shift
    fi
    args=(fresh --seed "$profile" "$@")
    ;;
  down)
    if [[ $# -eq 0 ]]; then
      args=(down -n 1)
    elif [[ $1 =~ ^[0-9]+$ ]]; then
      args=(down -n "$1" "${@:2}")
    else
      args=(down "$@")
    fi
    ;;
  help | -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "error: unknown command '$command'" >&2
    usage >&2
    exit 2
    ;;
esac

if [[ -f .env ]]; then
  set -a
  # shellcheck disable=SC1091 # .env is the user's, not part of the repository
  . ./.env
  set +a
fi

binary="${CARGO_TARGET_DIR:-target}/debug/$program"
# Cargo's own check that nothing changed takes a fifth of a second, longer than a cached reset:
# build only when the binary is missing or a file it is built from is newer than it.
if [[ ! -x $binary ]] || [[ -n $(find Cargo.toml Cargo.lock engine entity migration seeds \
  -newer "$binary" -not -path '*/target/*' -print -quit 2>/dev/null) ]]; then
  cargo build -q -p migration --bin "$program"
fi
exec "$binary" "${args[@]}"
