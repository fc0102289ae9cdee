#!/usr/bin/env bash
# Instruction counts (callgrind, whole process) for every rung of a logbench
# binary on the given logs, one line per rung and file:
#   scripts/callgrind-rungs.sh target/release/logbench seed-1m.log mixed-1m.log
# Callgrind counts instructions, so the figures repeat for the same binary and
# input whatever else the machine is doing: use them to compare two builds.
set -euo pipefail
exe=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rungs=${RUNGS:-$("$exe" strategies | awk 'NR > 0 && $1 ~ /^[a-z]/ {print $1}')}
for file in "$@"; do
    for rung in $rungs; do
        valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
            "$exe" mean --threads 1 --strategy "$rung" "$file" >/dev/null 2>"$out/err"
        total=$(awk '/^summary:/ {print $2}' "$out/cg")
        printf '%s\t%s\t%s\n' "$(basename "$file")" "$rung" "$total"
    done
done
