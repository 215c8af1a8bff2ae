#!/usr/bin/env bash
# Steward's queue and graphile-worker on the same PostgreSQL, alternated in
# one go, so machine load affects both alike (docs/benchmarks.md, "Durable
# job queue"). Usage:
#
#   bench/queue-side-by-side.sh [--jobs N] [--runs R] [--steward PATH] [--database URL]
#
# Defaults: 20,000 jobs per phase, 2 runs of each, target/release/steward,
# postgres://postgres@127.0.0.1:5432/test. Steward runs with 64 workers,
# holding up to 500 jobs ahead as graphile-worker's local queue does
# (--local-queue 500, claims of up to 1,000);
# graphile-worker with concurrency 24, localQueue.size 500 and
# completeJobBatchDelay 0 (bench/graphile-worker/bench.mjs). Both enqueue one
# job per call from 16 callers. Needs Node.js 18 or later and npm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jobs=20000
runs=2
steward="$here/../target/release/steward"
database="postgres://postgres@127.0.0.1:5432/test"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --steward) steward="$2"; shift 2 ;;
    --database) database="$2"; shift 2 ;;
    *) echo "unknown option $1 (expected --jobs, --runs, --steward or --database)" >&2; exit 2 ;;
  esac
done
if [[ ! -x "$steward" ]]; then
  echo "no Steward binary at $steward: run 'cargo build --release -p steward-cli' or pass --steward" >&2
  exit 1
fi
if [[ ! -d "$here/graphile-worker/node_modules/graphile-worker" ]]; then
  (cd "$here/graphile-worker" && npm ci --no-audit --no-fund)
fi

for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: steward =="
  "$steward" bench queue --jobs "$jobs" --workers 64 --local-queue 500 --claim-batch 1000 --database "$database"
  echo "== run $run of $runs: graphile-worker =="
  (cd "$here/graphile-worker" && node bench.mjs --jobs "$jobs" --database "$database")
done
