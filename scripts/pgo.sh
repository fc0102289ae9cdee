#!/usr/bin/env bash
# PGO, the case study's last rung (its C + PCRE JIT build went from 6.9 s to
# 6.4 s with gcc's -fprofile-use): the logbench CLI built plain, then with
# rustc's -Cprofile-generate, trained, and rebuilt with -Cprofile-use, then
# both builds measured as alternating whole processes.
#
#   scripts/pgo.sh [ROUNDS] [RUNS]      (defaults 3 and 5)
#
# Training: every rung of `mean` and both `stats` engines, once, on the
# 5M-line seed and mixed sets in raw, gz and bz2 (made with gen-log if
# missing). Measured: naive-regex, swar (the fastest serial rung) and parallel
# (1 and 2 threads) on the seed set in each format, ROUNDS rounds of RUNS runs
# per build, the plain build first in each round. Writes results/pgo.txt.
#
# Needs llvm-profdata of rustc's own LLVM major version; on Debian it is the
# llvm-NN package, which this script installs with apt-get if it is missing.
# The three builds use their own target directories under target/pgo/, so
# the first run compiles the dependencies three times (about 10 minutes on
# 2 cores).
set -euo pipefail
rounds=${1:-3} runs=${2:-5}
cd "$(dirname "$0")/.."
. scripts/common.sh
root=$PWD/target/pgo
out=results/pgo.txt

llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=/usr/lib/llvm-$llvm/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
    echo "pgo: installing llvm-$llvm for llvm-profdata (rustc uses LLVM $llvm)" >&2
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y --no-install-recommends "llvm-$llvm" >&2 ||
        { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends "llvm-$llvm" >&2; }
fi

build() { # target dir, RUSTFLAGS
    echo "pgo: building $1" >&2
    RUSTFLAGS=$2 cargo build --release --quiet --bin logbench --target-dir "$root/$1"
}

rm -rf "$root/profiles"
build generate "-Cprofile-generate=$root/profiles"
trained=$root/generate/release/logbench
for mix in seed mixed; do
    for format in raw gz bz2; do
        file=$(data_set $mix $format)
        echo "pgo: training on $file" >&2
        for rung in $("$trained" strategies | awk '{print $1}'); do
            "$trained" mean "$file" --strategy "$rung" --threads 2 > /dev/null
        done
        "$trained" mean "$file" --strategy parallel --threads 1 > /dev/null
        for engine in fast naive; do
            "$trained" stats "$file" --engine "$engine" > /dev/null
        done
    done
done
"$profdata" merge -o "$root/merged.profdata" "$root/profiles"
build use "-Cprofile-use=$root/merged.profdata"
build plain ""
plain=$root/plain/release/logbench pgo=$root/use/release/logbench

median_ms() {
    "$lb" measure --json -n "$runs" --warmup 1 -- "$@" |
        python3 -c 'import json,sys; print("%.1f" % (1000 * json.load(sys.stdin)["wall_s"]["median"]))'
}

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
    echo "# $(date -u +%F), $(nproc) cores, $(rustc --version), $("$profdata" --version | sed -n 's/.*LLVM version/LLVM/p' | head -1)"
    echo "# trained on the 5M seed and mixed sets (raw, gz, bz2): every rung, both stats engines"
    echo "# whole-process medians of $runs runs, $rounds alternating rounds (plain, then PGO)"
    printf '%-26s %5s %10s %10s %8s\n' case round "plain ms" "PGO ms" PGO/plain
    for format in raw gz bz2; do
        file=$(data_set seed $format)
        for case in "naive-regex 1" "swar 1" "parallel 1" "parallel 2"; do
            set -- $case
            ratios=()
            for round in $(seq "$rounds"); do
                a=$(median_ms "$plain" mean "$file" --strategy "$1" --threads "$2")
                b=$(median_ms "$pgo" mean "$file" --strategy "$1" --threads "$2")
                ratio=$(python3 -c "print('%.3f' % ($b / $a))")
                ratios+=("$ratio")
                printf '%-26s %5s %10s %10s %8s\n' "$format $1 t$2" "$round" "$a" "$b" "$ratio"
            done
            printf '%-26s %5s %21s %8s\n' "$format $1 t$2" median "" \
                "$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')"
        done
    done
} | tee "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "pgo: wrote $out" >&2
