#!/usr/bin/env bash
# `npm run bench`: bench/bench.ts (which prints the table) on the primary and as many remote local
# clusters as the largest fleet of BENCH_FLEETS (default 1,3,6,14) needs.
set -euo pipefail
cd "$(dirname "$0")/.."
largest=$(tr ',' '\n' <<<"${BENCH_FLEETS:-1,3,6,14}" | sort -n | tail -1)
clusters="primary $(printf 'remote-%s ' a b c d e f g h i j k l m n | cut -d' ' -f1-"$largest")"
exec tools/clusters/with-clusters.sh "$clusters" node -r ts-node/register/transpile-only bench/bench.ts
