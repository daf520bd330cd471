#!/usr/bin/env bash
# Runs benchmark suites on release builds and writes their results into BENCHMARKS.md.
# usage: bench/run.sh [suite...]      (every suite when none is named; `bench --help` lists them)
# Servers: BENCH_POSTGRES_URL (else TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test)
# names an admin URL where the suites may create and drop their own databases.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release -q -p migration -p bench --bins
exec "${CARGO_TARGET_DIR:-target}/release/bench" "$@"
