#!/bin/sh
# The parallel rung against the standard tools on the same files, as whole
# processes (`logbench measure`: medians of N runs, exact peak RSS).
#
#   scripts/versus-tools.sh [RUNS]
#
# Needs the raw seed file that `cargo bench` caches under target/logbench-data,
# and `wc`, `gzip`, `bzip2`, `pigz` and `lbzip2` on the PATH (Debian: apt
# install pigz lbzip2). The compressed files are written once by the standard
# tools themselves (`gzip -6`, `bzip2 -9`, as the issue asks). Prints one line
# per command; compare medians from the same run only.
set -eu
runs=${1:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin logbench
lb=target/release/logbench
data=target/logbench-data
[ -f "$data/seed-5000000.log" ] || { echo "no $data/seed-5000000.log: run cargo bench first" >&2; exit 1; }
mkdir -p "$data/tools"
raw=$data/tools/seed-5000000.log
[ -f "$raw" ] || cp "$data/seed-5000000.log" "$raw"
[ -f "$raw.gz" ] || gzip -6 -k "$raw"
[ -f "$raw.bz2" ] || bzip2 -9 -k "$raw"

median() { # the median wall time and the peak RSS of a command
    "$lb" measure -n "$runs" -- "$@" | awk '/^wall/ {w=$5} /^rss/ {r=$7} END {printf "%8.3f s %8.1f MiB", w, r}'
}
row() { # label, command...
    label=$1; shift
    printf '%-34s %s\n' "$label" "$(median "$@")"
}

nproc=$(nproc)
echo "# $(date -u +%F), $nproc cores, $runs runs each (median wall, max peak RSS)"
row "raw: logbench parallel -t $nproc" "$lb" mean "$raw" --strategy parallel --threads "$nproc"
row "raw: wc -l" wc -l "$raw"
row "gz: logbench parallel -t $nproc" "$lb" mean "$raw.gz" --strategy parallel --threads "$nproc"
row "gz: logbench parallel -t 1" "$lb" mean "$raw.gz" --strategy parallel --threads 1
row "gz: pigz -dc" sh -c "pigz -dc '$raw.gz' > /dev/null"
row "gz: gzip -dc" sh -c "gzip -dc '$raw.gz' > /dev/null"
row "bz2: logbench parallel -t $nproc" "$lb" mean "$raw.bz2" --strategy parallel --threads "$nproc"
row "bz2: logbench parallel -t 1" "$lb" mean "$raw.bz2" --strategy parallel --threads 1
row "bz2: bzip2 -dc" sh -c "bzip2 -dc '$raw.bz2' > /dev/null"
row "bz2: lbzip2 -dc -n $nproc" sh -c "lbzip2 -dc -n $nproc '$raw.bz2' > /dev/null"
