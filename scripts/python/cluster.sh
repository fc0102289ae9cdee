#!/bin/sh
# logbench.dask measured on this machine (scripts/python/cluster.py): the
# in-process stats against a local Dask cluster of 1 and of 2 workers, and
# the constants of docs/cluster.md's model, on the 5M-line mixed sets (bz2
# and raw, made with gen-log if missing). Writes results/cluster.txt.
#
#   scripts/python/cluster.sh [RUNS]
set -eu
runs=${1:-7}
cd "$(dirname "$0")/../.."
. scripts/common.sh
bz2=$(data_set mixed bz2)
raw=$(data_set mixed raw)
. scripts/python/venv.sh
tmp=$(mktemp results/cluster.txt.XXXXXX)
trap 'rm -f "$tmp"' EXIT
# Dask's own logging goes to target/cluster-dask.log.
"$py" scripts/python/cluster.py "$runs" "$bz2" "$raw" 2> target/cluster-dask.log > "$tmp"
mv "$tmp" results/cluster.txt
trap - EXIT
cat results/cluster.txt
