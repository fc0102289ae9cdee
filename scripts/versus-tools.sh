#!/bin/sh
# The parallel rung against the standard tools on the same files, as whole
# processes (`logbench measure`: medians of N runs, exact peak RSS).
#
#   scripts/versus-tools.sh [RUNS]
#
# Uses the raw seed file that `cargo bench` caches under target/logbench-data
# (made with gen-log if missing), and needs `wc`, `gzip`, `bzip2`, `pigz` and `lbzip2` on the PATH (Debian: apt
# install pigz lbzip2). The compressed files are written once by the standard
# tools themselves (`gzip -6`, `bzip2 -9`, as the issue asks). Prints one line
# per command; compare medians from the same run only.
set -eu
runs=${1:-5}
cd "$(dirname "$0")/.."
. scripts/common.sh
seed=$(data_set seed raw)
mkdir -p "$data/tools"
raw=$data/tools/seed-5000000.log
[ -f "$raw" ] || cp "$seed" "$raw"
[ -f "$raw.gz" ] || gzip -6 -k "$raw"
[ -f "$raw.bz2" ] || bzip2 -9 -k "$raw"

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
