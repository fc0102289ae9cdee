"""logbench from Python: the mean and the stats of ``epoch,metric,value`` logs
(raw, gzip or bzip2, recognised by content), computed by the logbench library
with the GIL released.

Both functions return the dict that ``logbench mean --json`` and
``logbench stats --json`` print, field for field; exact sums are Python ints.
A file that cannot be answered raises :class:`logbench.Error` with the CLI's
message, naming the file; a bad option raises ``ValueError``.

:mod:`logbench.dask` gives the same two on a Dask cluster (``pip install
'./python[dask]'``).
"""

import json
import os

from ._logbench import DEFAULT_METRIC, Error, mean_json, stats_json

__all__ = ["DEFAULT_METRIC", "Error", "mean", "stats"]


def mean(path, metric=DEFAULT_METRIC, threads=None, strategy=None, strict=False):
    """The mean of ``metric`` in the log at ``path`` (``"-"``: standard input).

    ``strategy`` picks a rung of the ladder (default: the fastest,
    ``"parallel"``); ``threads`` defaults to every core; ``strict`` makes
    the first malformed line an error. Returns ``{"file", "metric",
    "strategy", "format", "count", "sum", "min", "max", "mean", "malformed",
    "seconds"}``.
    """
    return json.loads(mean_json(os.fspath(path), metric, threads, strategy, strict))


def _text(value):
    return None if value is None else str(value)


def stats(
    paths,
    metric=None,
    every=None,
    since=None,
    until=None,
    quantiles=None,
    threads=None,
    strict=False,
    keep_going=False,
    engine="fast",
):
    """Every metric's count, sum, min, max, mean and exact quantiles over
    ``paths`` (one path or several, read as one log), per window with
    ``every``.

    ``metric``: one metric (``str``, or ``bytes`` for one that is not UTF-8)
    or a list of them; ``every``: seconds, or ``"5m"``, ``"1h"``, ``"1d"``;
    ``since`` / ``until``: epoch seconds, an RFC 3339 time or a date;
    ``quantiles``: numbers or strings from 0 to 1 (default 0.5, 0.9, 0.99).
    Returns ``{"groups": [...], "malformed", "out_of_range", "records",
    "files", "seconds"}``, plus ``"skipped"`` with ``keep_going``.
    """
    options = _options(metric, every, since, until, quantiles, strict, keep_going)
    document = stats_json(_paths(paths), options, threads, engine)
    return json.loads(document)


def _paths(paths):
    """One path or several, as a list of ``str`` or ``bytes``."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    return [os.fspath(p) for p in paths]


def _options(metric, every, since, until, quantiles, strict, keep_going):
    """``stats``' options as the extension takes them (text, lists)."""
    if metric is None:
        metrics = []
    elif isinstance(metric, (str, bytes)):
        metrics = [metric]
    else:
        metrics = list(metric)
    return {
        "metrics": metrics,
        "every": _text(every),
        "since": _text(since),
        "until": _text(until),
        "quantiles": None if quantiles is None else [str(q) for q in quantiles],
        "strict": bool(strict),
        "keep_going": bool(keep_going),
    }
