#!/bin/sh
# How close the fast rungs come to one format's floor, measured so that the
# machine's drift does not decide it: criterion runs the floor and then each
# rung, ROUNDS times over, and each round prints every rung's median over the
# floor's median of that round; the last line is the median of those ratios.
#
#   scripts/floor-ratios.sh [FORMAT [ROUNDS [RUNG...]]]
#
# FORMAT is raw, gz or bz2 (default gz), ROUNDS defaults to 5 and the rungs to
# mask-split and swar. Why: `cargo bench` measures each benchmark once, in a
# block of its own, and on a shared or throttled machine the floor and a rung
# may see different speeds; on the 2-core VM of results/ the gz floor alone
# measured 80 to 92 ms within one hour. A round takes about half a minute per
# benchmark (gz). Criterion's output goes to target/criterion-floor-ratios, so
# the run behind `logbench report` is left as it was.
set -eu
format=${1:-gz}
rounds=${2:-5}
if [ $# -gt 2 ]; then shift 2; else set -- mask-split swar; fi
cd "$(dirname "$0")/.."
export CRITERION_HOME="$PWD/target/criterion-floor-ratios"
ratios=$(mktemp)
trap 'rm -f "$ratios"' EXIT

median_ms() { # run one benchmark of the ladder; criterion's median, in ms
    cargo bench --quiet --bench suite -- "^$format/$1\$" > /dev/null 2>&1
    sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([0-9.eE+-]+).*/\1/' \
        "$CRITERION_HOME/$format/$1/new/estimates.json" | awk '{printf "%.2f", $1 / 1e6}'
}

echo "# $(date -u '+%F %H:%M'), $format, $rounds rounds: each rung's median / the floor's median of its round"
for round in $(seq "$rounds"); do
    floor=$(median_ms floor)
    printf 'round %s: floor %s ms' "$round" "$floor"
    for rung in "$@"; do
        time=$(median_ms "$rung")
        ratio=$(echo "$time $floor" | awk '{printf "%.3f", $1 / $2}')
        printf ', %s %s ms (%sx)' "$rung" "$time" "$ratio"
        echo "$rung $ratio" >> "$ratios"
    done
    echo
done
printf 'median ratio:'
for rung in "$@"; do
    awk -v rung="$rung" '$1 == rung {print $2}' "$ratios" | sort -n |
        awk -v rung="$rung" '{v[NR] = $1} END {
            printf " %s %.3fx", rung, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
done
echo
