"""The case study's baseline, in Python 3 (our code, its behaviour): read the
log line by line, match each line with the unanchored lazy regex and take its
groups inside try/except, compare the metric, append int(value) to a list,
and print the mean at the end.

    python baseline.py FILE [--metric NAME] [--running-sum] [--tracemalloc]
    python baseline.py FILE --logbench      # the same question, asked of the extension

FILE is raw, gzip or bzip2, recognised by its first bytes as logbench does.
Lines are bytes, as they were in the case study's Python 2. `--running-sum`
is the case study's memory cure (a sum and a count instead of the list);
`--tracemalloc` reports what the values cost (current and peak traced
memory, and the biggest allocation sites). Measured only on the generated
data sets: unlike logbench, a malformed value would stop it (int() raises),
as it would have stopped the original.
"""

import argparse
import bz2
import gzip
import re
import sys
import tracemalloc

try:
    profile  # defined by `kernprof -l` (line_profiler)
except NameError:

    def profile(function):
        return function


LINE = re.compile(rb"(.*?),(.*?),(.*)\n")


def open_log(path):
    with open(path, "rb") as head:
        magic = head.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"BZh":
        return bz2.open(path, "rb")
    return open(path, "rb")


@profile
def process_line(line, metric, values):
    match = LINE.search(line)
    try:
        epoch, name, value = match.groups()
    except AttributeError:
        return
    if name == metric:
        values.append(int(value))


class RunningSum:
    """The cure for the list: the same `append`, kept as a sum and a count."""

    def __init__(self):
        self.total = 0
        self.count = 0

    def append(self, value):
        self.total += value
        self.count += 1

    def mean(self):
        return self.total / self.count


@profile
def main(path, metric, running_sum):
    values = RunningSum() if running_sum else []
    with open_log(path) as log:
        for line in log:
            process_line(line, metric, values)
    if tracemalloc.is_tracing():
        report_memory(tracemalloc.take_snapshot())
    return values.mean() if running_sum else sum(values) / len(values)


def report_memory(snapshot):
    """What the values cost, taken before they are freed: the traced memory
    now and at its peak, and the biggest allocation sites."""
    current, peak = tracemalloc.get_traced_memory()
    print(f"tracemalloc: current {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB", file=sys.stderr)
    for stat in snapshot.statistics("lineno")[:3]:
        print(f"  {stat}", file=sys.stderr)


def cli():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--metric", default="cpu_usage")
    parser.add_argument("--running-sum", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--logbench", action="store_true")
    args = parser.parse_args()
    if args.logbench:
        import logbench

        print(logbench.mean(args.file, metric=args.metric)["mean"])
        return
    if args.tracemalloc:
        tracemalloc.start()
    print(main(args.file, args.metric.encode(), args.running_sum))


if __name__ == "__main__":
    cli()
