#!/usr/bin/env bash
# Whole-process medians of two logbench builds, alternated, so both see the
# same machine: for each case, ROUNDS rounds of `logbench measure -n RUNS` on
# the old build, then the new one. Prints one line per case and round.
#   scripts/compare-builds.sh OLD_EXE NEW_EXE FILE... 
# Environment: ROUNDS (2), RUNS (11), THREADS ("1 2"), STRATEGY (parallel),
# OLD_STRATEGY (the old build's name for the same rung; default STRATEGY).
set -euo pipefail
old=$1 new=$2
shift 2
rounds=${ROUNDS:-2} runs=${RUNS:-11} threads=${THREADS:-1 2}
strategy=${STRATEGY:-parallel} old_strategy=${OLD_STRATEGY:-$strategy}
median() {
    "$new" measure --json -n "$runs" --warmup 2 -- "$@" |
        python3 -c 'import json,sys; print("%.1f" % (1000 * json.load(sys.stdin)["wall_s"]["median"]))'
}
printf 'file\tthreads\tround\told ms\tnew ms\tnew/old\n'
for file in "$@"; do
    for t in $threads; do
        for round in $(seq "$rounds"); do
            a=$(median "$old" mean --threads "$t" --strategy "$old_strategy" "$file")
            b=$(median "$new" mean --threads "$t" --strategy "$strategy" "$file")
            printf '%s\t%s\t%s\t%s\t%s\t%.3f\n' "$(basename "$file")" "$t" "$round" "$a" "$b" \
                "$(python3 -c "print($b / $a)")"
        done
    done
done
