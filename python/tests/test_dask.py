"""`logbench.dask` on a real cluster (a scheduler and two worker processes
on loopback) against the in-process `logbench.stats` and `logbench.mean`:
the same answers, field for field, for every split size, and the same
errors. Run by `cargo test` (tests/python.rs) with the extension's tests."""

import bz2
import gzip
import os

import pytest

import logbench
import logbench.dask

distributed = pytest.importorskip("distributed")


def log_text(lines, seed):
    """A log of several metrics with malformed, blank and CRLF lines, and a
    last line without its newline; lines of many lengths so that bzip2
    blocks and byte ranges end mid-line."""
    out = []
    for i in range(lines):
        kind = (i * 7 + seed) % 11
        epoch = 1362330056 + i
        if kind == 0:
            out.append(b"garbage line\n")
        elif kind == 1:
            out.append(b"\n")
        elif kind == 2:
            out.append(b"%d,memory_usage,%d\r\n" % (epoch, (i * 37) % 5000))
        elif kind == 3:
            out.append(b"%d,disk_io,-%d\n" % (epoch, i % 13))
        elif kind == 4:
            out.append(b"%d,a_rather_long_metric_name_%d,%d\n" % (epoch, i % 3, i))
        else:
            out.append(b"%d,cpu_usage,%d\n" % (epoch, (i * 7919 + seed) % 101))
    out.append(b"1362330055,cpu_usage,42")
    return b"".join(out)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A multi-block single-stream bz2 (level 1: 100 kB blocks), a raw file
    of many split units, a gz file and a corrupt bz2, by name."""
    folder = tmp_path_factory.mktemp("cluster")
    text = log_text(60_000, 1)
    paths = {
        "bz2": folder / "blocks.log.bz2",
        "raw": folder / "big.log",
        "gz": folder / "whole.log.gz",
        "corrupt": folder / "corrupt.log.bz2",
    }
    paths["bz2"].write_bytes(bz2.compress(text, compresslevel=1))
    paths["raw"].write_bytes(log_text(40_000, 2))
    paths["gz"].write_bytes(gzip.compress(log_text(5_000, 3)))
    damaged = bytearray(bz2.compress(text, compresslevel=1))
    damaged[len(damaged) // 2] ^= 0x55
    paths["corrupt"].write_bytes(bytes(damaged))
    return paths


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def timeless(document):
    document = dict(document)
    document.pop("seconds", None)
    return document


def test_the_files_are_cut_into_many_units(files):
    units = logbench.dask.plan([files["bz2"], files["raw"], files["gz"]], 5_000)
    per_file = [sum(1 for u in units if u[0] == i) for i in range(3)]
    for index, name in enumerate(("bz2", "raw")):  # byte ranges
        assert per_file[index] == -(-os.path.getsize(files[name]) // 5_000), per_file
    assert per_file[2] == 1, per_file  # gzip is not splittable


@pytest.mark.parametrize("split_bytes", [3_000, 20_000, 100_000, 1 << 30])
def test_stats_equals_the_in_process_answer_for_every_split(files, client, split_bytes):
    # 3,000 bytes: most bzip2 units start inside a block, many own none.
    good = [files["bz2"], files["raw"], files["gz"]]
    cases = ([files["bz2"]], [files["gz"]]) if split_bytes == 3_000 else (
        [files["bz2"]], [files["raw"]], [files["gz"]], good)
    for paths in cases:
        got = logbench.dask.stats(paths, client, split_bytes=split_bytes)
        assert timeless(got) == timeless(logbench.stats(paths)), (paths, split_bytes)


@pytest.mark.parametrize(
    "options",
    [
        {"metric": "cpu_usage"},
        {"metric": ["cpu_usage", "no_such_metric"], "quantiles": [0, 0.25, 1]},
        {"every": "1h"},
        {"every": 600, "since": 1362330056 + 1000, "until": "2013-03-04T00:00:00Z"},
    ],
)
def test_every_option_gives_the_in_process_answer(files, client, options):
    paths = [files["bz2"], files["raw"], files["gz"]]
    got = logbench.dask.stats(paths, client, split_bytes=50_000, **options)
    assert timeless(got) == timeless(logbench.stats(paths, **options)), options


def test_the_corrupt_files_error_names_it_as_the_cli_does(files, client):
    paths = [files["raw"], files["corrupt"]]
    with pytest.raises(logbench.Error) as in_process:
        logbench.stats(paths)
    with pytest.raises(logbench.Error) as on_cluster:
        logbench.dask.stats(paths, client, split_bytes=50_000)
    assert str(on_cluster.value) == str(in_process.value)
    assert str(files["corrupt"]) in str(on_cluster.value)


def test_keep_going_lists_the_corrupt_file_as_the_cli_does(files, client):
    paths = [files["corrupt"], files["raw"], files["bz2"]]
    got = logbench.dask.stats(paths, client, split_bytes=50_000, keep_going=True)
    expected = logbench.stats(paths, keep_going=True)
    assert timeless(got) == timeless(expected)
    assert [s["file"] for s in got["skipped"]] == [str(files["corrupt"])]


def test_strict_gives_the_first_malformed_line_of_the_file(files, client):
    with pytest.raises(logbench.Error) as in_process:
        logbench.stats(files["bz2"], strict=True)
    with pytest.raises(logbench.Error) as on_cluster:
        logbench.dask.stats(files["bz2"], client, split_bytes=5_000, strict=True)
    with pytest.raises(logbench.Error) as raw:
        logbench.dask.stats(files["raw"], client, split_bytes=20_000, strict=True)
    assert str(raw.value) == str(pytest.raises(logbench.Error, logbench.stats, files["raw"], strict=True).value)
    assert str(on_cluster.value) == str(in_process.value)


def test_mean_equals_the_in_process_mean(files, client):
    for path in (files["bz2"], files["raw"], files["gz"]):
        for metric in ("cpu_usage", "memory_usage"):
            got = logbench.dask.mean(path, client, split_bytes=50_000, metric=metric)
            expected = logbench.mean(path, metric=metric)
            assert got.pop("strategy") == "dask"
            expected.pop("strategy")
            assert timeless(got) == timeless(expected), (path, metric)
    with pytest.raises(logbench.Error, match="no record of metric"):
        logbench.dask.mean(files["gz"], client, metric="nothing")


def test_standard_input_is_refused(client):
    with pytest.raises(ValueError, match="standard input"):
        logbench.dask.stats("-", client)


def test_a_worker_killed_mid_run_does_not_change_the_answer(files, tmp_path):
    marker = tmp_path / "killed"

    def die_once(marker, after):
        # A local class: cloudpickle sends it to the workers by value.
        class DieOnce(distributed.WorkerPlugin):
            def setup(self, worker):
                self.done = 0

            def transition(self, key, start, finish, **kwargs):
                if finish != "memory" or "_scan" not in str(key):
                    return
                self.done += 1
                if self.done < after:
                    return
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                except FileExistsError:
                    return  # one death per test, not one per restart
                os._exit(1)  # as abrupt as kill -9: no goodbye to the scheduler

        return DieOnce()

    paths = [files["bz2"], files["raw"]]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(die_once(str(marker), 3))
        got = logbench.dask.stats(paths, client, split_bytes=20_000)
    assert marker.exists(), "no worker was killed: the test did not test anything"
    assert timeless(got) == timeless(logbench.stats(paths))
