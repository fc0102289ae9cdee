"""The extension's call against the CLI: the median wall time of
`logbench.mean(FILE)` inside one Python process, against the median of the
whole `logbench mean FILE` process (`logbench measure`), on each file.

    python call_overhead.py RUNS LOGBENCH_CLI FILE...
"""

import json
import statistics
import subprocess
import sys
import time

import logbench


def main(runs, cli, files):
    print("# in-process logbench.mean() against the logbench mean process; medians of", runs)
    print(f"{'file':<44} {'CLI':>9} {'call':>9} {'call/CLI':>9}")
    for path in files:
        logbench.mean(path)  # warm-up, as measure's
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            logbench.mean(path)
            times.append(time.perf_counter() - started)
        call = statistics.median(times)
        measured = subprocess.run(
            [cli, "measure", "-n", str(runs), "--warmup", "1", "--json", "--", cli, "mean", path],
            check=True,
            capture_output=True,
        )
        whole = json.loads(measured.stdout)["wall_s"]["median"]
        print(f"{path:<44} {whole:>8.3f}s {call:>8.3f}s {call / whole:>9.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
