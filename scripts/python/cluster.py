"""logbench.dask measured on this machine, and the constants of a model for N.

    python scripts/python/cluster.py RUNS FILE...

For each FILE: the in-process ``logbench.stats`` at 1 and 2 threads, then
``logbench.dask.stats`` on a local cluster of 1 worker and one of 2 workers
(processes, one thread each), alternated round by round, medians of RUNS.
Every cluster answer is checked against the in-process one first.

Then the model's constants, measured apart: planning (on the client), the
scan of each unit (serially, in this process), the merge of two partial
states, and the scheduler's cost per task (no-op tasks on the 2-worker
cluster). With them, docs/cluster.md predicts N machines.
"""

import statistics
import sys
import time

from distributed import Client, LocalCluster

import logbench
import logbench.dask
from logbench import _logbench, _options


def median_time(work, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timeless(document):
    return {k: v for k, v in document.items() if k != "seconds"}


def noop(x):
    return x


def model(path, client, runs):
    """Planning, per-unit scan, per-merge and per-task costs, in seconds."""
    options = _options(None, None, None, None, None, False, False)
    plan_s = median_time(lambda: logbench.dask.plan(path), runs)
    units = logbench.dask.plan(path)
    partials, scan_times = [], []
    for _, _, unit in units:
        started = time.perf_counter()
        partials.append(_logbench.scan_unit(unit, options))
        scan_times.append(time.perf_counter() - started)
    merge_times = []
    merged = partials[0]
    for partial in partials[1:]:
        started = time.perf_counter()
        merged = _logbench.merge_partials(merged, partial, options)
        merge_times.append(time.perf_counter() - started)
    tasks = 2000
    task_s = median_time(
        lambda: client.gather(client.map(noop, range(tasks), pure=False)), runs
    ) / tasks
    return {
        "units": len(units),
        "plan_s": plan_s,
        "scan_s": sum(scan_times),
        "unit_s": statistics.median(scan_times),
        "merge_s": statistics.median(merge_times) if merge_times else 0.0,
        "task_s": task_s,
    }


def main():
    runs = int(sys.argv[1])
    paths = sys.argv[2:]
    print(f"# {time.strftime('%Y-%m-%d', time.gmtime())}, Python {sys.version.split()[0]}, "
          f"dask {__import__('dask').__version__}, default split sizes, "
          f"medians of {runs} (seconds)")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as one, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as two, \
            Client(one) as c1, Client(two) as c2:
        for path in paths:
            expected = timeless(logbench.stats(path, threads=2))
            for client in (c1, c2):
                got = timeless(logbench.dask.stats(path, client))
                assert got == expected, f"{path}: the cluster's answer differs"
            in2 = median_time(lambda: logbench.stats(path, threads=2), runs)
            in1 = median_time(lambda: logbench.stats(path, threads=1), runs)
            w1, w2 = [], []
            for _ in range(runs):
                w1.append(median_time(lambda: logbench.dask.stats(path, c1), 1))
                w2.append(median_time(lambda: logbench.dask.stats(path, c2), 1))
            w1, w2 = statistics.median(w1), statistics.median(w2)
            print(f"{path}")
            print(f"  in-process stats, 1 thread    {in1:8.3f}")
            print(f"  in-process stats, 2 threads   {in2:8.3f}")
            print(f"  dask, 1 worker                {w1:8.3f}")
            print(f"  dask, 2 workers               {w2:8.3f}")
            print(f"  2 workers / 1 worker speed-up {w1 / w2:8.2f}x")
            print(f"  2 workers / in-process 2 thr. {w2 / in2:8.2f}x")
            m = model(path, c2, runs)
            print(f"  model: {m['units']} units, plan {m['plan_s']:.4f}, scan {m['scan_s']:.3f} "
                  f"in all ({m['unit_s']:.4f} a unit), merge {m['merge_s'] * 1e3:.3f} ms, "
                  f"task {m['task_s'] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
