#!/bin/sh
# `logbench stats` against DuckDB, polars and awk: the same raw file, the same
# question (per metric: count, sum, min, max, mean, and the 0.5/0.9/0.99
# quantiles; awk has no quantiles), as whole processes (`logbench measure`:
# medians of RUNS runs, exact peak RSS). The peers run on all cores, as
# they do by default.
#
#   scripts/versus-stats.sh [RUNS]
#
# Uses the 5M-line mixed file that `cargo bench` caches under
# target/logbench-data (made here with gen-log if it is missing). DuckDB and
# polars are installed once, from scripts/peers/requirements.txt, into
# target/versus-venv. Before timing, each peer's answer is checked against
# logbench's: count, sum, min and max must be equal; quantiles are compared
# and any difference named (DuckDB's quantile_disc and polars' "nearest"
# define the rank slightly differently from STATS.md's nearest rank).
set -eu
runs=${1:-5}
cd "$(dirname "$0")/.."
. scripts/common.sh
raw=$(data_set mixed raw)
venv=target/versus-venv
if [ ! -x "$venv/bin/python" ]; then
    echo "installing DuckDB and polars into $venv (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r scripts/peers/requirements.txt
fi
py=$venv/bin/python
nproc=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Per metric: count, sum, min, max (lines of three fields whose value is an integer).
awk_program='
NF == 3 && $3 ~ /^[-+]?[0-9]+$/ {
    v = $3 + 0; n[$2]++; s[$2] += v
    if (!($2 in lo) || v < lo[$2]) lo[$2] = v
    if (!($2 in hi) || v > hi[$2]) hi[$2] = v
}
END { for (m in n) printf "%s\t%d\t%.0f\t%d\t%d\n", m, n[m], s[m], lo[m], hi[m] }'

# The answers, as metric, count, sum, min, max, then quantiles (tab-separated).
"$lb" stats --csv --threads "$nproc" "$raw" | tail -n +2 | cut -d, -f1-5,7-9 | tr , '\t' > "$out/logbench"
"$py" scripts/peers/duckdb_stats.py "$raw" | cut -f1-5,7- > "$out/duckdb"
"$py" scripts/peers/polars_stats.py "$raw" | cut -f1-5,7- > "$out/polars"
awk -F, "$awk_program" "$raw" | LC_ALL=C sort > "$out/awk"
for peer in duckdb polars awk; do
    cut -f1-5 "$out/logbench" > "$out/logbench.5"
    cut -f1-5 "$out/$peer" > "$out/$peer.5"
    if ! cmp -s "$out/logbench.5" "$out/$peer.5"; then
        echo "$peer disagrees on count, sum, min or max:" >&2
        diff "$out/logbench.5" "$out/$peer.5" >&2 || true
        exit 1
    fi
    if [ "$peer" != awk ] && ! cmp -s "$out/logbench" "$out/$peer"; then
        echo "# $peer's quantiles differ (metric count sum min max q0.5 q0.9 q0.99):"
        diff "$out/logbench" "$out/$peer" | sed 's/^/#   /'
    fi
done

row() { # label, command...
    label=$1; shift
    printf '%-40s %s\n' "$label" "$(median "$@")"
}

echo "# $(date -u +%F), $nproc cores, $runs runs each (median wall, max peak RSS); answers checked"
row "logbench stats -t $nproc" "$lb" stats --threads "$nproc" "$raw"
row "logbench stats -t 1" "$lb" stats --threads 1 "$raw"
row "duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)')" "$py" scripts/peers/duckdb_stats.py "$raw"
row "polars $("$py" -c 'import polars; print(polars.__version__)')" "$py" scripts/peers/polars_stats.py "$raw"
row "awk (no quantiles): $(awk -W version 2>/dev/null | head -1 | cut -d" " -f1-2)" awk -F, "$awk_program" "$raw"
