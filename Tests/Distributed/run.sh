#!/usr/bin/env bash
# The work queue and the shards with real processes, against a real PostgreSQL server:
#   1. a single-process run of a sweep into SQLite (the reference);
#   2. the same sweep submitted to PostgreSQL and worked on by three worker processes, one of
#      them SIGKILLed in the middle of an attempt: its lease must expire, another worker must
#      re-run that attempt, and the store must end with every attempt exactly once, identical
#      to the reference;
#   3. the same sweep as three shard processes into SQLite files, one SIGKILLed mid-attempt and
#      re-run, merged: again every attempt once, identical to the reference.
# Usage: Tests/Distributed/run.sh OVERPARAM_BINARY POSTGRES_URL
set -euo pipefail
bin=$(realpath "$1")
url=$2
work=$(mktemp -d /tmp/overparam-distributed.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
# A schema of its own: reruns never see an old queue.
schema="dist_$$_$RANDOM"
case "$url" in *\?*) queue="$url&schema=$schema" ;; *) queue="$url?schema=$schema" ;; esac

passed=0 failed=0
check() {  # check NAME COMMAND…: one assertion
    if "${@:2}"; then passed=$((passed + 1)); echo "  ok    $1"; else failed=$((failed + 1)); echo "  FAIL  $1"; diagnose; fi
}
diagnose() {  # the logs a failure needs, once
    [ -n "${diagnosed:-}" ] && return; diagnosed=1
    for f in w1.log w2.log w3.log killed.log s1.log; do [ -f "$f" ] && { echo "  --- last lines of $f"; tail -n 5 "$f" | sed 's/^/  | /'; }; done
}
# Both stores hold the same results: merging either into a copy of the other adds nothing.
same_results() {  # same_results A.sqlite B.sqlite
    cp "$1" a.copy; cp "$2" b.copy
    "$bin" merge --into a.copy "$2" >merge-ab.log; "$bin" merge --into b.copy "$1" >merge-ba.log
    rm -f a.copy b.copy
    grep -q ": 0 results added, [1-9][0-9]* already present$" merge-ab.log &&
        grep -q ": 0 results added, [1-9][0-9]* already present$" merge-ba.log
}
attempts_in() { "$bin" export --store "$1" | tail -n +2 | wc -l; }
# Waits until FILE has at least N lines matching PATTERN (at most 120 s), looking every 20 ms:
# attempts take tens of milliseconds.
wait_for() {  # wait_for FILE PATTERN N
    for _ in $(seq 6000); do
        [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
        sleep 0.02
    done
    echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

cat >sweep.yaml <<'EOF'
instrument: emc
fixed: {data: digits, optimizer: adam, lr: 0.01, batch-size: 0, steps: 2000, schedule: constant, start: 64, precision: 0.05}
axes:
  arch: [mlp:64-8-10:relu, mlp:64-16-10:tanh]
  condition: [random-labels, true]
seeds: 2
output: out
EOF

echo "distributed: reference run (one process, SQLite)"
"$bin" sweep run sweep.yaml --store single.sqlite >single.log
total=$(attempts_in single.sqlite)
echo "  $total attempts"

echo "distributed: three workers on PostgreSQL, one SIGKILLed mid-attempt"
"$bin" sweep submit sweep.yaml --store "$queue" >submit.log
check "submit queues one search per configuration and seed" grep -q "^8 searches queued, 0 already" submit.log
for w in 1 2 3; do
    "$bin" worker --store "$queue" --workers 1 --lease 5 --name "w$w" >"w$w.log" 2>&1 &
    eval "pid$w=$!"
done
# Once w1 has claimed a second attempt, freeze it at a random moment; if its log then ends on
# a claim and the queue shows its lease live (an attempt in flight, not one being committed),
# kill it there, else let it go on and try again.
wait_for w1.log ": attempt n = " 2
for _ in $(seq 300); do
    sleep 0.0$((RANDOM % 9 + 1))
    kill -STOP "$pid1"
    if tail -n 1 w1.log | grep -q ": attempt n = " && "$bin" sweep status sweep.yaml --store "$queue" >killed.log &&
        grep -q "^  leased to w1 for " killed.log; then
        break
    fi
    kill -CONT "$pid1"
done
kill -9 "$pid1"
wait "$pid1" 2>/dev/null || true
check "w1 is killed in the middle of an attempt, holding its lease" grep -q "^  leased to w1 for " killed.log
wait "$pid2"; wait "$pid3"
check "another worker took over w1's expired lease" grep -q "lease of w1 on .* expired; re-running its attempt" w2.log w3.log
check "the surviving workers exit when the queue is empty" grep -q "^no search left waiting" w2.log
"$bin" merge --into queue.sqlite "$queue" >pull.log
check "every attempt is stored once ($total)" test "$(attempts_in queue.sqlite)" -eq "$total"
check "the queue's results are identical to the single-process run" same_results single.sqlite queue.sqlite
"$bin" sweep status sweep.yaml --store "$queue" >status.log
check "sweep status: every configuration done, queue empty" \
    grep -q "^4 done, 0 running or interrupted, 0 left, of 4 configurations" status.log
cp out/results.csv single-results.csv
"$bin" sweep run sweep.yaml --store "$queue" >tables.log
check "sweep run on the finished queue trains nothing and writes the same table" \
    bash -c 'grep -q "^0 searches queued, 8 already" tables.log && ! grep -q ": attempt n = " tables.log && cmp -s out/results.csv single-results.csv'

echo "distributed: three shards into SQLite, one SIGKILLed mid-attempt, re-run and merged"
for s in 0 1 2; do
    "$bin" sweep run sweep.yaml --shard "$s/3" --store "s$s.sqlite" >"s$s.log" 2>&1 &
    eval "spid$s=$!"
done
wait_for s1.log "^\[[0-9]*\]  seed " 1   # an attempt line: "[k]  seed …"
kill -9 "$spid1"
wait "$spid1" 2>/dev/null || true
wait "$spid0"; wait "$spid2"
check "shard 1 was killed before it finished" bash -c '! grep -q "^shard 1/3" s1.log'
before=$(attempts_in s1.sqlite)
"$bin" sweep run sweep.yaml --shard 1/3 --store s1.sqlite >s1-rerun.log
check "the re-run shard resumes from its store ($before attempts kept)" test "$before" -ge 1
"$bin" merge --into merged.sqlite s0.sqlite s1.sqlite s2.sqlite >merge.log
check "the merge reports no conflicts" bash -c '! grep -q CONFLICTING merge.log'
check "every attempt is stored once ($total)" test "$(attempts_in merged.sqlite)" -eq "$total"
check "the shards' results are identical to the single-process run" same_results single.sqlite merged.sqlite

echo "distributed: bad input"
"$bin" worker --store "postgres://nobody@127.0.0.1:1/none?sslmode=disable" >bad.log 2>&1 && status=0 || status=$?
check "an unreachable database is one clear error, exit 1" \
    bash -c "[ $status -eq 1 ] && grep -q '^error: cannot open the result store postgres://nobody@127.0.0.1:1/none' bad.log"

echo "distributed: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
