"""logbench on a Dask cluster: the same ``stats`` and ``mean``, with the
files cut into work units that the cluster's workers scan.

The answer is STATS.md's mergeable summary, so the scan is a map-reduce:
``plan`` cuts the files (raw files into byte ranges, bzip2 files at block
boundaries, gzip files whole), each unit is scanned on a worker into a
partial state, the states of each file merge in a tree in file order, and
the files' summaries merge in a tree into the one document that
:func:`logbench.stats` returns. Dask schedules the tasks, retries those a
lost worker held, and shows them on its dashboard.

Every path must be readable under the same name on the client (which plans)
and on every worker (which scans).
"""

import json
import os
import time

from . import Error, _logbench, _options, _paths

__all__ = ["mean", "plan", "stats"]


def plan(paths, split_bytes=None):
    """The work units of ``paths``: ``[(file index, file name, unit bytes)]``.

    A unit is about ``split_bytes`` bytes of its file (compressed bytes for
    bzip2). The default suits each format: 64 MiB of raw text, 2 MiB of
    bzip2 (some 15 blocks), each about a tenth of a second of one core.
    Planning reads each file's first bytes and size only: a bzip2 unit finds
    its own first block on the worker.
    """
    paths = _paths(paths)
    if any(p in ("-", b"-") for p in paths):
        raise ValueError("standard input cannot be read on a cluster; save it to a file")
    if split_bytes is not None and split_bytes < 1:
        raise ValueError("split_bytes must be at least 1")
    return _logbench.plan_units(paths, split_bytes)


# The tasks. Each returns ("ok", bytes) or, under keep_going, ("error",
# message), so that a bad file is left out instead of failing the run.


def _scan(unit, options):
    try:
        return ("ok", _logbench.scan_unit(unit, options))
    except Error as e:
        if options["keep_going"]:
            return ("error", str(e))
        raise


def _merge_parts(parts, options):
    """Neighbouring partial states of one file, in order, merged."""
    merged = parts[0]
    for part in parts[1:]:
        if merged[0] != "ok":
            return merged
        if part[0] != "ok":
            return part
        merged = ("ok", _logbench.merge_partials(merged[1], part[1], options))
    return merged


def _finish(path, name, parts, options):
    """The summary of the file at ``path`` from the last of its partial
    states: (summary bytes or None, skipped files)."""
    partial = _merge_parts(parts, options)
    if partial[0] != "ok":
        return (None, [(name, partial[1])])
    try:
        return (_logbench.finish_file(path, partial[1], options), [])
    except Error as e:
        if options["keep_going"]:
            return (None, [(name, str(e))])
        raise


def _merge_files(files):
    """The summaries of files, in order, merged: (summary or None, skipped)."""
    summary, skipped = None, []
    for file_summary, file_skipped in files:
        if summary is None:
            summary = file_summary
        elif file_summary is not None:
            summary = _logbench.merge_summaries(summary, file_summary)
        skipped += file_skipped
    return (summary, skipped)


#: Partial states merged by one task. A wide tree keeps few tasks, and few
#: hops between the last scan and the answer (each hop is a round trip
#: through the scheduler); 11 units take two.
FANOUT = 8


def _tree(client, futures, merge, *args):
    """Merge ``futures`` in order, ``FANOUT`` neighbours a task, until at
    most ``FANOUT`` are left for the caller's last merge."""
    while len(futures) > FANOUT:
        futures = [
            client.submit(merge, futures[i : i + FANOUT], *args, pure=False)
            for i in range(0, len(futures), FANOUT)
        ]
    return futures


def _summary(paths, client, split_bytes, options):
    """Plan, map and reduce on the cluster: (summary bytes or None, skipped)."""
    if client is None:
        from distributed import get_client

        client = get_client()
    paths = _paths(paths)
    by_file = {}
    for index, name, unit in plan(paths, split_bytes):
        scan = client.submit(_scan, unit, options, pure=False)
        by_file.setdefault(index, (name, []))[1].append(scan)
    finished = [
        client.submit(_finish, paths[index], name,
                      _tree(client, parts, _merge_parts, options), options, pure=False)
        for index, (name, parts) in sorted(by_file.items())
    ]
    # The last few files' summaries are small: the client merges them.
    return _merge_files(client.gather(_tree(client, finished, _merge_files)))


def stats(
    paths,
    client=None,
    split_bytes=None,
    metric=None,
    every=None,
    since=None,
    until=None,
    quantiles=None,
    strict=False,
    keep_going=False,
):
    """:func:`logbench.stats` on the cluster of ``client`` (default: the
    current Dask client), with the files cut about every ``split_bytes``.

    Returns the same dict as :func:`logbench.stats`, field for field, for
    any cluster size and split size (``seconds`` is this call's time). A file
    that cannot be answered raises :class:`logbench.Error` with the CLI's
    message, or with ``keep_going`` is listed under ``"skipped"``.
    """
    started = time.perf_counter()
    options = _options(metric, every, since, until, quantiles, strict, keep_going)
    summary, skipped = _summary(paths, client, split_bytes, options)
    seconds = time.perf_counter() - started
    return json.loads(_logbench.stats_report_json(summary, skipped, seconds, options))


def mean(path, client=None, split_bytes=None, metric=None, strict=False):
    """:func:`logbench.mean` of one file on the cluster: the same dict, with
    ``"strategy": "dask"``."""
    started = time.perf_counter()
    metric = _logbench.DEFAULT_METRIC if metric is None else metric
    options = _options(metric, None, None, None, None, strict, False)
    summary, _ = _summary([path], client, split_bytes, options)
    seconds = time.perf_counter() - started
    return json.loads(_logbench.mean_report_json(summary, os.fspath(path), metric, seconds))

