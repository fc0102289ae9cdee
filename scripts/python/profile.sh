#!/bin/sh
# The case study's Python baseline (scripts/python/baseline.py), measured and
# profiled with the case study's own tools, on the same 5M-line seed sets as
# the ladder. Writes results/python/:
#
#   measure.txt         whole processes (`logbench measure`): the baseline, its
#                       running-sum cure, the same script calling the logbench
#                       extension, and the logbench CLI, on raw, gz and bz2
#   cprofile.txt        cProfile on bz2, sorted by own time (tottime)
#   line_profiler.txt   line_profiler (kernprof) on bz2, per line
#   tracemalloc.txt     what the list of values costs, against the running sum
#   extension.txt       logbench.mean() called in-process against the CLI process
#
#   scripts/python/profile.sh [RUNS]
#
# Uses the data sets `cargo bench` caches under target/logbench-data (made
# here with gen-log if missing) and the virtualenv `cargo test` makes under
# target/python-venv (made here if missing); installs line_profiler there
# and builds the extension into it.
set -eu
runs=${1:-3}
cd "$(dirname "$0")/../.."
. scripts/common.sh
seed=$(data_set seed raw)
data_set seed gz > /dev/null
data_set seed bz2 > /dev/null
. scripts/python/venv.sh
baseline=scripts/python/baseline.py
out=results/python
mkdir -p "$out"

{
    echo "# $(date -u +%F), $("$py" --version), $(nproc) cores, $runs runs each (median wall, max peak RSS)"
    for suffix in "" .gz .bz2; do
        format=${suffix#.}
        format=${format:-raw}
        printf '%-44s %s\n' "$format: baseline.py (list)" "$(median "$py" "$baseline" "$seed$suffix")"
        printf '%-44s %s\n' "$format: baseline.py --running-sum" "$(median "$py" "$baseline" "$seed$suffix" --running-sum)"
        printf '%-44s %s\n' "$format: baseline.py --logbench (extension)" "$(median "$py" "$baseline" "$seed$suffix" --logbench)"
        printf '%-44s %s\n' "$format: logbench mean (CLI)" "$(median "$lb" mean "$seed$suffix")"
    done
} > "$out/measure.txt"
cat "$out/measure.txt"

"$py" scripts/python/call_overhead.py "$runs" "$lb" "$seed" "$seed.gz" "$seed.bz2" > "$out/extension.txt"
cat "$out/extension.txt"
"$py" -m cProfile -s tottime "$baseline" "$seed.bz2" | tail -n +2 | head -n 25 > "$out/cprofile.txt"
"$venv/bin/kernprof" -l -o target/baseline.py.lprof "$baseline" "$seed.bz2" > /dev/null
"$py" -m line_profiler -u 0.001 target/baseline.py.lprof > "$out/line_profiler.txt"
{
    echo "# baseline.py on $seed.bz2 under tracemalloc: the list of values, then the running sum"
    "$py" "$baseline" "$seed.bz2" --tracemalloc 2>&1
    "$py" "$baseline" "$seed.bz2" --tracemalloc --running-sum 2>&1
} > "$out/tracemalloc.txt"
echo "wrote $out/"
