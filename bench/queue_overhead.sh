#!/usr/bin/env bash
# The work queue's cost per attempt: bench/queue-overhead.yaml (200 attempts of ~0.1 ms) run by
# one worker on PostgreSQL, three times, each in a fresh schema; beside it a worker on an empty
# queue (start-up and connection). Usage: bench/queue_overhead.sh postgres://USER@HOST:PORT/DB
set -euo pipefail
cd "$(dirname "$0")/.."
url=$1
bin=.build/release/overparam
sep='?'; case "$url" in *\?*) sep='&' ;; esac
for i in 1 2 3; do
    q="$url${sep}schema=bench_queue_$$_$i"
    "$bin" sweep submit bench/queue-overhead.yaml --store "$q" >/dev/null
    /usr/bin/time -f "worker, 200 attempts: %e s" "$bin" worker --store "$q" --workers 1 >/dev/null
    "$bin" export --store "$q" | tail -n +2 | awk -F, '{s += $NF} END {printf "  of which training: %.3f s over %d attempts\n", s, NR}'
done
/usr/bin/time -f "worker, empty queue: %e s" "$bin" worker --store "$url${sep}schema=bench_queue_$$_empty" --workers 1 >/dev/null
