# Sourced by the measuring scripts, from the repository root: the release
# CLI and generator built, where `cargo bench` caches its data sets, and how
# a command is measured. The caller sets `runs`.

cargo build --release --quiet --bin logbench --bin gen-log
lb=target/release/logbench
data=target/logbench-data

# data_set MIX FORMAT: the path of the 5M-line set `cargo bench` caches
# (seed or mixed; raw, gz or bz2), written with gen-log if it is missing.
data_set() {
    path=$data/$1-5000000.log
    [ "$2" = raw ] || path=$path.$2
    [ -f "$path" ] || target/release/gen-log --mix "$1" --lines 5000000 --format "$2" --out "$path" >&2
    echo "$path"
}

# median CMD...: the median wall time and the peak RSS of `runs` whole runs.
median() {
    "$lb" measure -n "$runs" -- "$@" | awk '/^wall/ {w=$5} /^rss/ {r=$7} END {printf "%8.3f s %8.1f MiB", w, r}'
}
